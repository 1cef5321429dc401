using System.Runtime.InteropServices;
using Microsoft.ML.Transformers.OnnxRuntime.Native;

namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// The process-wide ONNX Runtime state: the loaded library, its single <c>OrtEnv</c> (ONNX Runtime allows one per
/// process) and a CPU memory description shared by every run. Created on first use.
/// </summary>
public static unsafe class OnnxRuntimeEnvironment
{
    /// <summary>Provider names as ONNX Runtime reports them.</summary>
    public const string CpuProviderName = "CPUExecutionProvider";
    public const string CudaProviderName = "CUDAExecutionProvider";

    private static readonly object Gate = new();
    private static State? state;

    private sealed class State
    {
        public required OrtEnvHandle Env;
        public required OrtMemoryInfoHandle CpuMemory;
        public required IReadOnlyList<string> Providers;
    }

    private static State Current
    {
        get
        {
            if (Volatile.Read(ref state) is { } s) return s;
            lock (Gate) return state ??= Create();
        }
    }

    /// <summary>The version string of the loaded ONNX Runtime library, e.g. "1.30.0".</summary>
    public static string Version => OrtApi.Instance.VersionString;

    /// <summary>
    /// Execution providers the loaded library was built with (<c>GetAvailableProviders</c>), e.g.
    /// "CUDAExecutionProvider", "CPUExecutionProvider". A provider that lives in a separate shared library
    /// (CUDA in the onnxruntime-node build) can be listed and still fail to load when a session asks for it.
    /// </summary>
    public static IReadOnlyList<string> AvailableProviders => Current.Providers;

    /// <summary>Whether the loaded library lists the CUDA execution provider.</summary>
    public static bool IsCudaListed => AvailableProviders.Contains(CudaProviderName);

    internal static OrtEnvHandle Env => Current.Env;

    /// <summary>
    /// CPU memory info for wrapping managed buffers. ONNX Runtime only reads it, so one instance serves all
    /// threads; it lives as long as the process.
    /// </summary>
    internal static OrtMemoryInfoHandle CpuMemory => Current.CpuMemory;

    private static State Create()
    {
        OrtApi api = OrtApi.Instance;
        var env = new OrtEnvHandle();
        nint p;
        // Level 3 = ORT_LOGGING_LEVEL_ERROR: warnings such as unused initializers in exported graphs are noise here.
        fixed (byte* logId = "Microsoft.ML.Transformers"u8)
            api.Check(api.CreateEnv(3, logId, &p), "creating the ONNX Runtime environment");
        env.Attach(p);

        var memory = new OrtMemoryInfoHandle();
        // OrtArenaAllocator = 1, OrtMemTypeDefault = 0 (what Ort::MemoryInfo::CreateCpu uses).
        api.Check(api.CreateCpuMemoryInfo(1, 0, &p), "creating CPU memory info");
        memory.Attach(p);

        byte** names;
        int count;
        api.Check(api.GetAvailableProviders(&names, &count), "listing execution providers");
        var providers = new string[count];
        for (int i = 0; i < count; i++) providers[i] = Marshal.PtrToStringUTF8((nint)names[i]) ?? "";
        api.Check(api.ReleaseAvailableProviders(names, count));
        return new State { Env = env, CpuMemory = memory, Providers = providers };
    }
}
