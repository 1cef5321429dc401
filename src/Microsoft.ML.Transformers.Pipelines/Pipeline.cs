using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;
using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>What a pipeline factory receives: the task, the opened model, its tokenizer (text tasks) or image processor
/// (image tasks), and the construction parameters.</summary>
public sealed record PipelineContext(string Task, string ModelFolder, IInferenceModel Model, Tokenizer? Tokenizer, PipelineParameters Parameters,
    ImageProcessor? ImageProcessor = null);

/// <summary>
/// The part of every pipeline that does not depend on its input and result types: the task name, the model and
/// tokenizer it runs, its construction-time parameters, and saving it to a folder.
/// Follows Hugging Face's <c>pipelines/base.py</c>; the typed hooks live in <see cref="PipelineBase{TInput, TFeatures, TOutput, TResult}"/>.
/// </summary>
public abstract class Pipeline : IDisposable
{
    /// <summary>Name of the parameter that sets how many model inputs run in one padded batch.</summary>
    public const string BatchSizeParameter = "batch_size";

    /// <summary>Name of the parameter that caps a batch of text inputs' padded size (rows x longest, in tokens); an input
    /// longer than the cap runs alone. Default: 1,024 on the CPU, none on a GPU.</summary>
    public const string MaxBatchTokensParameter = "max_batch_tokens";

    protected Pipeline(PipelineContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Task = context.Task;
        ModelFolder = context.ModelFolder;
        Model = context.Model;
        _tokenizer = context.Tokenizer;
        ImageProcessor = context.ImageProcessor;
        Parameters = context.Parameters;
        // read once: the config and tokenizer getters parse their JSON on every access
        _maxLength = new(() => Tokenizer.ModelMaxLength ?? Model.Config.Get<int?>("max_position_embeddings"));
        _padId = new(() => Tokenizer.PadTokenId ?? Model.Config.PadTokenId ?? 0);
        _id2label = new(() => Model.Config.Id2Label);
    }

    private readonly Tokenizer? _tokenizer;
    private readonly Lazy<int?> _maxLength;
    private readonly Lazy<int> _padId;
    private readonly Lazy<IReadOnlyDictionary<int, string>> _id2label;

    /// <summary>The config's label of class <paramref name="id"/> (LABEL_{id} when it has none).</summary>
    protected string Label(int id) => _id2label.Value.TryGetValue(id, out var l) ? l : $"LABEL_{id}";

    public string Task { get; }
    /// <summary>The folder the model and tokenizer were read from.</summary>
    public string ModelFolder { get; }
    public IInferenceModel Model { get; }
    /// <summary>The tokenizer of a text task (an image task has none and throws).</summary>
    public Tokenizer Tokenizer => _tokenizer ?? throw new InvalidOperationException($"The {Task} pipeline of '{ModelFolder}' has no tokenizer.");
    /// <summary>The image processor (preprocessor_config.json) of an image task, else null.</summary>
    public ImageProcessor? ImageProcessor { get; }
    /// <summary>Parameters given at construction; call-time parameters are merged over them.</summary>
    public PipelineParameters Parameters { get; }

    /// <summary>
    /// Writes a folder that <see cref="Pipelines.Load"/> recreates this pipeline from alone: the model files
    /// (config.json, safetensors and/or onnx/), the tokenizer files or preprocessor_config.json, and pipeline.json naming the task.
    /// </summary>
    public void SavePretrained(string folder) => PipelineFolder.Save(this, folder);

    /// <summary>Runs the model on a padded batch of encodings and returns one output set per encoding, batch dimension removed
    /// and per-token outputs cut back to that encoding's length. No gradients are taken; the engine holds the device.</summary>
    protected IReadOnlyList<NamedTensors> RunEncodings(IReadOnlyList<Encoding> encodings)
    {
        if (encodings.Count == 0) return [];
        var padded = InferenceBatch.FromEncodings(encodings, _padId.Value);
        int batch = padded.BatchSize, length = padded.SequenceLength;
        var outputs = Model.Run(padded);
        var rows = new NamedTensors[batch];
        for (int b = 0; b < batch; b++)
        {
            var list = new List<NamedTensor>(outputs.Count);
            foreach (var o in outputs) list.Add(Row(o, b, length, encodings[b].Length));
            rows[b] = new NamedTensors(list);
        }
        return rows;
    }

    private NamedTensor Row(NamedTensor t, int row, int paddedLength, int realLength)
    {
        var data = t.GetData<float>();
        long[] shape = t.Shape[1..];
        int rowSize = (int)(data.Length / t.Shape[0]);
        // per-token outputs ([batch, seq, ...]) lose their padding positions
        // decided by name, not by shape: a [batch, labels] or pooled [batch, hidden] output can have as many columns as tokens
        bool perToken = t.Name is "last_hidden_state" or "start_logits" or "end_logits"
            || t.Name == "logits" && Model.Head is ModelHead.TokenClassification or ModelHead.MaskedLM;
        int keep = rowSize;
        if (perToken)
        {
            keep = rowSize / paddedLength * realLength;
            shape[0] = realLength;
        }
        return new NamedTensor(t.Name, TensorElementType.Float, shape, data.AsSpan(row * rowSize, keep).ToArray());
    }

    /// <summary>Encodes one text (and pair), failing clearly on empty text or, without truncation, text longer than the model.
    /// <paramref name="strategy"/> says which text of a pair truncation cuts.</summary>
    protected Encoding EncodeText(string text, string? pair = null, bool truncation = false, string what = "text",
        TruncationStrategy strategy = TruncationStrategy.LongestFirst)
    {
        if (string.IsNullOrEmpty(text)) throw new ArgumentException($"The {what} is empty; {Task} needs a non-empty string.", nameof(text));
        if (pair is { Length: 0 }) throw new ArgumentException($"The text pair is empty; {Task} needs a non-empty string or none.", nameof(pair));
        int? max = MaxLength;
        Encoding enc;
        try
        {
            enc = Tokenizer.Encode(text, pair, addSpecialTokens: true,
                truncation: truncation && max is int m ? new TruncationOptions(m, strategy) : null, padding: null);
        }
        catch (TruncationException e)
        {
            throw new ArgumentException($"The {what} cannot be truncated to the model's {max} tokens ({strategy}): {e.Message}.", nameof(text), e);
        }
        if (max is int limit && enc.Length > limit)
            throw new ArgumentException(
                $"The {what} is {enc.Length} tokens long but the model takes at most {limit} (model_max_length / max_position_embeddings); pass truncation=true to cut it.",
                nameof(text));
        return enc;
    }

    /// <summary>The longest input the model takes: tokenizer_config.json's model_max_length, else the config's max_position_embeddings.</summary>
    protected int? MaxLength => _maxLength.Value;

    public virtual void Dispose()
    {
        Model.Dispose();
        GC.SuppressFinalize(this);
    }
}
