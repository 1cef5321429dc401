using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.DistilBert;

// DistilBERT, following transformers/models/distilbert/modeling_distilbert.py; names are its checkpoint keys
// (distilbert.embeddings..., distilbert.transformer.layer.{i}.attention.q_lin ...). LayerNorm eps is fixed at 1e-12 there.

internal sealed class DistilBertEmbeddings : nn.Module
{
    private readonly nn.Embedding _word, _position;
    private readonly nn.LayerNorm _norm;
    private readonly nn.Dropout _dropout;
    private readonly DistilBertConfig _config;

    public DistilBertEmbeddings(DistilBertConfig c)
    {
        _config = c;
        _word = RegisterModule("word_embeddings", new nn.Embedding(c.VocabSize, c.Dim, c.PadTokenId ?? 0));
        _position = RegisterModule("position_embeddings", new nn.Embedding(c.MaxPositionEmbeddings, c.Dim));
        _norm = RegisterModule("LayerNorm", new nn.LayerNorm(c.Dim, 1e-12));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.Dropout));
    }

    public Tensor WordEmbeddings => _word.weight;

    public Tensor forward(Tensor inputIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        AttentionMasks.CheckLength(s, _config.MaxPositionEmbeddings, _config.ModelType ?? "distilbert");
        positionIds ??= arange(s, device: inputIds.device).unsqueeze(0);
        return _dropout.forward(_norm.forward(_word.forward(inputIds).add(_position.forward(positionIds))));
    }
}

internal sealed class MultiHeadSelfAttention : nn.Module
{
    private readonly nn.Linear _q, _k, _v, _out;
    private readonly nn.Dropout _dropout;
    private readonly long _heads, _headDim;

    public MultiHeadSelfAttention(DistilBertConfig c)
    {
        if (c.Dim % c.NHeads != 0)
            throw new ArgumentException($"config.json: dim ({c.Dim}) is not a multiple of n_heads ({c.NHeads}).");
        _heads = c.NHeads;
        _headDim = c.Dim / c.NHeads;
        _q = RegisterModule("q_lin", new nn.Linear(c.Dim, c.Dim));
        _k = RegisterModule("k_lin", new nn.Linear(c.Dim, c.Dim));
        _v = RegisterModule("v_lin", new nn.Linear(c.Dim, c.Dim));
        _out = RegisterModule("out_lin", new nn.Linear(c.Dim, c.Dim));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.AttentionDropout));
    }

    public (Tensor output, Tensor probs) forward(Tensor x, Tensor? additiveMask)
    {
        long b = x.size(0), s = x.size(1);
        Tensor Split(Tensor t) => t.view(b, s, _heads, _headDim).transpose(1, 2);
        var q = Split(_q.forward(x)).div(Math.Sqrt(_headDim)); // DistilBERT scales the queries, not the scores
        var k = Split(_k.forward(x));
        var v = Split(_v.forward(x));
        var scores = q.matmul(k.transpose(2, 3));
        if (additiveMask is not null) scores = scores.add(additiveMask);
        var probs = scores.softmax(-1);
        var context = _dropout.forward(probs).matmul(v).transpose(1, 2).reshape(b, s, _heads * _headDim);
        return (_out.forward(context), probs);
    }
}

internal sealed class FeedForward : nn.Module
{
    private readonly nn.Linear _lin1, _lin2;
    private readonly nn.Dropout _dropout;
    private readonly Func<Tensor, Tensor> _act;

    public FeedForward(DistilBertConfig c)
    {
        _dropout = RegisterModule("dropout", new nn.Dropout(c.Dropout));
        _lin1 = RegisterModule("lin1", new nn.Linear(c.Dim, c.HiddenDim));
        _lin2 = RegisterModule("lin2", new nn.Linear(c.HiddenDim, c.Dim));
        _act = Activations.Get(c.Activation);
    }

    public Tensor forward(Tensor x) => _dropout.forward(_lin2.forward(_act(_lin1.forward(x))));
}

internal sealed class TransformerBlock : nn.Module
{
    private readonly MultiHeadSelfAttention _attention;
    private readonly nn.LayerNorm _saNorm, _outNorm;
    private readonly FeedForward _ffn;

    public TransformerBlock(DistilBertConfig c)
    {
        _attention = RegisterModule("attention", new MultiHeadSelfAttention(c));
        _saNorm = RegisterModule("sa_layer_norm", new nn.LayerNorm(c.Dim, 1e-12));
        _ffn = RegisterModule("ffn", new FeedForward(c));
        _outNorm = RegisterModule("output_layer_norm", new nn.LayerNorm(c.Dim, 1e-12));
    }

    public (Tensor hidden, Tensor probs) forward(Tensor x, Tensor? mask)
    {
        var (attended, probs) = _attention.forward(x, mask);
        var sa = _saNorm.forward(attended.add(x));
        return (_outNorm.forward(_ffn.forward(sa).add(sa)), probs);
    }
}

internal sealed class DistilBertTransformer : nn.Module
{
    private readonly TransformerBlock[] _layers;

    public DistilBertTransformer(DistilBertConfig c)
    {
        _layers = new TransformerBlock[c.NLayers];
        for (int i = 0; i < _layers.Length; i++) _layers[i] = RegisterModule($"layer.{i}", new TransformerBlock(c));
    }

    public Tensor forward(Tensor hidden, Tensor? mask, List<Tensor>? allHidden, List<Tensor>? allAttentions) =>
        LayerStack.Run(_layers, hidden, mask, allHidden, allAttentions, static (layer, x, m) => layer.forward(x, m));
}

/// <summary>The bare DistilBERT encoder: last_hidden_state (no pooler, no token types).</summary>
public sealed class DistilBertModel : PreTrainedModel
{
    private readonly DistilBertEmbeddings _embeddings;
    private readonly DistilBertTransformer _transformer;

    public DistilBertModel(DistilBertConfig config) : base(config)
    {
        _embeddings = RegisterModule("embeddings", new DistilBertEmbeddings(config));
        _transformer = RegisterModule("transformer", new DistilBertTransformer(config));
    }

    public override string BaseModelPrefix => "distilbert";

    internal Tensor WordEmbeddings => _embeddings.WordEmbeddings;

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var mask = inputs.AttentionMask is null ? null : AttentionMasks.Extended(inputs.AttentionMask);
        var hidden = inputs.OutputHiddenStates ? new List<Tensor>() : null;
        var attentions = inputs.OutputAttentions ? new List<Tensor>() : null;
        var x = _embeddings.forward(inputs.InputIds, inputs.PositionIds);
        var last = _transformer.forward(x, mask, hidden, attentions);
        mask?.Dispose();
        return new ModelOutput { LastHiddenState = last, HiddenStates = hidden, Attentions = attentions };
    }
}
