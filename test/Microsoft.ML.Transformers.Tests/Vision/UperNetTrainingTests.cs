using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.UperNet;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Training;
using Microsoft.ML.Transformers.Training;
using Microsoft.ML.Transformers.Vision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>
/// UperNet through the Trainer: per-pixel labels collated by <see cref="ImageDataCollator"/>, the loss (cross entropy
/// ignoring loss_ignore_index 255, plus auxiliary_loss_weight x the auxiliary head's) against the reference of
/// scripts/make_upernet_fixtures.py, and training a fresh UperNet on a user-registered backbone on a seeded dataset.
/// </summary>
[TestClass]
public class UperNetTrainingTests
{
    /// <summary>A fresh UperNet (pool scales 1, 2, 3, 6 unless given) on the two-map backbone of BackboneHeadConfigTests, 3 labels.</summary>
    internal static UperNetForSemanticSegmentation Fresh(int seed, int[]? poolScales = null)
    {
        TinyUserBackbone.Register();
        var config = new UperNetConfig
        {
            HiddenSize = 8,
            PoolScales = poolScales ?? [1, 2, 3, 6],
            UseAuxiliaryHead = false, // it reads a third feature map; this backbone has two
            BackboneConfig = AutoConfig.FromJsonObject(new JsonObject
            {
                ["model_type"] = TinyUserBackboneConfig.Type,
                ["out_features"] = new JsonArray("stem", "stage1"),
            }, "test"),
        };
        config.NumLabels = 3;
        manual_seed(seed);
        return (UperNetForSemanticSegmentation)AutoModelForSemanticSegmentation.FromConfig(config);
    }

    /// <summary>
    /// Seeded images of <paramref name="size"/> x <paramref name="size"/>: noise (class 0) with two rectangles of class
    /// 1 (reddish) or 2 (bluish); the first row and column are unlabelled (255).
    /// </summary>
    internal static List<TrainingExample> Shapes(int count, int seed, int size = 32)
    {
        var rng = new Random(seed);
        int plane = size * size;
        float[][] colours = [[0, 0, 0], [1f, -0.8f, -0.8f], [-0.8f, -0.6f, 1f]];
        var examples = new List<TrainingExample>();
        for (int n = 0; n < count; n++)
        {
            var px = new float[3 * plane];
            var labels = new long[plane];
            for (int i = 0; i < px.Length; i++) px[i] = (float)(rng.NextDouble() - 0.5) * 0.6f;
            for (int k = 0; k < 2; k++)
            {
                int c = 1 + rng.Next(2), h = rng.Next(6, 15), w = rng.Next(6, 15), y0 = rng.Next(size - h), x0 = rng.Next(size - w);
                for (int y = y0; y < y0 + h; y++)
                    for (int x = x0; x < x0 + w; x++)
                    {
                        labels[y * size + x] = c;
                        for (int ch = 0; ch < 3; ch++) px[ch * plane + y * size + x] += colours[c][ch];
                    }
            }
            for (int i = 0; i < size; i++) labels[i] = labels[i * size] = 255;
            examples.Add(new TrainingExample { PixelValues = new PixelValues(px, 1, size, size), PixelLabels = labels });
        }
        return examples;
    }

    private static bool AllFinite(nn.Module model) =>
        model.parameters().All(p => p.isfinite().all().item<bool>()) && model.buffers().All(b => !b.is_floating_point() || b.isfinite().all().item<bool>());

