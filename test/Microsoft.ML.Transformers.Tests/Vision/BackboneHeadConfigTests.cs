using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>A head config with no default backbone, so "neither given" can be seen (DETR and UperNet default to ResNet).</summary>
internal sealed class PlainHeadConfig : BackboneHeadConfig
{
    public const string Type = "test-backbone-head";
    private static readonly JsonObject Defaults = new() { ["model_type"] = Type };

    public PlainHeadConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults, null) { }

    public static void Register() => AutoConfig.Register(Type, raw => new PlainHeadConfig(raw), replace: true);
}

/// <summary>A backbone defined outside the library: a stem conv and one stride-2 conv stage.</summary>
internal sealed class TinyUserBackboneConfig : VisionBackboneConfig
{
    public const string Type = "tiny-user-backbone";
    private static readonly JsonObject Defaults = new() { ["model_type"] = Type, ["width"] = 4 };

    public TinyUserBackboneConfig(JsonObject raw, string? source = null) : base(raw, source, Defaults) { }

    protected override int StageCount => 1;
    public int Width => Get<int>("width");
}

internal sealed class TinyUserBackbone : BackboneModel
{
    private readonly Conv2d stem;
    private readonly Conv2d stage1;

    public TinyUserBackbone(TinyUserBackboneConfig config) : base(config)
    {
        register_module("stem", stem = nn.Conv2d(3, config.Width, 3, stride: 2, padding: 1));
        register_module("stage1", stage1 = nn.Conv2d(config.Width, 2 * config.Width, 3, stride: 2, padding: 1));
        NumFeatures = [config.Width, 2 * config.Width];
    }

    public override string BaseModelPrefix => "tiny";
    public override string MainInputName => "pixel_values";
    public override IReadOnlyList<int> NumFeatures { get; }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var s = stem.forward(inputs.PixelValues!);
        return new ModelOutput { FeatureMaps = Select([s, stage1.forward(s)]) };
    }

    public static void Register()
    {
        AutoConfig.Register(TinyUserBackboneConfig.Type, raw => new TinyUserBackboneConfig(raw), replace: true);
        AutoBackbone.Register(TinyUserBackboneConfig.Type, c => new TinyUserBackbone((TinyUserBackboneConfig)c));
    }
}

[TestClass]
public class BackboneHeadConfigTests
{
    private static readonly string ResNetFolder = TestPaths.Fixture("vision", "models", "resnet-basic");

    // As Hugging Face writes it (json.dumps(indent=2, sort_keys=True)), the nested config included.
    private const string NestedConfig = """
        {
          "backbone": null,
          "backbone_config": {
            "depths": [
              1,
              1
            ],
            "embedding_size": 8,
            "hidden_sizes": [
              8,
              16
            ],
            "layer_type": "basic",
            "model_type": "resnet",
            "out_features": [
              "stage1",
              "stage2"
            ],
            "out_indices": [
              1,
              2
            ]
          },
          "backbone_kwargs": null,
          "model_type": "test-backbone-head",
          "some_unknown_key": 0.1,
          "use_pretrained_backbone": false,
          "use_timm_backbone": false
        }

        """;

    [ClassInitialize]
    public static void Init(TestContext _)
    {
        PlainHeadConfig.Register();
        TinyUserBackbone.Register();
    }

    private static PlainHeadConfig Read(string json) => (PlainHeadConfig)AutoConfig.FromJson(json, "head/config.json");

    private static PlainHeadConfig Read(JsonObject keys) => Read(keys.ToJsonString());

