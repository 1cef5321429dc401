using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Models;
using Microsoft.ML.Transformers.Tests.Training;
using Microsoft.ML.Transformers.Training;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>
/// DETR fine-tuning through the Trainer: images of different sizes through DetrImageProcessor and
/// <see cref="ImageDataCollator"/> (padded pixel_values, pixel_mask, class_labels and boxes per image) against the plain
/// PyTorch loop of scripts/make_detr_train_fixtures.py (same weights, same batch, Hugging Face Trainer's AdamW, linear
/// schedule and clipping); and a short run on the seeded synthetic dataset of that script.
/// </summary>
[TestClass]
public class DetrTrainingTests
{
    private static string Toy => TestPaths.Fixture("vision", "detection-toy");

    /// <summary>The first <paramref name="count"/> images of the toy dataset through <paramref name="processor"/>, with their labels.</summary>
    internal static List<TrainingExample> ToyDataset(DetrImageProcessor processor, int count = int.MaxValue) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Toy, "annotations.json")))!["images"]!.AsArray().Take(count).Select(r => new TrainingExample
        {
            PixelValues = processor.Preprocess(RgbImage.Load(Path.Combine(Toy, r!["file"]!.GetValue<string>()))),
            DetectionLabels = new ObjectDetectionLabels(
                r["class_labels"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray(),
                r["boxes"]!.AsArray().SelectMany(b => b!.AsArray().Select(v => (float)v!.GetValue<double>())).ToArray()),
        }).ToList();

    [TestMethod]
    public void TwoTrainerStepsEqualThePyTorchLoop()
    {
        using var g = new Goldens("vision-detr-train");
        var a = JsonNode.Parse(g.Metadata["args"])!;
        var folder = TrainingFixtures.NoDropoutCopyOf(DetrTests.Folder);
        using var model = AutoModelForObjectDetection.FromPretrained(folder);
        var processor = (DetrImageProcessor)AutoImageProcessor.FromPretrained(folder);
        var data = ToyDataset(processor, 2);
        Assert.AreNotEqual((data[0].PixelValues!.Height, data[0].PixelValues!.Width), (data[1].PixelValues!.Height, data[1].PixelValues!.Width), "two sizes");

        // The collated batch is the reference processor's: padded pixels, pixel_mask, boxes re-normalized by the padded size.
        var collator = new ImageDataCollator(processor);
        using (var batch = collator.Collate(data, CPU))
        {
            Goldens.AssertClose(batch.Inputs.PixelValues!, g.Tensor("pixel_values"), 1e-5, "pixel_values");
            Goldens.AssertClose(batch.Inputs.PixelMask!, g.Tensor("pixel_mask"), 0, "pixel_mask");
            for (int i = 0; i < 2; i++)
            {
                Goldens.AssertClose(batch.Inputs.DetectionLabels![i].ClassLabels, g.Tensor($"labels.{i}.class_labels"), 0, $"class_labels {i}");
                Goldens.AssertClose(batch.Inputs.DetectionLabels[i].Boxes, g.Tensor($"labels.{i}.boxes"), 1e-7, $"boxes {i}");
            }
        }

        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("detr-train")) with
        {
            PerDeviceTrainBatchSize = 2,
            MaxSteps = a["max_steps"]!.GetValue<int>(),
            LearningRate = a["learning_rate"]!.GetValue<double>(),
            WeightDecay = a["weight_decay"]!.GetValue<double>(),
            MaxGradNorm = a["max_grad_norm"]!.GetValue<double>(),
            AdamBeta1 = a["adam_beta1"]!.GetValue<double>(),
            AdamBeta2 = a["adam_beta2"]!.GetValue<double>(),
            AdamEpsilon = a["adam_epsilon"]!.GetValue<double>(),
            LrSchedulerType = SchedulerType.Linear,
        };
        var recorder = new RecordingCallback();
        var snapshot = new FirstStepSnapshot();
        var trainer = new Trainer(model, args, data, dataCollator: collator, callbacks: [recorder, snapshot]);
        TrainingFixtures.Silence(trainer);
        trainer.Train();

        Assert.AreEqual(2, recorder.StepLosses.Count);
        for (int s = 0; s < 2; s++)
            Assert.AreEqual(g.Tensor($"loss.{s + 1}").item<float>(), recorder.StepLosses[s], 1e-4, $"loss of step {s + 1}");

        // Gradients after clipping, each tensor within 1e-4 of its largest value (plus 1e-8), and the weights after step 1. Adam's
        // first step moves a weight by lr * g / (|g| + eps), about lr * sign(g): where |g| is near eps (1e-8), the
        // rounding noise of the gradient decides the step (the attention key biases, whose true gradient is 0 as softmax
        // cancels them, the first decoder layer's self-attention queries and keys, whose values are all equal, and
        // weights the clipping scaled down), so weights with |g| < 1e-6 are held to 2 lr, all others to 1e-4.
        double lr = args.LearningRate, worstGrad = 0, worstWeight = 0;
        int noisy = 0, trained = 0, elements = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            var expectedGrad = g.Tensor($"grad/{name}").data<float>().ToArray();
            var weight = g.Tensor($"step1/{name}").data<float>().ToArray();
            if (!p.requires_grad)
            {
                Assert.IsTrue(expectedGrad.All(v => v == 0), $"{name} is frozen here but trained by the reference");
                Assert.IsFalse(snapshot.Gradients.ContainsKey(name), $"{name} is frozen but has a gradient");
                continue;
            }
            trained++;
            elements += expectedGrad.Length;
            var grad = snapshot.Gradients[name];
            var after = snapshot.Weights[name];
            double scale = expectedGrad.Max(v => Math.Abs((double)v)) + 1e-12;
            for (int i = 0; i < grad.Length; i++)
            {
                worstGrad = Math.Max(worstGrad, Math.Abs(grad[i] - expectedGrad[i]) / (scale + 1e-4));
                double d = Math.Abs(after[i] - weight[i]);
                if (Math.Abs(expectedGrad[i]) < 1e-6)
                {
                    noisy++;
                    Assert.IsTrue(d <= 2 * lr, $"{name}[{i}]: {after[i]} vs {weight[i]} (gradient ~0)");
                }
                else
                {
                    worstWeight = Math.Max(worstWeight, d);
                    Assert.IsTrue(d <= 1e-4, $"{name}[{i}] after step 1: {after[i]} vs {weight[i]}");
                }
            }
        }
        Assert.IsTrue(trained > 50, $"{trained} trained tensors");
        Console.WriteLine($"worst gradient difference {worstGrad:E2} (of each tensor's largest), worst weight difference {worstWeight:E2}, {noisy} of {elements} weights with |gradient| < 1e-6");
        Assert.IsTrue(worstGrad <= 1e-4, $"clipped gradients: worst difference {worstGrad:E2} of the tensor's largest");
        Assert.IsTrue(elements - noisy > elements / 3, $"only {elements - noisy} of {elements} weights held to 1e-4 (|gradient| >= 1e-6)");
    }

    [TestMethod]
    public void AuxiliaryLossEqualsTheReference()
    {
        // auxiliary_loss adds the loss of every earlier decoder layer's output (through the final LayerNorm and the same
        // heads), its parts named loss_ce_0, loss_bbox_0, ...
        using var g = new Goldens("vision-detr-train");
        var folder = TrainingFixtures.NoDropoutCopyOf(DetrTests.Folder);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        config["auxiliary_loss"] = true;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        using var model = AutoModelForObjectDetection.FromPretrained(folder);
        model.train();
        var processor = (DetrImageProcessor)AutoImageProcessor.FromPretrained(folder);
        using var scope = NewDisposeScope();
        using var batch = new ImageDataCollator(processor).Collate(ToyDataset(processor, 2), CPU);
        var o = model.Forward(batch.Inputs);
        Assert.AreEqual(g.Tensor("auxiliary_loss").item<float>(), o.Loss!.item<float>(), 1e-4, "loss with auxiliary_loss");
        Assert.IsTrue(o.LossDict!.ContainsKey("loss_giou_0") && !o.LossDict.ContainsKey("loss_giou_1"), string.Join(", ", o.LossDict.Keys));
        Assert.AreNotEqual(g.Tensor("loss.1").item<float>(), o.Loss.item<float>(), 1e-2, "the auxiliary part is not empty");
    }

    [TestMethod]
    public void FineTuningOnTheToyDatasetLowersTheLoss()
    {
        using var model = AutoModelForObjectDetection.FromPretrained(DetrTests.Folder);
        var processor = (DetrImageProcessor)AutoImageProcessor.FromPretrained(DetrTests.Folder);
        var data = ToyDataset(processor);
        var args = TrainingFixtures.QuietArgs(TrainingFixtures.TempDir("detr-toy")) with
        {
            PerDeviceTrainBatchSize = 4,
            MaxSteps = 100,
            LearningRate = 5e-3,
            LoggingSteps = 10,
            LrSchedulerType = SchedulerType.Constant,
        };
        var recorder = new RecordingCallback();
        var logs = new LogCollector();
        // The default collator of a pixel model is the ImageDataCollator (pads, pixel_mask, boxes).
        var trainer = new Trainer(model, args, data, callbacks: [recorder, logs]);
        TrainingFixtures.Silence(trainer);
        var result = trainer.Train();

        Assert.AreEqual(100, result.GlobalStep);
        Assert.AreEqual(100, recorder.Events.Count(e => e == "on_step_end"));
        var losses = logs.Logs.Where(l => l.ContainsKey("loss")).Select(l => l["loss"]).ToList();
        Assert.AreEqual(10, losses.Count, "on_log with a loss every 10 steps");
        Assert.IsTrue(recorder.StepLosses.All(double.IsFinite));
        double first = recorder.StepLosses.Take(10).Average(), last = recorder.StepLosses.TakeLast(10).Average();
        Console.WriteLine($"DETR toy: mean loss of steps 1-10 {first:F3}, of steps 91-100 {last:F3}; logged {string.Join(", ", losses)}");
        Assert.IsTrue(last < 0.8 * first, $"the loss should fall: {first:F3} -> {last:F3}");

        // Evaluation runs the same loss in eval mode over padded batches (logits [B, num_queries, num_labels + 1] kept).
        var metrics = trainer.Evaluate(data.Take(6).ToList());
        Assert.IsTrue(metrics["eval_loss"] > 0 && metrics["eval_loss"] < first, $"eval_loss {metrics["eval_loss"]}");
        var predictions = trainer.Predict(data.Take(6).ToList());
        CollectionAssert.AreEqual(new long[] { 6, 6, 4 }, predictions.Predictions.Shape);
    }

    [TestMethod]
    public void CollatorPadsAndRescalesBoxesAndRefusesBadExamples()
    {
        // A 2x4 image and a 4x2 image pad to 4x4; a box normalized by 2x4 is re-normalized by 4x4 (x by 4/4, y by 2/4).
        var wide = new PixelValues(Enumerable.Repeat(1f, 3 * 2 * 4).ToArray(), 1, 2, 4);
        var tall = new PixelValues(Enumerable.Repeat(2f, 3 * 4 * 2).ToArray(), 1, 4, 2);
        var data = new List<TrainingExample>
        {
            new() { PixelValues = wide, DetectionLabels = new([1], [0.5f, 0.5f, 0.5f, 1f]) },
            new() { PixelValues = tall, DetectionLabels = new([0, 2], [0.5f, 0.25f, 1f, 0.5f, 0.5f, 0.75f, 1f, 0.5f]) },
        };
        using (var batch = new ImageDataCollator().Collate(data, CPU))
        {
            CollectionAssert.AreEqual(new long[] { 2, 3, 4, 4 }, batch.Inputs.PixelValues!.shape);
            CollectionAssert.AreEqual(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, batch.Inputs.PixelMask![0].flatten().data<long>().ToArray());
            Assert.AreEqual(2f, batch.Inputs.PixelValues[1, 2, 3, 1].item<float>());
            Assert.AreEqual(0f, batch.Inputs.PixelValues[1, 2, 3, 2].item<float>());
            CollectionAssert.AreEqual(new[] { 0.5f, 0.25f, 0.5f, 0.5f }, batch.Inputs.DetectionLabels![0].Boxes.data<float>().ToArray());
            CollectionAssert.AreEqual(new[] { 0.25f, 0.25f, 0.5f, 0.5f, 0.25f, 0.75f, 0.5f, 0.5f }, batch.Inputs.DetectionLabels[1].Boxes.data<float>().ToArray());
            CollectionAssert.AreEqual(new long[] { 0, 2 }, batch.Inputs.DetectionLabels[1].ClassLabels.data<long>().ToArray());
        }
        using (var kept = new ImageDataCollator(updateBoxes: false).Collate(data, CPU))
            CollectionAssert.AreEqual(new[] { 0.5f, 0.5f, 0.5f, 1f }, kept.Inputs.DetectionLabels![0].Boxes.data<float>().ToArray());

        var collator = new ImageDataCollator();
        var e = Assert.ThrowsExactly<ArgumentException>(() => collator.Collate([data[0], new() { PixelValues = tall }], CPU));
        StringAssert.Contains(e.Message, "Example 1 has no detection labels");
        e = Assert.ThrowsExactly<ArgumentException>(() => collator.Collate([new() { PixelValues = wide, DetectionLabels = new([1, 2], [0.5f, 0.5f, 0.5f, 1f]) }], CPU));
        StringAssert.Contains(e.Message, "2 class_labels need 8 box values");
        e = Assert.ThrowsExactly<ArgumentException>(() => collator.Collate([new() { InputIds = [1, 2] }], CPU));
        StringAssert.Contains(e.Message, "Example 0 has no pixel_values");
        e = Assert.ThrowsExactly<ArgumentException>(() => new DataCollatorWithPadding().Collate([data[0]], CPU));
        StringAssert.Contains(e.Message, nameof(ImageDataCollator));
        // Without detection labels a batch is stacked, so its images need one size.
        e = Assert.ThrowsExactly<ArgumentException>(() => collator.Collate([new() { PixelValues = wide, Label = 0 }, new() { PixelValues = tall, Label = 1 }], CPU));
        StringAssert.Contains(e.Message, "2x4");
    }
}

/// <summary>The clipped gradients (on_pre_optimizer_step) and the weights (on_step_end) of the first optimizer step.</summary>
internal sealed class FirstStepSnapshot : TrainerCallback
{
    public Dictionary<string, float[]> Gradients { get; } = [];
    public Dictionary<string, float[]> Weights { get; } = [];

    private static float[] Host(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    public override void OnPreOptimizerStep(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e)
    {
        if (s.GlobalStep != 0) return;
        foreach (var (name, p) in e.Model.named_parameters())
            if (p.grad is { } g) Gradients[name] = Host(g);
    }

    public override void OnStepEnd(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e)
    {
        if (s.GlobalStep != 1) return;
        foreach (var (name, p) in e.Model.named_parameters()) Weights[name] = Host(p);
    }
}

/// <summary>Every on_log's logs.</summary>
internal sealed class LogCollector : TrainerCallback
{
    public List<IReadOnlyDictionary<string, double>> Logs { get; } = [];

    public override void OnLog(TrainingArguments a, TrainerState s, TrainerControl c, TrainerEventContext e) => Logs.Add(e.Logs!);
}
