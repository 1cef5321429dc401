using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Which engine runs a model.</summary>
public enum Engine
{
    /// <summary>Weights from model.safetensors, run eagerly on libtorch.</summary>
    LibTorch,
    /// <summary>An ONNX export (onnx/model.onnx) run by ONNX Runtime.</summary>
    OnnxRuntime,
}

/// <summary>The head a task needs; each maps to a model registry.</summary>
public enum ModelHead { Base, SequenceClassification, TokenClassification, QuestionAnswering, MaskedLM, ImageClassification, SemanticSegmentation, ObjectDetection }

/// <summary>A padded batch of token ids, row-major [BatchSize, SequenceLength].</summary>
public sealed record InferenceBatch(long[] InputIds, long[] AttentionMask, long[]? TokenTypeIds, int BatchSize, int SequenceLength)
{
    /// <summary>Pads <paramref name="encodings"/> on the right to the longest with <paramref name="padId"/> (mask 0, type 0).</summary>
    public static InferenceBatch FromEncodings(IReadOnlyList<Tokenizers.Encoding> encodings, long padId)
    {
        int batch = encodings.Count, length = encodings.Count == 0 ? 0 : encodings.Max(e => e.Length);
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        var types = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            var e = encodings[b];
            for (int t = 0; t < length; t++)
            {
                int k = b * length + t;
                bool real = t < e.Length;
                ids[k] = real ? e.Ids[t] : padId;
                mask[k] = real ? e.AttentionMask[t] : 0;
                types[k] = real ? e.TypeIds[t] : 0;
            }
        }
        return new InferenceBatch(ids, mask, types, batch, length);
    }
}

/// <summary>
/// One interface over both engines, so that pipelines do not care which runs the model. Outputs are named as the
/// ONNX exports of Optimum / Transformers.js name them: logits; start_logits and end_logits; last_hidden_state.
/// Implementations are safe to call from several threads at once.
/// </summary>
public interface IInferenceModel : IDisposable
{
    PretrainedConfig Config { get; }
    Engine Engine { get; }
    ModelHead Head { get; }
    /// <summary>Runs the batch without gradients and returns host copies of the outputs.</summary>
    NamedTensors Run(InferenceBatch batch);

    /// <summary>Runs a vision model on pixel_values [batch, 3, height, width] without gradients and returns host copies of
    /// the outputs (logits; last_hidden_state and pooler_output where the model or export has them).</summary>
    NamedTensors RunPixels(PixelValues pixels) =>
        throw new NotSupportedException($"{GetType().Name} runs token ids only; it takes no pixel_values.");
}

public sealed record InferenceModelOptions
{
    /// <summary>null: libtorch when the folder has safetensors weights, else ONNX Runtime when it has an ONNX export.</summary>
    public Engine? Engine { get; init; }
    /// <summary>libtorch device: "cpu" (default), "cuda", "cuda:N".</summary>
    public string? Device { get; init; }
    /// <summary>libtorch weights' dtype (Hugging Face's torch_dtype: "float32" by default, "float16", "bfloat16", "auto").</summary>
    public string? TorchDtype { get; init; }
    /// <summary>Which ONNX file and session settings (ONNX Runtime only).</summary>
    public OnnxModelOptions? Onnx { get; init; }
}

public static class InferenceModel
{
    public static ModelRegistry RegistryFor(ModelHead head) => head switch
    {
        ModelHead.Base => ModelRegistries.Base,
        ModelHead.SequenceClassification => ModelRegistries.SequenceClassification,
        ModelHead.TokenClassification => ModelRegistries.TokenClassification,
        ModelHead.QuestionAnswering => ModelRegistries.QuestionAnswering,
        ModelHead.MaskedLM => ModelRegistries.MaskedLM,
        ModelHead.ImageClassification => ModelRegistries.ImageClassification,
        ModelHead.SemanticSegmentation => ModelRegistries.SemanticSegmentation,
        ModelHead.ObjectDetection => ModelRegistries.ObjectDetection,
        _ => throw new ArgumentOutOfRangeException(nameof(head), head, null),
    };

