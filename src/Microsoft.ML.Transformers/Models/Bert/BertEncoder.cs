using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

// The BERT encoder stack, following transformers/models/bert/modeling_bert.py (BertSelfAttention ... BertEncoder).
// Module names are the checkpoint keys: encoder.layer.{i}.attention.self.query.weight, ... RoBERTa composes the same encoder.

internal sealed class BertSelfAttention : nn.Module<Tensor, Tensor?, bool, (Tensor context, Tensor? probs)>, IDerivedWeights
{
    private readonly Linear query, key, value;
    private readonly Dropout dropout;
    private readonly FusedProjection _qkv;
    private readonly long _heads, _headDim;

    public BertSelfAttention(BertLikeConfig c) : base(nameof(BertSelfAttention))
    {
        if (c.NumAttentionHeads <= 0 || c.HiddenSize % c.NumAttentionHeads != 0)
            throw new ArgumentException($"config.json: hidden_size ({c.HiddenSize}) is not a multiple of num_attention_heads ({c.NumAttentionHeads}).");
        _heads = c.NumAttentionHeads;
        _headDim = c.HiddenSize / c.NumAttentionHeads;
        register_module("query", query = nn.Linear(c.HiddenSize, c.HiddenSize));
        register_module("key", key = nn.Linear(c.HiddenSize, c.HiddenSize));
        register_module("value", value = nn.Linear(c.HiddenSize, c.HiddenSize));
        register_module("dropout", dropout = nn.Dropout(c.AttentionProbsDropoutProb));
        _qkv = new FusedProjection(query, key, value);
    }

    /// <summary>x [B, S, H], additive mask [B, 1, 1, S] -> context [B, S, H] and, when asked, the attention probabilities.</summary>
    public override (Tensor context, Tensor? probs) forward(Tensor x, Tensor? additiveMask, bool outputAttentions)
    {
        var (q, k, v) = _qkv.Heads(x, _heads, _headDim, inference: !training && !is_grad_enabled());
        return Attention.Compute(q, k, v, additiveMask, dropout, training, outputAttentions);
    }

    public void DropDerivedWeights() => _qkv.Drop();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _qkv.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>dense -> dropout -> LayerNorm(residual + .): after attention ("attention.output") and after the FFN ("output").</summary>
internal sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertResidualOutput(long inFeatures, BertLikeConfig c) : base(nameof(BertResidualOutput))
    {
        register_module("dense", dense = nn.Linear(inFeatures, c.HiddenSize));
        register_module("LayerNorm", LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        register_module("dropout", dropout = nn.Dropout(c.HiddenDropoutProb));
    }

    public override Tensor forward(Tensor hidden, Tensor residual) => LayerNorm.forward(dropout.forward(dense.forward(hidden)).add(residual));
}

internal sealed class BertAttention : nn.Module<Tensor, Tensor?, bool, (Tensor output, Tensor? probs)>
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;

    public BertAttention(BertLikeConfig c) : base(nameof(BertAttention))
    {
        register_module("self", self = new BertSelfAttention(c));
        register_module("output", output = new BertResidualOutput(c.HiddenSize, c));
    }

    public override (Tensor output, Tensor? probs) forward(Tensor x, Tensor? mask, bool outputAttentions)
    {
        var (context, probs) = self.forward(x, mask, outputAttentions);
        return (output.forward(context, x), probs);
    }
}

internal sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _act;

    public BertIntermediate(BertLikeConfig c) : base(nameof(BertIntermediate))
    {
        register_module("dense", dense = nn.Linear(c.HiddenSize, c.IntermediateSize));
        _act = Activations.Get(c.HiddenAct);
    }

    public override Tensor forward(Tensor x) => _act(dense.forward(x));
}

internal sealed class BertLayer : nn.Module<Tensor, Tensor?, bool, (Tensor hidden, Tensor? probs)>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    public BertLayer(BertLikeConfig c) : base(nameof(BertLayer))
    {
        register_module("attention", attention = new BertAttention(c));
        register_module("intermediate", intermediate = new BertIntermediate(c));
        register_module("output", output = new BertResidualOutput(c.IntermediateSize, c));
    }

    public override (Tensor hidden, Tensor? probs) forward(Tensor x, Tensor? mask, bool outputAttentions)
    {
        var (attended, probs) = attention.forward(x, mask, outputAttentions);
        return (output.forward(intermediate.forward(attended), attended), probs);
    }
}

internal sealed class BertEncoder : nn.Module
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertLikeConfig c) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>();
        for (int i = 0; i < c.NumHiddenLayers; i++) layer.Add(new BertLayer(c));
        register_module("layer", layer);
    }

    /// <summary>The base model's forward after its embeddings: extended mask, every layer, optional pooler.</summary>
    public ModelOutput Encode(ModelInputs inputs, Tensor embedded, BertPooler? pooler)
    {
        using var mask = inputs.AttentionMask is null ? null : Attention.ExtendedMask(inputs.AttentionMask, embedded.dtype);
        var hidden = inputs.OutputHiddenStates ? new List<Tensor>() : null;
        var attentions = inputs.OutputAttentions ? new List<Tensor>() : null;
        var last = LayerStack.Run(layer, embedded, mask, hidden, attentions, static (layer, x, m, a) => layer.forward(x, m, a));
        return new ModelOutput { LastHiddenState = last, PoolerOutput = pooler?.forward(last), HiddenStates = hidden, Attentions = attentions };
    }
}

internal sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    public BertPooler(BertLikeConfig c) : base(nameof(BertPooler)) => register_module("dense", dense = nn.Linear(c.HiddenSize, c.HiddenSize));

    /// <summary>tanh(dense(hidden of the first token)).</summary>
    public override Tensor forward(Tensor hidden) => dense.forward(hidden.select(1, 0)).tanh();
}
