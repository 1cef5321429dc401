using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>DistilBERT's config; defaults are distilbert-base-uncased (Hugging Face <c>configuration_distilbert.py</c>).
/// Its keys have their own names (dim, n_layers, ...); the BERT-style names are aliases, as HF's attribute_map.</summary>
public sealed class DistilBertConfig : PretrainedConfig
{
    public const string Type = "distilbert";

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["vocab_size"] = 30522,
        ["max_position_embeddings"] = 512,
        ["sinusoidal_pos_embds"] = false,
        ["n_layers"] = 6,
        ["n_heads"] = 12,
        ["dim"] = 768,
        ["hidden_dim"] = 3072,
        ["dropout"] = HfJson.Float(0.1),
        ["attention_dropout"] = HfJson.Float(0.1),
        ["activation"] = "gelu",
        ["initializer_range"] = HfJson.Float(0.02),
        ["qa_dropout"] = HfJson.Float(0.1),
        ["seq_classif_dropout"] = HfJson.Float(0.2),
        ["pad_token_id"] = 0,
    };

    /// <summary>A distilbert-base-uncased-shaped config.</summary>
    public DistilBertConfig() : base(null, null, Defaults)
    {
    }

    /// <summary>Wraps the keys of a config.json (not copied).</summary>
    public DistilBertConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults)
    {
    }

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("vocab_size", Get<long>("vocab_size"), 1, BertLikeConfig.MaxVocabSize);
        long dim = Get<long>("dim");
        CheckRange("dim", dim, 1, BertLikeConfig.MaxHiddenSize);
        CheckRange("n_layers", Get<long>("n_layers"), 0, BertLikeConfig.MaxLayers);
        long heads = Get<long>("n_heads");
        CheckRange("n_heads", heads, 1, dim, " (at most dim)");
        if (dim % heads != 0)
        {
            throw new ConfigException(Source, "n_heads", $"dim {dim} is not a multiple of n_heads {heads} (each head gets dim / n_heads).");
        }
        CheckRange("hidden_dim", Get<long>("hidden_dim"), 1, BertLikeConfig.MaxIntermediateSize);
        CheckRange("max_position_embeddings", Get<long>("max_position_embeddings"), 1, BertLikeConfig.MaxPositions);
        if (Get<long?>("pad_token_id") is long pad)
        {
            CheckRange("pad_token_id", pad, 0, Get<long>("vocab_size") - 1, " (an id of the vocabulary)");
        }
        CheckActivation("activation");
        CheckProbability("dropout", Get<double?>("dropout"));
        CheckProbability("attention_dropout", Get<double?>("attention_dropout"));
        CheckProbability("qa_dropout", Get<double?>("qa_dropout"));
        CheckProbability("seq_classif_dropout", Get<double?>("seq_classif_dropout"));
    }

    protected internal override double? EstimatedParameters => BertLikeConfig.BertLikeParameters(Get<long>("vocab_size"), Get<long>("dim"),
        Get<long>("n_layers"), Get<long>("hidden_dim"), Get<long>("max_position_embeddings"), 0);

    protected internal override double HeadParameters => LabelHead(Get<long>("dim"));

    protected internal override IReadOnlyList<string> SizeKeys => ["n_layers", "dim", "hidden_dim", "vocab_size", "max_position_embeddings"];

    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get => Get<int>("vocab_size"); set => Set("vocab_size", value); }

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get => Get<int>("max_position_embeddings"); set => Set("max_position_embeddings", value); }

    /// <summary><c>sinusoidal_pos_embds</c>: fixed sinusoidal position embeddings instead of learned ones.</summary>
    public bool SinusoidalPosEmbds { get => Get<bool>("sinusoidal_pos_embds"); set => Set("sinusoidal_pos_embds", value); }

    /// <summary><c>n_layers</c>.</summary>
    public int NLayers { get => Get<int>("n_layers"); set => Set("n_layers", value); }

    /// <summary><c>n_heads</c>.</summary>
    public int NHeads { get => Get<int>("n_heads"); set => Set("n_heads", value); }

    /// <summary><c>dim</c> (hidden size).</summary>
    public int Dim { get => Get<int>("dim"); set => Set("dim", value); }

    /// <summary><c>hidden_dim</c> (feed-forward width).</summary>
    public int HiddenDim { get => Get<int>("hidden_dim"); set => Set("hidden_dim", value); }

    /// <summary><c>dropout</c>.</summary>
    public double Dropout { get => Get<double>("dropout"); set => Set("dropout", value); }

    /// <summary><c>attention_dropout</c>.</summary>
    public double AttentionDropout { get => Get<double>("attention_dropout"); set => Set("attention_dropout", value); }

    /// <summary><c>activation</c>, e.g. "gelu".</summary>
    public string Activation { get => Get<string>("activation")!; set => Set("activation", value); }

    /// <summary><c>initializer_range</c>.</summary>
    public double InitializerRange { get => Get<double>("initializer_range"); set => Set("initializer_range", value); }

    /// <summary><c>qa_dropout</c> (question-answering head).</summary>
    public double QaDropout { get => Get<double>("qa_dropout"); set => Set("qa_dropout", value); }

    /// <summary><c>seq_classif_dropout</c> (sequence classification and multiple-choice heads).</summary>
    public double SeqClassifDropout { get => Get<double>("seq_classif_dropout"); set => Set("seq_classif_dropout", value); }

    /// <summary>Alias of <see cref="Dim"/> (HF attribute_map <c>hidden_size</c>).</summary>
    public int HiddenSize { get => Dim; set => Dim = value; }

    /// <summary>Alias of <see cref="NHeads"/> (HF attribute_map <c>num_attention_heads</c>).</summary>
    public int NumAttentionHeads { get => NHeads; set => NHeads = value; }

    /// <summary>Alias of <see cref="NLayers"/> (HF attribute_map <c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get => NLayers; set => NLayers = value; }
}
