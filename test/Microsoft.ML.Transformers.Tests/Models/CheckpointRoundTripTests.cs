using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
public class CheckpointRoundTripTests
{
    [TestMethod]
    [DynamicData(nameof(ModelParityTests.Cases), typeof(ModelParityTests))]
    public void SaveThenLoadGivesIdenticalOutputsAndFiles(string caseName)
    {
        var registry = ModelParityTests.RegistryFor(caseName);
        var a = TempDir.Create();
        var b = TempDir.Create();
        try
        {
            using var original = registry.FromPretrained(TestPaths.Fixture("models", caseName));
            original.SavePretrained(a);
            using var reloaded = registry.FromPretrained(a);
            reloaded.SavePretrained(b);

            Assert.AreEqual(0, reloaded.LoadingInfo!.MissingKeys.Count + reloaded.LoadingInfo.UnexpectedKeys.Count, reloaded.LoadingInfo.ToString());
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")),
                "weights file changes across a second save");
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(a, "config.json")), File.ReadAllBytes(Path.Combine(b, "config.json")),
                "config.json changes across a second save");
            // The checkpoint we write holds the same tensors under the same names as the one Hugging Face's layout gave us.
            using (var src = Microsoft.ML.Transformers.SafeTensors.SafeTensorsFile.Open(TestPaths.Fixture("models", caseName, "model.safetensors")))
            using (var ours = Microsoft.ML.Transformers.SafeTensors.SafeTensorsFile.Open(Path.Combine(a, "model.safetensors")))
            {
                CollectionAssert.AreEquivalent(src.Keys.ToArray(), ours.Keys.ToArray());
                foreach (var key in src.Keys)
                    Assert.IsTrue(src.GetBytes(key).SequenceEqual(ours.GetBytes(key)), $"{key} differs");
            }

            using var g = new Goldens(caseName);
            using var scope = NewDisposeScope();
            var inputs = new ModelInputs
            {
                InputIds = g.Tensor("input_ids"),
                AttentionMask = g.Tensor("attention_mask"),
                TokenTypeIds = g.TryTensor("token_type_ids"),
            };
            using var _ = no_grad();
            var x = original.Forward(inputs);
            var y = reloaded.Forward(inputs);
            var first = x.Logits ?? x.StartLogits ?? x.LastHiddenState!;
            var second = y.Logits ?? y.StartLogits ?? y.LastHiddenState!;
            Assert.AreEqual(0.0, Goldens.MaxAbsDiff(second, first, caseName), "outputs differ after a save/load round trip");
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }
}

internal static class TempDir
{
    public static string Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Copies a fixture folder (top level files and onnx/) into a fresh temp folder.</summary>
    public static string CopyOf(string folder)
    {
        var dir = Create();
        foreach (var f in Directory.GetFiles(folder)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }
}
