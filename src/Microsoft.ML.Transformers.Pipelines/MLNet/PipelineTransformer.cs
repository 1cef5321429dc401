using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// What every task's <c>Options</c> carries: the model folder, how to open it, and how rows are batched.
/// Plain settable properties with a parameterless constructor, so an options object can be swept
/// (AutoML's SearchSpace&lt;TOptions&gt;) and is persisted in model.zip as it is.
/// </summary>
public abstract class PipelineTransformerOptions
{
    /// <summary>A Hugging Face checkpoint folder: config.json, tokenizer files, model.safetensors and/or onnx/model.onnx.</summary>
    public string ModelFolder { get; set; } = "";
    /// <summary>null: libtorch when the folder has model.safetensors, else ONNX Runtime.</summary>
    public Engine? Engine { get; set; }
    /// <summary>libtorch device: "cpu" (default), "cuda" or "cuda:N".</summary>
    public string? Device { get; set; }
    /// <summary>Rows read ahead and run as one padded batch (model inputs per batch for tasks that make several per row);
    /// from 1 to <see cref="MaxBatchSize"/>.</summary>
    public int BatchSize { get; set; } = 32;
    /// <summary>The largest <see cref="BatchSize"/>: every cursor holds buffers of that many rows.</summary>
    public const int MaxBatchSize = 1 << 16;
    /// <summary>Cut texts longer than the model to its max length. On by default here (Hugging Face's default is off), so
    /// one long row does not stop a data pipeline; off makes such a row an error naming it.</summary>
    public bool Truncation { get; set; } = true;
}

/// <summary>What a transformer opened: the object its mapper runs batches on, the engine in use and the model's config.</summary>
internal readonly record struct OpenedPipeline(IDisposable Runner, Engine Engine, PretrainedConfig Config);

/// <summary>
/// The part of every task's transformer that does not depend on the task: an opened <see cref="Pipeline"/>, the task's
/// columns, a lazy batching <see cref="IDataView"/>, a row mapper for PredictionEngine, and model.zip persistence.
/// Thread-safe: several cursors and prediction engines can use one transformer at once.
/// </summary>
public abstract class PipelineTransformer : ITransformer, IDisposable
{
    private readonly string? _ownedFolder;
    private int _disposed;

    /// <summary>A text task: its <see cref="Pipeline"/> is <c>Pipelines.Create(pipelineTask ?? task, ...)</c>.</summary>
    private protected PipelineTransformer(string task, PipelineTransformerOptions options, Func<PretrainedConfig, TaskMapper> mapper, bool ownsFolder,
        string? pipelineTask = null)
        : this(task, options, o => OpenTextPipeline(pipelineTask ?? task, o), mapper, ownsFolder) { }

    /// <summary>Any task: <paramref name="open"/> opens the model folder and returns what runs the batches.</summary>
    private protected PipelineTransformer(string task, PipelineTransformerOptions options, Func<PipelineTransformerOptions, OpenedPipeline> open,
        Func<PretrainedConfig, TaskMapper> mapper, bool ownsFolder)
    {
        Task = task;
        var folder = options.ModelFolder;
        PipelineEstimatorChecks.CheckModelFolder(folder);
        var opened = open(options);
        try
        {
            options.Engine = opened.Engine;   // persisted as the engine actually used
            Mapper = mapper(opened.Config);
        }
        catch
        {
            opened.Runner.Dispose();
            throw;
        }
        Runner = opened.Runner;
        Engine = opened.Engine;
        BaseOptions = options;
        _ownedFolder = ownsFolder ? folder : null;
    }


    private protected static OpenedPipeline OpenTextPipeline(string task, PipelineTransformerOptions options)
    {
        var pipeline = Pipelines.Pipelines.Create(task, options.ModelFolder, new PipelineOptions
        {
            Engine = options.Engine,
            Device = options.Device, // "cpu", "cuda", "cuda:N": a plain value, so it persists and sweeps
        });
        return new(pipeline, pipeline.Model.Engine, pipeline.Model.Config);
    }

    /// <summary>The Hugging Face task name (text-classification, ...) model.zip records.</summary>
    public string Task { get; }
    /// <summary>The engine the model runs on.</summary>
    public Engine Engine { get; }
    /// <summary>The text pipeline every batch of rows runs through (the image transformers run an image pipeline instead).</summary>
    public Pipeline Pipeline => Runner as Pipeline
        ?? throw new NotSupportedException($"The {Task} transformer runs {Runner.GetType().Name}, not a text Pipeline.");
    internal IDisposable Runner { get; }
    internal string ModelFolder => BaseOptions.ModelFolder;
    internal PipelineTransformerOptions BaseOptions { get; }
    internal TaskMapper Mapper { get; }

    public bool IsRowToRowMapper => true;

