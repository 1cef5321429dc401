using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>Missing and unexpected keys are reported as Hugging Face reports them, and the {model_type}. prefix of head
/// checkpoints is handled in both directions.</summary>
[TestClass]
public class LoadingReportTests
{
    [TestMethod]
    public void HeadFromBaseCheckpointReportsTheNewHeadWeights()
    {
        // bert-base holds "embeddings..." (no prefix, with a pooler); the classifier head is new.
        string? log = null;
        using var model = ModelRegistries.SequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-base"),
            new ModelLoadOptions { Log = m => log = m });
        CollectionAssert.AreEquivalent(new[] { "classifier.weight", "classifier.bias" }, model.LoadingInfo!.MissingKeys.ToArray());
        Assert.AreEqual(0, model.LoadingInfo.UnexpectedKeys.Count);
        StringAssert.Contains(log, "newly initialized: [classifier.weight, classifier.bias]");
        // the encoder weights did load: the base model's output through the head's encoder equals the base golden
        using var g = new Goldens("bert-base");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = model.Forward(new ModelInputs
        {
            InputIds = g.Tensor("input_ids"), AttentionMask = g.Tensor("attention_mask"), TokenTypeIds = g.Tensor("token_type_ids"),
            OutputHiddenStates = true,
        });
        Goldens.AssertClose(o.HiddenStates![^1], g.Tensor("last_hidden_state"), 1e-5, "encoder loaded through the prefix");
        // newly initialized weights follow HF's init: zero bias, small normal weights
        var bias = model.named_parameters().Single(p => p.name == "classifier.bias").parameter;
        Assert.AreEqual(0f, bias.abs().sum().item<float>());
    }

    [TestMethod]
    public void BaseFromHeadCheckpointReportsTheUnusedHeadWeights()
    {
        using var model = ModelRegistries.Base.FromPretrained(TestPaths.Fixture("models", "roberta-seqcls"));
        CollectionAssert.AreEquivalent(
            new[] { "classifier.dense.bias", "classifier.dense.weight", "classifier.out_proj.bias", "classifier.out_proj.weight" },
            model.LoadingInfo!.UnexpectedKeys.ToArray());
        // RobertaForSequenceClassification has no pooler: the base model's pooler is reported missing
        CollectionAssert.AreEquivalent(new[] { "pooler.dense.weight", "pooler.dense.bias" }, model.LoadingInfo.MissingKeys.ToArray());
    }

    [TestMethod]
    public void NaNOrInfiniteWeightsAreReportedByKey()
    {
        var dir = TempDir.Create();
        try
        {
            using (var model = ModelRegistries.SequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-seqcls")))
            {
                Assert.AreEqual(0, model.LoadingInfo!.NonFiniteKeys.Count);
                using var _ = no_grad();
                var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
                p["classifier.bias"][0] = float.NaN;
                p["bert.encoder.layer.1.output.dense.weight"][3, 2] = float.PositiveInfinity;
                model.SavePretrained(dir);
            }
            string? log = null;
            using var reloaded = ModelRegistries.SequenceClassification.FromPretrained(dir, new ModelLoadOptions { Log = m => log = m });
            CollectionAssert.AreEquivalent(new[] { "classifier.bias", "bert.encoder.layer.1.output.dense.weight" }, reloaded.LoadingInfo!.NonFiniteKeys.ToArray());
            StringAssert.Contains(log, "hold NaN or infinite values");
            Assert.IsFalse(log!.Contains("All weights were loaded"), log);
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void DropoutActsOnlyInTrainingMode()
    {
        using var model = ModelRegistries.SequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-seqcls"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var inputs = new ModelInputs { InputIds = tensor(new long[] { 2, 10, 11, 12, 3 }, [1, 5]) };
        var a = model.Forward(inputs).Logits!;
        var b = model.Forward(inputs).Logits!;
        Assert.AreEqual(0.0, Goldens.MaxAbsDiff(a, b, "eval"), "eval mode is deterministic");
        model.train();
        manual_seed(1);
        var c = model.Forward(inputs).Logits!;
        Assert.IsTrue(Goldens.MaxAbsDiff(c, a, "train") > 1e-4, "dropout changes outputs in training mode");
        model.eval();
        Assert.AreEqual(0.0, Goldens.MaxAbsDiff(model.Forward(inputs).Logits!, a, "eval again"));
    }
}
