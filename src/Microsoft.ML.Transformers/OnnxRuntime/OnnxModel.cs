using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OrtException = Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// A Hugging Face model exported to ONNX, opened from its folder: config.json plus <c>onnx/model.onnx</c>
/// (Transformers.js layout) or <c>model.onnx</c> (Optimum layout), run by ONNX Runtime's <see cref="InferenceSession"/>.
/// Runs batches of token ids and feeds the graph only the inputs it declares, as Transformers.js does.
/// </summary>
/// <remarks>
/// <see cref="Run(ReadOnlyMemory{long}, ReadOnlyMemory{long}, ReadOnlyMemory{long}?, int, int, IReadOnlyList{string}?)"/>
/// may be called from many threads at once (ONNX Runtime's <c>Run</c> is thread-safe and nothing here changes between
/// runs). <see cref="Dispose"/> stops the runs in flight (they throw <see cref="ObjectDisposedException"/>), waits for
/// them to leave ONNX Runtime, then frees the session.
/// </remarks>
public sealed partial class OnnxModel : IDisposable
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string TokenTypeIds = "token_type_ids";
    public const string PixelValues = "pixel_values";
    public const string PixelMask = "pixel_mask";

    private readonly InferenceSession session;
    private readonly RunOptions runOptions; // shared by every run; Dispose sets its Terminate flag
    private readonly string[] inputNames;
    private readonly object gate = new();
    private int running;
    private bool disposed;

    public string Folder { get; }
    public string ModelPath { get; }

    /// <summary>config.json as read.</summary>
    public JsonElement Config { get; }

    /// <summary>config.json's <c>model_type</c>, e.g. "bert".</summary>
    public string? ModelType { get; }

    /// <summary>The graph's inputs in graph order: input_ids, and attention_mask / token_type_ids when it takes them.</summary>
    public IReadOnlyList<string> InputNames => inputNames;

    /// <summary>The graph's outputs in graph order, e.g. "logits", or "start_logits", "end_logits", or "last_hidden_state".</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>ONNX Runtime's description of each input: element type, dimensions (-1 where dynamic) and their symbolic names.</summary>
    public IReadOnlyDictionary<string, NodeMetadata> InputMetadata { get; }

    public IReadOnlyDictionary<string, NodeMetadata> OutputMetadata { get; }

    /// <summary>The provider the session runs on: CPU when CUDA was asked for and <see cref="OnnxSessionOptions.FallbackToCpu"/> applied.</summary>
    public OnnxExecutionProvider ExecutionProvider { get; }

    /// <summary>Why the session runs on CPU although CUDA was asked for; null when it runs where it was asked to.</summary>
    public string? FallbackReason { get; }

    /// <summary>
    /// Runs a batch of [batch, sequence] int64 arrays (read in place, not copied). <paramref name="tokenTypeIds"/> is fed
    /// only if the graph takes it (zeros when the graph takes it and none is given); likewise the attention mask is
    /// dropped when the graph has none. <paramref name="outputNames"/> picks outputs (all when null).
    /// </summary>
    public NamedTensors Run(long[,] inputIds, long[,] attentionMask, long[,]? tokenTypeIds = null, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(attentionMask);
        long[] shape = [inputIds.GetLength(0), inputIds.GetLength(1)];
        CheckSameShape(AttentionMask, attentionMask, shape);
        if (tokenTypeIds is not null) CheckSameShape(TokenTypeIds, tokenTypeIds, shape);
        return RunCore(shape, new Array2DMemory(inputIds).Memory, new Array2DMemory(attentionMask).Memory,
            tokenTypeIds is null ? (Memory<long>?)null : new Array2DMemory(tokenTypeIds).Memory, outputNames);
    }

    /// <summary>
    /// The same over flat row-major buffers of <paramref name="batchSize"/> x <paramref name="sequenceLength"/>. ONNX
    /// Runtime reads them in place (pinned for the run, never written); do not change them while the run is in flight.
    /// </summary>
    public NamedTensors Run(ReadOnlyMemory<long> inputIds, ReadOnlyMemory<long> attentionMask, ReadOnlyMemory<long>? tokenTypeIds,
        int batchSize, int sequenceLength, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(sequenceLength);
        long[] shape = [batchSize, sequenceLength];
        CheckLength(InputIds, inputIds.Length, shape);
        CheckLength(AttentionMask, attentionMask.Length, shape);
        if (tokenTypeIds is { } t) CheckLength(TokenTypeIds, t.Length, shape);
        return RunCore(shape, MemoryMarshal.AsMemory(inputIds), MemoryMarshal.AsMemory(attentionMask),
            // Typed null: a bare null would convert through long[] to an empty, not absent, Memory.
            tokenTypeIds is { } types ? MemoryMarshal.AsMemory(types) : (Memory<long>?)null, outputNames);
    }

    /// <summary>The same over flat arrays; a null <paramref name="tokenTypeIds"/> means none (an array would otherwise
    /// convert implicitly to an empty, not absent, ReadOnlyMemory).</summary>
    public NamedTensors Run(long[] inputIds, long[] attentionMask, long[]? tokenTypeIds, int batchSize, int sequenceLength,
        IReadOnlyList<string>? outputNames = null) =>
        Run((ReadOnlyMemory<long>)inputIds, attentionMask, tokenTypeIds is null ? (ReadOnlyMemory<long>?)null : new ReadOnlyMemory<long>(tokenTypeIds),
            batchSize, sequenceLength, outputNames);

    /// <summary>Stops the runs in flight, waits for them to return, then frees the ONNX Runtime session.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed) return;
            disposed = true;
            // Runs in flight stop at their next operator instead of finishing; they then throw ObjectDisposedException.
            runOptions.Terminate = true;
            while (running > 0) Monitor.Wait(gate);
        }
        session.Dispose();
        runOptions.Dispose();
    }

    public override string ToString() => ModelPath;

    /// <summary>Whether the graph is a vision export taking pixel_values.</summary>
    public bool TakesPixelValues => InputMetadata.ContainsKey(PixelValues);

    /// <summary>Whether the vision export also takes pixel_mask [batch, height, width] (DETR's, as Optimum exports it).</summary>
    public bool TakesPixelMask => InputMetadata.ContainsKey(PixelMask);

    /// <summary>Runs a vision export on pixel_values: float32 [batch, channels, height, width], row-major, read in place
    /// (pinned for the run, never written). <paramref name="outputNames"/> picks outputs (all when null). A graph that
    /// also takes pixel_mask gets ones (no padding).</summary>
    public NamedTensors RunPixels(float[] pixelValues, long[] shape, IReadOnlyList<string>? outputNames = null) =>
        RunPixels(pixelValues, shape, null, outputNames);

    /// <summary>The same with the pixel_mask of a padded batch: int64 [batch, height, width], 1 on an image and 0 on its
    /// padding. A graph without a pixel_mask input takes only a mask of ones (an unpadded batch); a null mask means ones.</summary>
    public NamedTensors RunPixels(float[] pixelValues, long[] shape, long[]? pixelMask, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(pixelValues);
        ArgumentNullException.ThrowIfNull(shape);
        if (!TakesPixelValues)
            throw new OnnxModelException(ModelPath, $"ONNX model '{ModelPath}' has no '{PixelValues}' input (its inputs: {DescribeInputs()}).");
        if (shape.Length != 4 || shape.Aggregate(1L, (a, b) => a * b) != pixelValues.Length)
            throw new ArgumentException($"{PixelValues} needs a [batch, channels, height, width] shape matching its {pixelValues.Length} values; got [{string.Join(", ", shape)}].", nameof(shape));
        long[] maskShape = [shape[0], shape[2], shape[3]];
        if (pixelMask is not null)
        {
            if (pixelMask.Length != maskShape[0] * maskShape[1] * maskShape[2])
                throw new ArgumentException($"{PixelMask} holds {pixelMask.Length} values but batch x height x width is {TensorElementTypes.Format(maskShape)}.", nameof(pixelMask));
            CheckPixelMask(pixelMask, maskShape);
            if (Array.IndexOf(pixelMask, 0L) < 0) pixelMask = null; // ones: no padding
        }
        if (pixelMask is not null && !TakesPixelMask)
            throw new NotSupportedException($"The batch is padded (its {PixelMask} has zeros) but ONNX model '{ModelPath}' takes no " +
                $"{PixelMask} (its inputs: {DescribeInputs()}): run its images one at a time (batch_size 1) or export the model with a {PixelMask} input.");
        if (TakesPixelMask)
        {
            // Optimum's DetrOnnxConfig makes only the batch of pixel_mask dynamic, so its height and width are the export's
            // (Transformers.js feeds ones [batch, 64, 64]). DETR resizes the mask to its feature map, so ones of any size
            // mean "no padding"; a padded mask must have the image's size.
            int[] dims = InputMetadata[PixelMask].Dimensions;
            if (pixelMask is null)
                for (int d = 1; d < 3; d++)
                    if (dims[d] >= 0) maskShape[d] = dims[d];
            if (pixelMask is not null && (dims[1] >= 0 && dims[1] != maskShape[1] || dims[2] >= 0 && dims[2] != maskShape[2]))
                throw new NotSupportedException($"ONNX model '{ModelPath}' takes {Describe(PixelMask, InputMetadata[PixelMask])}, a fixed size, " +
                    $"so it cannot take the {TensorElementTypes.Format(maskShape)} mask of a padded batch: run its images one at a time " +
                    "(batch_size 1) or export pixel_mask with dynamic height and width.");
        }
        IReadOnlyList<string> outputs = outputNames is null ? OutputNames : CheckOutputNames(outputNames);
        string[] names = TakesPixelMask ? [PixelValues, PixelMask] : [PixelValues];
        Enter();
        var values = new List<OrtValue>(2);
        try
        {
            values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixelValues.AsMemory(), shape));
            if (TakesPixelMask)
            {
                long[] mask = pixelMask ?? Ones(maskShape[0] * maskShape[1] * maskShape[2]);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(), maskShape));
            }
            return RunSession(names, values, outputs);
        }
        catch (OrtException e)
        {
            throw RunFailed(e, $"{PixelValues} {TensorElementTypes.Format(shape)}" +
                $"{(TakesPixelMask ? $", {PixelMask} {TensorElementTypes.Format(maskShape)}{(pixelMask is null ? " (ones)" : "")}" : "")}");
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
            Exit();
        }
    }

    private static long[] Ones(long count)
    {
        var ones = new long[count];
        Array.Fill(ones, 1L);
        return ones;
    }

    // Like attention_mask: a value other than 0 or 1 would weight the image's positions instead of masking them.
    private static void CheckPixelMask(long[] mask, long[] shape)
    {
        for (int i = 0; i < mask.Length; i++)
            if ((ulong)mask[i] > 1)
            {
                long plane = shape[1] * shape[2];
                throw new ArgumentException($"{PixelMask}[{i / plane}, {i % plane / shape[2]}, {i % shape[2]}] is {mask[i]}: expected 0 (padding) or 1 (image).", PixelMask);
            }
    }

    private NamedTensors RunCore(long[] shape, Memory<long> ids, Memory<long> mask, Memory<long>? types, IReadOnlyList<string>? outputNames)
    {
        IReadOnlyList<string> outputs = outputNames is null ? OutputNames : CheckOutputNames(outputNames);
        CheckFixedDimensions(shape);
        // ONNX Runtime's Gather reads a negative id as counting from the end of the table: refuse it before it runs.
        int sequence = (int)shape[1];
        Modeling.InputValues.CheckIds(ids.Span, sequence, InputIds);
        if (inputNames.Contains(AttentionMask)) Modeling.InputValues.CheckMask(mask.Span, sequence);
        if (types is { } given && inputNames.Contains(TokenTypeIds)) Modeling.InputValues.CheckIds(given.Span, sequence, TokenTypeIds);
        Enter();
        var values = new List<OrtValue>(inputNames.Length);
        try
        {
            foreach (string name in inputNames)
            {
                Memory<long> data = name switch
                {
                    InputIds => ids,
                    AttentionMask => mask,
                    // BERT's default when no segments are given: every token in segment 0 (as Transformers.js does).
                    TokenTypeIds => types ?? new long[shape[0] * shape[1]],
                    _ => throw new UnreachableException($"input '{name}' passed the checks made when the model was opened"),
                };
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data, shape));
            }
            return RunSession(inputNames, values, outputs);
        }
        catch (OrtException e)
        {
            throw RunFailed(e, DescribeFeed(shape, types is not null));
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
            Exit();
        }
    }

    /// <summary>One session run, its outputs copied into managed tensors.</summary>
    private NamedTensors RunSession(IReadOnlyList<string> names, IReadOnlyList<OrtValue> values, IReadOnlyList<string> outputs)
    {
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, names, values, outputs);
        var tensors = new NamedTensor[outputs.Count];
        int i = 0;
        foreach (OrtValue value in results)
        {
            tensors[i] = ToNamedTensor(ModelPath, outputs[i], value);
            i++;
        }
        return new NamedTensors(tensors);
    }

    /// <summary>A failed run: ObjectDisposedException when Dispose stopped it, else the file and what it was fed.</summary>
    private Exception RunFailed(OrtException e, string feed) => Volatile.Read(ref disposed)
        ? new ObjectDisposedException($"OnnxModel '{ModelPath}' was disposed while this run was in flight ({e.Message}).", e)
        : new OnnxModelException(ModelPath, $"ONNX Runtime failed running '{ModelPath}' on {feed}: {e.Message}", e);

    private void Enter()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            running++;
        }
    }

    private void Exit()
    {
        lock (gate)
        {
            if (--running == 0 && disposed) Monitor.PulseAll(gate);
        }
    }

    /// <summary>Copies an output into a managed tensor. Its bytes are copied as they are, so every element type
    /// NamedTensor holds (Half and bool included) takes the same path. An output it cannot hold is the file's fault:
    /// OnnxModelException naming <paramref name="modelPath"/>.</summary>
    internal static NamedTensor ToNamedTensor(string modelPath, string name, OrtValue value)
    {
        if (!value.IsTensor)
            throw new OnnxModelException(modelPath, $"ONNX model '{modelPath}': output '{name}' is a {value.OnnxType}, not a tensor; OnnxModel returns tensors only.");
        OrtTensorTypeAndShapeInfo info = value.GetTensorTypeAndShape();
        var type = (TensorElementType)info.ElementDataType;
        Type clr = TensorElementTypes.ClrType(type) ?? throw new OnnxModelException(modelPath,
            $"ONNX model '{modelPath}': output '{name}' has element type {type}, which cannot be copied to a NamedTensor.");
        long[] shape = info.Shape;
        Array data = Array.CreateInstance(clr, checked((int)TensorElementTypes.ElementCount(shape)));
        ReadOnlySpan<byte> source = value.GetTensorDataAsSpan<byte>();
        source.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), source.Length));
        return new NamedTensor(name, type, shape, data);
    }

    private IReadOnlyList<string> CheckOutputNames(IReadOnlyList<string> requested)
    {
        foreach (string n in requested)
            if (n is null || !OutputMetadata.ContainsKey(n))
                throw new ArgumentException(
                    $"'{n}' is not an output of ONNX model '{ModelPath}'; its outputs are: {string.Join(", ", OutputNames)}.", nameof(requested));
        return requested;
    }

    // Exports with a static shape (e.g. [1, 128]) take only that; say so before ONNX Runtime does, naming the file (with
    // the library's exception, as ONNX Runtime's own shape errors come back).
    private void CheckFixedDimensions(long[] shape)
    {
        foreach (string name in inputNames)
        {
            int[] dims = InputMetadata[name].Dimensions;
            for (int d = 0; d < dims.Length; d++)
                if (dims[d] >= 0 && dims[d] != shape[d])
                    throw new OnnxModelException(ModelPath,
                        $"ONNX model '{ModelPath}' expects input {Describe(name, InputMetadata[name])}, so dimension {d} must be " +
                        $"{dims[d]}, but the batch is {TensorElementTypes.Format(shape)}.");
        }
    }

    private string DescribeFeed(long[] shape, bool typesGiven) =>
        string.Join(", ", inputNames.Select(n =>
            $"{n} Int64 {TensorElementTypes.Format(shape)}{(n == TokenTypeIds && !typesGiven ? " (zeros)" : "")}"));

    /// <summary>"input_ids: Int64 [batch_size, sequence_length]", symbolic names standing for dynamic dimensions.</summary>
    internal static string Describe(string name, NodeMetadata node)
    {
        if (!node.IsTensor) return $"'{name}' ({node.OnnxValueType})";
        string dims = string.Join(", ", node.Dimensions.Select((d, i) =>
            d >= 0 ? d.ToString() : node.SymbolicDimensions is { } s && i < s.Length && s[i] is { Length: > 0 } n ? n : "?"));
        return $"'{name}: {(TensorElementType)node.ElementDataType} [{dims}]'";
    }

    private static void CheckSameShape(string name, long[,] array, long[] shape)
    {
        if (array.GetLength(0) != shape[0] || array.GetLength(1) != shape[1])
            throw new ArgumentException(
                $"{name} has shape [{array.GetLength(0)}, {array.GetLength(1)}] but {InputIds} has [{shape[0]}, {shape[1]}].", name);
    }

    private static void CheckLength(string name, int length, long[] shape)
    {
        if (length != shape[0] * shape[1])
            throw new ArgumentException(
                $"{name} holds {length} values but batch x sequence is {shape[0]} x {shape[1]} = {shape[0] * shape[1]}.", name);
    }

    /// <summary>A long[,] as Memory&lt;long&gt; over its row-major elements, so ONNX Runtime reads it in place.</summary>
    private sealed class Array2DMemory(long[,] array) : MemoryManager<long>
    {
        public override Span<long> GetSpan() =>
            MemoryMarshal.CreateSpan(ref Unsafe.As<byte, long>(ref MemoryMarshal.GetArrayDataReference(array)), array.Length);

        public override unsafe MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            // GetArrayDataReference works for arrays of any rank; the array is pinned, so its address is stable.
            long* first = (long*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return new MemoryHandle(first + elementIndex, handle);
        }

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}
