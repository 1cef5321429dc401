using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// RoBERTa's config: BERT's keys with the roberta-base checkpoint's values as defaults (vocab 50265, 514 positions
/// because of the padding offset, one token type, pad/bos/eos = 1/0/2, layer_norm_eps 1e-5). Hugging Face's own
/// <c>RobertaConfig()</c> keeps BERT's vocab/positions/eps and changes only the special tokens; a file always
/// states those keys, so the difference shows only for configs built in code.
/// </summary>
public sealed class RobertaConfig : BertLikeConfig
{
    public const string Type = "roberta";

    private static readonly JsonObject Defaults = RobertaDefaults();

    /// <summary>A roberta-base-shaped config.</summary>
    public RobertaConfig() : base(null, null, Defaults)
    {
    }

    /// <summary>Wraps the keys of a config.json (not copied).</summary>
    public RobertaConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults)
    {
    }

    // Positions count from pad_token_id + 1 (the padding offset) in a table whose row pad_token_id is the padding row:
    // the table needs those rows and one for a first token.
    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        long pad = Get<long?>("pad_token_id") ?? 1;
        long positions = Get<long>("max_position_embeddings");
        if (positions < pad + 2)
            throw new ConfigException(Source, "max_position_embeddings",
                $"expected at least pad_token_id + 2 = {pad + 2} (RoBERTa's positions start after pad_token_id), found {positions}.");
    }

    private static JsonObject RobertaDefaults()
    {
        var d = CommonDefaults(Type);
        d["vocab_size"] = 50265;
        d["max_position_embeddings"] = 514;
        d["type_vocab_size"] = 1;
        d["layer_norm_eps"] = HfJson.Float(1e-5);
        d["pad_token_id"] = 1;
        d["bos_token_id"] = 0;
        d["eos_token_id"] = 2;
        return d;
    }
}
