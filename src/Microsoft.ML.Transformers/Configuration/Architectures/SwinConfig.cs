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
