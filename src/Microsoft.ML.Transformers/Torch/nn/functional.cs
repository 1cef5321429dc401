using static Microsoft.ML.Transformers.Torch.NativeMethods;

namespace Microsoft.ML.Transformers.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>Loss reduction, numbered as at::Reduction.</summary>
        public enum Reduction { None = 0, Mean = 1, Sum = 2 }

        /// <summary>torch.nn.functional.</summary>
        public static class functional
        {
            private static IntPtr H(Tensor? t) => t is null ? IntPtr.Zero : t.Handle;

            public static Tensor embedding(Tensor input, Tensor weight, long padding_idx = -1) =>
                Tensor.Wrap(mlt_embedding(weight.Handle, input.Handle, padding_idx), weight, input);

            public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null) =>
                Tensor.Wrap(mlt_linear(input.Handle, weight.Handle, H(bias)), input, weight, bias);

            /// <summary>Inference linear through oneDNN; <paramref name="weight"/> may already be in oneDNN layout (to_mkldnn()).</summary>
            public static Tensor linear_mkldnn(Tensor input, Tensor weight, Tensor? bias = null) =>
                Tensor.Wrap(mlt_linear_mkldnn(input.Handle, weight.Handle, H(bias)), input, weight, bias);

            public static unsafe Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
            {
                fixed (long* p = normalized_shape)
                    return Tensor.Wrap(mlt_layer_norm(input.Handle, p, normalized_shape.Length, H(weight), H(bias), eps), input, weight, bias);
            }

            public static Tensor dropout(Tensor input, double p = 0.5, bool training = true) =>
                training && p > 0 ? Tensor.Wrap(mlt_dropout(input.Handle, p, 1), input) : input.alias();

            public static Tensor gelu(Tensor input, string approximate = "none") => input.gelu(approximate);
            public static Tensor relu(Tensor input) => input.relu();
            public static Tensor silu(Tensor input) => input.silu();
            public static Tensor softmax(Tensor input, long dim) => input.softmax(dim);
            public static Tensor log_softmax(Tensor input, long dim) => input.log_softmax(dim);

            /// <summary>Cross entropy over class logits [N, C] (or [N, C, d...]) and class indices; targets equal to
            /// <paramref name="ignore_index"/> (default -100, as Hugging Face's labels use) do not count.</summary>
            public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100,
                Reduction reduction = Reduction.Mean, double label_smoothing = 0) =>
                Tensor.Wrap(mlt_cross_entropy(input.Handle, target.Handle, H(weight), (int)reduction, ignore_index, label_smoothing), input, target, weight);

            public static Tensor nll_loss(Tensor input, Tensor target, long ignore_index = -100, Reduction reduction = Reduction.Mean) =>
                Tensor.Wrap(mlt_nll_loss(input.Handle, target.Handle, (int)reduction, ignore_index), input, target);

            public static Tensor mse_loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean) =>
                Tensor.Wrap(mlt_mse_loss(input.Handle, target.Handle, (int)reduction), input, target);

            public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, Tensor? weight = null,
                Tensor? pos_weight = null, Reduction reduction = Reduction.Mean)
            {
                var r = Tensor.Wrap(mlt_bce_with_logits(input.Handle, target.Handle, H(weight), H(pos_weight), (int)reduction), input, target, weight);
                GC.KeepAlive(pos_weight);
                return r;
            }

            public static unsafe Tensor conv2d(Tensor input, Tensor weight, Tensor? bias = null, long[]? stride = null,
                long[]? padding = null, long[]? dilation = null, long groups = 1)
            {
                long[] st = stride ?? [1, 1], pd = padding ?? [0, 0], dl = dilation ?? [1, 1];
                fixed (long* s = st) fixed (long* p = pd) fixed (long* d = dl)
                    return Tensor.Wrap(mlt_conv2d(input.Handle, weight.Handle, H(bias), s, p, d, groups), input, weight, bias);
            }

            public static Tensor batch_norm(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor? weight = null,
                Tensor? bias = null, bool training = false, double momentum = 0.1, double eps = 1e-5)
            {
                var r = Tensor.Wrap(mlt_batch_norm(input.Handle, H(weight), H(bias), H(running_mean), H(running_var), training ? 1 : 0, momentum, eps), input, weight, bias);
                GC.KeepAlive(running_mean); GC.KeepAlive(running_var);
                return r;
            }

            public static unsafe Tensor max_pool2d(Tensor input, long[] kernel_size, long[]? stride = null, long[]? padding = null)
            {
                long[] st = stride ?? kernel_size, pd = padding ?? [0, 0];
                fixed (long* k = kernel_size) fixed (long* s = st) fixed (long* p = pd)
                    return Tensor.Wrap(mlt_max_pool2d(input.Handle, k, s, p), input);
            }

            public static Tensor adaptive_avg_pool2d(Tensor input, long outputHeight, long outputWidth) =>
                Tensor.Wrap(mlt_adaptive_avg_pool2d(input.Handle, outputHeight, outputWidth), input);
        }
    }
}