    /// <summary>Opens a model folder for <paramref name="head"/> on the engine the options or the folder's files choose.</summary>
    public static IInferenceModel Load(string folder, ModelHead head, InferenceModelOptions? options = null)
    {
        options ??= new InferenceModelOptions();
        var engine = options.Engine ?? DetectEngine(folder);
        return engine switch
        {
            Engine.LibTorch => new TorchInferenceModel(
                RegistryFor(head).FromPretrained(folder, new ModelLoadOptions { Device = options.Device, TorchDtype = options.TorchDtype }), head),
            Engine.OnnxRuntime => OnnxInferenceModel.Open(folder, head, options.Onnx),
            _ => throw new ArgumentOutOfRangeException(nameof(options), engine, "unknown engine"),
        };
    }

    internal static Engine DetectEngine(string folder)
    {
        if (File.Exists(Path.Combine(folder, "model.safetensors")) || File.Exists(Path.Combine(folder, "model.safetensors.index.json")))
            return Engine.LibTorch;
        if (File.Exists(Path.Combine(folder, "onnx", "model.onnx")) || File.Exists(Path.Combine(folder, "model.onnx")))
            return Engine.OnnxRuntime;
        throw new FileNotFoundException(
            $"No weights in '{folder}': looked for model.safetensors, model.safetensors.index.json, onnx/model.onnx and model.onnx.");
    }
}

/// <summary>A <see cref="PreTrainedModel"/> behind <see cref="IInferenceModel"/>: eval mode, no_grad, temporaries freed per call.</summary>
public sealed class TorchInferenceModel : IInferenceModel
{
    private readonly bool _takesTokenTypes;

    public TorchInferenceModel(PreTrainedModel model, ModelHead head)
    {
        Model = model;
        Head = head;
        model.eval();
        // DistilBERT has no token-type embeddings; BERT and RoBERTa do.
        _takesTokenTypes = model.Config.ContainsKey("type_vocab_size") || model.Config is BertLikeConfig;
    }

    public PreTrainedModel Model { get; }
    public PretrainedConfig Config => Model.Config;
    public Engine Engine => Engine.LibTorch;
    public ModelHead Head { get; }

    public NamedTensors Run(InferenceBatch batch)
    {
        using var lease = Model.Use(); // a Dispose on another thread waits for this call; a call after it throws ObjectDisposedException
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var inputs = ModelInputs.FromArrays(batch.InputIds, batch.AttentionMask, _takesTokenTypes ? batch.TokenTypeIds : null,
            batch.BatchSize, batch.SequenceLength, Model.Device);
        return HostOutputs(Model.forward(inputs));
    }

    public NamedTensors RunPixels(PixelValues pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        using var lease = Model.Use();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return HostOutputs(Model.forward(new ModelInputs
        {
            PixelValues = pixels.ToTensor(Model.Device),
            PixelMask = pixels.PixelMask is null ? null : tensor(pixels.PixelMask, [pixels.Batch, pixels.Height, pixels.Width], device: Model.Device),
        }));
    }

    /// <summary>The outputs named as the ONNX exports name them, copied to the host as float32.</summary>
    private static NamedTensors HostOutputs(ModelOutput o)
    {
        var result = new List<NamedTensor>();
        void Add(string name, Tensor? t)
        {
            if (t is not null) result.Add(ToHost(name, t));
        }
        Add("logits", o.Logits);
        Add("start_logits", o.StartLogits);
        Add("end_logits", o.EndLogits);
        Add("last_hidden_state", o.LastHiddenState);
        Add("pooler_output", o.PoolerOutput);
        Add("pred_boxes", o.PredBoxes);
        return new NamedTensors(result);
    }

