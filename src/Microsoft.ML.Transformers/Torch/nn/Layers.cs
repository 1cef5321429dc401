namespace Microsoft.ML.Transformers.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>y = x W^T + b, weight [out, in] (torch.nn.Linear). In inference (eval mode, no_grad, CPU) the GEMM
        /// is the one <see cref="InferenceGemm"/> picks; with oneDNN the weight is packed once and reused.</summary>
        public sealed class Linear : Module
        {
            private PackedLinear? _packed;

            private readonly bool _tiedWeight;

            public Tensor weight { get; }
            public Tensor? bias { get; private set; }
            public long InFeatures { get; }
            public long OutFeatures { get; }

            public Linear(long inFeatures, long outFeatures, bool hasBias = true, Device? device = null)
            {
                InFeatures = inFeatures;
                OutFeatures = outFeatures;
                weight = RegisterParameter("weight", empty([outFeatures, inFeatures], device: device));
                bias = hasBias ? RegisterParameter("bias", empty([outFeatures], device: device)) : null;
            }

            /// <summary>A linear whose weight is another module's parameter (tied output embeddings).</summary>
            public Linear(Tensor tiedWeight, bool hasBias, Device? device = null)
            {
                var s = tiedWeight.shape;
                OutFeatures = s[0];
                InFeatures = s[1];
                _tiedWeight = true;
                weight = RegisterParameter("weight", tiedWeight);
                bias = hasBias ? RegisterParameter("bias", empty([OutFeatures], device: device)) : null;
            }

            /// <summary>Uses another module's parameter as this layer's bias (Hugging Face ties decoder.bias to the head's bias).</summary>
            public void TieBias(Tensor sharedBias)
            {
                if (bias is not null) throw new InvalidOperationException("This linear layer already has its own bias.");
                bias = RegisterParameter("bias", sharedBias);
            }

            public Tensor forward(Tensor x)
            {
                if (!training && weight.device.Type == DeviceType.CPU && !is_grad_enabled() && InferenceGemm.Resolved == LinearBackend.OneDnn)
                {
                    _packed ??= new PackedLinear(weight.detach(), bias?.detach());
                    return _packed.forward(x);
                }
                return functional.linear(x, weight, bias);
            }

            protected override void OnModeChanged(bool training) => DropPacked();
            protected internal override void OnWeightsChanged() => DropPacked();

            private void DropPacked()
            {
                _packed?.Dispose();
                _packed = null;
            }

            protected internal override void ResetParameters(double initializerRange)
            {
                using var _ = no_grad();
                if (!_tiedWeight) weight.normal_(0, initializerRange); // a tied weight is initialized by its owner
                bias?.zero_();
                DropPacked();
            }
        }

        /// <summary>torch.nn.Embedding; the padding row is zeroed at initialization, as Hugging Face does.</summary>
        public sealed class Embedding : Module
        {
            public Tensor weight { get; }
            public long PaddingIdx { get; }

            public Embedding(long numEmbeddings, long dim, long paddingIdx = -1, Device? device = null)
            {
                PaddingIdx = paddingIdx;
                weight = RegisterParameter("weight", empty([numEmbeddings, dim], device: device));
            }

            public Tensor forward(Tensor ids) => functional.embedding(ids, weight, PaddingIdx);

            protected internal override void ResetParameters(double initializerRange)
            {
                using var _ = no_grad();
                weight.normal_(0, initializerRange);
                if (PaddingIdx >= 0)
                {
                    using var row = weight.select(0, PaddingIdx);
                    row.zero_();
                }
            }
        }

        /// <summary>torch.nn.LayerNorm over the last dimension.</summary>
        public sealed class LayerNorm : Module
        {
            private readonly long[] _shape;
            public double Eps { get; }
            public Tensor weight { get; }
            public Tensor bias { get; }

            public LayerNorm(long dim, double eps, Device? device = null)
            {
                _shape = [dim];
                Eps = eps;
                weight = RegisterParameter("weight", empty([dim], device: device));
                bias = RegisterParameter("bias", empty([dim], device: device));
            }

            public Tensor forward(Tensor x) => functional.layer_norm(x, _shape, weight, bias, Eps);

            protected internal override void ResetParameters(double initializerRange)
            {
                using var _ = no_grad();
                weight.fill_(1);
                bias.zero_();
            }
        }

        /// <summary>torch.nn.Dropout: active only in training mode.</summary>
        public sealed class Dropout(double p) : Module
        {
            public double P { get; } = p;
            public Tensor forward(Tensor x) => functional.dropout(x, P, training);
        }
    }
}
