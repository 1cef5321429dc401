using System.Runtime.CompilerServices;
using Microsoft.ML.Transformers.Modeling;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>The parameter sets <see cref="PipelineBase{TInput, TFeatures, TOutput, TResult}.SanitizeParameters"/> returns, one per hook.</summary>
public sealed record SanitizedParameters(PipelineParameters Preprocess, PipelineParameters Forward, PipelineParameters Postprocess)
{
    public static SanitizedParameters Empty { get; } = new(PipelineParameters.Empty, PipelineParameters.Empty, PipelineParameters.Empty);
}

/// <summary>
/// The call machinery shared by <see cref="Pipeline{TInput, TFeatures, TOutput, TResult}"/> (one model input per call input)
/// and <see cref="ChunkPipeline{TInput, TFeatures, TOutput, TResult}"/> (several): parameters are merged (call time wins) and
/// split by <see cref="SanitizeParameters"/>; every input is preprocessed into model inputs ("chunks"); chunks, across
/// inputs, run through <see cref="Forward"/> in batches of <c>batch_size</c>; each input's outputs are postprocessed together.
/// </summary>
public abstract class PipelineBase<TInput, TFeatures, TOutput, TResult> : Pipeline
{
    protected PipelineBase(PipelineContext context) : base(context) { }

    /// <summary>Splits the merged parameters into the sets the three other hooks receive. Any parameter that ends up in
    /// none of them is reported as unknown.</summary>
    protected abstract SanitizedParameters SanitizeParameters(PipelineParameters parameters);

    /// <summary>Runs one padded batch of model inputs (possibly from several call inputs) and returns one output per input.</summary>
    protected abstract IReadOnlyList<TOutput> Forward(IReadOnlyList<TFeatures> batch, PipelineParameters parameters);

    private protected abstract IEnumerable<TFeatures> PreprocessChunks(TInput input, PipelineParameters parameters);
    private protected abstract TResult PostprocessChunks(TInput input, IReadOnlyList<TOutput> outputs, PipelineParameters parameters);

    /// <summary>Runs one input.</summary>
    public TResult Run(TInput input, PipelineParameters? parameters = null)
    {
        var (p, _) = Prepare(parameters);
        int batchSize = BatchSize(parameters); // checked before the input is read
        var chunks = PreprocessChunks(input, p.Preprocess).ToList();
        var outputs = new List<TOutput>(chunks.Count);
        for (int i = 0; i < chunks.Count; i += batchSize)
            outputs.AddRange(CheckedForward(chunks.GetRange(i, Math.Min(batchSize, chunks.Count - i)), p.Forward));
        return PostprocessChunks(input, outputs, p.Postprocess);
    }

    /// <summary>Runs a list of inputs in padded batches of at most <c>batch_size</c> model inputs; results keep the input order.
    /// Model inputs of similar token length share a batch (the whole list is sorted by length; a batch closes early rather
    /// than pad beyond <see cref="MaxPaddedRatio"/> of its tokens or grow beyond <c>max_batch_tokens</c>), so that a long
    /// text does not make the texts of its batch pay for its padding.</summary>
    public IReadOnlyList<TResult> RunBatch(IReadOnlyList<TInput> inputs, PipelineParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException($"The list of inputs is empty; {Task} needs at least one input.", nameof(inputs));
        var (p, _) = Prepare(parameters);
        var queue = new BatchQueue(this, p, BatchSize(parameters), MaxBatchTokens(parameters), window: int.MaxValue);
        var results = new List<TResult>(inputs.Count);
        foreach (var input in inputs) queue.Add(input);
        results.AddRange(queue.Drain(final: true));
        return results;
    }

    /// <summary>How many batches of model inputs a stream reads ahead to sort them by length: results come in input order,
    /// each once its window ran.</summary>
    public const int StreamWindowBatches = 8;

    /// <summary>The most a batch of length-sorted model inputs is padded: its padded size (rows x longest) stays within this
    /// multiple of its real tokens. A batch closes before the next, longer input would break that, even with fewer than
    /// <c>batch_size</c> rows: padding costs as much as real tokens (more in attention), and a row that is already long
    /// gains little from sharing a batch, so the long tail of a corpus runs in smaller batches instead of being padded
    /// to its longest text.</summary>
    public const double MaxPaddedRatio = 1.1;

    /// <summary>The CPU default of <c>max_batch_tokens</c>. On a CPU a batch gains from sharing the per-call and per-operator
    /// costs, but its activations ([tokens, hidden] and [tokens, intermediate]) leave the caches as it grows, and beyond
    /// about a thousand tokens per batch the second effect wins on ONNX Runtime (test/benchmarks/Pipelines/README.md).</summary>
    public const int DefaultMaxBatchTokens = 1024;