    /// <summary>
    /// Writes the fitted model as an ONNX export (<see cref="OnnxExport.ExportOnnx"/>: onnx/model.onnx, config.json and the
    /// tokenizer files or preprocessor_config.json of <see cref="PipelineTransformerOptions.ModelFolder"/>) to <paramref name="folder"/>, which the same
    /// estimator then opens on ONNX Runtime (<c>Engine = Engine.OnnxRuntime</c>). Needs the transformer to run on libtorch
    /// (a model.safetensors checkpoint, or the output of FineTuneTextClassification).
    /// </summary>
    public OnnxExportResult ExportOnnx(string folder, OnnxExportOptions? options = null)
    {
        if (Pipeline.Model is not TorchInferenceModel torch)
            throw new NotSupportedException(
                $"This {Task} transformer runs '{ModelFolder}' on {Pipeline.Model.Engine}; ONNX export writes a graph from libtorch weights. " +
                $"Fit the estimator with Engine = {nameof(Engine.LibTorch)} on a folder with model.safetensors to export it.");
        options ??= new OnnxExportOptions();
        return torch.Model.ExportOnnx(folder, options with { TokenizerFolder = options.TokenizerFolder ?? ModelFolder });
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        Mapper.CheckInput(inputSchema);
        return Mapper.OutputSchema(inputSchema);
    }

    /// <summary>Lazy: nothing runs until a cursor moves; each cursor reads <c>BatchSize</c> rows ahead and runs them as one batch.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfDisposed();
        Mapper.CheckInput(input.Schema);
        return new PipelineDataView(this, input);
    }

    /// <summary>Per-row mapping (PredictionEngine): each row is a batch of one.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ThrowIfDisposed();
        Mapper.CheckInput(inputSchema);
        return new PipelineRowMapper(this, inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        MLNetPersistence.Save(ctx, this);
    }

    /// <summary>The model folder's files the engine in use needs (relative paths).</summary>
    internal IReadOnlyList<string> PersistedFiles()
    {
        bool onnx = Engine == Modeling.Engine.OnnxRuntime;
        return PipelineFolder.ModelFiles.Concat(ExtraModelFiles)
            .Where(f => File.Exists(Path.Combine(ModelFolder, f)))
            .Where(f => onnx ? !Path.GetFileName(f).StartsWith("model.safetensors", StringComparison.Ordinal) : !f.EndsWith(".onnx", StringComparison.Ordinal) && !f.EndsWith(".onnx_data", StringComparison.Ordinal))
            .ToList();
    }

    /// <summary>Files of the model folder a task needs besides config, tokenizer and weights (relative paths; absent ones are skipped).</summary>
    private protected virtual IEnumerable<string> ExtraModelFiles => [];

    internal JsonObject OptionsToJson()
    {
        var node = JsonSerializer.SerializeToNode(BaseOptions, BaseOptions.GetType(), s_json)!.AsObject();
        node.Remove(nameof(PipelineTransformerOptions.ModelFolder));   // a loaded transformer reads its own copy
        return node;
    }

    /// <summary>Runs a batch of rows (each the task's input column values, in order) and returns the task's row results.</summary>
    internal IReadOnlyList<object> RunRows(IReadOnlyList<object[]> rows)
    {
        ThrowIfDisposed();
        return Mapper.Run(Runner, rows);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed != 0, this);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Runner.Dispose();
        if (_ownedFolder != null) TempFolders.Delete(_ownedFolder);
        GC.SuppressFinalize(this);
    }

    // ---- task registry: what model.zip's "task" names are restored with ----

    private static readonly JsonSerializerOptions s_json = new() { Converters = { new JsonStringEnumConverter() } };
    private static readonly ConcurrentDictionary<string, (Type Options, Func<PipelineTransformerOptions, bool, PipelineTransformer> Create)> s_tasks = new();

    static PipelineTransformer()
    {
        Register<TextClassificationEstimator.Options>("text-classification", (o, owns) => new TextClassificationTransformer(o, owns));
        Register<TokenClassificationEstimator.Options>("token-classification", (o, owns) => new TokenClassificationTransformer(o, owns));
        Register<QuestionAnsweringEstimator.Options>("question-answering", (o, owns) => new QuestionAnsweringTransformer(o, owns));
        Register<FillMaskEstimator.Options>("fill-mask", (o, owns) => new FillMaskTransformer(o, owns));
        Register<FeatureExtractionEstimator.Options>("feature-extraction", (o, owns) => new FeatureExtractionTransformer(o, owns));
        Register<ZeroShotClassificationEstimator.Options>("zero-shot-classification", (o, owns) => new ZeroShotClassificationTransformer(o, owns));
        Register<TextRegressionEstimator.Options>(TextRegressionTransformer.TaskName, (o, owns) => new TextRegressionTransformer(o, owns));
        Register<ImageClassificationEstimator.Options>("image-classification", (o, owns) => new ImageClassificationTransformer(o, owns));
        Register<ImageFeatureExtractionEstimator.Options>("image-feature-extraction", (o, owns) => new ImageFeatureExtractionTransformer(o, owns));
        Register<ImageSegmentationEstimator.Options>("image-segmentation", (o, owns) => new ImageSegmentationTransformer(o, owns));
        Register<ObjectDetectionEstimator.Options>("object-detection", (o, owns) => new ObjectDetectionTransformer(o, owns));
    }

    /// <summary>Makes transformers of <paramref name="task"/> loadable from model.zip (the built-in tasks are registered already).</summary>
    internal static void Register<TOptions>(string task, Func<TOptions, bool, PipelineTransformer> create) where TOptions : PipelineTransformerOptions =>
        s_tasks[task] = (typeof(TOptions), (o, owns) => create((TOptions)o, owns));

    internal static PipelineTransformer Restore(string task, JsonObject options, string folder, bool ownsFolder)
    {
        if (!s_tasks.TryGetValue(task, out var entry))
            throw new FormatException($"model.zip holds a '{task}' transformer, which this version of Microsoft.ML.Transformers cannot load. " +
                $"Known: {string.Join(", ", s_tasks.Keys.Order(StringComparer.Ordinal))}.");
        PipelineTransformerOptions o;
        try { o = (PipelineTransformerOptions)options.Deserialize(entry.Options, s_json)!; }
        catch (JsonException e) { throw new FormatException($"model.zip: the options of the '{task}' transformer do not read as {entry.Options.Name}: {e.Message}", e); }
        o.ModelFolder = folder;
        return entry.Create(o, ownsFolder);
    }

    internal static T Clone<T>(T options) where T : PipelineTransformerOptions =>
        (T)JsonSerializer.SerializeToNode(options, options.GetType(), s_json).Deserialize(options.GetType(), s_json)!;
}

