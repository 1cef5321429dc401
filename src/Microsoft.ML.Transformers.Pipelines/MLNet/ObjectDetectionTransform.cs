using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// object-detection as an ML.NET estimator: <c>mlContext.Transforms.ObjectDetection(modelFolder, "Image")</c> over an image
/// column (path, bytes or MLImage). Adds, one entry per detected object in the model's query order (the pipeline's list):
/// <c>Labels</c> (VarVector of String), <c>Scores</c> (VarVector of Single) and <c>Boxes</c> (VarVector of Single, four per
/// object: xmin, ymin, xmax, ymax in the image's pixels, truncated to integers as Hugging Face's pipeline gives them).
/// Objects scoring at most <see cref="Options.Threshold"/> are left out, so an image may have none.
/// </summary>
public sealed class ObjectDetectionEstimator : PipelineEstimator<ObjectDetectionTransformer, ObjectDetectionEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public Options() => BatchSize = 8;

        public string InputColumnName { get; set; } = "Image";
        public string LabelsColumnName { get; set; } = "Labels";
        public string ScoresColumnName { get; set; } = "Scores";
        public string BoxesColumnName { get; set; } = "Boxes";
        /// <summary>Hugging Face's threshold: objects whose best class scores above it are kept.</summary>
        public double Threshold { get; set; } = 0.5;
    }

    public ObjectDetectionEstimator(Options options)
        : base(options, o => new ObjectDetectionTransformer(o, ownsFolder: false), ObjectDetectionMapper.Create) { }
}

public sealed class ObjectDetectionTransformer : PipelineTransformer
{
    internal ObjectDetectionTransformer(ObjectDetectionEstimator.Options options, bool ownsFolder)
        : base("object-detection", options, o => ImageTasks.Opened(ObjectDetectionPipeline.FromPretrained(o.ModelFolder, null, ImageTasks.LoadOptions(o), o.Engine)),
            c => ObjectDetectionMapper.Create(options, c), ownsFolder) { }

    /// <summary>The image pipeline every batch of rows runs through.</summary>
    public ObjectDetectionPipeline ImagePipeline => (ObjectDetectionPipeline)Runner;

    private protected override IEnumerable<string> ExtraModelFiles => ImageTasks.ProcessorFiles;
}

/// <summary>One image's detections as the columns read them.</summary>
internal sealed record DetectionRow(string[] Labels, float[] Scores, float[] Boxes);

internal sealed class ObjectDetectionMapper : ImageTaskMapper<DetectionRow, ObjectDetectionPipeline>
{
    private readonly ObjectDetectionEstimator.Options _options;

    private ObjectDetectionMapper(ObjectDetectionEstimator.Options o)
        : base("ObjectDetection", o.InputColumnName,
        [
            Columns.TextVector<DetectionRow>(o.LabelsColumnName, 0, r => r.Labels),
            Columns.Vector<DetectionRow, float>(o.ScoresColumnName, NumberDataViewType.Single, 0, r => r.Scores),
            Columns.Vector<DetectionRow, float>(o.BoxesColumnName, NumberDataViewType.Single, 0, r => r.Boxes),
        ])
    {
        if (!(o.Threshold is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(o.Threshold), o.Threshold, "ObjectDetection's Threshold is a probability, from 0 to 1.");
        _options = o;
    }

    public static TaskMapper Create(ObjectDetectionEstimator.Options o, PretrainedConfig config) => new ObjectDetectionMapper(o);

    protected override IReadOnlyList<DetectionRow> RunImages(ObjectDetectionPipeline pipeline, IReadOnlyList<ImageInput> images) =>
        pipeline.RunBatch(images, new PipelineParameters
        {
            [ObjectDetectionPipeline.Threshold] = _options.Threshold,
            [ObjectDetectionPipeline.BatchSizeParameter] = _options.BatchSize,
        }).Select(ToRow).ToList();

    private static DetectionRow ToRow(IReadOnlyList<ObjectDetectionResult> objects) => new(
        objects.Select(o => o.Label).ToArray(),
        objects.Select(o => (float)o.Score).ToArray(),
        objects.SelectMany(o => new float[] { o.Box.XMin, o.Box.YMin, o.Box.XMax, o.Box.YMax }).ToArray());
}
