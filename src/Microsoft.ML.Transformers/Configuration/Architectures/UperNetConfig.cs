using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>UperNet's config (Hugging Face <c>configuration_upernet.py</c>): the backbone through <c>backbone_config</c>
/// (default: a ResNet returning stage1..stage4), the UperNet head's width (<c>hidden_size</c>) and pooling scales, the
/// auxiliary FCN head and the loss's ignore index.</summary>
public sealed class UperNetConfig : BackboneHeadConfig
{
    public const string Type = "upernet";

    /// <summary>The widest a head layer may be: far beyond any real checkpoint (512 for openmmlab's), short of an
    /// allocation of gigabytes from a mistyped number.</summary>
    public const int MaxChannels = 1 << 14;

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["hidden_size"] = 512,
        ["initializer_range"] = HfJson.Float(0.02),
        ["pool_scales"] = new JsonArray(1, 2, 3, 6),
        ["use_auxiliary_head"] = true,
        ["auxiliary_loss_weight"] = HfJson.Float(0.4),
        ["auxiliary_in_channels"] = null,
        ["auxiliary_channels"] = 256,
        ["auxiliary_num_convs"] = 1,
        ["auxiliary_concat_input"] = false,
        ["loss_ignore_index"] = 255,
    };

    private static readonly JsonObject DefaultBackbone = new()
    {
        ["model_type"] = ResNetConfig.Type,
        ["out_features"] = new JsonArray("stage1", "stage2", "stage3", "stage4"),
    };

    public UperNetConfig() : base(null, null, Defaults, DefaultBackbone) { }

    public UperNetConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults, DefaultBackbone) { }

    /// <summary>Channels of every UperNet head layer.</summary>
    public int HiddenSize { get => Get<int>("hidden_size"); set => Set("hidden_size", value); }
    /// <summary>Output sizes of the pyramid pooling module's adaptive average pools.</summary>
    public IReadOnlyList<int> PoolScales { get => Get<List<int>>("pool_scales")!; set => Set("pool_scales", value.ToList()); }
    public bool UseAuxiliaryHead { get => Get<bool>("use_auxiliary_head"); set => Set("use_auxiliary_head", value); }
    public double AuxiliaryLossWeight { get => Get<double>("auxiliary_loss_weight"); set => Set("auxiliary_loss_weight", value); }
    /// <summary>Channels of the feature map the auxiliary head reads (the third); null: the backbone's.</summary>
    public int? AuxiliaryInChannels { get => Get<int?>("auxiliary_in_channels"); set => Set("auxiliary_in_channels", value); }
    public int AuxiliaryChannels { get => Get<int>("auxiliary_channels"); set => Set("auxiliary_channels", value); }
    public int AuxiliaryNumConvs { get => Get<int>("auxiliary_num_convs"); set => Set("auxiliary_num_convs", value); }
    public bool AuxiliaryConcatInput { get => Get<bool>("auxiliary_concat_input"); set => Set("auxiliary_concat_input", value); }
    /// <summary>The label value the loss ignores (255: unlabeled pixels in ADE20k-style maps).</summary>
    public int LossIgnoreIndex { get => Get<int>("loss_ignore_index"); set => Set("loss_ignore_index", value); }

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("hidden_size", Get<long>("hidden_size"), 1, MaxChannels);
        CheckRange("auxiliary_channels", Get<long>("auxiliary_channels"), 1, MaxChannels);
        CheckRange("auxiliary_num_convs", Get<long>("auxiliary_num_convs"), 0, 64);
        if (Get<long?>("auxiliary_in_channels") is long aux) CheckRange("auxiliary_in_channels", aux, 1, MaxChannels);
        var scales = Get<List<long>>("pool_scales") ?? [];
        if (scales.Count == 0) throw new ConfigException(Source, "pool_scales", "expected at least one pooling scale, found none.");
        foreach (var s in scales) CheckRange("pool_scales", s, 1, 1024);
    }
}
