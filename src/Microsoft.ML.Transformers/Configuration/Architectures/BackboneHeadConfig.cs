using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// The config of a head built on a backbone (DETR, UperNet): Hugging Face's <c>backbone_config</c> (a nested config of
/// any registered model type, kept inside <see cref="PretrainedConfig.Raw"/> so SavePretrained writes it back as read),
/// or <c>backbone</c> naming a checkpoint folder, with <c>use_pretrained_backbone</c> and <c>backbone_kwargs</c>.
/// The consistency rules are transformers' <c>verify_backbone_config_arguments</c> (checked when the config is read)
/// and <c>load_backbone</c> (checked by <c>AutoBackbone.LoadBackbone</c>).
/// </summary>
public abstract class BackboneHeadConfig : PretrainedConfig
{
    private readonly JsonObject? _defaultBackboneConfig;

    /// <param name="raw">The file's keys, or null for a fresh config (which then holds <paramref name="defaultBackboneConfig"/>).</param>
    /// <param name="source">File path for error messages.</param>
    /// <param name="defaults">The architecture's defaults.</param>
    /// <param name="defaultBackboneConfig">The backbone a config naming neither <c>backbone_config</c> nor <c>backbone</c>
    /// gets, as the Hugging Face config classes build it (ResNet for DETR and UperNet); null for none.</param>
    protected BackboneHeadConfig(JsonObject? raw, string? source, JsonObject defaults, JsonObject? defaultBackboneConfig)
        : base(raw, source, defaults)
    {
        _defaultBackboneConfig = defaultBackboneConfig;
        if (raw is null && defaultBackboneConfig is not null && Raw["backbone_config"] is null)
        {
            Raw["backbone_config"] = defaultBackboneConfig.DeepClone();
        }
    }

    /// <summary>
    /// <c>backbone_config</c>: the backbone's own config (its <c>model_type</c> picks the class through
    /// <see cref="AutoConfig"/>). It wraps the nested object of <see cref="PretrainedConfig.Raw"/>, so changes made through
    /// it (out_features, ...) are saved with the head. Without the key and without <c>backbone</c>: the architecture's
    /// default backbone (a fresh copy each read); with only <c>backbone</c>: null.
    /// </summary>
    public PretrainedConfig? BackboneConfig
    {
        get
        {
            if (Raw.TryGetPropertyValue("backbone_config", out var node) && node is not null)
            {
                return Nested(node);
            }
            return Backbone is null && _defaultBackboneConfig is not null ? Nested(_defaultBackboneConfig.DeepClone()) : null;
        }
        set => Set("backbone_config", value?.Raw);
    }

    /// <summary><c>backbone</c>: a checkpoint folder holding the backbone (a local path here; no hub is reached).</summary>
    public virtual string? Backbone { get => Get<string>("backbone"); set => Set("backbone", value); }

    /// <summary><c>use_pretrained_backbone</c>: load <see cref="Backbone"/>'s weights rather than only its config.</summary>
    public bool? UsePretrainedBackbone { get => Get<bool?>("use_pretrained_backbone"); set => Set("use_pretrained_backbone", value); }

    /// <summary><c>use_timm_backbone</c>: a timm backbone named by <see cref="Backbone"/>. timm has no .NET port: DETR builds
    /// timm's ResNets itself (<c>TimmResNetBackbone</c>); other heads and timm models are refused.</summary>
    public bool UseTimmBackbone { get => GetOrDefault("use_timm_backbone", false); set => Set("use_timm_backbone", value); }

    /// <summary><c>backbone_kwargs</c>: keys set on the config of a backbone loaded through <see cref="Backbone"/>
    /// (out_features / out_indices are aligned as set_out_features does). A copy: set the property to change it.</summary>
    public JsonObject? BackboneKwargs
    {
        get
        {
            if (!Raw.TryGetPropertyValue("backbone_kwargs", out var node) || node is null) return null;
            return node as JsonObject is { } obj
                ? (JsonObject)obj.DeepClone()
                : throw new ConfigException(Source, "backbone_kwargs", $"expected an object or null, found {ConfigJson.Describe(node)}.");
        }
        set => Set("backbone_kwargs", value);
    }

    /// <summary>transformers' verify_backbone_config_arguments, then the nested config's own checks.</summary>
    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        bool hasConfig = Raw["backbone_config"] is not null;
        if (hasConfig && Backbone is not null)
        {
            throw new ConfigException(Source, "backbone", "You can't specify both `backbone` and `backbone_config`.");
        }
        if (hasConfig && UseTimmBackbone)
        {
            throw new ConfigException(Source, "use_timm_backbone", "You can't specify both `backbone_config` and `use_timm_backbone`.");
        }
        if (hasConfig && BackboneKwargs is { Count: > 0 })
        {
            throw new ConfigException(Source, "backbone_kwargs", "You can't specify both `backbone_kwargs` and `backbone_config`.");
        }
        if (Raw["backbone_config"] is { } node && node is not JsonObject)
        {
            throw new ConfigException(Source, "backbone_config", $"expected an object holding the backbone's config (with its model_type), found {ConfigJson.Describe(node)}.");
        }
    }

    /// <summary>For the size estimates: the parameters of the backbone when its weights come from this checkpoint
    /// (<c>backbone_config</c>, or the default backbone), and the channels of the feature maps it hands the head (empty
    /// when not known here: a timm backbone, or one read from the folder <c>backbone</c> names).</summary>
    protected (double parameters, IReadOnlyList<double> channels) BackboneEstimate()
    {
        if (UseTimmBackbone || BackboneConfig is not VisionBackboneConfig backbone) return (0, []);
        // by name: out_indices may count from the end (-1 is the last stage)
        var widths = backbone.StageWidths;
        var stages = backbone.StageNames.ToList();
        return (backbone.EstimatedParameters ?? 0,
            backbone.OutFeatures.Select(f => stages.IndexOf(f)).Where(i => i >= 0 && i < widths.Count).Select(i => widths[i]).ToList());
    }

    /// <summary><see cref="PretrainedConfig.SizeKeys"/> of the backbone, under <c>backbone_config.</c>.</summary>
    protected IEnumerable<string> BackboneSizeKeys =>
        !UseTimmBackbone && Raw["backbone_config"] is not null && BackboneConfig is { } b ? b.SizeKeys.Select(k => $"backbone_config.{k}") : [];

    /// <summary>Builds the nested config through AutoConfig; its errors name the key under <c>backbone_config.</c>.</summary>
    private PretrainedConfig Nested(JsonNode node)
    {
        if (node is not JsonObject obj)
        {
            throw new ConfigException(Source, "backbone_config", $"expected an object holding the backbone's config (with its model_type), found {ConfigJson.Describe(node)}.");
        }
        try
        {
            return AutoConfig.FromJsonObject(obj, Source);
        }
        catch (ConfigException e) when (e.Key is null || !e.Key.StartsWith("backbone_config.", StringComparison.Ordinal))
        {
            throw new ConfigException(Source, e.Key is null ? "backbone_config" : $"backbone_config.{e.Key}", e.Detail, e);
        }
    }
}
