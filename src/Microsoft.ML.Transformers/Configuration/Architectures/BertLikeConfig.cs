using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// The keys BERT-style encoders share (Hugging Face <c>BertConfig</c>, which <c>RobertaConfig</c> reuses). Not a
/// model family of its own: <see cref="BertConfig"/> and <see cref="RobertaConfig"/> differ only in defaults.
/// </summary>
public abstract class BertLikeConfig : PretrainedConfig
{
    protected BertLikeConfig(JsonObject? raw, string? source, JsonObject defaults) : base(raw, source, defaults)
    {
    }

    /// <summary>The defaults shared by BERT and RoBERTa (<c>configuration_bert.py</c>); callers override a few.</summary>
    protected static JsonObject CommonDefaults(string modelType) => new()
    {
        ["model_type"] = modelType,
        ["vocab_size"] = 30522,
        ["hidden_size"] = 768,
        ["num_hidden_layers"] = 12,
        ["num_attention_heads"] = 12,
        ["intermediate_size"] = 3072,
        ["hidden_act"] = "gelu",
        ["hidden_dropout_prob"] = HfJson.Float(0.1),
        ["attention_probs_dropout_prob"] = HfJson.Float(0.1),
        ["max_position_embeddings"] = 512,
        ["type_vocab_size"] = 2,
        ["initializer_range"] = HfJson.Float(0.02),
        ["layer_norm_eps"] = HfJson.Float(1e-12),
        ["pad_token_id"] = 0,
        ["position_embedding_type"] = "absolute",
        ["use_cache"] = true,
        ["classifier_dropout"] = null,
    };

    /// <summary>Largest sizes accepted: far beyond released BERT-style checkpoints, well short of exhausting memory.</summary>
    public const int MaxVocabSize = 1 << 24, MaxHiddenSize = 1 << 16, MaxLayers = 1024, MaxIntermediateSize = 1 << 18,
        MaxPositions = 1 << 20, MaxTypeVocabSize = 1 << 16;

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("vocab_size", Get<long>("vocab_size"), 1, MaxVocabSize);
        long hidden = Get<long>("hidden_size");
        CheckRange("hidden_size", hidden, 1, MaxHiddenSize);
        CheckRange("num_hidden_layers", Get<long>("num_hidden_layers"), 0, MaxLayers);
        long heads = Get<long>("num_attention_heads");
        CheckRange("num_attention_heads", heads, 1, hidden, " (at most hidden_size)");
        if (hidden % heads != 0)
        {
            throw new ConfigException(Source, "num_attention_heads",
                $"hidden_size {hidden} is not a multiple of num_attention_heads {heads} (each head gets hidden_size / num_attention_heads).");
        }
        CheckRange("intermediate_size", Get<long>("intermediate_size"), 1, MaxIntermediateSize);
        CheckRange("max_position_embeddings", Get<long>("max_position_embeddings"), 1, MaxPositions);
        CheckRange("type_vocab_size", Get<long>("type_vocab_size"), 0, MaxTypeVocabSize);
        if (Get<long?>("pad_token_id") is long pad)
        {
            CheckRange("pad_token_id", pad, 0, Get<long>("vocab_size") - 1, " (an id of the vocabulary)");
        }
        CheckActivation("hidden_act");
        CheckProbability("hidden_dropout_prob", Get<double?>("hidden_dropout_prob"));
        CheckProbability("attention_probs_dropout_prob", Get<double?>("attention_probs_dropout_prob"));
        CheckProbability("classifier_dropout", Get<double?>("classifier_dropout"));
    }

    protected internal override double? EstimatedParameters => BertLikeParameters(Get<long>("vocab_size"), Get<long>("hidden_size"),
        Get<long>("num_hidden_layers"), Get<long>("intermediate_size"), Get<long>("max_position_embeddings"), Get<long>("type_vocab_size"));

    // sequence and token classification read hidden_size features
    protected internal override double HeadParameters => LabelHead(Get<long>("hidden_size"));

    protected internal override IReadOnlyList<string> SizeKeys =>
        ["num_hidden_layers", "hidden_size", "intermediate_size", "vocab_size", "max_position_embeddings", "type_vocab_size"];

    /// <summary>Embeddings, layers (q, k, v, output, two feed-forward matrices), pooler: what BERT-style encoders hold.</summary>
    internal static double BertLikeParameters(double vocab, double hidden, double layers, double intermediate, double positions, double types) =>
        (vocab + positions + types) * hidden + layers * (4 * hidden * hidden + 2 * hidden * intermediate) + hidden * hidden;

    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get => Get<int>("vocab_size"); set => Set("vocab_size", value); }

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get => Get<int>("hidden_size"); set => Set("hidden_size", value); }

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get => Get<int>("num_hidden_layers"); set => Set("num_hidden_layers", value); }

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get => Get<int>("num_attention_heads"); set => Set("num_attention_heads", value); }

    /// <summary><c>intermediate_size</c> (feed-forward width).</summary>
    public int IntermediateSize { get => Get<int>("intermediate_size"); set => Set("intermediate_size", value); }

    /// <summary><c>hidden_act</c>, e.g. "gelu".</summary>
    public string HiddenAct { get => Get<string>("hidden_act")!; set => Set("hidden_act", value); }

    /// <summary><c>hidden_dropout_prob</c>.</summary>
    public double HiddenDropoutProb { get => Get<double>("hidden_dropout_prob"); set => Set("hidden_dropout_prob", value); }

    /// <summary><c>attention_probs_dropout_prob</c>.</summary>
    public double AttentionProbsDropoutProb
    {
        get => Get<double>("attention_probs_dropout_prob");
        set => Set("attention_probs_dropout_prob", value);
    }

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get => Get<int>("max_position_embeddings"); set => Set("max_position_embeddings", value); }

    /// <summary><c>type_vocab_size</c> (token type / segment ids).</summary>
    public int TypeVocabSize { get => Get<int>("type_vocab_size"); set => Set("type_vocab_size", value); }

    /// <summary><c>initializer_range</c> (std of the normal init).</summary>
    public double InitializerRange { get => Get<double>("initializer_range"); set => Set("initializer_range", value); }

    /// <summary><c>layer_norm_eps</c>.</summary>
    public double LayerNormEps { get => Get<double>("layer_norm_eps"); set => Set("layer_norm_eps", value); }

    /// <summary><c>position_embedding_type</c>: "absolute", "relative_key" or "relative_key_query".</summary>
    public string PositionEmbeddingType
    {
        get => Get<string>("position_embedding_type") ?? "absolute";
        set => Set("position_embedding_type", value);
    }

    /// <summary><c>use_cache</c>.</summary>
    public bool UseCache { get => GetOrDefault("use_cache", true); set => Set("use_cache", value); }

    /// <summary><c>classifier_dropout</c>; null means heads use <see cref="HiddenDropoutProb"/>.</summary>
    public double? ClassifierDropout { get => Get<double?>("classifier_dropout"); set => Set("classifier_dropout", value); }
}