/// <summary>
/// The part of every task's estimator that does not depend on the task. <see cref="Fit"/> opens the model (nothing is
/// trained) and checks the input schema; <see cref="GetOutputSchema"/> is exact without opening the model or reading data.
/// </summary>
public abstract class PipelineEstimator<TTransformer, TOptions> : IEstimator<TTransformer>
    where TTransformer : PipelineTransformer
    where TOptions : PipelineTransformerOptions
{
    private readonly Func<TOptions, TTransformer> _create;
    private readonly Func<TOptions, PretrainedConfig, TaskMapper> _mapper;

    private protected PipelineEstimator(TOptions options, Func<TOptions, TTransformer> create, Func<TOptions, PretrainedConfig, TaskMapper> mapper)
    {
        ArgumentNullException.ThrowIfNull(options);
        PipelineEstimatorChecks.CheckModelFolder(options.ModelFolder);
        PipelineEstimatorChecks.Range(nameof(options.BatchSize), options.BatchSize, 1, PipelineTransformerOptions.MaxBatchSize);
        _options = PipelineTransformer.Clone(options);
        _create = create;
        _mapper = mapper;
        // the task's own checks (labels, top_k, ...) fail here rather than at Fit
        _mapper(_options, AutoConfig.FromPretrained(_options.ModelFolder));
    }

    private readonly TOptions _options;

    /// <summary>A copy of the options this estimator was made with.</summary>
    public TOptions GetOptions() => PipelineTransformer.Clone(_options);

    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mapper = _mapper(_options, AutoConfig.FromPretrained(_options.ModelFolder));
        mapper.CheckInput(input.Schema);
        return _create(PipelineTransformer.Clone(_options));
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var mapper = _mapper(_options, AutoConfig.FromPretrained(_options.ModelFolder));
        mapper.CheckInput(inputSchema);
        var added = MLNetPersistence.ShapeOf(mapper.AddedColumnsSchema());
        var names = new HashSet<string>(added.Select(c => c.Name), StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !names.Contains(c.Name)).Concat(added));
    }
}

internal static class PipelineEstimatorChecks
{
    /// <summary>Fails unless <paramref name="value"/> (when set) lies in [<paramref name="min"/>, <paramref name="max"/>], naming the option.</summary>
    public static void Range(string option, int? value, int min, int max = int.MaxValue)
    {
        if (value is int v && (v < min || v > max))
            throw new ArgumentOutOfRangeException(option, v,
                $"{option} must be {(max == int.MaxValue ? $"at least {min}" : $"from {min} to {max}")}; found {v}.");
    }

    public static void CheckModelFolder(string? folder)
    {
        if (string.IsNullOrWhiteSpace(folder))
            throw new ArgumentException("No model folder given: set ModelFolder to a Hugging Face checkpoint folder (config.json, tokenizer.json, weights).", "modelFolder");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (!Directory.EnumerateFileSystemEntries(folder).Any())
            throw new ArgumentException($"Model folder '{folder}' is empty: expected a Hugging Face checkpoint folder with config.json, " +
                "tokenizer.json (or vocab files) and model.safetensors or onnx/model.onnx.", "modelFolder");
    }
}
