using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Roberta;

/// <summary>
/// RoBERTa embeddings (modeling_roberta.py RobertaEmbeddings): positions count only real tokens and start after
/// padding_idx: position = cumsum(input_ids != pad) * (input_ids != pad) + pad.
/// </summary>
internal sealed class RobertaEmbeddings : nn.Module
{
    private readonly EmbeddingTable word_embeddings, position_embeddings, token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly RobertaConfig _config;
    private readonly long _pad;

    public RobertaEmbeddings(RobertaConfig c) : base(nameof(RobertaEmbeddings))
    {
        _config = c;
        _pad = c.PadTokenId ?? 1;
        register_module("word_embeddings", word_embeddings = new EmbeddingTable(c.VocabSize, c.HiddenSize, _pad));
        register_module("position_embeddings", position_embeddings = new EmbeddingTable(c.MaxPositionEmbeddings, c.HiddenSize, _pad));
        register_module("token_type_embeddings", token_type_embeddings = new EmbeddingTable(c.TypeVocabSize, c.HiddenSize));
        register_module("LayerNorm", LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        register_module("dropout", dropout = nn.Dropout(c.HiddenDropoutProb));
    }

    public EmbeddingTable WordEmbeddings => word_embeddings;

    public Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        Attention.CheckLength(s, _config.MaxPositionEmbeddings - _pad - 1, _config.ModelType ?? "roberta");
        if (positionIds is null)
        {
            var notPad = inputIds.ne(_pad).to(ScalarType.Int64);
            positionIds = notPad.cumsum(1).mul(notPad).add(_pad);
        }
        var x = word_embeddings.forward(inputIds).add(position_embeddings.forward(positionIds));
        x = x.add(tokenTypeIds is null ? token_type_embeddings.weight[0] : token_type_embeddings.forward(tokenTypeIds));
        return dropout.forward(LayerNorm.forward(x));
    }

}

/// <summary>The bare RoBERTa encoder: BERT's encoder stack under RoBERTa's embeddings.</summary>
public sealed class RobertaModel : PreTrainedModel
{
    private readonly RobertaEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public RobertaModel(RobertaConfig config, bool addPoolingLayer = true) : base(config)
    {
        register_module("embeddings", embeddings = new RobertaEmbeddings(config));
        register_module("encoder", encoder = new BertEncoder(config));
        if (addPoolingLayer) register_module("pooler", pooler = new BertPooler(config));
    }

    public override string BaseModelPrefix => "roberta";

    internal EmbeddingTable WordEmbeddings => embeddings.WordEmbeddings;

    protected override ModelOutput Run(ModelInputs inputs) =>
        encoder.Encode(inputs, embeddings.forward(inputs.RequireInputIds(), inputs.TokenTypeIds, inputs.PositionIds), pooler);
}