    /// <summary>Runs a lazy stream: inputs are read a window of <see cref="StreamWindowBatches"/> batches at a time (one
    /// input at a time with <c>batch_size</c> 1), sorted by length into batches, and results are yielded in input order.</summary>
    public IEnumerable<TResult> Stream(IEnumerable<TInput> inputs, PipelineParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (p, _) = Prepare(parameters);
        var queue = StreamQueue(p, parameters);
        foreach (var input in inputs)
        {
            queue.Add(input);
            foreach (var r in queue.Drain(final: false)) yield return r;
        }
        foreach (var r in queue.Drain(final: true)) yield return r;
    }

    /// <summary>As <see cref="Stream"/>, over an asynchronous source.</summary>
    public async IAsyncEnumerable<TResult> StreamAsync(IAsyncEnumerable<TInput> inputs, PipelineParameters? parameters = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (p, _) = Prepare(parameters);
        var queue = StreamQueue(p, parameters);
        await foreach (var input in inputs.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            queue.Add(input);
            foreach (var r in queue.Drain(final: false)) yield return r;
        }
        foreach (var r in queue.Drain(final: true)) yield return r;
    }

    private BatchQueue StreamQueue(SanitizedParameters p, PipelineParameters? parameters)
    {
        int batchSize = BatchSize(parameters);
        return new BatchQueue(this, p, batchSize, MaxBatchTokens(parameters), window: batchSize == 1 ? 1 : (int)Math.Min((long)batchSize * StreamWindowBatches, int.MaxValue));
    }

    private (SanitizedParameters, PipelineParameters) Prepare(PipelineParameters? callParameters)
    {
        var merged = Parameters.Merge(callParameters);
        var split = SanitizeParameters(merged);
        var known = new HashSet<string>(split.Preprocess.Names.Concat(split.Forward.Names).Concat(split.Postprocess.Names))
            { BatchSizeParameter, MaxBatchTokensParameter };
        var unknown = merged.Names.Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Unknown parameter(s) for {Task}: {string.Join(", ", unknown)}.", nameof(callParameters));
        return (split, merged);
    }

    private int BatchSize(PipelineParameters? callParameters)
    {
        return Parameters.Merge(callParameters).GetInt(BatchSizeParameter, 1, min: 1);
    }

    private int MaxBatchTokens(PipelineParameters? callParameters)
    {
        bool gpu = Model is TorchInferenceModel torch && torch.Model.Device.type != TorchSharp.DeviceType.CPU;
        return Parameters.Merge(callParameters).GetInt(MaxBatchTokensParameter, gpu ? int.MaxValue : DefaultMaxBatchTokens, min: 1);
    }

    private IReadOnlyList<TOutput> CheckedForward(IReadOnlyList<TFeatures> batch, PipelineParameters p)
    {
        var outputs = Forward(batch, p);
        if (outputs.Count != batch.Count)
            throw new InvalidOperationException($"{GetType().Name}.Forward returned {outputs.Count} outputs for {batch.Count} inputs.");
        return outputs;
    }

    /// <summary>Model inputs waiting for a batch, and inputs waiting for their results. Once <c>window</c> model inputs wait
    /// (or at the end), they are sorted by token length and run in batches of <c>batchSize</c>; an input is postprocessed as
    /// soon as all its model inputs ran (so raw outputs are not held), and results leave in input order.</summary>
    private sealed class BatchQueue(PipelineBase<TInput, TFeatures, TOutput, TResult> pipeline, SanitizedParameters p, int batchSize, int maxTokens, int window)
    {
        private sealed class Pending(TInput input, int chunks)
        {
            public TInput Input { get; } = input;
            public TOutput[] Outputs { get; } = new TOutput[chunks];
            public int Missing { get; set; } = chunks;
            public bool Done { get; set; }
            public TResult Result { get; set; } = default!;
        }

        private readonly Queue<Pending> _inputs = new();
        private readonly List<(Pending Owner, int Index, TFeatures Features, int Length)> _chunks = new();

        public void Add(TInput input)
        {
            var chunks = pipeline.PreprocessChunks(input, p.Preprocess).ToList();
            var pending = new Pending(input, chunks.Count);
            _inputs.Enqueue(pending);
            for (int i = 0; i < chunks.Count; i++) _chunks.Add((pending, i, chunks[i], (chunks[i] as ITokenSequence)?.TokenCount ?? 0));
        }

