using System.Diagnostics;

namespace Microsoft.ML.Transformers.Torch;

/// <summary>Which GEMM runs eval-mode, no-grad linear layers on CPU.</summary>
public enum LinearBackend
{
    /// <summary>Measure both once per process (a model-sized GEMM) and keep the faster.</summary>
    Auto,
    /// <summary>libtorch's at::linear: the system BLAS (OpenBLAS on Debian).</summary>
    Blas,
    /// <summary>oneDNN's inner product with the weight packed once into its blocked layout.</summary>
    OneDnn,
}

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// Chooses the inference GEMM. Which is faster depends on the machine and on how the system BLAS is configured
        /// (e.g. OPENBLAS_CORETYPE pinning OpenBLAS to older kernels), so by default both are timed once and the faster kept.
        /// </summary>
        public static class InferenceGemm
        {
            private static LinearBackend s_requested = ParseEnvironment();
            private static LinearBackend? s_resolved;
            private static readonly object s_lock = new();

            /// <summary>Requested backend; MLT_LINEAR_BACKEND=auto|blas|onednn sets the initial value.</summary>
            public static LinearBackend Backend
            {
                get => s_requested;
                set { lock (s_lock) { s_requested = value; s_resolved = null; } }
            }

            /// <summary>The backend in use (runs the one-time measurement when <see cref="Backend"/> is Auto).</summary>
            public static LinearBackend Resolved
            {
                get
                {
                    if (s_resolved is { } r) return r;
                    lock (s_lock)
                    {
                        s_resolved ??= s_requested != LinearBackend.Auto ? s_requested
                            : backends.mkldnn.is_available() ? Measure() : LinearBackend.Blas;
                        // oneDNN runs on libtorch's OpenMP pool; OpenBLAS's own pool, left at full size for the few
                        // remaining BLAS calls (attention bmm), would spin on the same cores (measured: BERT-base batch 1
                        // took 400 ms instead of 175 ms on 2 cores). One BLAS thread then, unless the user set it.
                        if (s_resolved == LinearBackend.OneDnn && Environment.GetEnvironmentVariable("OPENBLAS_NUM_THREADS") is null)
                            set_blas_threads(1);
                        return s_resolved.Value;
                    }
                }
            }

            private static LinearBackend ParseEnvironment() =>
                Environment.GetEnvironmentVariable("MLT_LINEAR_BACKEND")?.ToLowerInvariant() switch
                {
                    "blas" => LinearBackend.Blas,
                    "onednn" => LinearBackend.OneDnn,
                    _ => LinearBackend.Auto,
                };

            // A BERT-base-sized GEMM ([256 x 768] x [768 x 3072]); the best of a few runs of each path.
            private static LinearBackend Measure()
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var x = randn([256, 768]);
                var w = randn([3072, 768]);
                var b = zeros([3072]);
                var packed = w.to_mkldnn();
                double Best(Func<Tensor> f)
                {
                    double best = double.MaxValue;
                    for (int i = 0; i < 4; i++)
                    {
                        var sw = Stopwatch.StartNew();
                        f().Dispose();
                        best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
                    }
                    return best;
                }
                double blas = Best(() => functional.linear(x, w, b));
                double dnn = Best(() => functional.linear_mkldnn(x, packed, b));
                return dnn < blas ? LinearBackend.OneDnn : LinearBackend.Blas;
            }
        }

        /// <summary>
        /// An inference-only linear over weights derived from parameters (e.g. fused q/k/v), stored in the layout of
        /// the chosen backend. Owned by the module that built it and rebuilt when its weights change.
        /// </summary>
        internal sealed class PackedLinear : IDisposable
        {
            private readonly Tensor _weight;
            private readonly Tensor? _bias;
            private readonly bool _oneDnn;

            /// <summary>Takes ownership of <paramref name="weight"/> and <paramref name="bias"/> (detached, outside scopes).</summary>
            public PackedLinear(Tensor weight, Tensor? bias)
            {
                _oneDnn = weight.device.Type == DeviceType.CPU && InferenceGemm.Resolved == LinearBackend.OneDnn;
                _weight = (_oneDnn ? weight.to_mkldnn() : weight.alias()).DetachFromDisposeScope();
                _bias = bias?.alias().DetachFromDisposeScope();
                weight.Dispose();
                bias?.Dispose();
            }

            public Tensor forward(Tensor x) => _oneDnn ? functional.linear_mkldnn(x, _weight, _bias) : functional.linear(x, _weight, _bias);

            public void Dispose()
            {
                _weight.Dispose();
                _bias?.Dispose();
            }
        }
    }
}
