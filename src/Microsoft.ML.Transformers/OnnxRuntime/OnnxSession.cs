using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Transformers.OnnxRuntime.Native;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// An ONNX Runtime inference session over one model. <see cref="Run"/> may be called from many threads at once:
/// ONNX Runtime's <c>Run</c> is thread-safe, and this wrapper keeps nothing mutable between runs (each run pins its
/// own inputs and owns its own outputs; the names and CPU memory info it shares are read-only).
/// </summary>
public sealed unsafe partial class OnnxSession : IDisposable
{
    private readonly OrtSessionHandle handle;
    private readonly byte[] names;            // UTF-8, NUL-terminated: inputs then outputs, pinned only during a run
    private readonly int[] inputNameOffsets;
    private readonly int[] outputNameOffsets;
    private readonly Dictionary<string, int> inputIndex;
    private readonly Dictionary<string, int> outputIndex;

    private OnnxSession(OrtSessionHandle handle, string? modelPath, OnnxExecutionProvider provider)
    {
        this.handle = handle;
        ModelPath = modelPath;
        ExecutionProvider = provider;
        OrtApi api = OrtApi.Instance;
        nuint count;
        api.Check(api.SessionGetInputCount(handle.Pointer, &count), Describe("reading inputs of"));
        Inputs = ReadNodes(api, (int)count, isInput: true);
        api.Check(api.SessionGetOutputCount(handle.Pointer, &count), Describe("reading outputs of"));
        Outputs = ReadNodes(api, (int)count, isInput: false);

        var block = new List<byte>();
        inputNameOffsets = Inputs.Select(n => Append(block, n.Name)).ToArray();
        outputNameOffsets = Outputs.Select(n => Append(block, n.Name)).ToArray();
        names = block.ToArray();
        inputIndex = Inputs.Select((n, i) => (n.Name, i)).ToDictionary(t => t.Name, t => t.i);
        outputIndex = Outputs.Select((n, i) => (n.Name, i)).ToDictionary(t => t.Name, t => t.i);
    }

    /// <summary>The file the session was loaded from, or null for a model given as bytes.</summary>
    public string? ModelPath { get; }

    /// <summary>The provider the session runs on (CPU when CUDA was asked for and <c>FallbackToCpu</c> applied).</summary>
    public OnnxExecutionProvider ExecutionProvider { get; }

    public IReadOnlyList<OnnxNodeInfo> Inputs { get; }
    public IReadOnlyList<OnnxNodeInfo> Outputs { get; }

