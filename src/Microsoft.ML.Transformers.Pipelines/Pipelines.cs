using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>Hugging Face's <c>pipeline(task, model=...)</c>.</summary>
public static class Pipelines
{
    /// <summary>Opens <paramref name="modelFolder"/> (or the task's default folder) for <paramref name="task"/> and builds its pipeline.</summary>
    public static Pipeline Create(string task, string? modelFolder = null, PipelineOptions? options = null)
    {
        var t = PipelineRegistry.Get(task);
        options ??= new PipelineOptions();
        modelFolder ??= t.DefaultModelFolder ?? throw new ArgumentException(
            $"Task '{t.Name}' has no default model folder; pass the folder of a model with a {t.Head} head.", nameof(modelFolder));
        if (!Directory.Exists(modelFolder)) throw new DirectoryNotFoundException($"Model folder '{modelFolder}' does not exist.");
        var config = AutoConfig.FromPretrained(modelFolder);
        var engine = options.Engine ?? InferenceModel.DetectEngine(modelFolder);
        CheckHead(t, config, engine, modelFolder);
        // text tasks read tokenizer.json, image tasks preprocessor_config.json, multimodal ones both
        var tokenizer = t.InputType == PipelineInputType.Image ? null : AutoTokenizer.FromPretrained(modelFolder);
        var processor = t.InputType == PipelineInputType.Text ? null : AutoImageProcessor.FromPretrained(modelFolder);
        var model = InferenceModel.Load(modelFolder, t.Head,
            new InferenceModelOptions { Engine = engine, Device = options.Device, TorchDtype = options.TorchDtype, Onnx = options.Onnx });
        try
        {
            return t.Factory(new PipelineContext(t.Name, modelFolder, model, tokenizer, options.Parameters ?? new PipelineParameters(), processor));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="Create"/>, typed.</summary>
    public static T Create<T>(string task, string? modelFolder = null, PipelineOptions? options = null) where T : Pipeline
    {
        var p = Create(task, modelFolder, options);
        if (p is T typed) return typed;
        p.Dispose();
        throw new InvalidCastException($"Task '{task}' builds a {p.GetType().Name}, not a {typeof(T).Name}.");
    }

    /// <summary>Recreates a pipeline from a folder written by <see cref="Pipeline.SavePretrained"/> (its pipeline.json names the task).</summary>
    public static Pipeline Load(string folder, PipelineOptions? options = null)
    {
        var saved = PipelineFolder.Read(folder);
        options ??= new PipelineOptions();
        options = options with { Parameters = saved.Parameters.Merge(options.Parameters) };
        return Create(saved.Task, folder, options);
    }

    // Architecture class suffixes (config.json "architectures") -> the head they carry.
    private static readonly (string Suffix, ModelHead Head)[] s_heads =
    [
        ("ForSequenceClassification", ModelHead.SequenceClassification),
        ("ForTokenClassification", ModelHead.TokenClassification),
        ("ForQuestionAnswering", ModelHead.QuestionAnswering),
        ("ForMaskedLM", ModelHead.MaskedLM),
        ("ForImageClassification", ModelHead.ImageClassification),
        ("ForSemanticSegmentation", ModelHead.SemanticSegmentation),
        ("ForObjectDetection", ModelHead.ObjectDetection),
        ("Backbone", ModelHead.Base),
        ("Model", ModelHead.Base),
    ];

    /// <summary>Fails before loading when the folder's architecture carries another head than the task needs. Feature extraction
    /// takes any checkpoint on libtorch (the base model is read out of a head checkpoint), as Hugging Face's AutoModel does;
    /// image feature extraction also takes any ONNX export, whose outputs the pipeline checks when it opens.</summary>
    private static void CheckHead(PipelineTask task, PretrainedConfig config, Engine engine, string folder)
    {
        var archs = config.Architectures;
        if (archs is null || archs.Count == 0) return;
        var arch = archs[0];
        var found = s_heads.FirstOrDefault(h => arch.EndsWith(h.Suffix, StringComparison.Ordinal));
        if (found.Suffix is null || found.Head == task.Head) return;
        if (task.Head == ModelHead.Base && (engine == Engine.LibTorch || task.InputType == PipelineInputType.Image)) return;
        throw new ArgumentException(
            $"Task '{task.Name}' needs a model with a {task.Head} head, but '{Path.Combine(folder, PretrainedConfig.ConfigFileName)}' " +
            $"has architectures [{arch}] ({found.Head} head).", nameof(folder));
    }
}
