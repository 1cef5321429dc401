using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// image-segmentation (semantic) as an ML.NET estimator: <c>mlContext.Transforms.ImageSegmentation(modelFolder, "Image")</c>
/// over an image column (path, bytes or MLImage). Adds <c>Labels</c> (the labels of the segments present, by class id),
/// <c>SegmentationMap</c> (the class id of every pixel at the image's size, row-major; a segment's mask is where it
/// equals the segment's class id), <c>Height</c> and <c>Width</c>.
/// </summary>
public sealed class ImageSegmentationEstimator : PipelineEstimator<ImageSegmentationTransformer, ImageSegmentationEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public Options() => BatchSize = 8;

        public string InputColumnName { get; set; } = "Image";
        public string LabelsColumnName { get; set; } = "Labels";
        public string SegmentationMapColumnName { get; set; } = "SegmentationMap";
        public string HeightColumnName { get; set; } = "Height";
        public string WidthColumnName { get; set; } = "Width";
    }

    public ImageSegmentationEstimator(Options options)
        : base(options, o => new ImageSegmentationTransformer(o, ownsFolder: false), ImageSegmentationMapper.Create) { }
}

public sealed class ImageSegmentationTransformer : PipelineTransformer
{
    internal ImageSegmentationTransformer(ImageSegmentationEstimator.Options options, bool ownsFolder)
        : base("image-segmentation", options, o => ImageTasks.Opened(ImageSegmentationPipeline.FromPretrained(o.ModelFolder, null, ImageTasks.LoadOptions(o), o.Engine)),
            c => ImageSegmentationMapper.Create(options, c), ownsFolder) { }

    /// <summary>The class names, by class id.</summary>
    public IReadOnlyList<string> ClassLabels => ((ImageSegmentationMapper)Mapper).ClassLabels;

    /// <summary>The image pipeline every batch of rows runs through.</summary>
    public ImageSegmentationPipeline ImagePipeline => (ImageSegmentationPipeline)Runner;

    private protected override IEnumerable<string> ExtraModelFiles => ImageTasks.ProcessorFiles;
}

/// <summary>One image's segmentation as the columns read it.</summary>
internal sealed record SegmentationRow(string[] Labels, int[] Map, int Height, int Width);

internal sealed class ImageSegmentationMapper : ImageTaskMapper<SegmentationRow, ImageSegmentationPipeline>
{
    private readonly ImageSegmentationEstimator.Options _options;
    private readonly Dictionary<string, int> _index;

    private ImageSegmentationMapper(ImageSegmentationEstimator.Options o, IReadOnlyList<string> labels)
        : base("ImageSegmentation", o.InputColumnName,
        [
            Columns.TextVector<SegmentationRow>(o.LabelsColumnName, 0, r => r.Labels),
            Columns.Vector<SegmentationRow, int>(o.SegmentationMapColumnName, NumberDataViewType.Int32, 0, r => r.Map),
            Columns.Scalar<SegmentationRow, int>(o.HeightColumnName, NumberDataViewType.Int32, r => r.Height),
            Columns.Scalar<SegmentationRow, int>(o.WidthColumnName, NumberDataViewType.Int32, r => r.Width),
        ])
    {
        _options = o;
        ClassLabels = labels;
        _index = TextClassificationMapper.ClassIndex(labels, "the config's id2label");
    }

    public IReadOnlyList<string> ClassLabels { get; }

    public static TaskMapper Create(ImageSegmentationEstimator.Options o, PretrainedConfig config) =>
        new ImageSegmentationMapper(o, TextClassificationMapper.LabelNames(config));

    protected override IReadOnlyList<SegmentationRow> RunImages(ImageSegmentationPipeline pipeline, IReadOnlyList<ImageInput> images) =>
        pipeline.RunBatch(images, new PipelineParameters { [ImageSegmentationPipeline.BatchSizeParameter] = _options.BatchSize })
            .Select(ToRow).ToList();

    private SegmentationRow ToRow(IReadOnlyList<ImageSegmentationResult> segments)
    {
        var first = segments[0].Mask;
        var map = new int[first.Width * first.Height];
        foreach (var s in segments)
        {
            int id = _index[s.Label];
            for (int i = 0; i < map.Length; i++) if (s.Mask.Pixels[i] != 0) map[i] = id;
        }
        return new SegmentationRow(segments.Select(s => s.Label).ToArray(), map, first.Height, first.Width);
    }
}
