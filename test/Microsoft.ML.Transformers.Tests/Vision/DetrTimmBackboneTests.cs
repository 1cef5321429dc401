using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Detr;
using Microsoft.ML.Transformers.Tests.Models;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>DETR with <c>use_timm_backbone</c> (facebook/detr-resnet-50's config): timm's ResNet under its own key names,
/// against torchvision's ResNet (the layout timm keeps) in the torch.nn reference of make_detr_fixtures.py, made tiny with
/// the backbone_kwargs Hugging Face passes to timm.create_model, with and without dilation.</summary>
[TestClass]
public class DetrTimmBackboneTests
{
    private static string Folder(string name) => TestPaths.Fixture("vision", "models", name);

    [TestMethod]
    [DataRow("detr-timm-resnet18")]
    [DataRow("detr-timm-resnet50-dilation")]
    public void LogitsAndBoxesEqualTheReference(string name)
    {
        using var model = AutoModelForObjectDetection.FromPretrained(Folder(name));
        var info = model.LoadingInfo!;
        Assert.AreEqual(0, info.UnexpectedKeys.Count, string.Join(", ", info.UnexpectedKeys));
        Assert.AreEqual(0, info.MissingKeys.Count(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)), string.Join(", ", info.MissingKeys));
        using var g = new Goldens("vision-detr");
        using var t = new Goldens("vision-detr-timm");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var backbone = (BackboneModel)model.named_modules().First(m => m.name == "model.backbone.conv_encoder.model").module;
        Assert.IsInstanceOfType<TimmResNetBackbone>(backbone);
        Goldens.AssertClose(backbone.ForwardBackbone(g.Tensor("pixel_values")).FeatureMaps[^1], t.Tensor($"{name}/feature_map"), 1e-4, "last feature map");
        var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values"), PixelMask = g.Tensor("pixel_mask") });
        Goldens.AssertClose(o.Logits!, t.Tensor($"{name}/logits"), 1e-4, "logits");
        Goldens.AssertClose(o.PredBoxes!, t.Tensor($"{name}/pred_boxes"), 1e-4, "pred_boxes");

        // Hugging Face trains only layer2-4 of a timm ResNet, and no batch norm (frozen)
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        Assert.IsFalse(trainable.Contains("model.backbone.conv_encoder.model.conv1.weight"));
        Assert.IsFalse(trainable.Contains("model.backbone.conv_encoder.model.layer1.0.conv1.weight"));
        Assert.IsTrue(trainable.Contains("model.backbone.conv_encoder.model.layer2.0.conv1.weight"));
        Assert.IsFalse(trainable.Contains("model.backbone.conv_encoder.model.layer2.0.bn1.weight"));
        Assert.IsTrue(trainable.Contains("model.input_projection.weight"));
    }

    [TestMethod]
    public void FacebookDetrResNet50ConfigBuildsEveryWeightOfItsCheckpoint()
    {
        var file = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("vision", "detr-resnet-50-keys.json")))!;
        var config = AutoConfig.FromJson(file["config"]!.ToJsonString(), "detr-resnet-50 config.json");
        using var model = AutoModelForObjectDetection.FromConfig(config);
        var ours = model.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expected = file["weights"]!.AsObject();
        CollectionAssert.AreEquivalent(expected.Select(kv => kv.Key).ToArray(), ours.Keys.ToArray());
        foreach (var (key, shape) in expected)
            CollectionAssert.AreEqual(shape!.AsArray().Select(d => (long)d!).ToArray(), ours[key], key);
    }

    private static DetrConfig Timm(string backbone, JsonObject? kwargs = null)
    {
        var c = new DetrConfig { DModel = 8, EncoderLayers = 1, DecoderLayers = 1, EncoderFfnDim = 16, DecoderFfnDim = 16, EncoderAttentionHeads = 2, DecoderAttentionHeads = 2, NumQueries = 4 };
        c.BackboneConfig = null;
        c.UseTimmBackbone = true;
        c.Backbone = backbone;
        if (kwargs is not null) c.BackboneKwargs = kwargs;
        return (DetrConfig)AutoConfig.FromJson(c.ToJsonString(), "timm-test");
    }

    [TestMethod]
    public void WhatCannotBeBuiltIsNamed()
    {
        var e = Assert.ThrowsExactly<NotSupportedException>(() => AutoModelForObjectDetection.FromConfig(Timm("efficientnet_b0")));
        StringAssert.Contains(e.Message, "\"efficientnet_b0\"");
        StringAssert.Contains(e.Message, "resnet18, resnet34, resnet50, resnet101");
        StringAssert.Contains(e.Message, "backbone_config");
        e = Assert.ThrowsExactly<NotSupportedException>(() => AutoModelForObjectDetection.FromConfig(Timm("resnet18", new JsonObject { ["stem_type"] = "deep" })));
        StringAssert.Contains(e.Message, "backbone_kwargs.stem_type");
        var c = Assert.ThrowsExactly<ConfigException>(() => AutoModelForObjectDetection.FromConfig(Timm("resnet18", new JsonObject { ["output_stride"] = 4 })));
        StringAssert.Contains(c.Message, "output_stride");

        // a pretrained tag does not change the layout; out_indices (4,) gives the last stage alone
        using var model = AutoModelForObjectDetection.FromConfig(Timm("resnet18.a1_in1k", new JsonObject
        {
            ["layers"] = new JsonArray(1, 1, 1, 1), ["channels"] = new JsonArray(4, 4, 4, 8), ["stem_width"] = 4, ["out_indices"] = new JsonArray(4),
        }));
        var backbone = (BackboneModel)model.named_modules().First(m => m.name == "model.backbone.conv_encoder.model").module;
        CollectionAssert.AreEqual(new[] { 8 }, backbone.Channels.ToArray());
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        CollectionAssert.AreEqual(new long[] { 1, 8, 2, 2 }, backbone.ForwardBackbone(randn(1, 3, 64, 64)).FeatureMaps[0].shape);
    }
}
