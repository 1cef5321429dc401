namespace Microsoft.ML.Transformers.Torch;

public static partial class torch
{
    public static partial class nn
    {
        /// <summary>
        /// A layer with named parameters, buffers and children, whose dotted names are the checkpoint keys
        /// (Hugging Face's state_dict names), so loading a checkpoint is a walk of <see cref="named_parameters"/>.
        /// Parameters and buffers belong to the module (outside every dispose scope) and are freed by <see cref="Dispose"/>.
        /// </summary>
        public abstract class Module : IDisposable
        {
            private readonly List<KeyValuePair<string, Tensor>> _parameters = [];
            private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
            private readonly List<KeyValuePair<string, Module>> _children = [];
            private bool _disposed;

            /// <summary>True in training mode (dropout active). Modules start in training mode, as in PyTorch.</summary>
            public bool training { get; private set; } = true;

            protected Tensor RegisterParameter(string name, Tensor value, bool requiresGrad = true)
            {
                value.DetachFromDisposeScope();
                if (requiresGrad) value.requires_grad_(true);
                _parameters.Add(new(name, value));
                return value;
            }

            protected Tensor RegisterBuffer(string name, Tensor value)
            {
                value.DetachFromDisposeScope();
                _buffers.Add(new(name, value));
                return value;
            }

            protected T RegisterModule<T>(string name, T module) where T : Module
            {
                _children.Add(new(name, module));
                return module;
            }

            /// <summary>Own parameters (not children's), in registration order.</summary>
            internal IEnumerable<Tensor> OwnParameterTensors() => _parameters.Select(p => p.Value);

            public IEnumerable<(string name, Module module)> named_modules(string prefix = "")
            {
                yield return (prefix, this);
                foreach (var (name, child) in _children)
                    foreach (var m in child.named_modules(prefix.Length == 0 ? name : $"{prefix}.{name}"))
                        yield return m;
            }

            /// <summary>All parameters with their dotted names; a tensor shared by two modules (tied weights) is listed once, under its first name.</summary>
            public IEnumerable<(string name, Tensor parameter)> named_parameters() =>
                NamedTensors(includeBuffers: false, removeDuplicates: true);

            public IEnumerable<Tensor> parameters() => named_parameters().Select(p => p.parameter);

            /// <summary>Every parameter and buffer under every name (tied weights appear under each name), as PyTorch's state_dict.</summary>
            public IEnumerable<(string name, Tensor tensor)> state_dict() => NamedTensors(includeBuffers: true, removeDuplicates: false);

            private IEnumerable<(string, Tensor)> NamedTensors(bool includeBuffers, bool removeDuplicates)
            {
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                foreach (var (prefix, module) in named_modules())
                {
                    var own = includeBuffers ? module._parameters.Concat(module._buffers) : module._parameters;
                    foreach (var (name, t) in own)
                    {
                        if (removeDuplicates && !seen.Add(t)) continue;
                        yield return (prefix.Length == 0 ? name : $"{prefix}.{name}", t);
                    }
                }
            }

            public void train(bool mode = true)
            {
                foreach (var (_, m) in named_modules())
                {
                    if (m.training != mode) m.OnModeChanged(mode);
                    m.training = mode;
                }
            }

            public void eval() => train(false);

            /// <summary>Called when train()/eval() flips this module's mode (caches derived from weights reset here).</summary>
            protected virtual void OnModeChanged(bool training) { }

            /// <summary>Called after the weights were overwritten (checkpoint loading).</summary>
            protected internal virtual void OnWeightsChanged() { }

            /// <summary>Fills this module's own parameters with the family's initial values (Hugging Face's _init_weights).</summary>
            protected internal virtual void ResetParameters(double initializerRange) { }

            /// <summary>Moves every parameter and buffer to <paramref name="device"/> in place (tensor identities, and so ties, are kept).</summary>
            public Module to(Device device)
            {
                device.EnsureAvailable();
                return Convert(t => t.to(device));
            }

            /// <summary>Converts every floating-point parameter and buffer to <paramref name="dtype"/> in place.</summary>
            public Module to(ScalarType dtype) =>
                Convert(t => t.dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64 ? t.to(dtype) : t.alias());

            private Module Convert(Func<Tensor, Tensor> convert)
            {
                var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                using (no_grad())
                {
                    foreach (var (_, t) in state_dict())
                    {
                        if (!seen.Add(t)) continue;
                        using var moved = convert(t).DetachFromDisposeScope();
                        t.set_data(moved);
                    }
                }
                foreach (var (_, m) in named_modules()) m.OnWeightsChanged();
                return this;
            }

            public void zero_grad()
            {
                foreach (var p in parameters()) p.zero_grad();
            }

            public void Dispose()
            {
                if (_disposed) return;
                _disposed = true;
                OnWeightsChanged(); // releases caches derived from the weights (packed / fused copies)
                foreach (var (_, child) in _children) child.Dispose();
                foreach (var (_, t) in _parameters) t.Dispose();
                foreach (var (_, t) in _buffers) t.Dispose();
                GC.SuppressFinalize(this);
            }
        }
    }
}