    [TestMethod]
    public void EvaluationLossThroughTheTrainerEqualsTheReference()
    {
        // The reference's loss on its two images: CE (ignore_index 255, ~20% of pixels) + 0.4 x the auxiliary head's CE.
        using var model = AutoModelForSemanticSegmentation.FromPretrained(TestPaths.Fixture("vision", "models", "upernet-convnext"));
        using var g = new Goldens("vision-upernet-convnext");
        var pixels = g.Tensor("pixel_values");
        var labels = g.Tensor("labels");
        long h = pixels.size(2), w = pixels.size(3);
        var data = Enumerable.Range(0, 2).Select(i => new TrainingExample
        {
            PixelValues = PixelValues.FromTensor(pixels[i..(i + 1)]),
            PixelLabels = labels[i].flatten().data<long>().ToArray(),
        }).ToList();
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("upernet-eval")) with { PerDeviceEvalBatchSize = 2 };
        var trainer = new Trainer(model, args, evalDataset: data);
        TrainingFixtures.Silence(trainer);
        var metrics = trainer.Evaluate();
        Assert.AreEqual(g.Tensor("loss").item<float>(), metrics["eval_loss"], 1e-4, "eval_loss");
        Assert.AreEqual(h * w, data[0].PixelLabels!.Length);
    }

    [TestMethod]
    public void AFreshUperNetOnAUserBackboneTrainsWithoutNaN()
    {
        using var model = Fresh(3);
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("upernet-train")) with
        {
            PerDeviceTrainBatchSize = 4,
            MaxSteps = 30,
            LearningRate = 1e-2,
            LoggingSteps = 5,
            LrSchedulerType = SchedulerType.Constant,
        };
        var recorder = new RecordingCallback();
        var logs = new LogCollector();
        var trainer = new Trainer(model, args, Shapes(12, seed: 11), callbacks: [recorder, logs]);
        TrainingFixtures.Silence(trainer);
        trainer.Train();

        Assert.AreEqual(30, recorder.StepLosses.Count);
        Assert.IsTrue(recorder.StepLosses.All(double.IsFinite), string.Join(", ", recorder.StepLosses));
        Assert.IsTrue(logs.Logs.Where(l => l.ContainsKey("loss")).All(l => double.IsFinite(l["loss"]) && double.IsFinite(l["grad_norm"])));
        double first = recorder.StepLosses.Take(5).Average(), last = recorder.StepLosses.TakeLast(5).Average();
        Console.WriteLine($"UperNet shapes: mean loss of steps 1-5 {first:F3}, of steps 26-30 {last:F3}");
        Assert.IsTrue(last < 0.6 * first, $"the loss should fall: {first:F3} -> {last:F3}");
        Assert.IsTrue(AllFinite(model), "weights and batch-norm statistics stay finite");

        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var test = Shapes(2, seed: 12);
        var o = model.Forward(new ModelInputs { PixelValues = tensor(test.SelectMany(e => e.PixelValues!.Data).ToArray(), [2, 3, 32, 32]) });
        Assert.IsTrue(o.Logits!.isfinite().all().item<bool>(), "eval-mode logits");
    }

    [TestMethod]
    public void OneValuePerBatchNormChannelIsRefusedInTraining()
    {
        // Batch 1 through the pyramid pooling's scale 1 gives each batch norm one value per channel. PyTorch (and so
        // Hugging Face) raises; libtorch alone would set running_var to NaN (variance / (n - 1)), and every eval-mode
        // forward after that would be NaN.
        using (var bn = nn.BatchNorm2d(2))
        using (var scope = NewDisposeScope())
        {
            bn.train();
            bn.forward(randn(1, 2, 1, 1));
            Assert.IsTrue(bn.running_var!.isnan().all().item<bool>(), "libtorch's own batch norm: running_var NaN after one value per channel");
        }

        using var model = Fresh(5);
        var one = Shapes(1, seed: 13);
        using (var scope = NewDisposeScope())
        {
            var inputs = new ModelInputs { PixelValues = one[0].PixelValues!.ToTensor(), Labels = tensor(one[0].PixelLabels!, [1, 32, 32]) };
            model.train();
            var e = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(inputs));
            StringAssert.Contains(e.Message, "Expected more than 1 value per channel when training, got input size [1, 8, 1, 1]");
            Assert.IsTrue(AllFinite(model), "nothing was updated with NaN");
            model.eval();
            Assert.IsTrue(float.IsFinite(model.Forward(inputs).Loss!.item<float>()), "eval mode uses the running statistics");
        }

        // Through the Trainer: 5 examples in batches of 2 leave a last batch of one; dataloader_drop_last skips it.
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("upernet-last")) with { PerDeviceTrainBatchSize = 2, NumTrainEpochs = 1 };
        var trainer = new Trainer(model, args, Shapes(5, seed: 14));
        TrainingFixtures.Silence(trainer);
        Assert.ThrowsExactly<ArgumentException>(() => trainer.Train());
        trainer = new Trainer(model, args with { DataloaderDropLast = true }, Shapes(5, seed: 14));
        TrainingFixtures.Silence(trainer);
        Assert.AreEqual(2, trainer.Train().GlobalStep);
        Assert.IsTrue(AllFinite(model));
    }

    [TestMethod]
    public void ABatchWithEveryPixelIgnoredHasANaNLossAndZeroGradientsAsHuggingFace()
    {
        // CrossEntropyLoss(ignore_index=255) averages over the labelled pixels; with none it is 0 / 0 = NaN in PyTorch
        // (and so in Hugging Face), and every gradient is 0. The Trainer's logging_nan_inf_filter keeps its logs finite.
        using var model = Fresh(7);
        model.train();
        var data = Shapes(2, seed: 15).Select(e => e with { PixelLabels = Enumerable.Repeat(255L, 32 * 32).ToArray() }).ToList();
        using (var scope = NewDisposeScope())
        using (var batch = new ImageDataCollator().Collate(data, CPU))
        {
            var loss = model.Forward(batch.Inputs).Loss!;
            Assert.IsTrue(float.IsNaN(loss.item<float>()), "loss over no labelled pixel");
            loss.backward();
            foreach (var (name, p) in model.named_parameters())
                Assert.IsTrue(p.grad is null || p.grad.eq(0).all().item<bool>(), $"{name}: gradient should be 0");
            model.zero_grad();
        }
        var mixed = Shapes(4, seed: 16).Concat(data).ToList(); // with batch 2 and no shuffling luck needed: 2 of 3 batches are labelled
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("upernet-ignored")) with { PerDeviceTrainBatchSize = 2, NumTrainEpochs = 2, LoggingSteps = 1 };
        var logs = new LogCollector();
        var trainer = new Trainer(model, args, mixed, callbacks: [logs]);
        TrainingFixtures.Silence(trainer);
        var result = trainer.Train();
        Assert.IsTrue(double.IsFinite(result.TrainingLoss), $"train_loss {result.TrainingLoss}");
        Assert.IsTrue(AllFinite(model));
    }
}
