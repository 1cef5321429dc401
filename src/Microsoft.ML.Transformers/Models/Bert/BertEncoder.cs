using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

// The BERT encoder stack, following transformers/models/bert/modeling_bert.py (BertSelfAttention ... BertEncoder).
// Module and member names are the checkpoint keys: encoder.layer.{i}.attention.self.query.weight, ...
// RoBERTa composes the same encoder.

internal sealed class BertSelfAttention : nn.Module
{
    private readonly nn.Linear _query, _key, _value;
    private readonly nn.Dropout _dropout;
    private readonly long _heads, _headDim;

    public BertSelfAttention(BertLikeConfig c)
    {
        if (c.HiddenSize % c.NumAttentionHeads != 0)
            throw new ArgumentException($"config.json: hidden_size ({c.HiddenSize}) is not a multiple of num_attention_heads ({c.NumAttentionHeads}).");
        _heads = c.NumAttentionHeads;
        _headDim = c.HiddenSize / c.NumAttentionHeads;
        _query = RegisterModule("query", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _key = RegisterModule("key", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _value = RegisterModule("value", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.AttentionProbsDropoutProb));
    }

    /// <summary>x [B, S, H], additive mask [B, 1, 1, S] -> context [B, S, H] and the attention probabilities.</summary>
    public (Tensor context, Tensor probs) forward(Tensor x, Tensor? additiveMask)
    {
        long b = x.size(0), s = x.size(1);
        Tensor q, k, v, scores;
        if (!training && !is_grad_enabled())
        {
            // Inference: one GEMM for q, k and v, with 1/sqrt(head_dim) folded into the query weights.
            _fused ??= FuseQkv();
            var qkv = _fused.forward(x).view(b, s, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
            q = qkv.select(0, 0);
            k = qkv.select(0, 1);
            v = qkv.select(0, 2);
            scores = q.matmul(k.transpose(-1, -2));
        }
        else
        {
            Tensor Split(Tensor t) => t.view(b, s, _heads, _headDim).transpose(1, 2);
            q = Split(_query.forward(x));
            k = Split(_key.forward(x));
            v = Split(_value.forward(x));
            scores = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(_headDim));
        }
        if (additiveMask is not null) scores = scores.add(additiveMask);
        var probs = scores.softmax(-1);
        var context = _dropout.forward(probs).matmul(v).transpose(1, 2).reshape(b, s, _heads * _headDim);
        return (context, probs);
    }

    private nn.PackedLinear? _fused;

    private nn.PackedLinear FuseQkv()
    {
        using var scope = NewDisposeScope();
        double scale = 1 / Math.Sqrt(_headDim);
        var w = cat([_query.weight.detach().mul(scale), _key.weight.detach(), _value.weight.detach()], 0);
        var bias = cat([_query.bias!.detach().mul(scale), _key.bias!.detach(), _value.bias!.detach()], 0);
        return new nn.PackedLinear(w.DetachFromDisposeScope(), bias.DetachFromDisposeScope());
    }

    protected override void OnModeChanged(bool training) => DropFused();
    protected internal override void OnWeightsChanged() => DropFused();

    private void DropFused()
    {
        _fused?.Dispose();
        _fused = null;
    }
}

/// <summary>dense -> dropout -> LayerNorm(residual + .): used after attention ("attention.output") and after the FFN ("output").</summary>
internal sealed class BertResidualOutput : nn.Module
{
    private readonly nn.Linear _dense;
    private readonly nn.LayerNorm _norm;
    private readonly nn.Dropout _dropout;

    public BertResidualOutput(long inFeatures, BertLikeConfig c)
    {
        _dense = RegisterModule("dense", new nn.Linear(inFeatures, c.HiddenSize));
        _norm = RegisterModule("LayerNorm", new nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.HiddenDropoutProb));
    }

    public Tensor forward(Tensor hidden, Tensor residual) => _norm.forward(_dropout.forward(_dense.forward(hidden)).add(residual));
}

