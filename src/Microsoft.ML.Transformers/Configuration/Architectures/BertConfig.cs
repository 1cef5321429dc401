using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>BERT's config; defaults are bert-base-uncased (Hugging Face <c>configuration_bert.py</c>).</summary>
public sealed class BertConfig : BertLikeConfig
{
    public const string Type = "bert";

    private static readonly JsonObject Defaults = CommonDefaults(Type);

    /// <summary>A bert-base-uncased-shaped config.</summary>
    public BertConfig() : base(null, null, Defaults)
    {
    }

    /// <summary>Wraps the keys of a config.json (not copied).</summary>
    public BertConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults)
    {
    }
}
