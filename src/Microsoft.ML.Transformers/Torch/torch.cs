using static Microsoft.ML.Transformers.Torch.NativeMethods;

namespace Microsoft.ML.Transformers.Torch;

/// <summary>The libtorch entry points, named as in PyTorch and TorchSharp (torch.zeros, torch.no_grad(), ...).</summary>
public static partial class torch
{
    static torch() => EnsureLoaded();

    /// <summary>Starts a scope that disposes the tensors created on this thread until it is disposed.</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Number of native tensor handles currently alive in this process (for leak checks).</summary>
    public static long LiveTensorCount => mlt_live_tensors();

    public static void manual_seed(long seed) => Check(mlt_manual_seed(seed));
    public static void set_num_threads(int n) => Check(mlt_set_num_threads(n));
    public static int get_num_threads() => mlt_get_num_threads();

    /// <summary>Threads of the system BLAS's own pool (OpenBLAS), separate from libtorch's intra-op threads; false when
    /// the loaded BLAS does not expose the setting.</summary>
    public static bool set_blas_threads(int n) => mlt_set_blas_threads(n) == 0;
    public static int get_blas_threads() => mlt_get_blas_threads();

    public static bool is_grad_enabled() => mlt_grad_enabled() == 1;

    /// <summary>Disables gradient recording on this thread until disposed (with torch.no_grad():).</summary>
    public static IDisposable no_grad() => new GradModeGuard(false);
    public static IDisposable enable_grad() => new GradModeGuard(true);

    private sealed class GradModeGuard : IDisposable
    {
        private readonly bool _previous;
        private bool _done;
        public GradModeGuard(bool enabled) { _previous = is_grad_enabled(); mlt_set_grad_enabled(enabled ? 1 : 0); }
        public void Dispose() { if (_done) return; _done = true; mlt_set_grad_enabled(_previous ? 1 : 0); }
    }

    public static class cuda
    {
        public static bool is_available() => mlt_cuda_is_available() == 1;
        public static int device_count() => mlt_cuda_device_count();
    }

    public static class backends
    {
        public static class mkldnn
        {
            public static bool is_available() => mlt_mkldnn_is_available() == 1;
        }
    }

    // ---- creation ----
    public static unsafe Tensor tensor<T>(ReadOnlySpan<T> data, long[] shape, Device? device = null, bool requires_grad = false) where T : unmanaged
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n != data.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {n} elements but {data.Length} were given.", nameof(shape));
        var dev = device ?? Device.CPU;
        dev.EnsureAvailable();
        fixed (T* p = data)
        fixed (long* s = shape)
            return new Tensor(mlt_tensor_from_data(p, s, shape.Length, (int)ScalarTypeExtensions.Of<T>(), (int)dev.Type, dev.NativeIndex, requires_grad ? 1 : 0));
    }

    public static Tensor tensor<T>(T[] data, long[] shape, Device? device = null, bool requires_grad = false) where T : unmanaged =>
        tensor((ReadOnlySpan<T>)data, shape, device, requires_grad);

    public static Tensor tensor<T>(T[] data, Device? device = null, bool requires_grad = false) where T : unmanaged =>
        tensor((ReadOnlySpan<T>)data, [data.Length], device, requires_grad);

    /// <summary>A tensor of <paramref name="dtype"/> made from raw little-endian bytes (checkpoint loading).</summary>
    internal static unsafe Tensor from_bytes(ReadOnlySpan<byte> bytes, long[] shape, ScalarType dtype, Device? device = null)
    {
        var dev = device ?? Device.CPU;
        dev.EnsureAvailable();
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n * dtype.ElementSize() != bytes.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] of {dtype} needs {n * dtype.ElementSize()} bytes, {bytes.Length} given.");
        fixed (byte* p = bytes)
        fixed (long* s = shape)
            return new Tensor(mlt_tensor_from_data(p, s, shape.Length, (int)dtype, (int)dev.Type, dev.NativeIndex, 0));
    }

    private static unsafe Tensor Create(long[] shape, Device? device, Func<IntPtr, int, Device, IntPtr> make)
    {
        var dev = device ?? Device.CPU;
        dev.EnsureAvailable();
        fixed (long* s = shape) return new Tensor(make((IntPtr)s, shape.Length, dev));
    }

    public static unsafe Tensor empty(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Create(shape, device, (s, n, d) => mlt_empty((long*)s, n, (int)dtype, (int)d.Type, d.NativeIndex));
    public static unsafe Tensor zeros(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Create(shape, device, (s, n, d) => mlt_zeros((long*)s, n, (int)dtype, (int)d.Type, d.NativeIndex, requires_grad ? 1 : 0));
    public static unsafe Tensor ones(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Create(shape, device, (s, n, d) => mlt_ones((long*)s, n, (int)dtype, (int)d.Type, d.NativeIndex, requires_grad ? 1 : 0));
    public static unsafe Tensor full(long[] shape, double value, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Create(shape, device, (s, n, d) => mlt_full((long*)s, n, value, (int)dtype, (int)d.Type, d.NativeIndex));
    public static unsafe Tensor randn(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null, bool requires_grad = false) =>
        Create(shape, device, (s, n, d) => mlt_randn((long*)s, n, (int)dtype, (int)d.Type, d.NativeIndex, requires_grad ? 1 : 0));
    public static unsafe Tensor rand(long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null) =>
        Create(shape, device, (s, n, d) => mlt_rand((long*)s, n, (int)dtype, (int)d.Type, d.NativeIndex));

    public static Tensor arange(double start, double end, double step = 1, ScalarType dtype = ScalarType.Int64, Device? device = null)
    {
        var dev = device ?? Device.CPU;
        dev.EnsureAvailable();
        return new Tensor(mlt_arange(start, end, step, (int)dtype, (int)dev.Type, dev.NativeIndex));
    }
    public static Tensor arange(long end, ScalarType dtype = ScalarType.Int64, Device? device = null) => arange(0, end, 1, dtype, device);

    public static Tensor scalar_tensor(double value, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var dev = device ?? Device.CPU;
        dev.EnsureAvailable();
        return new Tensor(mlt_scalar_tensor(value, (int)dtype, (int)dev.Type, dev.NativeIndex));
    }

    // ---- functions over several tensors ----
    public static unsafe Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var hs = new IntPtr[tensors.Count];
        for (int i = 0; i < hs.Length; i++) hs[i] = tensors[i].Handle;
        Tensor r;
        fixed (IntPtr* p = hs) r = new Tensor(mlt_cat(p, hs.Length, dim));
        GC.KeepAlive(tensors);
        foreach (var t in tensors) GC.KeepAlive(t);
        return r;
    }

    public static unsafe Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0)
    {
        var hs = new IntPtr[tensors.Count];
        for (int i = 0; i < hs.Length; i++) hs[i] = tensors[i].Handle;
        Tensor r;
        fixed (IntPtr* p = hs) r = new Tensor(mlt_stack(p, hs.Length, dim));
        foreach (var t in tensors) GC.KeepAlive(t);
        return r;
    }

    public static Tensor where(Tensor condition, Tensor x, Tensor y) =>
        Tensor.Wrap(mlt_where(condition.Handle, x.Handle, y.Handle), condition, x, y);
    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor bmm(Tensor a, Tensor b) => a.bmm(b);
    public static Tensor softmax(Tensor a, long dim) => a.softmax(dim);
    public static Tensor tanh(Tensor a) => a.tanh();
    public static Tensor sigmoid(Tensor a) => a.sigmoid();
}
