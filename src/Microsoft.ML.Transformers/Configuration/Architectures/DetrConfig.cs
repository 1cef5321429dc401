using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// DETR's config (Hugging Face <c>configuration_detr.py</c>; sizes default to facebook/detr-resnet-50). The backbone is
/// Hugging Face's own (<c>use_timm_backbone</c> false) described by <c>backbone_config</c>, a ResNet returning stage4 by
/// default, or with <c>use_timm_backbone</c> timm's ResNet named by <c>backbone</c> (resnet18/34/50/101, <c>dilation</c>,
/// <c>backbone_kwargs</c>: see <c>TimmResNetBackbone</c>). Unlike Hugging Face, a file without <c>use_timm_backbone</c> /
/// <c>use_pretrained_backbone</c> reads them as false, and <c>use_pretrained_backbone</c> fetches nothing (no hub is
/// reachable): a checkpoint's model.safetensors carries its backbone's weights.
/// </summary>
public sealed class DetrConfig : BackboneHeadConfig
{
    public const string Type = "detr";

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["use_timm_backbone"] = false,
        ["use_pretrained_backbone"] = false,
        ["num_channels"] = 3,
        ["num_queries"] = 100,
        ["encoder_layers"] = 6,
        ["encoder_ffn_dim"] = 2048,
        ["encoder_attention_heads"] = 8,
        ["decoder_layers"] = 6,
        ["decoder_ffn_dim"] = 2048,
        ["decoder_attention_heads"] = 8,
        ["activation_function"] = "relu",
        ["d_model"] = 256,
        ["dropout"] = HfJson.Float(0.1),
        ["attention_dropout"] = HfJson.Float(0.0),
        ["activation_dropout"] = HfJson.Float(0.0),
        ["init_std"] = HfJson.Float(0.02),
        ["init_xavier_std"] = HfJson.Float(1.0),
        ["auxiliary_loss"] = false,
        ["position_embedding_type"] = "sine",
        ["class_cost"] = 1,
        ["bbox_cost"] = 5,
        ["giou_cost"] = 2,
        ["bbox_loss_coefficient"] = 5,
        ["giou_loss_coefficient"] = 2,
        ["eos_coefficient"] = HfJson.Float(0.1),
    };

    private static readonly JsonObject DefaultBackbone = new()
    {
        ["model_type"] = ResNetConfig.Type,
        ["out_features"] = new JsonArray("stage4"),
        ["out_indices"] = new JsonArray(4),
    };

    public DetrConfig() : base(null, null, Defaults, DefaultBackbone) { }

    public DetrConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults, DefaultBackbone) { }

    /// <summary><c>backbone</c>; "resnet50" without timm is Hugging Face's old default and means none (backwards compatibility).</summary>
    public override string? Backbone
    {
        get => base.Backbone is "resnet50" && !UseTimmBackbone ? null : base.Backbone;
        set => base.Backbone = value;
    }

    public int NumChannels { get => Get<int>("num_channels"); set => Set("num_channels", value); }
    public int NumQueries { get => Get<int>("num_queries"); set => Set("num_queries", value); }
    public int DModel { get => Get<int>("d_model"); set => Set("d_model", value); }
    public int EncoderLayers { get => Get<int>("encoder_layers"); set => Set("encoder_layers", value); }
    public int DecoderLayers { get => Get<int>("decoder_layers"); set => Set("decoder_layers", value); }
    public int EncoderFfnDim { get => Get<int>("encoder_ffn_dim"); set => Set("encoder_ffn_dim", value); }
    public int DecoderFfnDim { get => Get<int>("decoder_ffn_dim"); set => Set("decoder_ffn_dim", value); }
    public int EncoderAttentionHeads { get => Get<int>("encoder_attention_heads"); set => Set("encoder_attention_heads", value); }
    public int DecoderAttentionHeads { get => Get<int>("decoder_attention_heads"); set => Set("decoder_attention_heads", value); }
    public string ActivationFunction { get => Get<string>("activation_function")!; set => Set("activation_function", value); }
    public double Dropout { get => Get<double>("dropout"); set => Set("dropout", value); }
    public double AttentionDropout { get => Get<double>("attention_dropout"); set => Set("attention_dropout", value); }
    public double ActivationDropout { get => Get<double>("activation_dropout"); set => Set("activation_dropout", value); }
    public double InitStd { get => Get<double>("init_std"); set => Set("init_std", value); }
    public bool AuxiliaryLoss { get => Get<bool>("auxiliary_loss"); set => Set("auxiliary_loss", value); }
    /// <summary>"sine" or "learned".</summary>
    public string PositionEmbeddingType { get => Get<string>("position_embedding_type")!; set => Set("position_embedding_type", value); }
    public double ClassCost { get => Get<double>("class_cost"); set => Set("class_cost", value); }
    public double BboxCost { get => Get<double>("bbox_cost"); set => Set("bbox_cost", value); }
    public double GiouCost { get => Get<double>("giou_cost"); set => Set("giou_cost", value); }
    public double BboxLossCoefficient { get => Get<double>("bbox_loss_coefficient"); set => Set("bbox_loss_coefficient", value); }
    public double GiouLossCoefficient { get => Get<double>("giou_loss_coefficient"); set => Set("giou_loss_coefficient", value); }
    public double EosCoefficient { get => Get<double>("eos_coefficient"); set => Set("eos_coefficient", value); }

    // Encoder layers: self-attention (q, k, v, out) and two feed-forward matrices; decoder layers add cross-attention;
    // the query embeddings, the 1x1 projection of the backbone's last map and the box MLP (d -> d -> d -> 4)
    // (Hugging Face modeling_detr.py).
    protected internal override double? EstimatedParameters
    {
        get
        {
            double d = DModel;
            var (backbone, channels) = BackboneEstimate();
            return backbone + (channels.Count > 0 ? channels[^1] * d : 0) + (double)NumQueries * d
                + EncoderLayers * (4 * d * d + 2 * d * EncoderFfnDim) + DecoderLayers * (8 * d * d + 2 * d * DecoderFfnDim) + 2 * d * d;
        }
    }

    /// <summary>class_labels_classifier: num_labels + 1 classes (the last is "no object").</summary>
    protected internal override double HeadParameters => (NumLabels + 1.0) * (DModel + 1);

    protected internal override IReadOnlyList<string> SizeKeys =>
        ["encoder_layers", "decoder_layers", "d_model", "encoder_ffn_dim", "decoder_ffn_dim", "num_queries", .. BackboneSizeKeys];

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        const int big = 1 << 16;
        CheckRange("d_model", DModel, 2, big);
        CheckRange("num_queries", NumQueries, 1, big);
        CheckRange("num_channels", NumChannels, 1, 64);
        CheckRange("encoder_layers", EncoderLayers, 0, 1024);
        CheckRange("decoder_layers", DecoderLayers, 1, 1024);
        CheckRange("encoder_ffn_dim", EncoderFfnDim, 1, big * 4);
        CheckRange("decoder_ffn_dim", DecoderFfnDim, 1, big * 4);
        CheckRange("encoder_attention_heads", EncoderAttentionHeads, 1, DModel);
        CheckRange("decoder_attention_heads", DecoderAttentionHeads, 1, DModel);
        if (DModel % EncoderAttentionHeads != 0 || DModel % DecoderAttentionHeads != 0)
            throw new ConfigException(Source, "encoder_attention_heads",
                $"d_model ({DModel}) must be divisible by encoder_attention_heads ({EncoderAttentionHeads}) and decoder_attention_heads ({DecoderAttentionHeads}).");
        if (DModel % 2 != 0)
            throw new ConfigException(Source, "d_model", $"expected an even number (half for each axis of the position embedding), found {DModel}.");
        if (PositionEmbeddingType is not ("sine" or "learned"))
            throw new ConfigException(Source, "position_embedding_type", $"expected \"sine\" or \"learned\", found \"{PositionEmbeddingType}\".");
        CheckProbability("dropout", Dropout);
        CheckProbability("attention_dropout", AttentionDropout);
        CheckProbability("activation_dropout", ActivationDropout);
        CheckActivation("activation_function");
    }
}
