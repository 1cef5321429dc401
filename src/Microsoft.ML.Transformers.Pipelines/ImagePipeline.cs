using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

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
/// The hooks of an image task (Hugging Face's pipelines/base.py): parameters split per hook, Preprocess (decode +
/// image processor), Forward (one batch of pixel_values through the model, no gradients), Postprocess (one image's row).
/// Runs on libtorch (a <see cref="PreTrainedModel"/>) or ONNX Runtime (an <see cref="OnnxModel"/> over onnx/model.onnx
/// taking pixel_values); the model and preprocessor_config.json come from one checkpoint folder.
/// </summary>
public abstract class ImagePipeline<TResult> : IDisposable
{
    public const string BatchSizeParameter = "batch_size";

    protected ImagePipeline(string task, string folder, PreTrainedModel model, ImageProcessor processor, PipelineParameters? parameters)
        : this(task, folder, model.Config, processor, parameters) => Model = model;

    protected ImagePipeline(string task, string folder, OnnxModel model, ImageProcessor processor, PipelineParameters? parameters)
        : this(task, folder, AutoConfig.FromPretrained(folder), processor, parameters) => Onnx = model;

    private ImagePipeline(string task, string folder, PretrainedConfig config, ImageProcessor processor, PipelineParameters? parameters)
    {
        (Task, ModelFolder, Config, Processor) = (task, folder, config, processor);
        Parameters = parameters ?? new PipelineParameters();
    }

    /// <summary>libtorch when the folder has model.safetensors, else ONNX Runtime (onnx/model.onnx).</summary>
    protected static Engine PickEngine(string folder, Engine? requested) =>
        requested ?? (File.Exists(Path.Combine(folder, "model.safetensors")) ? Engine.LibTorch : Engine.OnnxRuntime);

    public string Task { get; }
    public string ModelFolder { get; }
    public PretrainedConfig Config { get; }
    /// <summary>The libtorch model, or null on ONNX Runtime.</summary>
    public PreTrainedModel? Model { get; }
    /// <summary>The ONNX Runtime model, or null on libtorch.</summary>
    public OnnxModel? Onnx { get; }
    public Engine Engine => Onnx is null ? Engine.LibTorch : Engine.OnnxRuntime;
    public ImageProcessor Processor { get; }
    public PipelineParameters Parameters { get; }

    /// <summary>Names of the parameters <see cref="Postprocess"/> reads.</summary>
    protected abstract string[] PostprocessParameters { get; }

    /// <summary>Turns the model's outputs for a batch (named as the ONNX exports name them: logits, last_hidden_state,
    /// pooler_output; host copies) into one result per image.</summary>
    protected abstract IReadOnlyList<TResult> Postprocess(NamedTensors output, int batch, PipelineParameters parameters);

    /// <summary>One batch of decoded images: preprocess, forward, postprocess. Tasks whose processor pads a batch
    /// (object detection) override it.</summary>
    protected virtual IReadOnlyList<TResult> RunImages(IReadOnlyList<RgbImage> images, PipelineParameters parameters) =>
        Postprocess(Forward(Processor.Preprocess(images)), images.Count, parameters);

    /// <summary>pixel_values (and the pixel_mask of a padded batch, libtorch only) through the model, outputs on the host.</summary>
    protected NamedTensors Forward(PixelValues pixels, long[]? pixelMask = null)
    {
        if (Onnx is not null) return Onnx.RunPixels(pixels.Data, pixels.Shape);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = Model!.forward(new ModelInputs
        {
            PixelValues = pixels.ToTensor(Model.Device),
            PixelMask = pixelMask is null ? null : tensor(pixelMask, [pixels.Batch, pixels.Height, pixels.Width], device: Model.Device),
        });
        var list = new List<NamedTensor>();
        void Add(string name, Tensor? t)
        {
            if (t is null) return;
            var host = t.to(ScalarType.Float32).cpu().contiguous();
            list.Add(new NamedTensor(name, TensorElementType.Float, host.shape, host.data<float>().ToArray()));
        }
        Add("logits", o.Logits);
        Add("last_hidden_state", o.LastHiddenState);
        Add("pooler_output", o.PoolerOutput);
        Add("pred_boxes", o.PredBoxes);
        return new NamedTensors(list);
    }

    public TResult Run(ImageInput image, PipelineParameters? parameters = null) => RunBatch([image], parameters)[0];

