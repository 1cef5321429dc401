using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Detr;
using Microsoft.ML.Transformers.Tests.Models;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>DETR against the torch.nn reference of scripts/make_detr_fixtures.py (torchvision ResNet, nn.MultiheadAttention,
/// torchvision's generalized_box_iou, scipy's linear_sum_assignment), weights mapped to Hugging Face's keys.</summary>
[TestClass]
public class DetrTests
{
    internal static string Folder => TestPaths.Fixture("vision", "models", "detr");

    private static List<DetectionTarget> Labels(Goldens g) =>
        [new(g.Tensor("labels.0.class_labels"), g.Tensor("labels.0.boxes")), new(g.Tensor("labels.1.class_labels"), g.Tensor("labels.1.boxes"))];

    /// <summary>No unexpected key and none missing but num_batches_tracked (Hugging Face's frozen batch norm has none).</summary>
    private static void AssertEveryKeyLoaded(PreTrainedModel model)
    {
        var info = model.LoadingInfo!;
        Assert.AreEqual(0, info.UnexpectedKeys.Count, string.Join(", ", info.UnexpectedKeys));
        Assert.AreEqual(0, info.MissingKeys.Count(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)), string.Join(", ", info.MissingKeys));
    }

    [TestMethod]
    public void LogitsBoxesAndLossEqualTheTorchReference()
    {
        using var model = AutoModelForObjectDetection.FromPretrained(Folder);
        AssertEveryKeyLoaded(model);
        using var g = new Goldens("vision-detr");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values"), PixelMask = g.Tensor("pixel_mask"), DetectionLabels = Labels(g) });
        Goldens.AssertClose(o.EncoderLastHiddenState!, g.Tensor("encoder_last_hidden_state"), 1e-4, "encoder_last_hidden_state");
        Goldens.AssertClose(o.LastHiddenState!, g.Tensor("last_hidden_state"), 1e-4, "last_hidden_state");
        Goldens.AssertClose(o.Logits!, g.Tensor("logits"), 1e-4, "logits");
        Goldens.AssertClose(o.PredBoxes!, g.Tensor("pred_boxes"), 1e-4, "pred_boxes");
        Goldens.AssertClose(o.Loss!.reshape(1), g.Tensor("loss"), 1e-4, "loss");
        foreach (var part in new[] { "loss_ce", "loss_bbox", "loss_giou" })
            Goldens.AssertClose(o.LossDict![part].reshape(1), g.Tensor(part), 1e-4, part);

        var matches = DetrLoss.Match(o.Logits!, o.PredBoxes!, Labels(g), (DetrConfig)model.Config);
        for (int i = 0; i < 2; i++)
        {
            CollectionAssert.AreEqual(g.Tensor($"match.{i}.queries").data<long>().ToArray(), matches[i].queries.Select(x => (long)x).ToArray(), $"image {i} queries");
            CollectionAssert.AreEqual(g.Tensor($"match.{i}.targets").data<long>().ToArray(), matches[i].targets.Select(x => (long)x).ToArray(), $"image {i} targets");
        }
    }

    [TestMethod]
    public void PaddingDoesNotChangeAnImagesPredictions()
    {
        // The second golden image is 30x50 inside a 64x80 padded canvas; alone and unpadded its predictions differ
        // only through the backbone's receptive field at the border, so compare padded batch vs the same padded image alone.
        using var model = AutoModelForObjectDetection.FromPretrained(Folder);
        using var g = new Goldens("vision-detr");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var px = g.Tensor("pixel_values");
        var mask = g.Tensor("pixel_mask");
        var batch = model.Forward(new ModelInputs { PixelValues = px, PixelMask = mask });
        var alone = model.Forward(new ModelInputs { PixelValues = px[1..2], PixelMask = mask[1..2] });
        Goldens.AssertClose(alone.Logits!, batch.Logits![1..2], 1e-5, "logits of image 1 alone vs in the batch");
        var unmasked = model.Forward(new ModelInputs { PixelValues = px[1..2] });
        Assert.IsFalse(unmasked.Logits!.allclose(batch.Logits![1..2], 1e-4, 1e-4), "the pixel mask should change the predictions of a padded image");
    }

    [TestMethod]
    public void NestedBackboneConfigRoundTripsThroughSavePretrained()
    {
        var text = File.ReadAllText(Path.Combine(Folder, "config.json"));
        var config = AutoConfig.FromJson(text, "detr/config.json");
        var detr = (DetrConfig)config;
        Assert.AreEqual(ResNetConfig.Type, detr.BackboneConfig!.ModelType);
        var dir = Directory.CreateTempSubdirectory("detrcfg");
        try
        {
            config.SavePretrained(dir.FullName);
            Assert.AreEqual(text, File.ReadAllText(Path.Combine(dir.FullName, "config.json")));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [TestMethod]
    public void AUserRegisteredBackboneServesDetr()
    {
        TinyUserBackbone.Register();
        var config = new DetrConfig { DModel = 8, EncoderLayers = 1, DecoderLayers = 1, EncoderFfnDim = 16, DecoderFfnDim = 16, EncoderAttentionHeads = 2, DecoderAttentionHeads = 2, NumQueries = 4 };
        config.BackboneConfig = new TinyUserBackboneConfig(new System.Text.Json.Nodes.JsonObject { ["model_type"] = TinyUserBackboneConfig.Type, ["width"] = 5 });
        config.NumLabels = 2;
        using var model = AutoModelForObjectDetection.FromConfig(AutoConfig.FromJson(config.ToJsonString(), "user"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = model.Forward(new ModelInputs { PixelValues = randn(1, 3, 32, 32) });
        CollectionAssert.AreEqual(new long[] { 1, 4, 3 }, o.Logits!.shape);
        CollectionAssert.AreEqual(new long[] { 1, 4, 4 }, o.PredBoxes!.shape);
        Assert.IsTrue(model.named_parameters().Any(p => p.name == "model.backbone.conv_encoder.model.stage1.weight"));
    }

    [TestMethod]
    public void AUserRegisteredResNetBackboneGivesTheReferenceOutputs()
    {
        // A user model_type whose AutoBackbone factory builds the library's ResNet backbone: the DETR checkpoint,
        // re-labelled to that type, loads through the user's registration and gives the torch reference's outputs
        // (vision-detr goldens of make_detr_fixtures.py).
        const string userType = "detr-test-user-backbone";
        if (!AutoConfig.RegisteredModelTypes.Contains(userType)) AutoConfig.Register(userType, raw => new ResNetConfig(raw));
        AutoBackbone.Register(userType, c => new Microsoft.ML.Transformers.Models.ResNet.ResNetBackbone((ResNetConfig)c));
        var dir = Directory.CreateTempSubdirectory("detr-user").FullName;
        try
        {
            foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(Folder, f), Path.Combine(dir, f));
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            json["backbone_config"]!["model_type"] = userType;
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
            using var model = AutoModelForObjectDetection.FromPretrained(dir);
            Assert.AreEqual(userType, ((DetrConfig)model.Config).BackboneConfig!.ModelType);
            Assert.IsTrue(model.named_modules().Any(m => m.module is Microsoft.ML.Transformers.Models.ResNet.ResNetBackbone), "the user's factory built the backbone");
            AssertEveryKeyLoaded(model);
            using var g = new Goldens("vision-detr");
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values"), PixelMask = g.Tensor("pixel_mask") });
            Goldens.AssertClose(o.Logits!, g.Tensor("logits"), 1e-4, "logits through the user backbone");
            Goldens.AssertClose(o.PredBoxes!, g.Tensor("pred_boxes"), 1e-4, "pred_boxes through the user backbone");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void HungarianAssignmentIsOptimalAgainstBruteForce()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            int r = rng.Next(1, 6), c = rng.Next(1, 6);
            var cost = new double[r, c];
            for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) cost[i, j] = Math.Round(rng.NextDouble() * 10, trial % 2 == 0 ? 0 : 6);
            var (rows, cols) = LinearSumAssignment.Solve(cost);
            Assert.AreEqual(Math.Min(r, c), rows.Length);
            CollectionAssert.AreEqual(rows.Order().ToArray(), rows, "rows ascending");
            Assert.AreEqual(rows.Length, rows.Distinct().Count());
            Assert.AreEqual(cols.Length, cols.Distinct().Count());
            double got = rows.Select((row, k) => cost[row, cols[k]]).Sum();
            Assert.AreEqual(BruteForce(cost), got, 1e-9, $"trial {trial}: {r}x{c}");
        }
        Assert.ThrowsExactly<ArgumentException>(() => LinearSumAssignment.Solve(new double[,] { { 1, double.NaN } }));
        Assert.AreEqual(0, LinearSumAssignment.Solve(new double[0, 3]).rows.Length);
    }

    private static double BruteForce(double[,] cost)
    {
        int r = cost.GetLength(0), c = cost.GetLength(1);
        bool t = r > c;
        int n = t ? c : r, m = t ? r : c;
        double best = double.PositiveInfinity;
        void Go(int i, bool[] used, double acc)
        {
            if (i == n) { best = Math.Min(best, acc); return; }
            for (int j = 0; j < m; j++)
            {
                if (used[j]) continue;
                used[j] = true;
                Go(i + 1, used, acc + (t ? cost[j, i] : cost[i, j]));
                used[j] = false;
            }
        }
        Go(0, new bool[m], 0);
        return best;
    }
}

[TestClass]
public class DetrPartsTests
{
    [TestMethod]
    public void SinePositionEmbeddingAndBackboneMapEqualTheReference()
    {
        using var g = new Goldens("vision-detr");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var expected = g.Tensor("position_embedding");
        var mask = TorchSharp.torch.nn.functional.interpolate(g.Tensor("pixel_mask").unsqueeze(0).to(ScalarType.Float32), size: [expected.size(2), expected.size(3)])[0].to(ScalarType.Bool);
        Goldens.AssertClose(DetrConvModel.Sine(mask, expected.size(1) / 2), expected, 1e-5, "sine position embedding");

        using var model = AutoModelForObjectDetection.FromPretrained(DetrTests.Folder);
        var backbone = (BackboneModel)model.named_modules().First(m => m.name == "model.backbone.conv_encoder.model").module;
        Goldens.AssertClose(backbone.ForwardBackbone(g.Tensor("pixel_values")).FeatureMaps[^1], g.Tensor("feature_map"), 1e-4, "backbone feature map");
    }
}
