using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>ConvNeXt (v1) config; defaults are facebook/convnext-tiny-224 (Hugging Face <c>configuration_convnext.py</c>).</summary>
public sealed class ConvNextConfig : VisionBackboneConfig
{
    public const string Type = "convnext";

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["num_channels"] = 3,
        ["patch_size"] = 4,
        ["num_stages"] = 4,
        ["hidden_sizes"] = new JsonArray(96, 192, 384, 768),
        ["depths"] = new JsonArray(3, 3, 9, 3),
        ["hidden_act"] = "gelu",
        ["initializer_range"] = HfJson.Float(0.02),
        ["layer_norm_eps"] = HfJson.Float(1e-12),
        ["layer_scale_init_value"] = HfJson.Float(1e-6),
        ["drop_path_rate"] = HfJson.Float(0.0),
        ["image_size"] = 224,
    };

    public ConvNextConfig() : base(null, null, Defaults) { }

    public ConvNextConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults) { }

    protected override int StageCount => NumStages;

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("num_channels", Get<long>("num_channels"), 1, MaxChannels);
        CheckRange("image_size", Get<long>("image_size"), 1, MaxImageSize);
        CheckRange("patch_size", Get<long>("patch_size"), 1, MaxKernel);
        long stages = Get<long>("num_stages");
        CheckRange("num_stages", stages, 1, MaxStages);
        CheckDepths((int)stages);
        CheckList("hidden_sizes", 1, MaxWidth, (int)stages, (int)stages);
        CheckActivation("hidden_act");
        CheckProbability("drop_path_rate", Get<double?>("drop_path_rate"));
    }

    // Patch stem; a block is a 7x7 depthwise convolution and two pointwise layers of 4x width; 2x2 downsampling between stages.
    protected internal override double? EstimatedParameters
    {
        get
        {
            double total = (double)PatchSize * PatchSize * NumChannels * HiddenSizes[0], previous = HiddenSizes[0];
            foreach (var (depth, width) in Depths.Zip(HiddenSizes))
            {
                total += depth * (8.0 * width * width + 49.0 * width) + 4.0 * previous * width;
                previous = width;
            }
            return total;
        }
    }

    protected internal override IReadOnlyList<double> StageWidths => [HiddenSizes[0], .. HiddenSizes.Select(w => (double)w)];

    protected internal override IReadOnlyList<string> SizeKeys => ["depths", "hidden_sizes", "num_stages", "patch_size", "num_channels"];

    public int NumChannels { get => Get<int>("num_channels"); set => Set("num_channels", value); }
    public int PatchSize { get => Get<int>("patch_size"); set => Set("patch_size", value); }
    public int NumStages { get => Get<int>("num_stages"); set => Set("num_stages", value); }
    public IReadOnlyList<int> HiddenSizes { get => Get<List<int>>("hidden_sizes")!; set => Set("hidden_sizes", value.ToList()); }
    public IReadOnlyList<int> Depths { get => Get<List<int>>("depths")!; set => Set("depths", value.ToList()); }
    public string HiddenAct { get => Get<string>("hidden_act")!; set => Set("hidden_act", value); }
    public double LayerNormEps { get => Get<double>("layer_norm_eps"); set => Set("layer_norm_eps", value); }
    public double LayerScaleInitValue { get => Get<double>("layer_scale_init_value"); set => Set("layer_scale_init_value", value); }
    public double DropPathRate { get => Get<double>("drop_path_rate"); set => Set("drop_path_rate", value); }
}