    /// <summary>A host float32 copy of <paramref name="t"/> (any dtype, any device).</summary>
    internal static NamedTensor ToHost(string name, Tensor t)
    {
        using var host = t.to(ScalarType.Float32).cpu().contiguous();
        return new NamedTensor(name, TensorElementType.Float, t.shape, host.data<float>().ToArray());
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>An ONNX export behind <see cref="IInferenceModel"/>; feeds only the inputs the graph declares. config.json and
/// the graph must agree (num_labels, vocab_size, hidden_size against the output widths): checked when opened where the graph
/// fixes the width, and on every run's outputs where it does not. Ids are checked against vocab_size and type_vocab_size.</summary>
public sealed class OnnxInferenceModel : IInferenceModel
{
    private readonly (string output, int axis, long size, string key)[] _dims;
    private readonly long _vocab, _typeVocab;

    private OnnxInferenceModel(OnnxModel model, PretrainedConfig config, ModelHead head)
    {
        Model = model;
        Config = config;
        Head = head;
        _dims = ExpectedDimensions(config, head).Where(w => model.OutputMetadata.ContainsKey(w.output)).ToArray();
        _vocab = config.Get<long?>("vocab_size") ?? long.MaxValue;
        _typeVocab = config.Get<long?>("type_vocab_size") ?? long.MaxValue;
        foreach (var (output, axis, size, key) in _dims)
        {
            int[] dims = model.OutputMetadata[output].Dimensions;
            if (Axis(axis, dims.Length) is int a && dims[a] >= 0) CheckDimension(output, axis, dims[a], size, key);
        }
    }

    public OnnxModel Model { get; }
    public PretrainedConfig Config { get; }
    public Engine Engine => Engine.OnnxRuntime;
    public ModelHead Head { get; }

    public static OnnxInferenceModel Open(string folder, ModelHead head, OnnxModelOptions? options = null)
    {
        var config = AutoConfig.FromPretrained(folder);
        var model = OnnxModel.FromPretrained(folder, options);
        try { return new OnnxInferenceModel(model, config, head); }
        catch { model.Dispose(); throw; }
    }

    public NamedTensors Run(InferenceBatch batch)
    {
        InputValues.CheckIds(batch.InputIds, batch.SequenceLength, OnnxModel.InputIds, _vocab, "vocab_size");
        if (batch.TokenTypeIds is { } types && Model.InputNames.Contains(OnnxModel.TokenTypeIds))
            InputValues.CheckIds(types, batch.SequenceLength, OnnxModel.TokenTypeIds, _typeVocab, "type_vocab_size");
        return CheckDimensions(Model.Run(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.BatchSize, batch.SequenceLength));
    }

    private NamedTensors CheckDimensions(NamedTensors result)
    {
        foreach (var (output, axis, size, key) in _dims)
            if (result.TryGet(output) is { } t && Axis(axis, t.Shape.Length) is int a) CheckDimension(output, axis, t.Shape[a], size, key);
        return result;
    }

    private const int Last = -1;

    /// <summary>Output dimensions config.json fixes for each head (axis <see cref="Last"/>: the last), with the key that says so.</summary>
    private static IEnumerable<(string output, int axis, long size, string key)> ExpectedDimensions(PretrainedConfig c, ModelHead head)
    {
        string labelsKey = c.Raw["id2label"] is null ? "num_labels" : "id2label";
        switch (head)
        {
            case ModelHead.SequenceClassification or ModelHead.TokenClassification or ModelHead.ImageClassification:
                yield return ("logits", Last, c.NumLabels, labelsKey);
                break;
            case ModelHead.MaskedLM when c.Get<long?>("vocab_size") is long vocab:
                yield return ("logits", Last, vocab, "vocab_size");
                break;
            case ModelHead.ObjectDetection:
                // DETR: logits [batch, num_queries, num_labels + 1 ("no object")], pred_boxes [batch, num_queries, 4]
                yield return ("logits", Last, c.NumLabels + 1, labelsKey + " (+1 for \"no object\")");
                if (c.Get<long?>("num_queries") is long queries)
                {
                    yield return ("logits", 1, queries, "num_queries");
                    yield return ("pred_boxes", 1, queries, "num_queries");
                }
                break;
            case ModelHead.Base:
                string key = c is DistilBertConfig ? "dim" : "hidden_size";
                if (c.Get<long?>(key) is long hidden) yield return ("last_hidden_state", Last, hidden, key);
                break;
        }
    }

    private static int? Axis(int axis, int rank) => axis == Last ? (rank > 0 ? rank - 1 : null) : axis < rank ? axis : null;

    private void CheckDimension(string output, int axis, long found, long expected, string key)
    {
        if (found != expected)
            throw new ConfigException(Config.Source, key,
                $"config.json gives {expected} but the ONNX graph '{Model.ModelPath}' outputs {output} with " +
                $"{(axis == Last ? "last dimension" : $"dimension {axis} of")} {found}; " +
                "the config and the export must come from the same model.");
    }

    /// <summary>Feeds pixel_mask when the graph takes one (the padded batch's, or ones); a padded batch needs a graph
    /// that takes it.</summary>
    public NamedTensors RunPixels(PixelValues pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return CheckDimensions(Model.RunPixels(pixels.Data, pixels.Shape, pixels.PixelMask));
    }

    public void Dispose() => Model.Dispose();
}
