using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.Roberta;

/// <summary>
/// RoBERTa embeddings (modeling_roberta.py RobertaEmbeddings): positions count only real tokens and start after
/// padding_idx: position = cumsum(input_ids != pad) * (input_ids != pad) + pad.
/// </summary>
internal sealed class RobertaEmbeddings : nn.Module
{
    private readonly nn.Embedding _word, _position, _tokenType;
    private readonly nn.LayerNorm _norm;
    private readonly nn.Dropout _dropout;
    private readonly RobertaConfig _config;
    private readonly long _pad;

    public RobertaEmbeddings(RobertaConfig c)
    {
        _config = c;
        _pad = c.PadTokenId ?? 1;
        _word = RegisterModule("word_embeddings", new nn.Embedding(c.VocabSize, c.HiddenSize, _pad));
        _position = RegisterModule("position_embeddings", new nn.Embedding(c.MaxPositionEmbeddings, c.HiddenSize, _pad));
        _tokenType = RegisterModule("token_type_embeddings", new nn.Embedding(c.TypeVocabSize, c.HiddenSize));
        _norm = RegisterModule("LayerNorm", new nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.HiddenDropoutProb));
    }

    public Tensor WordEmbeddings => _word.weight;

    public Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        AttentionMasks.CheckLength(s, _config.MaxPositionEmbeddings - _pad - 1, _config.ModelType ?? "roberta");
        if (positionIds is null)
        {
            var notPad = inputIds.ne(_pad).to(Torch.ScalarType.Int64);
            positionIds = notPad.cumsum(1).mul(notPad).add(_pad);
        }
        var x = _word.forward(inputIds).add(_position.forward(positionIds));
        x = x.add(tokenTypeIds is null ? _tokenType.weight.select(0, 0) : _tokenType.forward(tokenTypeIds));
        return _dropout.forward(_norm.forward(x));
    }
}

/// <summary>The bare RoBERTa encoder: BERT's encoder stack under RoBERTa's embeddings.</summary>
public sealed class RobertaModel : PreTrainedModel
{
    private readonly RobertaEmbeddings _embeddings;
    private readonly BertEncoder _encoder;
    private readonly BertPooler? _pooler;

    public RobertaModel(RobertaConfig config, bool addPoolingLayer = true) : base(config)
    {
        _embeddings = RegisterModule("embeddings", new RobertaEmbeddings(config));
        _encoder = RegisterModule("encoder", new BertEncoder(config));
        _pooler = addPoolingLayer ? RegisterModule("pooler", new BertPooler(config)) : null;
    }

    public override string BaseModelPrefix => "roberta";

    internal Tensor WordEmbeddings => _embeddings.WordEmbeddings;

    public override ModelOutput Forward(ModelInputs inputs) =>
        _encoder.Encode(inputs, _embeddings.forward(inputs.InputIds, inputs.TokenTypeIds, inputs.PositionIds), _pooler);
}