    [TestMethod]
    public void NestedBackboneConfigRoundTripsThroughSavePretrained()
    {
        var dir = Directory.CreateTempSubdirectory("bbcfg");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), NestedConfig.ReplaceLineEndings("\n"));
            var config = AutoConfig.FromPretrained<PlainHeadConfig>(dir.FullName);
            var backbone = (ResNetConfig)config.BackboneConfig!;
            CollectionAssert.AreEqual(new[] { 8, 16 }, backbone.HiddenSizes.ToArray());
            CollectionAssert.AreEqual(new[] { "stage1", "stage2" }, backbone.OutFeatures.ToArray());
            Assert.AreEqual(3, backbone.NumChannels, "a key the nested object lacks reads as the backbone class's default");

            var saved = Path.Combine(dir.FullName, "saved");
            config.SavePretrained(saved);
            Assert.AreEqual(NestedConfig.ReplaceLineEndings("\n"), File.ReadAllText(Path.Combine(saved, "config.json"), Encoding.UTF8));

            // A change made through the nested config is part of the head's file.
            backbone.SetOutIndices([2]);
            config.SavePretrained(saved);
            var reread = AutoConfig.FromPretrained<PlainHeadConfig>(saved);
            CollectionAssert.AreEqual(new[] { "stage2" }, ((ResNetConfig)reread.BackboneConfig!).OutFeatures.ToArray());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [TestMethod]
    public void NestedConfigErrorsNameTheKeyUnderBackboneConfig()
    {
        var bad = JsonNode.Parse(NestedConfig)!.AsObject();
        bad["backbone_config"]!["depths"] = "two";
        var e = Assert.ThrowsExactly<ConfigException>(() => Read(bad));
        Assert.AreEqual("backbone_config.depths", e.Key);
        StringAssert.Contains(e.Message, "head/config.json");

        bad = JsonNode.Parse(NestedConfig)!.AsObject();
        bad["backbone_config"]!["model_type"] = "no-such-backbone";
        e = Assert.ThrowsExactly<ConfigException>(() => Read(bad));
        Assert.AreEqual("backbone_config.model_type", e.Key);

        bad = JsonNode.Parse(NestedConfig)!.AsObject();
        bad["backbone_config"]!["out_features"] = new JsonArray("stage9");
        bad["backbone_config"]!.AsObject().Remove("out_indices");
        e = Assert.ThrowsExactly<ConfigException>(() => Read(bad));
        Assert.AreEqual("backbone_config.out_features", e.Key);

        bad = JsonNode.Parse(NestedConfig)!.AsObject();
        bad["backbone_config"] = 3;
        e = Assert.ThrowsExactly<ConfigException>(() => Read(bad));
        Assert.AreEqual("backbone_config", e.Key);
    }

    [TestMethod]
    public void ContradictoryKeysFailAsHuggingFaceDoes()
    {
        var both = JsonNode.Parse(NestedConfig)!.AsObject();
        both["backbone"] = ResNetFolder;
        var e = Assert.ThrowsExactly<ConfigException>(() => Read(both));
        StringAssert.Contains(e.Message, "You can't specify both `backbone` and `backbone_config`.");

        var timm = JsonNode.Parse(NestedConfig)!.AsObject();
        timm["use_timm_backbone"] = true;
        e = Assert.ThrowsExactly<ConfigException>(() => Read(timm));
        StringAssert.Contains(e.Message, "You can't specify both `backbone_config` and `use_timm_backbone`.");

        var kwargs = JsonNode.Parse(NestedConfig)!.AsObject();
        kwargs["backbone_kwargs"] = new JsonObject { ["out_indices"] = new JsonArray(1) };
        e = Assert.ThrowsExactly<ConfigException>(() => Read(kwargs));
        StringAssert.Contains(e.Message, "You can't specify both `backbone_kwargs` and `backbone_config`.");

        var neither = Read(new JsonObject { ["model_type"] = PlainHeadConfig.Type });
        Assert.IsNull(neither.BackboneConfig);
        e = Assert.ThrowsExactly<ConfigException>(() => AutoBackbone.LoadBackbone(neither));
        StringAssert.Contains(e.Message, "Either config.backbone_config or config.backbone must be set");

        var pretrainedWithoutFolder = JsonNode.Parse(NestedConfig)!.AsObject();
        pretrainedWithoutFolder["use_pretrained_backbone"] = true;
        e = Assert.ThrowsExactly<ConfigException>(() => AutoBackbone.LoadBackbone(Read(pretrainedWithoutFolder)));
        StringAssert.Contains(e.Message, "config.backbone must be set if use_pretrained_backbone is True");

        var timmFolder = Read(new JsonObject { ["model_type"] = PlainHeadConfig.Type, ["backbone"] = "resnet50", ["use_timm_backbone"] = true });
        var ns = Assert.ThrowsExactly<NotSupportedException>(() => AutoBackbone.LoadBackbone(timmFolder));
        StringAssert.Contains(ns.Message, "use_timm_backbone");

        var missing = Read(new JsonObject { ["model_type"] = PlainHeadConfig.Type, ["backbone"] = "no/such/folder", ["use_pretrained_backbone"] = true });
        e = Assert.ThrowsExactly<ConfigException>(() => AutoBackbone.LoadBackbone(missing));
        Assert.AreEqual("backbone", e.Key);
        StringAssert.Contains(e.Message, "no/such/folder");
    }

    [TestMethod]
    public void BackboneFolderWithUsePretrainedLoadsItsWeightsAndKwargs()
    {
        var config = Read(new JsonObject
        {
            ["model_type"] = PlainHeadConfig.Type,
            ["backbone"] = ResNetFolder,
            ["use_pretrained_backbone"] = true,
            ["backbone_kwargs"] = new JsonObject { ["out_indices"] = new JsonArray(2, 4) },
        });
        using var scope = NewDisposeScope();
        using var loaded = AutoBackbone.LoadBackbone(config);
        using var reference = AutoBackbone.FromPretrained(ResNetFolder, outIndices: [2, 4]);
        CollectionAssert.AreEqual(new[] { "stage2", "stage4" }, loaded.OutFeatures.ToArray());
        var x = randn(1, 3, 32, 32, generator: new TorchSharp.torch.Generator(7));
        using (no_grad())
        {
            var a = loaded.ForwardBackbone(x).FeatureMaps;
            var b = reference.ForwardBackbone(x).FeatureMaps;
            Assert.AreEqual(2, a.Count);
            for (int i = 0; i < 2; i++) Assert.IsTrue(a[i].equal(b[i]).all().item<bool>(), $"feature map {i} differs from the checkpoint's backbone");
        }

        // Without use_pretrained_backbone the folder gives only the config: same shapes, fresh weights.
        config.UsePretrainedBackbone = false;
        using var fresh = AutoBackbone.LoadBackbone(config);
        CollectionAssert.AreEqual(new[] { "stage2", "stage4" }, fresh.OutFeatures.ToArray());
        using (no_grad())
        {
            var a = fresh.ForwardBackbone(x).FeatureMaps;
            var b = reference.ForwardBackbone(x).FeatureMaps;
            CollectionAssert.AreEqual(b[1].shape, a[1].shape);
            Assert.IsFalse(a[1].allclose(b[1]), "weights should not come from the checkpoint without use_pretrained_backbone");
        }
    }

    [TestMethod]
    public void AUserRegisteredBackboneIsBuiltFromBackboneConfig()
    {
        var config = Read(new JsonObject
        {
            ["model_type"] = PlainHeadConfig.Type,
            ["backbone_config"] = new JsonObject { ["model_type"] = TinyUserBackboneConfig.Type, ["width"] = 3, ["out_features"] = new JsonArray("stem", "stage1") },
        });
        Assert.IsInstanceOfType<TinyUserBackboneConfig>(config.BackboneConfig);
        using var backbone = AutoBackbone.LoadBackbone(config);
        Assert.IsInstanceOfType<TinyUserBackbone>(backbone);
        CollectionAssert.AreEqual(new[] { 3, 6 }, backbone.Channels.ToArray());
        using var scope = NewDisposeScope();
        var maps = backbone.ForwardBackbone(zeros(2, 3, 16, 16)).FeatureMaps;
        CollectionAssert.AreEqual(new long[] { 2, 6, 4, 4 }, maps[1].shape);
    }
}
