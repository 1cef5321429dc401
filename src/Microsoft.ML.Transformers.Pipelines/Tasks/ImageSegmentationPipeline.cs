using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>A binary mask at the image's size: 255 where the segment is, 0 elsewhere, row-major (Hugging Face returns
/// it as a mode "L" PIL image).</summary>
public sealed record SegmentationMask(int Width, int Height, byte[] Pixels)
{
    /// <summary>Pixels set in the mask.</summary>
    public int Area => Pixels.Count(p => p != 0);
}

/// <summary>One segment: its label, its score (null for semantic segmentation, as Hugging Face) and its mask.</summary>
public sealed record ImageSegmentationResult(string Label, double? Score, SegmentationMask Mask);

/// <summary>
/// image-segmentation, as Hugging Face's <c>ImageSegmentationPipeline</c> for semantic segmentation models (UperNet):
/// logits resized to each image's original size and arg-maxed (<see cref="SemanticSegmentation.PostProcess(ReadOnlySpan{float}, IReadOnlyList{long}, IReadOnlyList{ValueTuple{int, int}}?)"/>),
/// then one result per class present, by ascending class id, with a 0/255 mask and no score. <c>subtask</c> may be
/// null or "semantic"; <c>threshold</c>, <c>mask_threshold</c> and <c>overlap_mask_area_threshold</c> are accepted
/// (checked to lie in [0, 1]) and, as in Hugging Face, unused by the semantic subtask.
/// </summary>
public sealed class ImageSegmentationPipeline : ImagePipeline<IReadOnlyList<ImageSegmentationResult>>
{
    public const string Subtask = "subtask", Threshold = "threshold", MaskThreshold = "mask_threshold", OverlapMaskAreaThreshold = "overlap_mask_area_threshold";
    private const string ImageSizeOutput = "image_size";

    public ImageSegmentationPipeline(PipelineContext context) : base(context) { }

    /// <summary>Opens a checkpoint folder with a semantic-segmentation head (AutoModelForSemanticSegmentation) and its
    /// preprocessor_config.json, on <paramref name="engine"/> (default: libtorch when model.safetensors exists, else
    /// onnx/model.onnx, which must output logits [batch, num_labels, h, w], on ONNX Runtime).
    /// The same as <c>Pipelines.Create("image-segmentation", folder, ...)</c>.</summary>
    public static ImageSegmentationPipeline FromPretrained(string folder, PipelineParameters? parameters = null, ModelLoadOptions? options = null, Engine? engine = null) =>
        Open<ImageSegmentationPipeline>("image-segmentation", folder, parameters, options, engine);

    protected override string[] PostprocessParameters => [Subtask, Threshold, MaskThreshold, OverlapMaskAreaThreshold];

    // Hugging Face's preprocess keeps the image's size for postprocess (target_size): it travels with the pixels and
    // comes back beside the model's outputs.
    protected override PixelValues Preprocess(ImageInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        var image = input.Load();
        return Processor.Preprocess(image) with { ImageSize = (image.Height, image.Width) };
    }

    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<PixelValues> batch, PipelineParameters p) =>
        base.Forward(batch, p).Select((row, b) =>
        {
            var (h, w) = batch[b].ImageSize ?? (batch[b].Height, batch[b].Width);
            return new NamedTensors([.. row, NamedTensor.Create(ImageSizeOutput, new long[] { h, w }, 2)]);
        }).ToList();

    protected override IReadOnlyList<ImageSegmentationResult> Postprocess(NamedTensors output, PipelineParameters p)
    {
        var logits = output.TryGet("logits") ?? throw new NotSupportedException(
            $"The model of {ModelFolder} ({Engine}) gives no logits; outputs: {string.Join(", ", output.Select(o => o.Name))}.");
        if (logits.Shape.Length != 3)
            throw new NotSupportedException($"The model of {ModelFolder} ({Engine}) gives logits of shape [batch, {string.Join(", ", logits.Shape)}]; semantic segmentation needs [batch, num_labels, height, width].");
        var size = output[ImageSizeOutput].GetData<long>();
        var map = SemanticSegmentation.PostProcess(logits.GetData<float>(), [1, .. logits.Shape], [((int)size[0], (int)size[1])])[0];
        return Segments(map, Label);
    }

    /// <summary>One result per class present in <paramref name="map"/>, ascending, each with its 0/255 mask.</summary>
    internal static IReadOnlyList<ImageSegmentationResult> Segments(SegmentationMap map, Func<int, string> label) =>
        map.LabelIds.Select(id => new ImageSegmentationResult(label(id), null,
            new SegmentationMask(map.Width, map.Height, map.Data.Select(v => v == id ? (byte)255 : (byte)0).ToArray()))).ToList();

    protected override void CheckParameters(PipelineParameters p)
    {
        var subtask = p.GetString(Subtask, null);
        if (subtask is not (null or "semantic"))
            throw new NotSupportedException($"subtask \"{subtask}\" is not supported: this image-segmentation pipeline does semantic segmentation (subtask null or \"semantic\"); panoptic and instance models are not available.");
        foreach (var name in new[] { Threshold, MaskThreshold, OverlapMaskAreaThreshold })
        {
            if (p.TryGet(name, out var v) && v is not null) p.GetDouble(name, 0, min: 0, max: 1);
        }
    }
}
