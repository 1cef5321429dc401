using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// image-classification as an ML.NET estimator: <c>mlContext.Transforms.ImageClassification(modelFolder, "Image")</c> over a
/// column of image paths (String), encoded image bytes (Vector/VarVector of Byte) or ML.NET images (MLImage, from
/// Microsoft.ML.ImageAnalytics). Adds <c>Score</c> (one float per class in the config's label order, label names as slot
/// names) and <c>PredictedLabel</c> (a key over the label names), as TextClassification does.
/// </summary>
public sealed class ImageClassificationEstimator : PipelineEstimator<ImageClassificationTransformer, ImageClassificationEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public Options() => BatchSize = 8;

        public string InputColumnName { get; set; } = "Image";
        public string ScoreColumnName { get; set; } = "Score";
        public string PredictedLabelColumnName { get; set; } = "PredictedLabel";
        /// <summary>Hugging Face's function_to_apply; Default chooses from the config (softmax, or sigmoid for multi-label / one output).</summary>
        public ClassificationFunction FunctionToApply { get; set; } = ClassificationFunction.Default;
    }

    public ImageClassificationEstimator(Options options)
        : base(options, o => new ImageClassificationTransformer(o, ownsFolder: false), ImageClassificationMapper.Create) { }
}

public sealed class ImageClassificationTransformer : PipelineTransformer
{
    internal ImageClassificationTransformer(ImageClassificationEstimator.Options options, bool ownsFolder)
        : base("image-classification", options, o => ImageTasks.Opened(ImageClassificationPipeline.FromPretrained(o.ModelFolder, null, ImageTasks.LoadOptions(o), o.Engine)),
            c => ImageClassificationMapper.Create(options, c), ownsFolder) { }

    /// <summary>The class names, in score-slot order.</summary>
    public IReadOnlyList<string> Labels => ((ImageClassificationMapper)Mapper).Labels;

    /// <summary>The image pipeline every batch of rows runs through.</summary>
    public ImageClassificationPipeline ImagePipeline => (ImageClassificationPipeline)Runner;

    private protected override IEnumerable<string> ExtraModelFiles => ImageTasks.ProcessorFiles;
}

/// <summary>
/// image-feature-extraction as an ML.NET estimator: <c>mlContext.Transforms.ImageFeatureExtraction(modelFolder)</c> over an
/// image column (path, bytes or MLImage) adds <c>Features</c>: with Pool (default) the model's pooled output, a fixed-size
/// float vector of its last stage's width that feeds ML.NET trainers as it is; without, last_hidden_state flattened
/// into a variable-length vector.
/// </summary>
public sealed class ImageFeatureExtractionEstimator : PipelineEstimator<ImageFeatureExtractionTransformer, ImageFeatureExtractionEstimator.Options>
{
    public sealed class Options : PipelineTransformerOptions
    {
        public Options() => BatchSize = 8;

        public string InputColumnName { get; set; } = "Image";
        public string OutputColumnName { get; set; } = "Features";
        /// <summary>The pooled output (Hugging Face's pool=True); false gives last_hidden_state, flattened.</summary>
        public bool Pool { get; set; } = true;
    }

    public ImageFeatureExtractionEstimator(Options options)
        : base(options, o => new ImageFeatureExtractionTransformer(o, ownsFolder: false), ImageFeatureExtractionMapper.Create) { }
}

public sealed class ImageFeatureExtractionTransformer : PipelineTransformer
{
    internal ImageFeatureExtractionTransformer(ImageFeatureExtractionEstimator.Options options, bool ownsFolder)
        : base("image-feature-extraction", options, o => ImageTasks.Opened(ImageFeatureExtractionPipeline.FromPretrained(o.ModelFolder, null, ImageTasks.LoadOptions(o), o.Engine)),
            c => ImageFeatureExtractionMapper.Create(options, c), ownsFolder) { }

    /// <summary>The length of a pooled vector (the width of the model's last stage).</summary>
    public int FeatureSize => ((ImageFeatureExtractionMapper)Mapper).FeatureSize;

    /// <summary>The image pipeline every batch of rows runs through.</summary>
    public ImageFeatureExtractionPipeline ImagePipeline => (ImageFeatureExtractionPipeline)Runner;

    private protected override IEnumerable<string> ExtraModelFiles => ImageTasks.ProcessorFiles;
}

