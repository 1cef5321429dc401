using static Microsoft.ML.Transformers.Torch.NativeMethods;

namespace Microsoft.ML.Transformers.Torch;

public static partial class torch
{
    public sealed partial class Tensor
    {
        // ---- arithmetic ----
        public Tensor add(Tensor other, double alpha = 1) => Wrap(mlt_add(Handle, other.Handle, alpha), this, other);
        public Tensor sub(Tensor other, double alpha = 1) => Wrap(mlt_sub(Handle, other.Handle, alpha), this, other);
        public Tensor mul(Tensor other) => Wrap(mlt_mul(Handle, other.Handle), this, other);
        public Tensor div(Tensor other) => Wrap(mlt_div(Handle, other.Handle), this, other);
        public Tensor add(double s) => Wrap(mlt_add_scalar(Handle, s), this);
        public Tensor mul(double s) => Wrap(mlt_mul_scalar(Handle, s), this);
        public Tensor div(double s) => Wrap(mlt_div_scalar(Handle, s), this);
        public Tensor pow(double e) => Wrap(mlt_pow_scalar(Handle, e), this);
        public Tensor pow(Tensor e) => Wrap(mlt_pow_t(Handle, e.Handle), this, e);
        public Tensor maximum(Tensor other) => Wrap(mlt_maximum(Handle, other.Handle), this, other);
        public Tensor minimum(Tensor other) => Wrap(mlt_minimum(Handle, other.Handle), this, other);

        public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
        public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
        public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
        public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
        public static Tensor operator +(Tensor a, double s) => a.add(s);
        public static Tensor operator -(Tensor a, double s) => a.add(-s);
        public static Tensor operator *(Tensor a, double s) => a.mul(s);
        public static Tensor operator /(Tensor a, double s) => a.div(s);
        public static Tensor operator +(double s, Tensor a) => a.add(s);
        public static Tensor operator -(double s, Tensor a) => Wrap(mlt_rsub_scalar(a.Handle, s), a);
        public static Tensor operator *(double s, Tensor a) => a.mul(s);
        public static Tensor operator -(Tensor a) => a.neg();

        // ---- unary ----
        public Tensor neg() => Wrap(mlt_neg(Handle), this);
        public Tensor exp() => Wrap(mlt_exp(Handle), this);
        public Tensor log() => Wrap(mlt_log(Handle), this);
        public Tensor sqrt() => Wrap(mlt_sqrt(Handle), this);
        public Tensor rsqrt() => Wrap(mlt_rsqrt(Handle), this);
        public Tensor abs() => Wrap(mlt_abs(Handle), this);
        public Tensor tanh() => Wrap(mlt_tanh(Handle), this);
        public Tensor sigmoid() => Wrap(mlt_sigmoid(Handle), this);
        public Tensor relu() => Wrap(mlt_relu(Handle), this);
        public Tensor silu() => Wrap(mlt_silu(Handle), this);
        public Tensor sin() => Wrap(mlt_sin(Handle), this);
        public Tensor cos() => Wrap(mlt_cos(Handle), this);
        public Tensor erf() => Wrap(mlt_erf(Handle), this);
        public Tensor logical_not() => Wrap(mlt_logical_not(Handle), this);
        /// <summary>GELU; <paramref name="approximate"/> "none" (erf, BERT's "gelu") or "tanh" ("gelu_new"/"gelu_pytorch_tanh").</summary>
        public Tensor gelu(string approximate = "none") => approximate switch
        {
            "none" => Wrap(mlt_gelu(Handle, 0), this),
            "tanh" => Wrap(mlt_gelu(Handle, 1), this),
            _ => throw new ArgumentException($"gelu approximate must be \"none\" or \"tanh\", got \"{approximate}\".", nameof(approximate)),
        };
        public Tensor clamp(double? min = null, double? max = null) =>
            Wrap(mlt_clamp(Handle, min ?? 0, max ?? 0, min.HasValue ? 1 : 0, max.HasValue ? 1 : 0), this);
        public Tensor masked_fill(Tensor mask, double value) => Wrap(mlt_masked_fill(Handle, mask.Handle, value), this, mask);
        public Tensor softmax(long dim) => Wrap(mlt_softmax(Handle, dim), this);
        public Tensor log_softmax(long dim) => Wrap(mlt_log_softmax(Handle, dim), this);

