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

    // The UperNet head (Hugging Face modeling_upernet.py): a 1x1 convolution per pooling scale over the last map, the
    // 3x3 bottleneck over it and the pooled maps, a 1x1 lateral and a 3x3 FPN convolution per other map, the 3x3 FPN
    // bottleneck over all maps; the auxiliary FCN head's 3x3 convolutions. Backbone channels not known here count 0.
    protected internal override double? EstimatedParameters
    {
        get
        {
            double h = HiddenSize, scales = PoolScales.Count;
            var (backbone, channels) = BackboneEstimate();
            double last = channels.Count > 0 ? channels[^1] : 0, maps = Math.Max(channels.Count, 1);
            double total = backbone + scales * last * h + 9 * (last + scales * h) * h
                + channels.SkipLast(1).Sum(c => c * h + 9 * h * h) + 9 * maps * h * h;
            if (UseAuxiliaryHead)
            {
                double a = AuxiliaryChannels, inputs = AuxiliaryInChannels ?? (channels.Count > 2 ? channels[2] : 0);
                total += 9 * inputs * a + Math.Max(AuxiliaryNumConvs - 1, 0) * 9 * a * a + (AuxiliaryConcatInput ? 9 * (inputs + a) * a : 0);
            }
            return total;
        }
    }

    /// <summary>The classifiers of the UperNet head and of the auxiliary head.</summary>
    protected internal override double HeadParameters => LabelHead(HiddenSize) + (UseAuxiliaryHead ? LabelHead(AuxiliaryChannels) : 0);

    protected internal override IReadOnlyList<string> SizeKeys =>
        ["hidden_size", "auxiliary_channels", "auxiliary_num_convs", "pool_scales", "auxiliary_in_channels", .. BackboneSizeKeys];

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("hidden_size", Get<long>("hidden_size"), 1, MaxChannels);
        CheckRange("auxiliary_channels", Get<long>("auxiliary_channels"), 1, MaxChannels);
        CheckRange("auxiliary_num_convs", Get<long>("auxiliary_num_convs"), 0, 64);
        if (Get<long?>("auxiliary_in_channels") is long aux) CheckRange("auxiliary_in_channels", aux, 1, MaxChannels);
        // the classifiers are convolutions to num_labels channels: none is no segmentation (and libtorch cannot initialize it)
        if (NumLabels < 1)
            throw new ConfigException(Source, LabelsKey,
                $"expected at least one label for the segmentation classifier, found {NumLabels}.");
        var scales = Get<List<long>>("pool_scales") ?? [];
        if (scales.Count == 0) throw new ConfigException(Source, "pool_scales", "expected at least one pooling scale, found none.");
        foreach (var s in scales) CheckRange("pool_scales", s, 1, 1024);
    }
}