/// <summary>An image task's mapper: one image column, read as <see cref="RowInput.Image"/>, run on a <typeparamref name="TPipeline"/>.</summary>
internal abstract class ImageTaskMapper<TRow, TPipeline>(string taskName, string inputColumn, IReadOnlyList<OutputColumn> outputs)
    : TaskMapper(taskName, [inputColumn], outputs, RowInput.Image) where TRow : class
{
    public sealed override IReadOnlyList<object> Run(object runner, IReadOnlyList<object[]> rows) =>
        RunImages((TPipeline)runner, rows.Select(r => RowInput.ToImage(r[0])).ToList());

    protected abstract IReadOnlyList<TRow> RunImages(TPipeline pipeline, IReadOnlyList<ImageInput> images);
}

internal static class ImageTasks
{
    /// <summary>The image processor's settings, kept in model.zip beside config and weights.</summary>
    public static readonly string[] ProcessorFiles = ["preprocessor_config.json"];

    /// <summary>The libtorch device of the options (the engine is passed to FromPretrained: default libtorch when the folder has model.safetensors).</summary>
    public static ModelLoadOptions? LoadOptions(PipelineTransformerOptions o) => o.Device is null ? null : new ModelLoadOptions { Device = o.Device };

    public static OpenedPipeline Opened<TResult>(ImagePipeline<TResult> pipeline) => new(pipeline, pipeline.Engine, pipeline.Config);
}

internal sealed class ImageClassificationMapper : ImageTaskMapper<ClassScores, ImageClassificationPipeline>
{
    private readonly ImageClassificationEstimator.Options _options;
    private readonly Dictionary<string, int> _index;

    private ImageClassificationMapper(ImageClassificationEstimator.Options o, IReadOnlyList<string> labels)
        : base("ImageClassification", o.InputColumnName, TextClassificationMapper.ClassColumns(o.ScoreColumnName, o.PredictedLabelColumnName, labels))
    {
        _options = o;
        Labels = labels;
        _index = TextClassificationMapper.ClassIndex(labels, "the config's id2label");
    }

    public IReadOnlyList<string> Labels { get; }

    public static TaskMapper Create(ImageClassificationEstimator.Options o, PretrainedConfig config) =>
        new ImageClassificationMapper(o, TextClassificationMapper.LabelNames(config));

    protected override IReadOnlyList<ClassScores> RunImages(ImageClassificationPipeline pipeline, IReadOnlyList<ImageInput> images)
    {
        var results = pipeline.RunBatch(images, new PipelineParameters
        {
            [ImageClassificationPipeline.TopK] = null,
            [ImageClassificationPipeline.FunctionToApply] = _options.FunctionToApply,
            [ImageClassificationPipeline.BatchSizeParameter] = _options.BatchSize,
        });
        return results.Select(r => TextClassificationMapper.ToScores(r.Select(x => (x.Label, x.Score)), _index)).ToList();
    }
}

internal sealed class ImageFeatureExtractionMapper : ImageTaskMapper<float[], ImageFeatureExtractionPipeline>
{
    private readonly ImageFeatureExtractionEstimator.Options _options;

    private ImageFeatureExtractionMapper(ImageFeatureExtractionEstimator.Options o, int size)
        : base("ImageFeatureExtraction", o.InputColumnName,
            [Columns.Vector<float[], float>(o.OutputColumnName, NumberDataViewType.Single, o.Pool ? size : 0, r => r)])
    {
        _options = o;
        FeatureSize = size;
    }

    public int FeatureSize { get; }

    public static TaskMapper Create(ImageFeatureExtractionEstimator.Options o, PretrainedConfig config) => new ImageFeatureExtractionMapper(o, PooledSize(config));

    /// <summary>The width of the last stage: what the pooler outputs (ResNet, ConvNeXt: hidden_sizes[-1]; Swin: embed_dim·2^(stages-1)).</summary>
    private static int PooledSize(PretrainedConfig config) => config switch
    {
        SwinConfig s => s.HiddenSize,
        ResNetConfig r => r.HiddenSizes[^1],
        ConvNextConfig c => c.HiddenSizes[^1],
        _ => config.Get<int?>("hidden_size") ?? throw new ArgumentException(
            $"'{config.Source ?? PretrainedConfig.ConfigFileName}' has no hidden_size: ImageFeatureExtraction needs it to declare the vector size."),
    };

    protected override IReadOnlyList<float[]> RunImages(ImageFeatureExtractionPipeline pipeline, IReadOnlyList<ImageInput> images) =>
        pipeline.RunBatch(images, new PipelineParameters
        {
            [ImageFeatureExtractionPipeline.Pool] = _options.Pool,
            [ImageFeatureExtractionPipeline.BatchSizeParameter] = _options.BatchSize,
        }).Select(r => r.Data).ToList();
}
