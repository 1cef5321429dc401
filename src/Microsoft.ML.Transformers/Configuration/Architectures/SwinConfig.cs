using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>Swin Transformer (v1) config; defaults are microsoft/swin-tiny-patch4-window7-224 (Hugging Face <c>configuration_swin.py</c>).</summary>
public sealed class SwinConfig : VisionBackboneConfig
{
    public const string Type = "swin";

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["image_size"] = 224,
        ["patch_size"] = 4,
        ["num_channels"] = 3,
        ["embed_dim"] = 96,
        ["depths"] = new JsonArray(2, 2, 6, 2),
        ["num_heads"] = new JsonArray(3, 6, 12, 24),
        ["window_size"] = 7,
        ["mlp_ratio"] = HfJson.Float(4.0),
        ["qkv_bias"] = true,
        ["hidden_dropout_prob"] = HfJson.Float(0.0),
        ["attention_probs_dropout_prob"] = HfJson.Float(0.0),
        ["drop_path_rate"] = HfJson.Float(0.1),
        ["hidden_act"] = "gelu",
        ["use_absolute_embeddings"] = false,
        ["initializer_range"] = HfJson.Float(0.02),
        ["layer_norm_eps"] = HfJson.Float(1e-5),
        ["encoder_stride"] = 32,
    };

    public SwinConfig() : base(null, null, Defaults) { }

    public SwinConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults) { }

    protected override int StageCount => Depths.Count;

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        long image = Get<long>("image_size");
        CheckRange("image_size", image, 1, MaxImageSize);
        CheckRange("patch_size", Get<long>("patch_size"), 1, image, " (at most image_size)");
        CheckRange("num_channels", Get<long>("num_channels"), 1, MaxChannels);
        long embed = Get<long>("embed_dim");
        CheckRange("embed_dim", embed, 1, MaxWidth);
        var depths = CheckDepths();
        var heads = CheckList("num_heads", 1, MaxWidth, depths.Count, depths.Count);
        for (int s = 0; s < depths.Count; s++)
        {
            // stage s works at embed_dim * 2^s channels, split over num_heads[s] heads
            long width = embed << s;
            if (width > MaxWidth)
                throw new ConfigException(Source, "embed_dim", $"embed_dim {embed} doubled at each of {depths.Count} stages reaches {width} channels; expected at most {MaxWidth}.");
            if (width % heads[s] != 0)
                throw new ConfigException(Source, $"num_heads[{s}]", $"stage {s} has {width} channels, which {heads[s]} heads do not divide.");
        }
        CheckRange("window_size", Get<long>("window_size"), 1, MaxKernel);
        double mlp = Get<double>("mlp_ratio");
        if (!(mlp > 0 && mlp <= 64))
            throw new ConfigException(Source, "mlp_ratio", $"expected a number above 0 and at most 64, found {mlp.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        if (mlp * embed < 1)
            throw new ConfigException(Source, "mlp_ratio", FormattableString.Invariant(
                $"embed_dim {embed} x mlp_ratio {mlp} gives the first stage's MLP {(long)(mlp * embed)} channels; expected at least 1."));
        CheckActivation("hidden_act");
        CheckProbability("hidden_dropout_prob", Get<double?>("hidden_dropout_prob"));
        CheckProbability("attention_probs_dropout_prob", Get<double?>("attention_probs_dropout_prob"));
        CheckProbability("drop_path_rate", Get<double?>("drop_path_rate"));
    }

    // Patch embedding; a block holds q, k, v, output and the MLP, plus its relative position bias table; patch merging
    // (4C -> 2C) between stages.
    protected internal override double? EstimatedParameters
    {
        get
        {
            double total = (double)PatchSize * PatchSize * NumChannels * EmbedDim, window = 2.0 * WindowSize - 1;
            for (int s = 0; s < Depths.Count; s++)
            {
                double width = (double)EmbedDim * Math.Pow(2, s);
                total += Depths[s] * ((4 + 2 * MlpRatio) * width * width + window * window * NumHeads[s]) + 8 * width * width;
            }
            return total;
        }
    }

    protected internal override IReadOnlyList<double> StageWidths => [EmbedDim, .. Enumerable.Range(0, Depths.Count).Select(s => EmbedDim * Math.Pow(2, s))];

    protected internal override IReadOnlyList<string> SizeKeys => ["depths", "embed_dim", "window_size", "num_heads", "patch_size", "num_channels"];

    public int ImageSize { get => Get<int>("image_size"); set => Set("image_size", value); }
    public int PatchSize { get => Get<int>("patch_size"); set => Set("patch_size", value); }
    public int NumChannels { get => Get<int>("num_channels"); set => Set("num_channels", value); }
    public int EmbedDim { get => Get<int>("embed_dim"); set => Set("embed_dim", value); }
    public IReadOnlyList<int> Depths { get => Get<List<int>>("depths")!; set => Set("depths", value.ToList()); }
    public IReadOnlyList<int> NumHeads { get => Get<List<int>>("num_heads")!; set => Set("num_heads", value.ToList()); }
    public int WindowSize { get => Get<int>("window_size"); set => Set("window_size", value); }
    public double MlpRatio { get => Get<double>("mlp_ratio"); set => Set("mlp_ratio", value); }
    public bool QkvBias { get => Get<bool>("qkv_bias"); set => Set("qkv_bias", value); }
    public double HiddenDropoutProb { get => Get<double>("hidden_dropout_prob"); set => Set("hidden_dropout_prob", value); }
    public double AttentionProbsDropoutProb { get => Get<double>("attention_probs_dropout_prob"); set => Set("attention_probs_dropout_prob", value); }
    public string HiddenAct { get => Get<string>("hidden_act")!; set => Set("hidden_act", value); }
    public bool UseAbsoluteEmbeddings { get => Get<bool>("use_absolute_embeddings"); set => Set("use_absolute_embeddings", value); }
    public double LayerNormEps { get => Get<double>("layer_norm_eps"); set => Set("layer_norm_eps", value); }
    /// <summary>Channels of the last stage: embed_dim * 2^(stages-1) (Hugging Face's hidden_size).</summary>
    public int HiddenSize => EmbedDim << (Depths.Count - 1);
}
