using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>ResNet's config; defaults are microsoft/resnet-50 (Hugging Face <c>configuration_resnet.py</c>).</summary>
public sealed class ResNetConfig : VisionBackboneConfig
{
    public const string Type = "resnet";

    private static readonly JsonObject Defaults = new()
    {
        ["model_type"] = Type,
        ["num_channels"] = 3,
        ["embedding_size"] = 64,
        ["hidden_sizes"] = new JsonArray(256, 512, 1024, 2048),
        ["depths"] = new JsonArray(3, 4, 6, 3),
        ["layer_type"] = "bottleneck",
        ["hidden_act"] = "relu",
        ["downsample_in_first_stage"] = false,
        ["downsample_in_bottleneck"] = false,
    };

    public ResNetConfig() : base(null, null, Defaults) { }

    public ResNetConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults) { }

    protected override int StageCount => Depths.Count;

    protected override void ValidateRanges()
    {
        base.ValidateRanges();
        CheckRange("num_channels", Get<long>("num_channels"), 1, MaxChannels);
        CheckRange("embedding_size", Get<long>("embedding_size"), 1, MaxWidth);
        var depths = CheckDepths();
        CheckList("hidden_sizes", 1, MaxWidth, depths.Count, depths.Count);
        if (Get<string>("layer_type") is not ("basic" or "bottleneck"))
            throw new ConfigException(Source, "layer_type", $"expected \"basic\" or \"bottleneck\", found {ConfigJson.Describe(Raw["layer_type"])}.");
        CheckActivation("hidden_act");
    }

    // Stem 7x7 convolution; a basic block is two 3x3 convolutions, a bottleneck 1x1, 3x3 and 1x1 at a quarter width.
    protected internal override double? EstimatedParameters
    {
        get
        {
            double embedding = EmbeddingSize, total = 49.0 * NumChannels * embedding, previous = embedding;
            bool basic = LayerType == "basic";
            foreach (var (depth, width) in Depths.Zip(HiddenSizes))
            {
                total += depth * (basic ? 18.0 : 1.0625) * width * width + previous * (double)width;
                previous = width;
            }
            return total;
        }
    }

    protected internal override IReadOnlyList<double> StageWidths => [EmbeddingSize, .. HiddenSizes.Select(w => (double)w)];

    protected internal override IReadOnlyList<string> SizeKeys => ["depths", "hidden_sizes", "embedding_size", "num_channels"];

    public int NumChannels { get => Get<int>("num_channels"); set => Set("num_channels", value); }
    public int EmbeddingSize { get => Get<int>("embedding_size"); set => Set("embedding_size", value); }
    public IReadOnlyList<int> HiddenSizes { get => Get<List<int>>("hidden_sizes")!; set => Set("hidden_sizes", value.ToList()); }
    public IReadOnlyList<int> Depths { get => Get<List<int>>("depths")!; set => Set("depths", value.ToList()); }
    /// <summary>"basic" (ResNet-18/34) or "bottleneck" (ResNet-50 and up).</summary>
    public string LayerType { get => Get<string>("layer_type")!; set => Set("layer_type", value); }
    public string HiddenAct { get => Get<string>("hidden_act")!; set => Set("hidden_act", value); }
    public bool DownsampleInFirstStage { get => Get<bool>("downsample_in_first_stage"); set => Set("downsample_in_first_stage", value); }
    public bool DownsampleInBottleneck { get => Get<bool>("downsample_in_bottleneck"); set => Set("downsample_in_bottleneck", value); }
}
