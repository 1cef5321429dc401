using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

/// <summary>word + position + token-type embeddings, LayerNorm, dropout (modeling_bert.py BertEmbeddings).</summary>
internal sealed class BertEmbeddings : nn.Module
{
    private readonly nn.Embedding _word, _position, _tokenType;
    private readonly nn.LayerNorm _norm;
    private readonly nn.Dropout _dropout;
    private readonly BertConfig _config;

    public BertEmbeddings(BertConfig c)
    {
        _config = c;
        if (c.PositionEmbeddingType != "absolute")
            throw new NotSupportedException($"config.json: position_embedding_type \"{c.PositionEmbeddingType}\" is not supported; expected \"absolute\".");
        _word = RegisterModule("word_embeddings", new nn.Embedding(c.VocabSize, c.HiddenSize, c.PadTokenId ?? -1));
        _position = RegisterModule("position_embeddings", new nn.Embedding(c.MaxPositionEmbeddings, c.HiddenSize));
        _tokenType = RegisterModule("token_type_embeddings", new nn.Embedding(c.TypeVocabSize, c.HiddenSize));
        _norm = RegisterModule("LayerNorm", new nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.HiddenDropoutProb));
    }

    public Tensor WordEmbeddings => _word.weight;

    public Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        AttentionMasks.CheckLength(s, _config.MaxPositionEmbeddings, _config.ModelType ?? "bert");
        positionIds ??= arange(s, device: inputIds.device).unsqueeze(0);
        var x = _word.forward(inputIds).add(_position.forward(positionIds));
        x = x.add(tokenTypeIds is null ? _tokenType.weight.select(0, 0) : _tokenType.forward(tokenTypeIds));
        return _dropout.forward(_norm.forward(x));
    }
}

/// <summary>The bare BERT encoder (BertModel): last_hidden_state and, when built with a pooling layer, pooler_output.</summary>
public sealed class BertModel : PreTrainedModel
{
    private readonly BertEmbeddings _embeddings;
    private readonly BertEncoder _encoder;
    private readonly BertPooler? _pooler;

    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(config)
    {
        _embeddings = RegisterModule("embeddings", new BertEmbeddings(config));
        _encoder = RegisterModule("encoder", new BertEncoder(config));
        _pooler = addPoolingLayer ? RegisterModule("pooler", new BertPooler(config)) : null;
    }

    public override string BaseModelPrefix => "bert";

    internal Tensor WordEmbeddings => _embeddings.WordEmbeddings;

    public override ModelOutput Forward(ModelInputs inputs) =>
        _encoder.Encode(inputs, _embeddings.forward(inputs.InputIds, inputs.TokenTypeIds, inputs.PositionIds), _pooler);
}
