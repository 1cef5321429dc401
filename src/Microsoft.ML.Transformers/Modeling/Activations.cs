using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Hugging Face's ACT2FN: activation names used in config.json (hidden_act, activation).</summary>
public static class Activations
{
    private static readonly Dictionary<string, Func<Tensor, Tensor>> s_registry = new(StringComparer.Ordinal)
    {
        ["gelu"] = x => x.gelu(),
        ["gelu_new"] = x => x.gelu(GELU.Approximate.tanh),
        ["gelu_pytorch_tanh"] = x => x.gelu(GELU.Approximate.tanh),
        ["gelu_fast"] = x => x.gelu(GELU.Approximate.tanh),
        ["relu"] = x => x.relu(),
        ["silu"] = x => x.silu(),
        ["swish"] = x => x.silu(),
        ["tanh"] = x => x.tanh(),
        ["sigmoid"] = x => x.sigmoid(),
    };

    public static Func<Tensor, Tensor> Get(string name) =>
        s_registry.TryGetValue(name, out var f) ? f
            : throw new NotSupportedException($"Unknown activation \"{name}\". Known: {string.Join(", ", s_registry.Keys)}.");

    public static void Register(string name, Func<Tensor, Tensor> fn) => s_registry[name] = fn;
}
