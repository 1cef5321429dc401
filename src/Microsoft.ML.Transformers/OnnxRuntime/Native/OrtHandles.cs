using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.OnnxRuntime.Native;

/// <summary>
/// Base of the SafeHandles over ONNX Runtime objects. A handle is created empty and given its pointer right after
/// the native call that produced it, so a failed call leaves nothing to release.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    internal void Attach(nint pointer) => SetHandle(pointer);

    /// <summary>The raw pointer; callers that pass it to a native call must keep this handle alive (or AddRef it).</summary>
    internal nint Pointer => handle;
}

internal sealed unsafe class OrtEnvHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseEnv(handle); return true; }
}

internal sealed unsafe class OrtSessionOptionsHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseSessionOptions(handle); return true; }
}

internal sealed unsafe class OrtSessionHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseSession(handle); return true; }
}

internal sealed unsafe class OrtValueHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseValue(handle); return true; }
}

internal sealed unsafe class OrtMemoryInfoHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseMemoryInfo(handle); return true; }
}

internal sealed unsafe class OrtTypeInfoHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseTypeInfo(handle); return true; }
}

internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseTensorTypeAndShapeInfo(handle); return true; }
}

internal sealed unsafe class OrtCudaProviderOptionsHandle : OrtHandle
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseCUDAProviderOptions(handle); return true; }
}
