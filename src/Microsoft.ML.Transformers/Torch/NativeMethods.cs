using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.Torch;

/// <summary>
/// P/Invoke declarations of the shim's flat C ABI (Native/*.cpp). Tensor handles are raw pointers here; ownership lives
/// in <see cref="TensorHandle"/>. Every call that can fail is followed by <see cref="Check(IntPtr)"/> or
/// <see cref="Check(int)"/>, the one place that turns the shim's thread-local message into a <see cref="TorchException"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    private const string Lib = NativeLibraryLoader.ShimName;

    static NativeMethods() => EnsureLoaded();

    private static int s_loaded;

    internal static void EnsureLoaded()
    {
        if (Volatile.Read(ref s_loaded) == 1) return;
        NativeLibraryLoader.Register(Lib, static () => NativeLibraryLoader.Load(
            NativeLibraryLoader.ShimFile, NativeLibraryLoader.ShimEnvironmentVariable,
            "Install libtorch and build the shim with: bash eng/install-deps.sh && bash eng/build-shim.sh " +
            "(apt-get install libtorch-dev libopenblas0-pthread), or set MLT_LIBTORCH_SHIM to the path of libmlt_torch.so."));
        Volatile.Write(ref s_loaded, 1);
    }

    internal static IntPtr Check(IntPtr handle)
    {
        if (handle == IntPtr.Zero) ThrowLastError();
        return handle;
    }

    internal static void Check(int status)
    {
        if (status != 0) ThrowLastError();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowLastError()
    {
        var p = mlt_last_error();
        var message = p == IntPtr.Zero ? "libtorch call failed without a message" : Marshal.PtrToStringUTF8(p)!;
        throw new TorchException(message.TrimEnd());
    }

    internal static void ThrowIfError()
    {
        if (mlt_last_error() != IntPtr.Zero) ThrowLastError();
    }

    // ---- engine ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_last_error();
    [LibraryImport(Lib)] internal static partial long mlt_live_tensors();
    [LibraryImport(Lib)] internal static partial void mlt_tensor_free(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int mlt_get_num_threads();
    [LibraryImport(Lib)] internal static partial int mlt_set_blas_threads(int n);
    [LibraryImport(Lib)] internal static partial int mlt_get_blas_threads();
    [LibraryImport(Lib)] internal static partial int mlt_cuda_is_available();
    [LibraryImport(Lib)] internal static partial int mlt_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int mlt_mkldnn_is_available();
    [LibraryImport(Lib)] internal static partial int mlt_manual_seed(long seed);
    [LibraryImport(Lib)] internal static partial int mlt_grad_enabled();
    [LibraryImport(Lib)] internal static partial void mlt_set_grad_enabled(int enabled);

    // ---- creation ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_from_data(void* data, long* shape, int ndim, int dtype, int devType, int devIndex, int requiresGrad);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_empty(long* shape, int ndim, int dtype, int dt, int di);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_zeros(long* shape, int ndim, int dtype, int dt, int di, int rg);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_ones(long* shape, int ndim, int dtype, int dt, int di, int rg);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_full(long* shape, int ndim, double value, int dtype, int dt, int di);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_randn(long* shape, int ndim, int dtype, int dt, int di, int rg);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_rand(long* shape, int ndim, int dtype, int dt, int di);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_arange(double start, double end, double step, int dtype, int dt, int di);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_scalar_tensor(double value, int dtype, int dt, int di);

    // ---- metadata / data ----
    [LibraryImport(Lib)] internal static partial int mlt_tensor_ndim(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_shape(IntPtr t, long* shape);
    [LibraryImport(Lib)] internal static partial long mlt_tensor_numel(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_dtype(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_device_type(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_device_index(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_is_mkldnn(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_copy_to(IntPtr t, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_copy_from(IntPtr t, void* src, long nbytes);
    [LibraryImport(Lib)] internal static partial double mlt_tensor_item(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_copy_from_blob(IntPtr t, void* data, long* shape, int ndim, int dtype);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_set_data(IntPtr t, IntPtr src);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_to_dtype(IntPtr t, int dtype);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_to_device(IntPtr t, int dt, int di);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_clone(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_detach(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_contiguous(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_alias(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_to_mkldnn(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_to_dense(IntPtr t);

    // ---- autograd ----
    [LibraryImport(Lib)] internal static partial int mlt_tensor_requires_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_set_requires_grad(IntPtr t, int rg);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_backward(IntPtr t);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tensor_grad(IntPtr t);
    [LibraryImport(Lib)] internal static partial int mlt_tensor_zero_grad(IntPtr t);

    // ---- elementwise ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_add(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_sub(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_mul(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_div(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_maximum(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_minimum(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_pow_t(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_add_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_mul_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_div_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_pow_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_rsub_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_neg(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_exp(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_log(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_sqrt(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_rsqrt(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_abs(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_tanh(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_sigmoid(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_relu(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_silu(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_sin(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_cos(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_erf(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_logical_not(IntPtr a);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_gelu(IntPtr a, int tanhApprox);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_clamp(IntPtr a, double lo, double hi, int hasLo, int hasHi);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_where(IntPtr cond, IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_masked_fill(IntPtr a, IntPtr mask, double value);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_eq(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_ne(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_lt(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_gt(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_eq_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_ne_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_lt_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_le_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_gt_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_ge_scalar(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial int mlt_allclose(IntPtr a, IntPtr b, double rtol, double atol);

    // ---- in place ----
    [LibraryImport(Lib)] internal static partial int mlt_add_(IntPtr a, IntPtr b, double alpha);
    [LibraryImport(Lib)] internal static partial int mlt_mul_scalar_(IntPtr a, double s);
    [LibraryImport(Lib)] internal static partial int mlt_addcmul_(IntPtr a, IntPtr b, IntPtr c, double v);
    [LibraryImport(Lib)] internal static partial int mlt_addcdiv_(IntPtr a, IntPtr b, IntPtr c, double v);
    [LibraryImport(Lib)] internal static partial int mlt_copy_(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial int mlt_zero_(IntPtr a);
    [LibraryImport(Lib)] internal static partial int mlt_fill_(IntPtr a, double v);
    [LibraryImport(Lib)] internal static partial int mlt_normal_(IntPtr a, double mean, double std);

    // ---- reductions ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_sum(IntPtr a, long* dims, int nd, int keepdim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_mean(IntPtr a, long* dims, int nd, int keepdim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_amax(IntPtr a, long* dims, int nd, int keepdim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_argmax(IntPtr a, long dim, int keepdim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_cumsum(IntPtr a, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_softmax(IntPtr a, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_log_softmax(IntPtr a, long dim);
    [LibraryImport(Lib)] internal static partial int mlt_topk(IntPtr a, long k, long dim, int largest, int sorted, IntPtr* values, IntPtr* indices);

    // ---- shape ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_reshape(IntPtr a, long* s, int n);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_view(IntPtr a, long* s, int n);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_permute(IntPtr a, long* s, int n);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_expand(IntPtr a, long* s, int n);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_transpose(IntPtr a, long d0, long d1);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_unsqueeze(IntPtr a, long d);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_squeeze(IntPtr a, long d);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_flatten(IntPtr a, long s, long e);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_slice(IntPtr a, long dim, long start, long end, long step);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_select(IntPtr a, long dim, long index);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_index_select(IntPtr a, long dim, IntPtr index);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_gather(IntPtr a, long dim, IntPtr index);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_cat(IntPtr* ts, int n, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_stack(IntPtr* ts, int n, long dim);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_matmul(IntPtr a, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_bmm(IntPtr a, IntPtr b);

    // ---- nn ----
    [LibraryImport(Lib)] internal static partial IntPtr mlt_embedding(IntPtr weight, IntPtr ids, long paddingIdx);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_linear(IntPtr x, IntPtr w, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_linear_mkldnn(IntPtr x, IntPtr w, IntPtr b);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_layer_norm(IntPtr x, long* shape, int n, IntPtr w, IntPtr b, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_dropout(IntPtr x, double p, int train);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_cross_entropy(IntPtr logits, IntPtr target, IntPtr weight, int reduction, long ignoreIndex, double labelSmoothing);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_nll_loss(IntPtr logp, IntPtr target, int reduction, long ignoreIndex);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_mse_loss(IntPtr x, IntPtr y, int reduction);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_bce_with_logits(IntPtr x, IntPtr y, IntPtr weight, IntPtr posWeight, int reduction);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_conv2d(IntPtr x, IntPtr w, IntPtr b, long* stride, long* padding, long* dilation, long groups);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_batch_norm(IntPtr x, IntPtr w, IntPtr b, IntPtr rm, IntPtr rv, int train, double momentum, double eps);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_max_pool2d(IntPtr x, long* k, long* s, long* p);
    [LibraryImport(Lib)] internal static partial IntPtr mlt_adaptive_avg_pool2d(IntPtr x, long oh, long ow);
}
