using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.DistilBert;

// DistilBERT, following transformers/models/distilbert/modeling_distilbert.py; field and module names are its
// checkpoint keys (distilbert.embeddings..., distilbert.transformer.layer.{i}.attention.q_lin ...). LayerNorm eps is 1e-12 there.

internal sealed class DistilBertEmbeddings : nn.Module
{
    private readonly EmbeddingTable word_embeddings, position_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly DistilBertConfig _config;

    public DistilBertEmbeddings(DistilBertConfig c) : base(nameof(DistilBertEmbeddings))
    {
        _config = c;
        register_module("word_embeddings", word_embeddings = new EmbeddingTable(c.VocabSize, c.Dim, c.PadTokenId ?? 0));
        register_module("position_embeddings", position_embeddings = new EmbeddingTable(c.MaxPositionEmbeddings, c.Dim));
        register_module("LayerNorm", LayerNorm = nn.LayerNorm(c.Dim, 1e-12));
        register_module("dropout", dropout = nn.Dropout(c.Dropout));
    }

    public EmbeddingTable WordEmbeddings => word_embeddings;

    public Tensor forward(Tensor inputIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        Attention.CheckLength(s, _config.MaxPositionEmbeddings, _config.ModelType ?? "distilbert");
        positionIds ??= arange(s, device: inputIds.device).unsqueeze(0);
        return dropout.forward(LayerNorm.forward(word_embeddings.forward(inputIds).add(position_embeddings.forward(positionIds))));
    }

}

internal sealed class MultiHeadSelfAttention : nn.Module<Tensor, Tensor?, bool, (Tensor output, Tensor? probs)>, IDerivedWeights
{
    private readonly Linear q_lin, k_lin, v_lin, out_lin;
    private readonly Dropout dropout;
    private readonly FusedProjection _qkv;
    private readonly long _heads, _headDim;

    public MultiHeadSelfAttention(DistilBertConfig c) : base(nameof(MultiHeadSelfAttention))
    {
        if (c.NHeads <= 0 || c.Dim % c.NHeads != 0)
            throw new ArgumentException($"config.json: dim ({c.Dim}) is not a multiple of n_heads ({c.NHeads}).");
        _heads = c.NHeads;
        _headDim = c.Dim / c.NHeads;
        register_module("q_lin", q_lin = nn.Linear(c.Dim, c.Dim));
        register_module("k_lin", k_lin = nn.Linear(c.Dim, c.Dim));
        register_module("v_lin", v_lin = nn.Linear(c.Dim, c.Dim));
        register_module("out_lin", out_lin = nn.Linear(c.Dim, c.Dim));
        register_module("dropout", dropout = nn.Dropout(c.AttentionDropout));
        _qkv = new FusedProjection(q_lin, k_lin, v_lin);
    }

    public override (Tensor output, Tensor? probs) forward(Tensor x, Tensor? additiveMask, bool outputAttentions)
    {
        var (q, k, v) = _qkv.Heads(x, _heads, _headDim, inference: !training && !is_grad_enabled());
        var (context, probs) = Attention.Compute(q, k, v, additiveMask, dropout, training, outputAttentions);
        return (out_lin.forward(context), probs);
    }

    public void DropDerivedWeights() => _qkv.Drop();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _qkv.Dispose();
        base.Dispose(disposing);
    }
}

internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Linear lin1, lin2;
    private readonly Dropout dropout;
    private readonly Func<Tensor, Tensor> _act;

    public FeedForward(DistilBertConfig c) : base(nameof(FeedForward))
    {
        register_module("dropout", dropout = nn.Dropout(c.Dropout));
        register_module("lin1", lin1 = nn.Linear(c.Dim, c.HiddenDim));
        register_module("lin2", lin2 = nn.Linear(c.HiddenDim, c.Dim));
        _act = Activations.Get(c.Activation);
    }

    public override Tensor forward(Tensor x) => dropout.forward(lin2.forward(_act(lin1.forward(x))));
}

internal sealed class TransformerBlock : nn.Module<Tensor, Tensor?, bool, (Tensor hidden, Tensor? probs)>
{
    private readonly MultiHeadSelfAttention attention;
    private readonly LayerNorm sa_layer_norm, output_layer_norm;
    private readonly FeedForward ffn;

    public TransformerBlock(DistilBertConfig c) : base(nameof(TransformerBlock))
    {
        register_module("attention", attention = new MultiHeadSelfAttention(c));
        register_module("sa_layer_norm", sa_layer_norm = nn.LayerNorm(c.Dim, 1e-12));
        register_module("ffn", ffn = new FeedForward(c));
        register_module("output_layer_norm", output_layer_norm = nn.LayerNorm(c.Dim, 1e-12));
    }

    public override (Tensor hidden, Tensor? probs) forward(Tensor x, Tensor? mask, bool outputAttentions)
    {
        var (attended, probs) = attention.forward(x, mask, outputAttentions);
        var sa = sa_layer_norm.forward(attended.add(x));
        return (output_layer_norm.forward(ffn.forward(sa).add(sa)), probs);
    }
}

internal sealed class DistilBertTransformer : nn.Module
{
    private readonly ModuleList<TransformerBlock> layer;

    public DistilBertTransformer(DistilBertConfig c) : base(nameof(DistilBertTransformer))
    {
        layer = new ModuleList<TransformerBlock>();
        for (int i = 0; i < c.NLayers; i++) layer.Add(new TransformerBlock(c));
        register_module("layer", layer);
    }

    public Tensor forward(Tensor hidden, Tensor? mask, List<Tensor>? allHidden, List<Tensor>? allAttentions) =>
        LayerStack.Run(layer, hidden, mask, allHidden, allAttentions, static (block, x, m, a) => block.forward(x, m, a));
}

/// <summary>The bare DistilBERT encoder: last_hidden_state (no pooler, no token types).</summary>
public sealed class DistilBertModel : PreTrainedModel
{
    private readonly DistilBertEmbeddings embeddings;
    private readonly DistilBertTransformer transformer;

    public DistilBertModel(DistilBertConfig config) : base(config)
    {
        register_module("embeddings", embeddings = new DistilBertEmbeddings(config));
        register_module("transformer", transformer = new DistilBertTransformer(config));
    }

    public override string BaseModelPrefix => "distilbert";

    internal EmbeddingTable WordEmbeddings => embeddings.WordEmbeddings;

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var x = embeddings.forward(inputs.RequireInputIds(), inputs.PositionIds);
        using var mask = inputs.AttentionMask is null ? null : Attention.ExtendedMask(inputs.AttentionMask, x.dtype);
        var hidden = inputs.OutputHiddenStates ? new List<Tensor>() : null;
        var attentions = inputs.OutputAttentions ? new List<Tensor>() : null;
        var last = transformer.forward(x, mask, hidden, attentions);
        return new ModelOutput { LastHiddenState = last, HiddenStates = hidden, Attentions = attentions };
    }
}
