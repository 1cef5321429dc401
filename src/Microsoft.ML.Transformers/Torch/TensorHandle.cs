using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.Torch;

/// <summary>Owns one heap-allocated at::Tensor of the shim; releasing it frees the handle (not necessarily the storage,
/// which libtorch reference-counts across views).</summary>
internal sealed class TensorHandle : SafeHandle
{
    public TensorHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.mlt_tensor_free(handle);
        return true;
    }
}