        public IEnumerable<TResult> Drain(bool final)
        {
            if (_chunks.Count >= Math.Max(window, batchSize) || final && _chunks.Count > 0)
            {
                // stable: equal lengths keep their input order
                var sorted = batchSize == 1 ? _chunks.ToList() : _chunks.OrderBy(c => c.Length).ToList();
                _chunks.Clear();
                int start = 0;
                while (start < sorted.Count)
                {
                    int end = BatchEnd(sorted, start);
                    // a batch that is neither full nor closed by the padding bound waits for the next window
                    if (!final && end == sorted.Count && end - start < batchSize) break;
                    var batch = sorted.GetRange(start, end - start);
                    var outputs = pipeline.CheckedForward(batch.Select(c => c.Features).ToList(), p.Forward);
                    for (int i = 0; i < batch.Count; i++) Complete(batch[i].Owner, batch[i].Index, outputs[i]);
                    start = end;
                }
                _chunks.AddRange(sorted.Skip(start));
            }
            var results = new List<TResult>();
            while (_inputs.Count > 0 && _inputs.Peek().Done) results.Add(_inputs.Dequeue().Result);
            return results;
        }

        /// <summary>Where the batch starting at <paramref name="start"/> of the length-sorted chunks ends (exclusive): after
        /// <c>batchSize</c> rows, or before the first chunk that would pad the batch beyond <see cref="MaxPaddedRatio"/> or
        /// <c>maxTokens</c>.</summary>
        private int BatchEnd(List<(Pending Owner, int Index, TFeatures Features, int Length)> sorted, int start)
        {
            long real = sorted[start].Length;
            int end = start + 1;
            while (end < sorted.Count && end - start < batchSize)
            {
                long length = sorted[end].Length, rows = end - start + 1;
                if (rows * length > maxTokens || rows * length > MaxPaddedRatio * (real + length)) break;
                real += length;
                end++;
            }
            return end;
        }

        private void Complete(Pending owner, int index, TOutput output)
        {
            owner.Outputs[index] = output;
            if (--owner.Missing > 0) return;
            owner.Result = pipeline.PostprocessChunks(owner.Input, owner.Outputs, p.Postprocess);
            owner.Done = true;
            Array.Clear(owner.Outputs);
        }
    }
}

/// <summary>A model input that knows its token length, so batches can group inputs of similar length (less padding).</summary>
public interface ITokenSequence
{
    int TokenCount { get; }
}

/// <summary>A pipeline whose every input is one model input: Hugging Face's <c>Pipeline</c>.</summary>
public abstract class Pipeline<TInput, TFeatures, TOutput, TResult> : PipelineBase<TInput, TFeatures, TOutput, TResult>
{
    protected Pipeline(PipelineContext context) : base(context) { }

    /// <summary>Turns one input into model input (tokenization).</summary>
    protected abstract TFeatures Preprocess(TInput input, PipelineParameters parameters);
    /// <summary>Turns one model output into the typed result.</summary>
    protected abstract TResult Postprocess(TOutput output, PipelineParameters parameters);

    private protected sealed override IEnumerable<TFeatures> PreprocessChunks(TInput input, PipelineParameters parameters) =>
        [Preprocess(input, parameters)];

    private protected sealed override TResult PostprocessChunks(TInput input, IReadOnlyList<TOutput> outputs, PipelineParameters parameters) =>
        Postprocess(outputs[0], parameters);
}

/// <summary>
/// A pipeline where one input becomes several model inputs whose outputs are combined (Hugging Face's <c>ChunkPipeline</c>):
/// windows of a long context in question answering, one premise/hypothesis pair per candidate label in zero-shot.
/// </summary>
public abstract class ChunkPipeline<TInput, TFeatures, TOutput, TResult> : PipelineBase<TInput, TFeatures, TOutput, TResult>
{
    protected ChunkPipeline(PipelineContext context) : base(context) { }

    /// <summary>Turns one input into one or more model inputs.</summary>
    protected abstract IEnumerable<TFeatures> Preprocess(TInput input, PipelineParameters parameters);
    /// <summary>Combines the outputs of all of one input's model inputs (in the order preprocess yielded them).</summary>
    protected abstract TResult Postprocess(TInput input, IReadOnlyList<TOutput> outputs, PipelineParameters parameters);

    private protected sealed override IEnumerable<TFeatures> PreprocessChunks(TInput input, PipelineParameters parameters)
    {
        var chunks = Preprocess(input, parameters).ToList();
        return chunks.Count > 0 ? chunks : throw new InvalidOperationException($"{GetType().Name}.Preprocess made no model input.");
    }

    private protected sealed override TResult PostprocessChunks(TInput input, IReadOnlyList<TOutput> outputs, PipelineParameters parameters) =>
        Postprocess(input, outputs, parameters);
}