internal sealed class BertAttention : nn.Module
{
    private readonly BertSelfAttention _self;
    private readonly BertResidualOutput _output;

    public BertAttention(BertLikeConfig c)
    {
        _self = RegisterModule("self", new BertSelfAttention(c));
        _output = RegisterModule("output", new BertResidualOutput(c.HiddenSize, c));
    }

    public (Tensor output, Tensor probs) forward(Tensor x, Tensor? mask)
    {
        var (context, probs) = _self.forward(x, mask);
        return (_output.forward(context, x), probs);
    }
}

internal sealed class BertIntermediate : nn.Module
{
    private readonly nn.Linear _dense;
    private readonly Func<Tensor, Tensor> _act;

    public BertIntermediate(BertLikeConfig c)
    {
        _dense = RegisterModule("dense", new nn.Linear(c.HiddenSize, c.IntermediateSize));
        _act = Activations.Get(c.HiddenAct);
    }

    public Tensor forward(Tensor x) => _act(_dense.forward(x));
}

internal sealed class BertLayer : nn.Module
{
    private readonly BertAttention _attention;
    private readonly BertIntermediate _intermediate;
    private readonly BertResidualOutput _output;

    public BertLayer(BertLikeConfig c)
    {
        _attention = RegisterModule("attention", new BertAttention(c));
        _intermediate = RegisterModule("intermediate", new BertIntermediate(c));
        _output = RegisterModule("output", new BertResidualOutput(c.IntermediateSize, c));
    }

    public (Tensor hidden, Tensor probs) forward(Tensor x, Tensor? mask)
    {
        var (attended, probs) = _attention.forward(x, mask);
        return (_output.forward(_intermediate.forward(attended), attended), probs);
    }
}

internal sealed class BertEncoder : nn.Module
{
    private readonly BertLayer[] _layers;

    public BertEncoder(BertLikeConfig c)
    {
        _layers = new BertLayer[c.NumHiddenLayers];
        for (int i = 0; i < _layers.Length; i++) _layers[i] = RegisterModule($"layer.{i}", new BertLayer(c));
    }

    public Tensor forward(Tensor hidden, Tensor? mask, List<Tensor>? allHidden, List<Tensor>? allAttentions) =>
        LayerStack.Run(_layers, hidden, mask, allHidden, allAttentions, static (layer, x, m) => layer.forward(x, m));

    /// <summary>The base model's forward after its embeddings: extended mask, every layer, optional pooler.</summary>
    public ModelOutput Encode(ModelInputs inputs, Tensor embedded, BertPooler? pooler)
    {
        using var mask = inputs.AttentionMask is null ? null : AttentionMasks.Extended(inputs.AttentionMask);
        var hidden = inputs.OutputHiddenStates ? new List<Tensor>() : null;
        var attentions = inputs.OutputAttentions ? new List<Tensor>() : null;
        var last = forward(embedded, mask, hidden, attentions);
        return new ModelOutput { LastHiddenState = last, PoolerOutput = pooler?.forward(last), HiddenStates = hidden, Attentions = attentions };
    }
}

internal sealed class BertPooler : nn.Module
{
    private readonly nn.Linear _dense;

    public BertPooler(BertLikeConfig c) => _dense = RegisterModule("dense", new nn.Linear(c.HiddenSize, c.HiddenSize));

    /// <summary>tanh(dense(hidden of the first token)).</summary>
    public Tensor forward(Tensor hidden) => _dense.forward(hidden.select(1, 0)).tanh();
}

internal static class AttentionMasks
{
    /// <summary>[B, S] mask of 1 (attend) / 0 (padding) -> additive [B, 1, 1, S] holding 0 or float32's lowest value,
    /// as Hugging Face's get_extended_attention_mask.</summary>
    public static Tensor Extended(Tensor mask)
    {
        using var scope = NewDisposeScope();
        var m = mask.unsqueeze(1).unsqueeze(2).to(Torch.ScalarType.Float32);
        return (1.0 - m).mul(float.MinValue).MoveToOuterDisposeScope();
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
