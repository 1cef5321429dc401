using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.SentenceTransformers;

/// <summary>How two embeddings are compared.</summary>
public enum SimilarityFunction { Cosine, Dot }

public sealed record SentenceTransformerOptions
{
    /// <summary>null: libtorch when the folder has model.safetensors, else ONNX Runtime (onnx/model.onnx).</summary>
    public Engine? Engine { get; init; }
    /// <summary>libtorch device ("cpu", "cuda", "cuda:N").</summary>
    public string? Device { get; init; }
    public OnnxRuntime.OnnxModelOptions? Onnx { get; init; }
}

/// <summary>
/// A sentence-transformers model (sentence-transformers' <c>SentenceTransformer</c>): a Transformer module (any base model
/// this library loads, on either engine), Pooling, and an optional Normalize, as modules.json lists them.
/// Texts longer than max_seq_length tokens are truncated, as upstream does, whatever the tokenizer.json's truncation and padding blocks say. Safe to call from several threads.
/// </summary>
public sealed class SentenceTransformer : IDisposable
{
    private SentenceTransformer(SentenceTransformerConfig config, IInferenceModel model, Tokenizer tokenizer)
    {
        Config = config;
        Model = model;
        Tokenizer = tokenizer;
        int? configMax = model.Config.Get<int?>("max_position_embeddings");
        MaxSeqLength = new[] { config.MaxSeqLength, tokenizer.ModelMaxLength, configMax }.Where(x => x is > 0).Select(x => x!.Value).DefaultIfEmpty(512).Min();
        _hidden = model.Config.Get<int?>("hidden_size") ?? model.Config.Get<int?>("dim") ?? model.Config.Get<int?>("d_model") ?? config.Pooling.WordEmbeddingDimension;
        if (_hidden != config.Pooling.WordEmbeddingDimension)
            throw new FormatException($"'{Path.Combine(config.Folder, config.Modules[1].Path, "config.json")}': word_embedding_dimension is {config.Pooling.WordEmbeddingDimension} but the model's hidden size is {_hidden}.");
        _padId = tokenizer.PadTokenId ?? model.Config.PadTokenId ?? 0;
    }

    private readonly int _hidden, _padId;

    public SentenceTransformerConfig Config { get; }
    public IInferenceModel Model { get; }
    public Tokenizer Tokenizer { get; }
    /// <summary>Tokens kept per text: max_seq_length, capped by the tokenizer's and the model's limits.</summary>
    public int MaxSeqLength { get; }
    /// <summary>The embedding's length.</summary>
    public int Dimension => Config.Pooling.OutputDimension;
    public SimilarityFunction SimilarityFunction => Config.SimilarityFunction == "dot" ? SimilarityFunction.Dot : SimilarityFunction.Cosine;

    /// <summary>Opens a sentence-transformers folder (modules.json) on the engine the options or the folder's files choose.</summary>
    public static SentenceTransformer FromPretrained(string folder, SentenceTransformerOptions? options = null)
    {
        options ??= new SentenceTransformerOptions();
        var config = SentenceTransformerConfig.FromPretrained(folder);
        var tokenizer = AutoTokenizer.FromPretrained(config.TransformerFolder);
        var model = InferenceModel.Load(config.TransformerFolder, ModelHead.Base,
            new InferenceModelOptions { Engine = options.Engine, Device = options.Device, Onnx = options.Onnx });
        try { return new SentenceTransformer(config, model, tokenizer); }
        catch { model.Dispose(); throw; }
    }

    /// <summary>
    /// Embeds <paramref name="texts"/>: a [texts, <see cref="Dimension"/>] matrix, rows in input order. Texts run in padded
    /// batches of <paramref name="batchSize"/>, longest first (as upstream, so padding is small). <paramref name="normalize"/>
    /// L2-normalizes on top of the folder's own Normalize module; <paramref name="progress"/> gets the count of texts done.
    /// <paramref name="prompt"/> (or the folder's prompt named <paramref name="promptName"/>, or its default prompt) is prepended to every text.
    /// </summary>
    public float[,] Encode(IReadOnlyList<string> texts, int batchSize = 32, bool normalize = false, IProgress<int>? progress = null,
        string? prompt = null, string? promptName = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("The list of texts is empty; Encode needs at least one text.", nameof(texts));
        var order = Enumerable.Range(0, texts.Count).OrderByDescending(i => texts[i]?.Length ?? 0).ToArray();
        var result = new float[texts.Count, Dimension];
        int done = 0;
        foreach (var (rows, vectors) in Batches(order.Select(i => texts[i]), batchSize, normalize, prompt, promptName, order))
        {
            for (int r = 0; r < rows.Count; r++) vectors[r].CopyTo(Row(result, rows[r]));
            done += rows.Count;
            progress?.Report(done);
        }
        return result;
    }

    /// <summary>
    /// Embeds a stream lazily, one vector per text in input order. Texts are read <see cref="StreamWindowBatches"/> batches
    /// at a time and sorted by length within that window (as <see cref="Encode"/> sorts the whole list), so padding stays
    /// small while only one window of texts and vectors, and one batch of tensors, is held: a corpus of any size fits in memory.
    /// </summary>
    public IEnumerable<float[]> EncodeStream(IEnumerable<string> texts, int batchSize = 32, bool normalize = false,
        string? prompt = null, string? promptName = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        return Stream();

        IEnumerable<float[]> Stream()
        {
            int window = (int)Math.Min((long)batchSize * StreamWindowBatches, 1 << 16);
            var buffer = new List<string>(window);
            long index = 0;
            foreach (var text in texts)
            {
                if (text is null) throw new ArgumentException($"Text {index} is null.", nameof(texts));
                buffer.Add(text);
                index++;
                if (buffer.Count < window) continue;
                foreach (var v in Flush()) yield return v;
            }
            if (buffer.Count > 0) foreach (var v in Flush()) yield return v;

            IEnumerable<float[]> Flush()
            {
                var m = Encode(buffer, batchSize, normalize, null, prompt, promptName);
                buffer.Clear();
                for (int i = 0; i < m.GetLength(0); i++) yield return Row(m, i).ToArray();
            }
        }
    }