    /// <summary>Runs images in batches of batch_size (default 1); results keep the input order.</summary>
    public IReadOnlyList<TResult> RunBatch(IReadOnlyList<ImageInput> images, PipelineParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException($"The list of images is empty; {Task} needs at least one image.", nameof(images));
        var p = Parameters.Merge(parameters);
        var unknown = p.Names.Where(n => n != BatchSizeParameter && !PostprocessParameters.Contains(n)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"Unknown parameter(s) for {Task}: {string.Join(", ", unknown)}.", nameof(parameters));
        int batchSize = p.GetInt(BatchSizeParameter, 1);
        if (batchSize < 1) throw new ArgumentException($"batch_size must be at least 1; found {batchSize}.", nameof(parameters));
        var post = p.Pick(PostprocessParameters);
        var results = new List<TResult>(images.Count);
        for (int start = 0; start < images.Count; start += batchSize)
        {
            var slice = images.Skip(start).Take(batchSize).Select(i => i.Load()).ToList();
            results.AddRange(RunImages(slice, post));
        }
        return results;
    }

    public void Dispose()
    {
        Model?.Dispose();
        Onnx?.Dispose();
        GC.SuppressFinalize(this);
    }
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

    public ImageClassificationPipeline(string folder, PreTrainedModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("image-classification", folder, model, processor, parameters) { }

    public ImageClassificationPipeline(string folder, OnnxModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("image-classification", folder, model, processor, parameters) { }

    /// <summary>Opens a checkpoint folder with an image-classification head and its preprocessor_config.json, on
    /// <paramref name="engine"/> (default: libtorch when model.safetensors exists, else onnx/model.onnx on ONNX Runtime).</summary>
    public static ImageClassificationPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null)
    {
        var processor = AutoImageProcessor.FromPretrained(folder);
        return PickEngine(folder, engine) == Engine.OnnxRuntime
            ? new(folder, OnnxModel.FromPretrained(folder), processor, parameters)
            : new(folder, AutoModelForImageClassification.FromPretrained(folder, options), processor, parameters);
    }

    protected override string[] PostprocessParameters => [TopK, FunctionToApply];

    protected override IReadOnlyList<IReadOnlyList<ImageClassificationResult>> Postprocess(NamedTensors output, int batch, PipelineParameters p)
    {
        var logits = output["logits"].GetData<float>().ToArray();
        int n = logits.Length / batch;
        int k = Math.Min(p.GetNullableInt(TopK, 5) ?? n, n);
        var fn = p.GetEnum<ClassificationFunction>(FunctionToApply) ?? ClassificationFunction.Default;
        if (fn == ClassificationFunction.Default)
            fn = Config.ProblemType == "multi_label_classification" || n == 1 ? ClassificationFunction.Sigmoid : ClassificationFunction.Softmax;
        var id2label = Config.Id2Label;
        var results = new List<IReadOnlyList<ImageClassificationResult>>(batch);
        for (int b = 0; b < batch; b++)
        {
            var row = logits.AsSpan(b * n, n);
            double[] scores = fn switch
            {
                ClassificationFunction.Sigmoid => row.ToArray().Select(x => Maths.Sigmoid(x)).ToArray(),
                ClassificationFunction.Softmax => Maths.Softmax(row),
                _ => row.ToArray().Select(x => (double)x).ToArray(),
            };
            results.Add(Maths.TopK(scores, k).Select(i => new ImageClassificationResult(id2label.TryGetValue(i, out var l) ? l : $"LABEL_{i}", scores[i])).ToList());
        }
        return results;
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

    public ImageFeatureExtractionPipeline(string folder, PreTrainedModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("image-feature-extraction", folder, model, processor, parameters) { }

    public ImageFeatureExtractionPipeline(string folder, OnnxModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("image-feature-extraction", folder, model, processor, parameters) { }

    /// <summary>Opens a checkpoint folder (a head checkpoint gives its base model on libtorch, as AutoModel does; an ONNX
    /// export must output last_hidden_state) and its preprocessor_config.json.</summary>
    public static ImageFeatureExtractionPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null)
    {
        var processor = AutoImageProcessor.FromPretrained(folder);
        return PickEngine(folder, engine) == Engine.OnnxRuntime
            ? new(folder, OnnxModel.FromPretrained(folder), processor, parameters)
            : new(folder, AutoModel.FromPretrained(folder, options), processor, parameters);
    }

    protected override string[] PostprocessParameters => [Pool];

    protected override IReadOnlyList<ImageFeatures> Postprocess(NamedTensors output, int batch, PipelineParameters p)
    {
        bool pool = p.GetBool(Pool, false);
        string name = pool ? "pooler_output" : "last_hidden_state";
        var t = output.TryGet(name) ?? throw new NotSupportedException($"The model of {ModelFolder} ({Engine}) gives no {name}; outputs: {string.Join(", ", output.Select(o => o.Name))}.");
        var data = t.GetData<float>().ToArray();
        int per = data.Length / batch;
        int[] shape = pool ? [per] : t.Shape.Skip(1).Select(d => (int)d).ToArray();
        return Enumerable.Range(0, batch).Select(b => new ImageFeatures(data.AsSpan(b * per, per).ToArray(), shape)).ToList();
    }
}
