using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>
/// ExportOnnx is all-or-nothing for its folder (AtomicFolder): a failure midway (an unsupported layer found while the
/// graph is written, a failure after model.onnx is written and before model_quantized.onnx is, a path that cannot be a
/// folder) leaves no folder, no empty onnx/ and no work folder behind, and an earlier export in the folder as it was.
/// </summary>
[TestClass]
public class OnnxExportAtomicTests
{
    private static PreTrainedModel Bert() => ModelRegistries.SequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-seqcls"));

    /// <summary>Fails once model.onnx is staged, as a quantization or disk failure would at the second graph.</summary>
    private static readonly OnnxExportOptions s_failAtQuantized = new()
    {
        Quantize = true,
        GraphWritten = path =>
        {
            if (path.EndsWith("model_quantized.onnx", StringComparison.Ordinal)) throw new IOException("No space left on device (simulated)");
        },
    };

    /// <summary>Every file under <paramref name="folder"/> (relative path -> bytes).</summary>
    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    [TestMethod]
    public void FailureAfterTheFirstGraphLeavesNothing()
    {
        using var dir = new TempFolder();
        using var model = Bert();
        string target = dir.File("out");
        var e = Assert.ThrowsExactly<IOException>(() => model.ExportOnnx(target, s_failAtQuantized));
        StringAssert.Contains(e.Message, "simulated");
        CollectionAssert.AreEqual(Array.Empty<string>(), dir.Entries(), "no folder, onnx/ or work folder is left");
    }

    [TestMethod]
    public void FailureMidwayKeepsTheEarlierExport()
    {
        using var dir = new TempFolder();
        using var model = Bert();
        string target = dir.File("out");
        model.ExportOnnx(target);
        var before = Snapshot(target);
        Assert.IsTrue(before.ContainsKey(Path.Combine("onnx", "model.onnx")));

        Assert.ThrowsExactly<IOException>(() => model.ExportOnnx(target, s_failAtQuantized));
        var after = Snapshot(target);
        CollectionAssert.AreEquivalent(before.Keys.ToArray(), after.Keys.ToArray(), "the same files, no staged ones");
        foreach (var (name, bytes) in before) CollectionAssert.AreEqual(bytes, after[name], name);
        Assert.AreEqual(1, dir.Entries().Length, "nothing beside the folder");
        Assert.IsFalse(Directory.EnumerateDirectories(target, "*", SearchOption.AllDirectories).Any(d => d.Contains(AtomicFolder.Marker)));

        // An fp32 export over an int8 one removes the older model_quantized.onnx (it would not match the new weights).
        model.ExportOnnx(target, new OnnxExportOptions { Quantize = true });
        Assert.IsTrue(File.Exists(Path.Combine(target, "onnx", "model_quantized.onnx")));
        model.ExportOnnx(target);
        Assert.IsFalse(File.Exists(Path.Combine(target, "onnx", "model_quantized.onnx")), "an fp32 export does not sit beside an older int8 graph");
    }

    [TestMethod]
    public void UnsupportedLayerFoundMidwayLeavesNothing()
    {
        using var dir = new TempFolder();
        using var model = Bert();
        ((BertLikeConfig)model.Config).HiddenAct = "bogus"; // the graph writer meets it at the first intermediate layer
        string target = dir.File("out");
        var e = Assert.ThrowsExactly<NotSupportedException>(() => model.ExportOnnx(target));
        StringAssert.Contains(e.Message, "hidden_act");
        StringAssert.Contains(e.Message, "bogus");
        CollectionAssert.AreEqual(Array.Empty<string>(), dir.Entries());
    }

    [TestMethod]
    public void PathThatCannotBeAFolderFailsAndWritesNothing()
    {
        using var dir = new TempFolder();
        using var model = Bert();
        File.WriteAllText(dir.File("file"), "x");
        Assert.ThrowsExactly<IOException>(() => model.ExportOnnx(Path.Combine(dir.File("file"), "out")));
        CollectionAssert.AreEqual(new[] { "file" }, dir.Entries());
        Assert.AreEqual("x", File.ReadAllText(dir.File("file")));
    }
}