        // ---- comparisons ----
        public Tensor eq(Tensor o) => Wrap(mlt_eq(Handle, o.Handle), this, o);
        public Tensor ne(Tensor o) => Wrap(mlt_ne(Handle, o.Handle), this, o);
        public Tensor lt(Tensor o) => Wrap(mlt_lt(Handle, o.Handle), this, o);
        public Tensor gt(Tensor o) => Wrap(mlt_gt(Handle, o.Handle), this, o);
        public Tensor eq(double s) => Wrap(mlt_eq_scalar(Handle, s), this);
        public Tensor ne(double s) => Wrap(mlt_ne_scalar(Handle, s), this);
        public Tensor lt(double s) => Wrap(mlt_lt_scalar(Handle, s), this);
        public Tensor le(double s) => Wrap(mlt_le_scalar(Handle, s), this);
        public Tensor gt(double s) => Wrap(mlt_gt_scalar(Handle, s), this);
        public Tensor ge(double s) => Wrap(mlt_ge_scalar(Handle, s), this);

        public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
        {
            int r = mlt_allclose(Handle, other.Handle, rtol, atol);
            GC.KeepAlive(this); GC.KeepAlive(other);
            if (r < 0) ThrowLastError();
            return r == 1;
        }

        // ---- reductions ----
        public unsafe Tensor sum(long[]? dims = null, bool keepdim = false)
        {
            dims ??= [];
            fixed (long* p = dims) return Wrap(mlt_sum(Handle, p, dims.Length, keepdim ? 1 : 0), this);
        }
        public Tensor sum(long dim, bool keepdim = false) => sum([dim], keepdim);
        public unsafe Tensor mean(long[]? dims = null, bool keepdim = false)
        {
            dims ??= [];
            fixed (long* p = dims) return Wrap(mlt_mean(Handle, p, dims.Length, keepdim ? 1 : 0), this);
        }
        public Tensor mean(long dim, bool keepdim = false) => mean([dim], keepdim);
        public unsafe Tensor amax(long dim, bool keepdim = false)
        {
            long d = dim;
            return Wrap(mlt_amax(Handle, &d, 1, keepdim ? 1 : 0), this);
        }
        public Tensor argmax(long dim, bool keepdim = false) => Wrap(mlt_argmax(Handle, dim, keepdim ? 1 : 0), this);
        public Tensor cumsum(long dim) => Wrap(mlt_cumsum(Handle, dim), this);

        public unsafe (Tensor values, Tensor indices) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
        {
            IntPtr v, i;
            Check(mlt_topk(Handle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, &v, &i));
            GC.KeepAlive(this);
            return (new Tensor(v), new Tensor(i));
        }

