using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>A box in pixels of the input image (Hugging Face's {xmin, ymin, xmax, ymax}, truncated to integers).</summary>
public sealed record BoundingBox(int XMin, int YMin, int XMax, int YMax);

/// <summary>One detected object.</summary>
public sealed record ObjectDetectionResult(string Label, double Score, BoundingBox Box);

/// <summary>
/// object-detection, as Hugging Face's <c>ObjectDetectionPipeline</c>: DetrImageProcessor's resize and padding, the
/// detector, post_process_object_detection with <c>threshold</c> (default 0.5) and each image's own size, so boxes are
/// in the input image's pixels. Objects in query order.
/// </summary>
public sealed class ObjectDetectionPipeline : ImagePipeline<IReadOnlyList<ObjectDetectionResult>>
{
    public const string Threshold = "threshold";
    private const string ImageSizeOutput = "image_size";

    public ObjectDetectionPipeline(PipelineContext context) : base(context)
    {
        if (Processor is not DetrImageProcessor)
            throw new NotSupportedException($"object-detection needs a DetrImageProcessor (preprocessor_config.json image_processor_type of '{context.ModelFolder}'), found {Processor.GetType().Name}.");
    }

    /// <summary>Opens a checkpoint folder with an object-detection head (config.json, model.safetensors or
    /// onnx/model.onnx taking pixel_values and returning logits and pred_boxes) and its preprocessor_config.json.
    /// The same as <c>Pipelines.Create("object-detection", folder, ...)</c>.</summary>
    public static ObjectDetectionPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null) =>
        Open<ObjectDetectionPipeline>("object-detection", folder, parameters, options, engine);

    protected override string[] PostprocessParameters => [Threshold];

    // any finite number, as Hugging Face's (scores above it are kept)
    protected override void CheckParameters(PipelineParameters p) => p.GetDouble(Threshold, 0.5);

    // Hugging Face's preprocess keeps the image's size for post_process_object_detection's target_sizes.
    protected override PixelValues Preprocess(ImageInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        var image = input.Load();
        return Processor.Preprocess(image) with { ImageSize = (image.Height, image.Width) };
    }

    /// <summary>Images of different sizes go as one batch padded bottom-right with a pixel_mask (DetrImageProcessor.pad);
    /// each image's outputs come back with its original size.</summary>
    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<PixelValues> batch, PipelineParameters p)
    {
        bool sameSize = batch.All(b => (b.Height, b.Width) == (batch[0].Height, batch[0].Width));
        var pixels = sameSize ? PixelValues.Concat(batch) : ((DetrImageProcessor)Processor).Pad(batch).Pixels;
        return SplitRows(Model.RunPixels(pixels), batch.Count).Select((row, b) =>
        {
            var (h, w) = batch[b].ImageSize ?? (batch[b].Height, batch[b].Width);
            return new NamedTensors([.. row, NamedTensor.Create(ImageSizeOutput, new long[] { h, w }, 2)]);
        }).ToList();
    }

    protected override IReadOnlyList<ObjectDetectionResult> Postprocess(NamedTensors output, PipelineParameters p)
    {
        double threshold = p.GetDouble(Threshold, 0.5);
        var boxes = output.TryGet("pred_boxes") ?? throw new NotSupportedException(
            $"The model of {ModelFolder} ({Engine}) gives no pred_boxes; outputs: {string.Join(", ", output.Select(o => o.Name))}.");
        var size = output[ImageSizeOutput].GetData<long>();
        var detections = DetrImageProcessor.PostProcessObjectDetection(output["logits"].GetData<float>(), boxes.GetData<float>(),
            1, threshold, [((int)size[0], (int)size[1])])[0];
        var id2label = Config.Id2Label;
        return detections.Select(d => new ObjectDetectionResult(
            id2label.TryGetValue(d.Label, out var l) ? l : $"LABEL_{d.Label}", d.Score,
            new BoundingBox((int)d.XMin, (int)d.YMin, (int)d.XMax, (int)d.YMax))).ToList();
    }
}
