using System.Runtime.CompilerServices;

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
        var chunks = PreprocessChunks(input, p.Preprocess).ToList();
        var outputs = new List<TOutput>(chunks.Count);
        int batchSize = BatchSize(parameters);
        for (int i = 0; i < chunks.Count; i += batchSize)
            outputs.AddRange(CheckedForward(chunks.GetRange(i, Math.Min(batchSize, chunks.Count - i)), p.Forward));
        return PostprocessChunks(input, outputs, p.Postprocess);
    }

    /// <summary>Runs a list of inputs in padded batches of <c>batch_size</c> model inputs; results keep the input order.</summary>
    public IReadOnlyList<TResult> RunBatch(IReadOnlyList<TInput> inputs, PipelineParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException($"The list of inputs is empty; {Task} needs at least one input.", nameof(inputs));
        return Stream(inputs, parameters).ToList();
    }

    /// <summary>Runs a lazy stream: inputs are read only as batches fill, and each result is yielded once all its chunks ran.</summary>
    public IEnumerable<TResult> Stream(IEnumerable<TInput> inputs, PipelineParameters? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (p, _) = Prepare(parameters);
        var queue = new BatchQueue(this, p, BatchSize(parameters));
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
        var queue = new BatchQueue(this, p, BatchSize(parameters));
        await foreach (var input in inputs.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            queue.Add(input);
            foreach (var r in queue.Drain(final: false)) yield return r;
        }
        foreach (var r in queue.Drain(final: true)) yield return r;
    }

    private (SanitizedParameters, PipelineParameters) Prepare(PipelineParameters? callParameters)
    {
        var merged = Parameters.Merge(callParameters);
        var split = SanitizeParameters(merged);
        var known = new HashSet<string>(split.Preprocess.Names.Concat(split.Forward.Names).Concat(split.Postprocess.Names)) { BatchSizeParameter };
        var unknown = merged.Names.Where(n => !known.Contains(n)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Unknown parameter(s) for {Task}: {string.Join(", ", unknown)}.", nameof(callParameters));
        return (split, merged);
    }

    private int BatchSize(PipelineParameters? callParameters)
    {
        int b = Parameters.Merge(callParameters).GetInt(BatchSizeParameter, 1);
        return b >= 1 ? b : throw new ArgumentException($"batch_size must be at least 1; found {b}.", BatchSizeParameter);
    }

    private IReadOnlyList<TOutput> CheckedForward(IReadOnlyList<TFeatures> batch, PipelineParameters p)
    {
        var outputs = Forward(batch, p);
        if (outputs.Count != batch.Count)
            throw new InvalidOperationException($"{GetType().Name}.Forward returned {outputs.Count} outputs for {batch.Count} inputs.");
        return outputs;
    }

    /// <summary>Chunks waiting for a batch, and inputs waiting for their chunks' outputs.</summary>
    private sealed class BatchQueue(PipelineBase<TInput, TFeatures, TOutput, TResult> pipeline, SanitizedParameters p, int batchSize)
    {
        private sealed class Pending(TInput input, int chunks)
        {
            public TInput Input { get; } = input;
            public int Chunks { get; } = chunks;
            public List<TOutput> Outputs { get; } = new(chunks);
        }

        private readonly Queue<Pending> _inputs = new();
        private readonly List<(Pending Owner, TFeatures Features)> _chunks = new();

        public void Add(TInput input)
        {
            var chunks = pipeline.PreprocessChunks(input, p.Preprocess).ToList();
            var pending = new Pending(input, chunks.Count);
            _inputs.Enqueue(pending);
            foreach (var c in chunks) _chunks.Add((pending, c));
        }

        public IEnumerable<TResult> Drain(bool final)
        {
            while (_chunks.Count >= batchSize || final && _chunks.Count > 0)
            {
                int n = Math.Min(batchSize, _chunks.Count);
                var batch = _chunks.GetRange(0, n);
                _chunks.RemoveRange(0, n);
                var outputs = pipeline.CheckedForward(batch.Select(c => c.Features).ToList(), p.Forward);
                for (int i = 0; i < n; i++) batch[i].Owner.Outputs.Add(outputs[i]);
            }
            var results = new List<TResult>();
            while (_inputs.Count > 0 && _inputs.Peek() is { } head && head.Outputs.Count == head.Chunks)
            {
                _inputs.Dequeue();
                results.Add(pipeline.PostprocessChunks(head.Input, head.Outputs, p.Postprocess));
            }
            return results;
        }
    }
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
