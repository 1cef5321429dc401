using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

/// <summary>word + position + token-type embeddings, LayerNorm, dropout (modeling_bert.py BertEmbeddings).</summary>
internal sealed class BertEmbeddings : nn.Module
{
    private readonly EmbeddingTable word_embeddings, position_embeddings, token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly BertConfig _config;

    public BertEmbeddings(BertConfig c) : base(nameof(BertEmbeddings))
    {
        _config = c;
        if (c.PositionEmbeddingType != "absolute")
            throw new NotSupportedException($"config.json: position_embedding_type \"{c.PositionEmbeddingType}\" is not supported; expected \"absolute\".");
        register_module("word_embeddings", word_embeddings = new EmbeddingTable(c.VocabSize, c.HiddenSize, c.PadTokenId));
        register_module("position_embeddings", position_embeddings = new EmbeddingTable(c.MaxPositionEmbeddings, c.HiddenSize));
        register_module("token_type_embeddings", token_type_embeddings = new EmbeddingTable(c.TypeVocabSize, c.HiddenSize));
        register_module("LayerNorm", LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        register_module("dropout", dropout = nn.Dropout(c.HiddenDropoutProb));
    }

    public EmbeddingTable WordEmbeddings => word_embeddings;

    public Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        long s = inputIds.size(1);
        Attention.CheckLength(s, _config.MaxPositionEmbeddings, _config.ModelType ?? "bert");
        positionIds ??= arange(s, device: inputIds.device).unsqueeze(0);
        var x = word_embeddings.forward(inputIds).add(position_embeddings.forward(positionIds));
        x = x.add(tokenTypeIds is null ? token_type_embeddings.weight[0] : token_type_embeddings.forward(tokenTypeIds));
        return dropout.forward(LayerNorm.forward(x));
    }

}

/// <summary>The bare BERT encoder (BertModel): last_hidden_state and, when built with a pooling layer, pooler_output.</summary>
public sealed class BertModel : PreTrainedModel
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(config)
    {
        register_module("embeddings", embeddings = new BertEmbeddings(config));
        register_module("encoder", encoder = new BertEncoder(config));
        if (addPoolingLayer) register_module("pooler", pooler = new BertPooler(config));
    }

    public override string BaseModelPrefix => "bert";

    internal EmbeddingTable WordEmbeddings => embeddings.WordEmbeddings;

    protected override ModelOutput Run(ModelInputs inputs) =>
        encoder.Encode(inputs, embeddings.forward(inputs.RequireInputIds(), inputs.TokenTypeIds, inputs.PositionIds), pooler);
}
