using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>An image to run: a file path, encoded bytes, a stream or an already decoded <see cref="RgbImage"/>.</summary>
public sealed class ImageInput
{
    private readonly Func<RgbImage> _load;

    private ImageInput(Func<RgbImage> load, string description) => (_load, Description) = (load, description);

    public string Description { get; }

    public static ImageInput FromFile(string path) => new(() => RgbImage.Load(path), path);
    public static ImageInput FromBytes(byte[] bytes, string? name = null) => new(() => RgbImage.FromBytes(bytes, name), name ?? $"{bytes.Length} bytes");
    public static ImageInput FromStream(Stream stream, string? name = null) => new(() => RgbImage.FromStream(stream, name), name ?? "stream");
    public static ImageInput FromImage(RgbImage image) => new(() => image, $"{image.Width}x{image.Height} image");
    /// <summary>Decoded pixels, e.g. an ML.NET MLImage: <c>FromPixels(img.Pixels.ToArray(), img.Width, img.Height, PixelLayout.Bgra32)</c>.</summary>
    public static ImageInput FromPixels(byte[] pixels, int width, int height, PixelLayout layout) =>
        new(() => RgbImage.FromPixels(pixels, width, height, layout), $"{width}x{height} {layout} pixels");

    public static implicit operator ImageInput(string path) => FromFile(path);
    public static implicit operator ImageInput(byte[] bytes) => FromBytes(bytes);
    public static implicit operator ImageInput(RgbImage image) => FromImage(image);

    /// <summary>Decodes the image (Hugging Face's load_image: EXIF orientation, then RGB).</summary>
    public RgbImage Load() => _load();
}

/// <summary>
/// The hooks of an image task (Hugging Face's pipelines/base.py) on <see cref="Pipeline{TInput, TFeatures, TOutput, TResult}"/>:
/// Preprocess decodes one image and runs the image processor, Forward runs a batch of pixel_values through the model on
/// either engine (a <see cref="PreTrainedModel"/> on libtorch, an ONNX export taking pixel_values on ONNX Runtime) and
/// splits the outputs per image, Postprocess makes one image's result. Created by <see cref="Pipelines.Create"/>
/// (registered as "image-classification" and "image-feature-extraction") or the FromPretrained shortcuts.
/// </summary>
public abstract class ImagePipeline<TResult> : Pipeline<ImageInput, PixelValues, NamedTensors, TResult>
{
    protected ImagePipeline(PipelineContext context) : base(context)
    {
        Processor = context.ImageProcessor ?? throw new ArgumentException(
            $"The {context.Task} pipeline needs an image processor (preprocessor_config.json of '{context.ModelFolder}').", nameof(context));
    }

    public PretrainedConfig Config => Model.Config;
    public Engine Engine => Model.Engine;
    public ImageProcessor Processor { get; }

    /// <summary>Names of the parameters <see cref="Postprocess"/> reads.</summary>
    protected abstract string[] PostprocessParameters { get; }

    /// <summary>Fails on a bad parameter value (type or range, naming the parameter) before any image is loaded or run.</summary>
    protected virtual void CheckParameters(PipelineParameters p) { }

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        CheckParameters(p);
        return new(PipelineParameters.Empty, PipelineParameters.Empty, p.Pick(PostprocessParameters));
    }

    /// <summary>Decodes the image (Hugging Face's load_image: EXIF orientation, then RGB) and preprocesses it to [1, 3, H, W].</summary>
    protected override PixelValues Preprocess(ImageInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Processor.Preprocess(input.Load());
    }

    /// <summary>One batch through the model; each image gets its rows of every output (batch dimension removed).</summary>
    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<PixelValues> batch, PipelineParameters p) =>
        SplitRows(Model.RunPixels(PixelValues.Concat(batch)), batch.Count);

    /// <summary>Each image's rows of every output of a batch of <paramref name="count"/> (batch dimension removed).</summary>
    protected static IReadOnlyList<NamedTensors> SplitRows(NamedTensors outputs, int count)
    {
        var rows = new NamedTensors[count];
        for (int b = 0; b < count; b++)
            rows[b] = new NamedTensors(outputs.Select(o =>
            {
                var data = o.GetData<float>();
                int size = data.Length / count;
                return new NamedTensor(o.Name, TensorElementType.Float, o.Shape[1..], data.AsSpan(b * size, size).ToArray());
            }).ToList());
        return rows;
    }

    /// <summary>Opens <paramref name="folder"/> for <paramref name="task"/> with the options of the FromPretrained shortcuts.</summary>
    protected static T Open<T>(string task, string folder, PipelineParameters? parameters, ModelLoadOptions? options, Engine? engine) where T : Pipeline =>
        Pipelines.Create<T>(task, folder, new PipelineOptions
        {
            Engine = engine,
            Device = options?.Device,
            TorchDtype = options?.TorchDtype,
            Parameters = parameters,
        });
}

