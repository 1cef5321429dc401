using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static Microsoft.ML.Transformers.Torch.NativeMethods;

namespace Microsoft.ML.Transformers.Torch;

public static partial class torch
{
    /// <summary>
    /// A libtorch tensor. Created tensors join the current <see cref="DisposeScope"/> if there is one; otherwise the
    /// caller owns them (Dispose, or the finalizer as a last resort).
    /// </summary>
    public sealed partial class Tensor : IDisposable
    {
        private readonly TensorHandle _handle;

        internal DisposeScope? Scope { get; set; }

        internal Tensor(IntPtr handle)
        {
            _handle = new TensorHandle(Check(handle));
            DisposeScope.Current?.Add(this);
        }

        /// <summary>The raw at::Tensor* for a native call. Callers keep <c>this</c> alive across the call (see <see cref="Wrap"/>).</summary>
        internal IntPtr Handle
        {
            get
            {
                if (_handle.IsClosed) ThrowDisposed();
                return _handle.DangerousGetHandle();
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(Tensor), "The tensor was disposed (by its dispose scope or by Dispose()).");

        public bool IsDisposed => _handle.IsClosed;

        /// <summary>Wraps a native result, keeping the inputs reachable until the call has returned.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Tensor Wrap(IntPtr result, Tensor? a = null, Tensor? b = null, Tensor? c = null)
        {
            var t = new Tensor(result);
            GC.KeepAlive(a);
            GC.KeepAlive(b);
            GC.KeepAlive(c);
            return t;
        }

        public void Dispose()
        {
            if (_handle.IsClosed) return;
            Scope?.Remove(this);
            Scope = null;
            _handle.Dispose();
        }

        /// <summary>Moves this tensor from its scope to the enclosing scope (or out of all scopes). Returns this.</summary>
        public Tensor MoveToOuterDisposeScope()
        {
            var scope = Scope;
            if (scope is null) return this;
            scope.Remove(this);
            Scope = null;
            scope.Outer?.Add(this);
            return this;
        }

        /// <summary>Takes this tensor out of every dispose scope: the caller now owns it. Returns this.</summary>
        public Tensor DetachFromDisposeScope()
        {
            Scope?.Remove(this);
            Scope = null;
            return this;
        }

        // ---- metadata ----
        public long[] shape
        {
            get
            {
                var h = Handle;
                int n = mlt_tensor_ndim(h);
                var s = new long[n];
                unsafe { fixed (long* p = s) Check(mlt_tensor_shape(h, p)); }
                GC.KeepAlive(this);
                return s;
            }
        }

        public long size(int dim)
        {
            var s = shape;
            return s[dim < 0 ? dim + s.Length : dim];
        }

        public int dim() { var n = mlt_tensor_ndim(Handle); GC.KeepAlive(this); return n; }
        public long numel() { var n = mlt_tensor_numel(Handle); GC.KeepAlive(this); return n; }
        public ScalarType dtype { get { var d = (ScalarType)mlt_tensor_dtype(Handle); GC.KeepAlive(this); return d; } }

        public Device device
        {
            get
            {
                var h = Handle;
                var d = mlt_tensor_device_type(h) == 1 ? new Device(DeviceType.CUDA, mlt_tensor_device_index(h)) : Device.CPU;
                GC.KeepAlive(this);
                return d;
            }
        }

        public bool is_mkldnn { get { var r = mlt_tensor_is_mkldnn(Handle) == 1; GC.KeepAlive(this); return r; } }

        // ---- data ----
        /// <summary>Copies the elements (any device, any layout) into <paramref name="destination"/>; the element type must match.</summary>
        public unsafe void CopyTo<T>(Span<T> destination) where T : unmanaged
        {
            EnsureElementType<T>();
            fixed (T* p = destination)
                Check(mlt_tensor_copy_to(Handle, p, (long)destination.Length * sizeof(T)));
            GC.KeepAlive(this);
        }

        /// <summary>Overwrites the elements in place from host memory (no autograd record).</summary>
        public unsafe void CopyFrom<T>(ReadOnlySpan<T> source) where T : unmanaged
        {
            EnsureElementType<T>();
            fixed (T* p = source)
                Check(mlt_tensor_copy_from(Handle, p, (long)source.Length * sizeof(T)));
            GC.KeepAlive(this);
        }

        /// <summary>Overwrites this tensor from host memory holding <paramref name="shape"/> elements of <paramref name="sourceType"/>,
        /// converting the element type (e.g. a bfloat16 checkpoint into a float32 parameter).</summary>
        internal unsafe void CopyFromBlob(void* data, long[] shape, ScalarType sourceType)
        {
            fixed (long* s = shape) Check(mlt_tensor_copy_from_blob(Handle, data, s, shape.Length, (int)sourceType));
            GC.KeepAlive(this);
        }

        /// <summary>Replaces this tensor's data by <paramref name="source"/>'s, keeping this object (PyTorch's set_data).</summary>
        public void set_data(Tensor source)
        {
            Check(mlt_tensor_set_data(Handle, source.Handle));
            GC.KeepAlive(this); GC.KeepAlive(source);
        }

        internal unsafe void CopyToBytes(Span<byte> destination)
        {
            fixed (byte* p = destination) Check(mlt_tensor_copy_to(Handle, p, destination.Length));
            GC.KeepAlive(this);
        }

        public T[] data<T>() where T : unmanaged
        {
            var a = new T[numel()];
            CopyTo<T>(a);
            return a;
        }

        public T item<T>() where T : unmanaged
        {
            if (numel() != 1) throw new InvalidOperationException($"item() needs a tensor with one element; this one has shape [{string.Join(", ", shape)}].");
            return data<T>()[0];
        }

        /// <summary>The single element converted to double, whatever the dtype.</summary>
        public double ToDouble()
        {
            var v = mlt_tensor_item(Handle);
            GC.KeepAlive(this);
            ThrowIfError();
            return v;
        }

        private void EnsureElementType<T>() where T : unmanaged
        {
            var want = ScalarTypeExtensions.Of<T>();
            var have = dtype;
            if (want != have) throw new ArgumentException($"Tensor has dtype {have}; a {typeof(T).Name} buffer ({want}) was given.");
        }

        // ---- autograd ----
        public bool requires_grad
        {
            get { var r = mlt_tensor_requires_grad(Handle) == 1; GC.KeepAlive(this); return r; }
            set { Check(mlt_tensor_set_requires_grad(Handle, value ? 1 : 0)); GC.KeepAlive(this); }
        }

        public Tensor requires_grad_(bool value = true) { requires_grad = value; return this; }

        public void backward() { Check(mlt_tensor_backward(Handle)); GC.KeepAlive(this); }

        /// <summary>The accumulated gradient, or null before any backward pass reached this tensor.</summary>
        public Tensor? grad
        {
            get
            {
                var h = mlt_tensor_grad(Handle);
                GC.KeepAlive(this);
                if (h == IntPtr.Zero) { ThrowIfError(); return null; }
                return new Tensor(h);
            }
        }

        /// <summary>Drops the accumulated gradient (PyTorch's zero_grad(set_to_none=True)).</summary>
        public void zero_grad() { Check(mlt_tensor_zero_grad(Handle)); GC.KeepAlive(this); }

        public override string ToString()
        {
            if (IsDisposed) return "Tensor(disposed)";
            return $"Tensor(shape=[{string.Join(", ", shape)}], dtype={dtype}, device={device})";
        }
    }
}
