using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Scaled dot-product attention as the encoder families compute it, and the extended padding mask.</summary>
internal static class Attention
{
    /// <summary>
    /// q, k, v [B, heads, S, head_dim]; <paramref name="additiveMask"/> [B, 1, 1, S] or null. Returns the context
    /// [B, S, heads * head_dim] and, when <paramref name="needProbs"/>, the attention probabilities. In eval mode without
    /// probabilities this is libtorch's fused scaled_dot_product_attention; otherwise softmax(q k^T / sqrt(d) + mask),
    /// dropout, times v, as modeling_bert.py's eager path.
    /// </summary>
    public static (Tensor context, Tensor? probs) Compute(Tensor q, Tensor k, Tensor v, Tensor? additiveMask, Dropout dropout, bool training, bool needProbs)
    {
        long b = q.size(0), heads = q.size(1), s = q.size(2), d = q.size(3);
        Tensor context;
        Tensor? probs = null;
        if (!training && !needProbs)
        {
            context = F.scaled_dot_product_attention(q, k, v, additiveMask);
        }
        else
        {
            var scores = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(d));
            if (additiveMask is not null) scores = scores.add(additiveMask);
            probs = scores.softmax(-1);
            context = dropout.forward(probs).matmul(v);
        }
        return (context.transpose(1, 2).reshape(b, s, heads * d), probs);
    }

    /// <summary>[B, S] mask of 1 (attend) / 0 (padding) -> additive [B, 1, 1, S] of 0 or the dtype's lowest value,
    /// as Hugging Face's get_extended_attention_mask.</summary>
    public static Tensor ExtendedMask(Tensor mask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        double lowest = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        var m = mask.unsqueeze(1).unsqueeze(2).to(dtype);
        return (1.0 - m).mul(lowest).MoveToOuterDisposeScope();
    }

    /// <summary>Fails clearly when a batch is longer than the position table.</summary>
    public static void CheckLength(long length, long max, string modelType)
    {
        if (length > max)
            throw new ArgumentException(
                $"Input sequence length {length} exceeds the model's maximum of {max} positions " +
                $"({modelType}: max_position_embeddings in config.json). Truncate the input (tokenizer truncation / max_length).");
    }
}

/// <summary>
/// q, k and v projections run as one GEMM at inference (eval mode, no grad): the three weights concatenated once and
/// kept until the weights change (checked by tensor identity; loading, train() and to() drop it explicitly).
/// </summary>
internal sealed class FusedProjection : IDisposable
{
    private readonly Linear[] _parts;
    private readonly object _lock = new();
    private Tensor? _weight, _bias;
    private IntPtr[]? _sources;

    public FusedProjection(params Linear[] parts) => _parts = parts;

    public Tensor forward(Tensor x)
    {
        var (w, b) = Get();
        return F.linear(x, w, b);
    }

    /// <summary>x [B, S, H] -> q, k, v [B, heads, S, head_dim]: one GEMM over the concatenated weights when
    /// <paramref name="inference"/> (eval, no grad), the three layers otherwise (so autograd reaches their parameters).</summary>
    public (Tensor q, Tensor k, Tensor v) Heads(Tensor x, long heads, long headDim, bool inference)
    {
        long b = x.size(0), s = x.size(1);
        if (inference)
        {
            var qkv = forward(x).view(b, s, 3, heads, headDim).permute(2, 0, 3, 1, 4);
            return (qkv[0], qkv[1], qkv[2]);
        }
        Tensor Split(Tensor t) => t.view(b, s, heads, headDim).transpose(1, 2);
        return (Split(_parts[0].forward(x)), Split(_parts[1].forward(x)), Split(_parts[2].forward(x)));
    }

    private (Tensor, Tensor?) Get()
    {
        lock (_lock)
        {
            var sources = _parts.SelectMany(p => new[] { p.weight.Handle, p.bias?.Handle ?? IntPtr.Zero }).ToArray();
            if (_weight is not null && _sources is not null && sources.AsSpan().SequenceEqual(_sources)) return (_weight, _bias);
            Drop();
            using var scope = NewDisposeScope();
            _weight = cat(_parts.Select(p => p.weight.detach()).ToArray(), 0).DetachFromDisposeScope();
            _bias = _parts.All(p => p.bias is not null) ? cat(_parts.Select(p => p.bias!.detach()).ToArray(), 0).DetachFromDisposeScope() : null;
            _sources = sources;
            return (_weight, _bias);
        }
    }

    public void Drop()
    {
        lock (_lock)
        {
            _weight?.Dispose();
            _bias?.Dispose();
            _weight = _bias = null;
            _sources = null;
        }
    }

    public void Dispose() => Drop();
}