/// <summary>One label and its score.</summary>
public sealed record ImageClassificationResult(string Label, double Score);

/// <summary>
/// image-classification, as Hugging Face's <c>ImageClassificationPipeline</c>: <c>top_k</c> (default 5, capped at
/// num_labels), <c>function_to_apply</c> (default: sigmoid for multi-label or a single label, else softmax; sigmoid,
/// softmax, none). Labels by descending score.
/// </summary>
public sealed class ImageClassificationPipeline : ImagePipeline<IReadOnlyList<ImageClassificationResult>>
{
    public const string TopK = "top_k", FunctionToApply = "function_to_apply";

    public ImageClassificationPipeline(PipelineContext context) : base(context) { }

    /// <summary>Opens a checkpoint folder with an image-classification head and its preprocessor_config.json, on
    /// <paramref name="engine"/> (default: libtorch when model.safetensors exists, else onnx/model.onnx on ONNX Runtime).
    /// The same as <c>Pipelines.Create("image-classification", folder, ...)</c>.</summary>
    public static ImageClassificationPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null) =>
        Open<ImageClassificationPipeline>("image-classification", folder, parameters, options, engine);

    protected override string[] PostprocessParameters => [TopK, FunctionToApply];

    protected override void CheckParameters(PipelineParameters p)
    {
        p.GetNullableInt(TopK, 5, min: 1);   // null: every label
        p.GetEnum<ClassificationFunction>(FunctionToApply);
    }

    protected override IReadOnlyList<ImageClassificationResult> Postprocess(NamedTensors output, PipelineParameters p)
    {
        var logits = output["logits"].GetData<float>();
        int n = logits.Length;
        int k = Math.Min(p.GetNullableInt(TopK, 5, min: 1) ?? n, n);
        var fn = p.GetEnum<ClassificationFunction>(FunctionToApply) ?? ClassificationFunction.Default;
        if (fn == ClassificationFunction.Default)
            fn = Config.ProblemType == "multi_label_classification" || n == 1 ? ClassificationFunction.Sigmoid : ClassificationFunction.Softmax;
        double[] scores = fn switch
        {
            ClassificationFunction.Sigmoid => logits.Select(x => Maths.Sigmoid(x)).ToArray(),
            ClassificationFunction.Softmax => Maths.Softmax(logits),
            _ => logits.Select(x => (double)x).ToArray(),
        };
        return Maths.TopK(scores, k).Select(i => new ImageClassificationResult(Label(i), scores[i])).ToList();
    }
}

/// <summary>Features of one image, row-major with their shape.</summary>
public sealed record ImageFeatures(float[] Data, int[] Shape);

/// <summary>
/// image-feature-extraction, as Hugging Face's <c>ImageFeatureExtractionPipeline</c>: the base model's last_hidden_state
/// ([C, H, W] for CNNs, [tokens, C] for Swin), or with <c>pool</c> = true its pooler_output flattened to [C].
/// </summary>
public sealed class ImageFeatureExtractionPipeline : ImagePipeline<ImageFeatures>
{
    public const string Pool = "pool";

    public ImageFeatureExtractionPipeline(PipelineContext context) : base(context)
    {
        if (Model is OnnxInferenceModel onnx && !onnx.Model.OutputNames.Contains("last_hidden_state"))
            throw new OnnxModelException(onnx.Model.ModelPath, $"ONNX model '{onnx.Model.ModelPath}' has no last_hidden_state output, which " +
                $"image-feature-extraction reads (its outputs: {string.Join(", ", onnx.Model.OutputNames)}).");
    }

    /// <summary>Opens a checkpoint folder (a head checkpoint gives its base model on libtorch, as AutoModel does; an ONNX
    /// export must output last_hidden_state, and pooler_output for pool = true) and its preprocessor_config.json.
    /// The same as <c>Pipelines.Create("image-feature-extraction", folder, ...)</c>.</summary>
    public static ImageFeatureExtractionPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null) =>
        Open<ImageFeatureExtractionPipeline>("image-feature-extraction", folder, parameters, options, engine);

    protected override string[] PostprocessParameters => [Pool];

    protected override void CheckParameters(PipelineParameters p) => p.GetBool(Pool, false);

    protected override ImageFeatures Postprocess(NamedTensors output, PipelineParameters p)
    {
        bool pool = p.GetBool(Pool, false);
        string name = pool ? "pooler_output" : "last_hidden_state";
        var t = output.TryGet(name) ?? throw new NotSupportedException($"The model of {ModelFolder} ({Engine}) gives no {name}; outputs: {string.Join(", ", output.Select(o => o.Name))}.");
        var data = t.GetData<float>();
        return new ImageFeatures(data, pool ? [data.Length] : t.Shape.Select(d => (int)d).ToArray());
    }
}
