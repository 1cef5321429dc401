using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.UperNet;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>UperNetForSemanticSegmentation on ConvNeXt and Swin backbones against the reference of
/// scripts/make_upernet_fixtures.py (torch.nn UPerHead / FCNHead on torchvision's ConvNeXt / Swin, weights mapped):
/// logits, loss and label maps.</summary>
[TestClass]
public class UperNetTests
{
    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);

    [TestMethod]
    [DataRow("upernet-convnext")]
    [DataRow("upernet-swin")]
    public void LogitsLossAndLabelMapsEqualTheReference(string name)
    {
        using var model = AutoModelForSemanticSegmentation.FromPretrained(Model(name));
        Assert.IsInstanceOfType<UperNetForSemanticSegmentation>(model);
        Assert.AreEqual(0, model.LoadingInfo!.MissingKeys.Count, string.Join(", ", model.LoadingInfo.MissingKeys));
        Assert.AreEqual(0, model.LoadingInfo.UnexpectedKeys.Count, string.Join(", ", model.LoadingInfo.UnexpectedKeys));
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pixels = g.Tensor("pixel_values");
        var o = model.Forward(new ModelInputs { PixelValues = pixels });
        Assert.IsNull(o.Loss);
        Goldens.AssertClose(o.Logits!, g.Tensor("logits"), 1e-4, $"{name} logits");

        var withLabels = model.Forward(new ModelInputs { PixelValues = pixels, Labels = g.Tensor("labels") });
        Goldens.AssertClose(withLabels.Loss!.reshape(1), g.Tensor("loss"), 1e-4, $"{name} loss (main + 0.4 x auxiliary)");

        (int, int)[] targets = [(37, 53), (20, 11)];
        var fromReference = SemanticSegmentation.PostProcess(g.Tensor("logits"), targets);
        var fromOurs = SemanticSegmentation.PostProcess(o.Logits!, targets);
        for (int i = 0; i < targets.Length; i++)
        {
            var expected = g.Tensor($"segmentation/{i}").data<long>().Select(v => (int)v).ToArray();
            CollectionAssert.AreEqual(expected, fromReference[i].Data, $"{name} image {i}: post-processing of the reference logits");
            CollectionAssert.AreEqual(expected, fromOurs[i].Data, $"{name} image {i}: label map of our logits");
        }
    }

    [TestMethod]
    public void SavePretrainedRoundTripsConfigAndWeights()
    {
        using var model = AutoModelForSemanticSegmentation.FromPretrained(Model("upernet-swin"));
        var dir = Directory.CreateTempSubdirectory("upernet-save").FullName;
        try
        {
            model.SavePretrained(dir);
            var original = JsonNode.Parse(File.ReadAllText(Path.Combine(Model("upernet-swin"), "config.json")))!;
            var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            Assert.IsTrue(JsonNode.DeepEquals(original, saved), $"config.json changed:\n{saved.ToJsonString()}");
            using var again = AutoModelForSemanticSegmentation.FromPretrained(dir);
            Assert.AreEqual(0, again.LoadingInfo!.MissingKeys.Count + again.LoadingInfo.UnexpectedKeys.Count);
            using var g = new Goldens("vision-upernet-swin");
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            Goldens.AssertClose(again.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values") }).Logits!, g.Tensor("logits"), 1e-4, "reloaded logits");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void BadLabelsAndBackbonesAreRefused()
    {
        using var model = AutoModelForSemanticSegmentation.FromPretrained(Model("upernet-convnext"));
        using var scope = NewDisposeScope();
        var pixels = randn(1, 3, 32, 32);
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { PixelValues = pixels, Labels = zeros(1, 16, 16, ScalarType.Int64) }));
        StringAssert.Contains(e.Message, "[1, 32, 32]");
        var labels = zeros(1, 32, 32, ScalarType.Int64);
        labels[0, 3, 4] = tensor(7L);
        e = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { PixelValues = pixels, Labels = labels }));
        StringAssert.Contains(e.Message, "e.g. 7");
        labels[0, 3, 4] = tensor(255L); // loss_ignore_index is fine
        Assert.IsTrue(model.Forward(new ModelInputs { PixelValues = pixels, Labels = labels }).Loss!.item<float>() > 0);

        var config = (UperNetConfig)AutoConfig.FromPretrained(Model("upernet-convnext"));
        var backbone = (ConvNextConfig)config.BackboneConfig!;
        backbone.SetOutFeatures(["stage3", "stage4"]);
        config.BackboneConfig = backbone;
        var ce = Assert.ThrowsExactly<ConfigException>(() => AutoModelForSemanticSegmentation.FromConfig(config));
        StringAssert.Contains(ce.Message, "use_auxiliary_head");
        config.UseAuxiliaryHead = false;
        using var noAux = AutoModelForSemanticSegmentation.FromConfig(config);
        CollectionAssert.AreEqual(new long[] { 1, 5, 32, 32 }, noAux.Forward(new ModelInputs { PixelValues = pixels }).Logits!.shape);
    }

    [TestMethod]
    public void HeadOnAUserRegisteredBackbone()
    {
        // The backbone BackboneHeadConfigTests defines outside the library (stem + one stage), under a fresh UperNet
        // (trained in UperNetTrainingTests).
        using (var model = UperNetTrainingTests.Fresh(0, [1, 2]))
        {
            Assert.IsInstanceOfType<TinyUserBackbone>(model.Backbone);
            CollectionAssert.AreEqual(new[] { 4, 8 }, model.Backbone.Channels.ToArray());
            Assert.IsTrue(model.named_parameters().Any(p => p.name.StartsWith("backbone.stage1.", StringComparison.Ordinal)), "the user backbone's weights live under backbone.");
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            CollectionAssert.AreEqual(new long[] { 2, 3, 24, 40 }, model.Forward(new ModelInputs { PixelValues = randn(2, 3, 24, 40) }).Logits!.shape);
        }

        // A user model type whose factory builds the library's ConvNeXt backbone: the checkpoint then loads through the
        // user's registration and gives the reference's logits.
        const string userType = "upernet-test-user-convnext";
        if (!AutoConfig.RegisteredModelTypes.Contains(userType)) AutoConfig.Register(userType, raw => new ConvNextConfig(raw));
        AutoBackbone.Register(userType, c => new Microsoft.ML.Transformers.Models.ConvNext.ConvNextBackbone((ConvNextConfig)c));
        var dir = Directory.CreateTempSubdirectory("upernet-user").FullName;
        try
        {
            foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(Model("upernet-convnext"), f), Path.Combine(dir, f));
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            json["backbone_config"]!["model_type"] = userType;
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
            using var model = (UperNetForSemanticSegmentation)AutoModelForSemanticSegmentation.FromPretrained(dir);
            Assert.AreEqual(userType, model.Backbone.Config.ModelType);
            Assert.AreEqual(0, model.LoadingInfo!.MissingKeys.Count + model.LoadingInfo.UnexpectedKeys.Count);
            using var g = new Goldens("vision-upernet-convnext");
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            Goldens.AssertClose(model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values") }).Logits!, g.Tensor("logits"), 1e-4, "logits through the user backbone");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
