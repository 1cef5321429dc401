using Microsoft.ML.Transformers.Modeling;
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
/// Runs on the libtorch engine; the model and preprocessor_config.json come from one checkpoint folder.
/// </summary>
public abstract class ImagePipeline<TResult> : IDisposable
{
    public const string BatchSizeParameter = "batch_size";

    protected ImagePipeline(string task, string folder, PreTrainedModel model, ImageProcessor processor, PipelineParameters? parameters)
    {
        (Task, ModelFolder, Model, Processor) = (task, folder, model, processor);
        Parameters = parameters ?? new PipelineParameters();
    }

    public string Task { get; }
    public string ModelFolder { get; }
    public PreTrainedModel Model { get; }
    public ImageProcessor Processor { get; }
    public PipelineParameters Parameters { get; }

    /// <summary>Names of the parameters <see cref="Postprocess"/> reads.</summary>
    protected abstract string[] PostprocessParameters { get; }

    /// <summary>Turns the model's output for a batch into one result per image.</summary>
    protected abstract IReadOnlyList<TResult> Postprocess(ModelOutput output, int batch, PipelineParameters parameters);

    /// <summary>Model inputs of a batch (a head may want more than pixel_values).</summary>
    protected virtual ModelInputs Inputs(Tensor pixels) => new() { PixelValues = pixels };

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
            var pixels = Processor.Preprocess(slice);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var x = pixels.ToTensor(Model.Device);
            results.AddRange(Postprocess(Model.forward(Inputs(x)), slice.Count, post));
        }
        return results;
    }

    public void Dispose()
    {
        Model.Dispose();
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

    /// <summary>Opens a checkpoint folder with an image-classification head and its preprocessor_config.json.</summary>
    public static ImageClassificationPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null)
    {
        var processor = AutoImageProcessor.FromPretrained(folder);
        return new(folder, AutoModelForImageClassification.FromPretrained(folder, options), processor, parameters);
    }

    protected override string[] PostprocessParameters => [TopK, FunctionToApply];

    protected override IReadOnlyList<IReadOnlyList<ImageClassificationResult>> Postprocess(ModelOutput output, int batch, PipelineParameters p)
    {
        var logits = output.Logits!.to(ScalarType.Float32).cpu().data<float>().ToArray();
        int n = logits.Length / batch;
        int k = Math.Min(p.GetNullableInt(TopK, 5) ?? n, n);
        var fn = p.GetEnum<ClassificationFunction>(FunctionToApply) ?? ClassificationFunction.Default;
        if (fn == ClassificationFunction.Default)
            fn = Model.Config.ProblemType == "multi_label_classification" || n == 1 ? ClassificationFunction.Sigmoid : ClassificationFunction.Softmax;
        var id2label = Model.Config.Id2Label;
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

    /// <summary>Opens a checkpoint folder (a head checkpoint gives its base model, as AutoModel does) and its preprocessor_config.json.</summary>
    public static ImageFeatureExtractionPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null)
    {
        var processor = AutoImageProcessor.FromPretrained(folder);
        return new(folder, AutoModel.FromPretrained(folder, options), processor, parameters);
    }

    protected override string[] PostprocessParameters => [Pool];

    protected override IReadOnlyList<ImageFeatures> Postprocess(ModelOutput output, int batch, PipelineParameters p)
    {
        bool pool = p.GetBool(Pool, false);
        var t = pool ? output.PoolerOutput ?? throw new NotSupportedException($"{Model.GetType().Name} has no pooler_output; run without pool.") : output.LastHiddenState!;
        var data = t.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        int per = data.Length / batch;
        int[] shape = pool ? [per] : t.shape.Skip(1).Select(d => (int)d).ToArray();
        return Enumerable.Range(0, batch).Select(b => new ImageFeatures(data.AsSpan(b * per, per).ToArray(), shape)).ToList();
    }
}