    /// <summary>Loads a model file (external weight files next to it are found by ONNX Runtime).</summary>
    public static OnnxSession Open(string path, OnnxSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"ONNX model file '{full}' was not found.", full);
        OrtApi api = OrtApi.Instance;
        nint env = OnnxRuntimeEnvironment.Env.Pointer;
        return Create(options ?? OnnxSessionOptions.Default, full, opts =>
        {
            nint session;
            nint status;
            // ORTCHAR_T is wchar_t on Windows and UTF-8 char elsewhere.
            if (OperatingSystem.IsWindows())
                fixed (char* p = full) status = api.CreateSession(env, p, opts, &session);
            else
                fixed (byte* p = Utf8(full)) status = api.CreateSession(env, p, opts, &session);
            api.Check(status, $"loading ONNX model '{full}'");
            return session;
        });
    }

    /// <summary>Loads a model from its serialized bytes (the bytes are not needed after this returns).</summary>
    public static OnnxSession FromBytes(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null)
    {
        OrtApi api = OrtApi.Instance;
        nint env = OnnxRuntimeEnvironment.Env.Pointer;
        byte[] copy = model.ToArray(); // the lambda below cannot capture a span
        return Create(options ?? OnnxSessionOptions.Default, null, opts =>
        {
            nint session;
            fixed (byte* p = copy)
                api.Check(api.CreateSessionFromArray(env, p, (nuint)copy.Length, opts, &session),
                    $"loading an ONNX model from {copy.Length} bytes");
            return session;
        });
    }

    /// <summary>
    /// Runs the model. <paramref name="inputs"/> must name every graph input exactly once; their memory is pinned
    /// and used in place. <paramref name="outputNames"/> selects outputs (all when null). Dispose the result.
    /// </summary>
    public OnnxRunResult Run(IReadOnlyList<OnnxInput> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int[] inIdx = MatchInputs(inputs);
        int[] outIdx = outputNames is null ? Enumerable.Range(0, Outputs.Count).ToArray() : MatchOutputs(outputNames);

        OrtApi api = OrtApi.Instance;
        nint memory = OnnxRuntimeEnvironment.CpuMemory.Pointer;
        var pins = new MemoryHandle[inputs.Count];
        var values = new OrtValueHandle[inputs.Count];
        var inputPtrs = new nint[inputs.Count];
        var results = new nint[outIdx.Length];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added); // a concurrent Dispose waits for this run instead of freeing the session under it
            for (int i = 0; i < inputs.Count; i++)
            {
                OnnxInput input = inputs[i];
                pins[i] = input.Pin();
                values[i] = new OrtValueHandle();
                nint v;
                fixed (long* shape = input.Shape)
                    api.Check(api.CreateTensorWithDataAsOrtValue(memory, pins[i].Pointer, (nuint)input.ByteLength,
                        shape, (nuint)input.Shape.Length, (int)input.ElementType, &v), Describe($"wrapping input '{input.Name}' of"));
                values[i].Attach(v);
                inputPtrs[i] = v;
            }

            byte** inNames = stackalloc byte*[inputs.Count];
            byte** outNames = stackalloc byte*[outIdx.Length];
            nint status;
            fixed (byte* n = names)
            fixed (nint* inVals = inputPtrs)
            fixed (nint* outVals = results)
            {
                for (int i = 0; i < inIdx.Length; i++) inNames[i] = n + inputNameOffsets[inIdx[i]];
                for (int i = 0; i < outIdx.Length; i++) outNames[i] = n + outputNameOffsets[outIdx[i]];
                status = api.Run(handle.Pointer, 0, inNames, inVals, (nuint)inputs.Count, outNames, (nuint)outIdx.Length, outVals);
            }
            // Take ownership of whatever came back before checking, so nothing leaks on failure.
            var owned = results.Select(p => { var h = new OrtValueHandle(); if (p != 0) h.Attach(p); return h; }).ToArray();
            try
            {
                api.Check(status, Describe("running"));
                var outputs = new OnnxOutput[outIdx.Length];
                for (int i = 0; i < outIdx.Length; i++) outputs[i] = new OnnxOutput(Outputs[outIdx[i]].Name, owned[i]);
                return new OnnxRunResult(outputs);
            }
            catch
            {
                foreach (OrtValueHandle h in owned) h.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (OrtValueHandle? v in values) v?.Dispose();
            foreach (MemoryHandle p in pins) p.Dispose();
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Runs and copies the outputs into managed tensors.</summary>
    public NamedTensor[] RunToTensors(IReadOnlyList<OnnxInput> inputs, IReadOnlyList<string>? outputNames = null)
    {
        using OnnxRunResult result = Run(inputs, outputNames);
        return result.ToTensors();
    }

    public void Dispose() => handle.Dispose();

    public override string ToString() => ModelPath ?? "(ONNX model from bytes)";

    private string Describe(string what) => ModelPath is null ? $"{what} an ONNX model loaded from bytes" : $"{what} ONNX model '{ModelPath}'";

    private int[] MatchInputs(IReadOnlyList<OnnxInput> inputs)
    {
        var idx = new int[inputs.Count];
        var seen = new bool[Inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            OnnxInput input = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"Input {i} is null.");
            if (!inputIndex.TryGetValue(input.Name, out int k))
                throw new ArgumentException(Describe($"Input '{input.Name}' is not an input of") +
                    $"; its inputs are: {string.Join(", ", Inputs)}.", nameof(inputs));
            if (seen[k]) throw new ArgumentException($"Input '{input.Name}' is given twice.", nameof(inputs));
            seen[k] = true;
            idx[i] = k;
            OnnxNodeInfo node = Inputs[k];
            if (node.Kind != OnnxValueKind.Tensor)
                throw new NotSupportedException(Describe($"Input '{node.Name}' is a {node.Kind} in") + "; only tensors can be given.");
            if (node.ElementType != input.ElementType)
                throw new ArgumentException(Describe($"Input '{node.Name}' of") +
                    $" expects {node.ElementType} elements {node.ShapeText} but got {input.ElementType}.", nameof(inputs));
            if (node.Rank != input.Shape.Length)
                throw new ArgumentException(Describe($"Input '{node.Name}' of") +
                    $" expects rank {node.Rank} {node.ShapeText} but got shape {TensorElementTypes.Format(input.Shape)} (rank {input.Shape.Length}).",
                    nameof(inputs));
            for (int d = 0; d < node.Rank; d++)
                if (node.Shape[d] >= 0 && node.Shape[d] != input.Shape[d])
                    throw new ArgumentException(Describe($"Input '{node.Name}' of") +
                        $" expects dimension {d} to be {node.Shape[d]} ({node.ShapeText}) but got shape {TensorElementTypes.Format(input.Shape)}.",
                        nameof(inputs));
        }
        for (int k = 0; k < seen.Length; k++)
            if (!seen[k])
                throw new ArgumentException(Describe($"Required input '{Inputs[k]}' of") + " was not given; given: " +
                    (inputs.Count == 0 ? "(none)" : string.Join(", ", inputs.Select(x => x.Name))) + ".", nameof(inputs));
        return idx;
    }

    private int[] MatchOutputs(IReadOnlyList<string> requested) =>
        requested.Select(n => n is not null && outputIndex.TryGetValue(n, out int k) ? k : throw new ArgumentException(
            Describe($"'{n}' is not an output of") + $"; its outputs are: {string.Join(", ", Outputs.Select(o => o.Name))}.",
            nameof(requested))).ToArray();

    private static int Append(List<byte> block, string name)
    {
        int offset = block.Count;
        block.AddRange(Encoding.UTF8.GetBytes(name));
        block.Add(0);
        return offset;
    }

    internal static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