        // ---- shape ----
        public unsafe Tensor view(params long[] shape) { fixed (long* p = shape) return Wrap(mlt_view(Handle, p, shape.Length), this); }
        public unsafe Tensor reshape(params long[] shape) { fixed (long* p = shape) return Wrap(mlt_reshape(Handle, p, shape.Length), this); }
        public unsafe Tensor permute(params long[] dims) { fixed (long* p = dims) return Wrap(mlt_permute(Handle, p, dims.Length), this); }
        public unsafe Tensor expand(params long[] shape) { fixed (long* p = shape) return Wrap(mlt_expand(Handle, p, shape.Length), this); }
        public Tensor transpose(long dim0, long dim1) => Wrap(mlt_transpose(Handle, dim0, dim1), this);
        public Tensor t() => transpose(0, 1);
        public Tensor contiguous() => Wrap(mlt_tensor_contiguous(Handle), this);
        public Tensor unsqueeze(long dim) => Wrap(mlt_unsqueeze(Handle, dim), this);
        public Tensor squeeze(long dim) => Wrap(mlt_squeeze(Handle, dim), this);
        public Tensor flatten(long startDim = 0, long endDim = -1) => Wrap(mlt_flatten(Handle, startDim, endDim), this);
        /// <summary>Elements [start, end) along <paramref name="dim"/> with <paramref name="step"/>, a view (x[:, start:end:step]).</summary>
        public Tensor slice(long dim, long start, long end, long step = 1) => Wrap(mlt_slice(Handle, dim, start, end, step), this);
        public Tensor narrow(long dim, long start, long length) => slice(dim, start, start + length);
        /// <summary>Index <paramref name="index"/> along <paramref name="dim"/>, removing that dimension (x[:, i]).</summary>
        public Tensor select(long dim, long index) => Wrap(mlt_select(Handle, dim, index), this);
        public Tensor index_select(long dim, Tensor index) => Wrap(mlt_index_select(Handle, dim, index.Handle), this, index);
        public Tensor gather(long dim, Tensor index) => Wrap(mlt_gather(Handle, dim, index.Handle), this, index);

        // ---- products ----
        public Tensor matmul(Tensor other) => Wrap(mlt_matmul(Handle, other.Handle), this, other);
        public Tensor bmm(Tensor other) => Wrap(mlt_bmm(Handle, other.Handle), this, other);

        // ---- conversions ----
        public Tensor to(ScalarType type) => Wrap(mlt_tensor_to_dtype(Handle, (int)type), this);
        public Tensor to(Device device)
        {
            device.EnsureAvailable();
            return Wrap(mlt_tensor_to_device(Handle, (int)device.Type, device.NativeIndex), this);
        }
        public Tensor clone() => Wrap(mlt_tensor_clone(Handle), this);
        public Tensor detach() => Wrap(mlt_tensor_detach(Handle), this);
        /// <summary>A second handle to the same tensor (shares storage and autograd identity).</summary>
        public Tensor alias() => Wrap(mlt_tensor_alias(Handle), this);
        public Tensor to_mkldnn() => Wrap(mlt_tensor_to_mkldnn(Handle), this);
        public Tensor to_dense() => Wrap(mlt_tensor_to_dense(Handle), this);
        public Tensor @float() => to(ScalarType.Float32);
        public Tensor @long() => to(ScalarType.Int64);

        // ---- in place (no autograd record when run under no_grad, as optimizers do) ----
        public Tensor add_(Tensor other, double alpha = 1) { Check(mlt_add_(Handle, other.Handle, alpha)); GC.KeepAlive(other); return this; }
        public Tensor mul_(double s) { Check(mlt_mul_scalar_(Handle, s)); return this; }
        public Tensor addcmul_(Tensor a, Tensor b, double value = 1) { Check(mlt_addcmul_(Handle, a.Handle, b.Handle, value)); GC.KeepAlive(a); GC.KeepAlive(b); return this; }
        public Tensor addcdiv_(Tensor a, Tensor b, double value = 1) { Check(mlt_addcdiv_(Handle, a.Handle, b.Handle, value)); GC.KeepAlive(a); GC.KeepAlive(b); return this; }
        public Tensor copy_(Tensor src) { Check(mlt_copy_(Handle, src.Handle)); GC.KeepAlive(src); return this; }
        public Tensor zero_() { Check(mlt_zero_(Handle)); return this; }
        public Tensor fill_(double v) { Check(mlt_fill_(Handle, v)); return this; }
        public Tensor normal_(double mean = 0, double std = 1) { Check(mlt_normal_(Handle, mean, std)); return this; }
    }
}
