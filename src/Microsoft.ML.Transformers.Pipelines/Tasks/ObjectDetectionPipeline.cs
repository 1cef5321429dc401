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

    public ObjectDetectionPipeline(string folder, PreTrainedModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("object-detection", folder, model, processor, parameters) { }

    public ObjectDetectionPipeline(string folder, OnnxModel model, ImageProcessor processor, PipelineParameters? parameters = null)
        : base("object-detection", folder, model, processor, parameters) { }

    /// <summary>Opens a checkpoint folder with an object-detection head (config.json, model.safetensors or
    /// onnx/model.onnx taking pixel_values and returning logits and pred_boxes) and its preprocessor_config.json.</summary>
    public static ObjectDetectionPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null)
    {
        var processor = AutoImageProcessor.FromPretrained(folder);
        return PickEngine(folder, engine) == Engine.OnnxRuntime
            ? new(folder, OnnxModel.FromPretrained(folder), processor, parameters)
            : new(folder, AutoModelForObjectDetection.FromPretrained(folder, options), processor, parameters);
    }

    protected override string[] PostprocessParameters => [Threshold];

    protected override IReadOnlyList<IReadOnlyList<ObjectDetectionResult>> RunImages(IReadOnlyList<RgbImage> images, PipelineParameters parameters)
    {
        if (Processor is not DetrImageProcessor detr)
            throw new NotSupportedException($"object-detection needs a DetrImageProcessor (preprocessor_config.json image_processor_type), found {Processor.GetType().Name}.");
        var batch = detr.PreprocessPadded(images);
        bool padded = batch.ImageSizes.Any(s => s != (batch.Pixels.Height, batch.Pixels.Width));
        if (padded && Onnx is not null)
            throw new NotSupportedException("object-detection on ONNX Runtime runs images one at a time (the export takes no pixel_mask): use batch_size 1.");
        var output = Forward(batch.Pixels, padded ? batch.PixelMask : null);
        double threshold = parameters.GetDouble(Threshold, 0.5);
        var detections = DetrImageProcessor.PostProcessObjectDetection(output["logits"].GetData<float>(), output["pred_boxes"].GetData<float>(),
            images.Count, threshold, images.Select(i => (i.Height, i.Width)).ToList());
        var id2label = Config.Id2Label;
        return detections.Select(list => (IReadOnlyList<ObjectDetectionResult>)list.Select(d => new ObjectDetectionResult(
            id2label.TryGetValue(d.Label, out var l) ? l : $"LABEL_{d.Label}", d.Score,
            new BoundingBox((int)d.XMin, (int)d.YMin, (int)d.XMax, (int)d.YMax))).ToList()).ToList();
    }

    protected override IReadOnlyList<IReadOnlyList<ObjectDetectionResult>> Postprocess(NamedTensors output, int batch, PipelineParameters parameters) =>
        throw new InvalidOperationException("object-detection post-processes in RunImages (it needs each image's size).");
}