    /// <summary>How many batches of texts <see cref="EncodeStream"/> reads ahead to sort by length.</summary>
    public const int StreamWindowBatches = 16;

    // Like sentence-transformers (whose Hugging Face tokenizer call sets truncation and padding itself), the tokenizer.json's
    // own blocks are not used: truncation at max_seq_length, and one text padded to its own length (no pad_to_multiple_of:
    // the batch pads to its longest text only), so no token is computed that the pooling then masks out.
    private static readonly PaddingOptions s_ownLength = new();

    private IEnumerable<(List<int> Rows, float[][] Vectors)> Batches(IEnumerable<string> texts, int batchSize, bool normalize,
        string? prompt, string? promptName, int[]? rowOf)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1.");
        prompt = ResolvePrompt(prompt, promptName);
        // upstream: the prompt's token count less the final special token, so [CLS] + prompt tokens leave the pooling
        int promptLength = prompt is null || Config.Pooling.IncludePrompt ? 0 : Math.Max(Tokenizer.Encode(prompt, addSpecialTokens: true).Length - 1, 0);
        var truncation = new TruncationOptions(MaxSeqLength);
        var batch = new List<Encoding>();   // no capacity: batchSize may be huge (everything in one batch)
        var rows = new List<int>();
        int index = 0;
        foreach (var text in texts)
        {
            if (text is null) throw new ArgumentException($"Text {index} is null.", nameof(texts));
            batch.Add(Tokenizer.Encode(prompt + text, addSpecialTokens: true, truncation: truncation, padding: s_ownLength));
            rows.Add(rowOf?[index] ?? index);
            index++;
            if (batch.Count == batchSize)
            {
                yield return (rows, Run(batch, normalize, promptLength));
                batch = new List<Encoding>();
                rows = new List<int>();
            }
        }
        if (batch.Count > 0) yield return (rows, Run(batch, normalize, promptLength));
    }

    private string? ResolvePrompt(string? prompt, string? promptName)
    {
        if (prompt is not null && promptName is not null)
            throw new ArgumentException("Give a prompt or a promptName, not both.", nameof(promptName));
        if (promptName is not null)
            return Config.Prompts.TryGetValue(promptName, out var p) ? p
                : throw new ArgumentException($"Prompt '{promptName}' is not in the folder's config_sentence_transformers.json; it has: {string.Join(", ", Config.Prompts.Keys)}.", nameof(promptName));
        return prompt ?? (Config.DefaultPromptName is { } d ? Config.Prompts[d] : null);
    }

    private float[][] Run(List<Encoding> encodings, bool normalize, int promptLength)
    {
        var padded = InferenceBatch.FromEncodings(encodings, _padId);
        int batch = padded.BatchSize, length = padded.SequenceLength;
        var outputs = Model.Run(padded);
        var hidden = outputs.TryGet("last_hidden_state")
            ?? throw new InvalidOperationException($"The model in '{Config.TransformerFolder}' gave no last_hidden_state (outputs: {string.Join(", ", outputs.Select(o => o.Name))}).");
        var data = hidden.GetData<float>();
        var vectors = new float[batch][];
        var rowMask = new int[length];
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++) rowMask[t] = (int)padded.AttentionMask[b * length + t];
            var v = Pooler.Pool(data.AsSpan(b * length * _hidden, length * _hidden), rowMask, _hidden, Config.Pooling.Modes, promptLength);
            if (Config.Normalize || normalize) Pooler.Normalize(v);
            vectors[b] = v;
        }
        return vectors;
    }

    /// <summary>[a rows, b rows] similarities with this model's function (similarity_fn_name, cosine by default).</summary>
    public float[,] Similarity(float[,] a, float[,] b) => Similarity(a, b, SimilarityFunction);

    /// <summary>[a rows, b rows]: cosine or dot product of every row of <paramref name="a"/> with every row of <paramref name="b"/>.</summary>
    public static float[,] Similarity(float[,] a, float[,] b, SimilarityFunction function)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.GetLength(1) != b.GetLength(1))
            throw new ArgumentException($"Similarity: embeddings of different lengths ({a.GetLength(1)} and {b.GetLength(1)}).", nameof(b));
        var result = new float[a.GetLength(0), b.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < b.GetLength(0); j++) result[i, j] = Similarity(Row(a, i), Row(b, j), function);
        return result;
    }

    /// <summary>Cosine or dot product of two vectors.</summary>
    public static float Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b, SimilarityFunction function)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Similarity: vectors of different lengths ({a.Length} and {b.Length}).", nameof(b));
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        // torch.nn.functional.cosine_similarity's eps of 1e-8 on each norm
        return function == SimilarityFunction.Dot ? (float)dot : (float)(dot / (Math.Max(Math.Sqrt(na), 1e-8) * Math.Max(Math.Sqrt(nb), 1e-8)));
    }

    /// <summary>Row <paramref name="i"/> of a matrix as a span (rows of a float[,] are contiguous).</summary>
    public static Span<float> Row(float[,] m, int i) =>
        MemoryMarshal.CreateSpan(ref Unsafe.Add(ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(m)), i * m.GetLength(1)), m.GetLength(1));

    public void Dispose() => Model.Dispose();
}
