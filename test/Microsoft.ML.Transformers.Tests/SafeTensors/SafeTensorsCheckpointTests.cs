using System.Text.Json;
using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.SafeTensors;

[TestClass]
public class SafeTensorsCheckpointTests
{
    private static SafeTensorEntry F32(string name, int n, float start) =>
        new(name, SafeTensorDType.F32, [n], Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes(start + i)).ToArray());

    /// <summary>The fixture is laid out as transformers' save_pretrained lays out a sharded checkpoint.</summary>
    [TestMethod]
    public void ReadsShardedFixture()
    {
        var folder = TestPaths.Fixture("io", "sharded");
        using var ckpt = SafeTensorsCheckpoint.Open(folder);
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "expected.json"))).RootElement;
        Assert.AreEqual(Path.Combine(Path.GetFullPath(folder), "model.safetensors.index.json"), ckpt.IndexPath);
        Assert.HasCount(2, ckpt.Files);
        Assert.AreEqual(184, ckpt.IndexMetadata["total_size"].GetInt64());
        CollectionAssert.AreEquivalent(expected.EnumerateObject().Select(p => p.Name).ToArray(), ckpt.Keys.ToArray());
        foreach (var p in expected.EnumerateObject())
        {
            var info = ckpt.Get(p.Name);
            CollectionAssert.AreEqual(p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), info.Shape);
            var want = p.Value.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            CollectionAssert.AreEqual(want, TensorDecoding.ToDoubles(ckpt.GetBytes(p.Name), info.DType), p.Name);
        }
        Assert.AreEqual("model-00002-of-00002.safetensors",
            Path.GetFileName(ckpt.FileOf("encoder.layer.0.attention.self.query.bias").Path));
    }

    [TestMethod]
    public void ShardedRoundTripFollowsHuggingFaceLayout()
    {
        using var tmp = new TempFolder();
        // 16 + 16 bytes fit a 40-byte shard; 16 more tips it over; 48 alone exceeds the limit and stands alone.
        SafeTensorEntry[] entries = [F32("a", 4, 0), F32("b", 4, 10), F32("c", 4, 20), F32("huge", 12, 30), F32("d", 2, 50)];
        var written = SafeTensorsWriter.WriteSharded(tmp.Path, entries, maxShardBytes: 40, new Dictionary<string, string> { ["format"] = "pt" });

        CollectionAssert.AreEqual(new[]
        {
            "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors", "model.safetensors.index.json",
        }, tmp.Entries());
        Assert.HasCount(4, written);

        var index = JsonDocument.Parse(File.ReadAllText(tmp.File("model.safetensors.index.json"))).RootElement;
        Assert.AreEqual(16 * 3 + 48 + 8, index.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.GetProperty("weight_map");
        // Shard order follows huggingface_hub: [a,b] closed when c tips it, [huge] appended on its own, then [c,d].
        Assert.AreEqual("model-00001-of-00003.safetensors", map.GetProperty("a").GetString());
        Assert.AreEqual("model-00001-of-00003.safetensors", map.GetProperty("b").GetString());
        Assert.AreEqual("model-00002-of-00003.safetensors", map.GetProperty("huge").GetString());
        Assert.AreEqual("model-00003-of-00003.safetensors", map.GetProperty("c").GetString());
        Assert.AreEqual("model-00003-of-00003.safetensors", map.GetProperty("d").GetString());
        // Index text in json.dumps(indent=2, sort_keys=True) form.
        StringAssert.StartsWith(File.ReadAllText(tmp.File("model.safetensors.index.json")),
            "{\n  \"metadata\": {\n    \"total_size\": 104\n  },\n  \"weight_map\": {\n    \"a\": \"model-00001-of-00003.safetensors\",");

        using var ckpt = SafeTensorsCheckpoint.Open(tmp.Path);
        Assert.HasCount(5, ckpt.Keys.ToList());
        foreach (var e in entries)
        {
            CollectionAssert.AreEqual(e.Data.ToArray(), ckpt.GetBytes(e.Name).ToArray(), e.Name);
            Assert.IsTrue(ckpt.Contains(e.Name));
        }
        Assert.AreEqual("pt", ckpt.Files[0].Metadata["format"]);
        Assert.AreEqual(30f, ckpt.GetSpan<float>("huge")[0]);
    }

    [TestMethod]
    public void SingleShardIsPlainModelFileAndReplacesOldShards()
    {
        using var tmp = new TempFolder();
        SafeTensorsWriter.WriteSharded(tmp.Path, [F32("a", 4, 0), F32("b", 4, 0)], maxShardBytes: 16);
        Assert.HasCount(3, tmp.Entries());

        SafeTensorsWriter.WriteSharded(tmp.Path, [F32("a", 4, 1), F32("b", 4, 2)], maxShardBytes: 1 << 20);
        CollectionAssert.AreEqual(new[] { "model.safetensors" }, tmp.Entries());
        using (var ckpt = SafeTensorsCheckpoint.Open(tmp.Path))
        {
            Assert.IsNull(ckpt.IndexPath);
            Assert.AreEqual(2f, ckpt.GetSpan<float>("b")[0]);
        }

        // And back to shards: the stale single file must go, or Open would prefer it.
        SafeTensorsWriter.WriteSharded(tmp.Path, [F32("a", 4, 5), F32("b", 4, 6)], maxShardBytes: 16);
        Assert.IsFalse(File.Exists(tmp.File("model.safetensors")));
        using (var ckpt = SafeTensorsCheckpoint.Open(tmp.Path))
        {
            Assert.AreEqual(6f, ckpt.GetSpan<float>("b")[0]);
        }
    }

    [TestMethod]
    public void OpensSingleFileByFolderOrPath()
    {
        using var tmp = new TempFolder();
        SafeTensorsWriter.Write(tmp.File("model.safetensors"), [F32("x", 2, 1)]);
        using (var byFolder = SafeTensorsCheckpoint.Open(tmp.Path))
        {
            CollectionAssert.AreEqual(new[] { "x" }, byFolder.Keys.ToArray());
        }
        using var byPath = SafeTensorsCheckpoint.Open(tmp.File("model.safetensors"));
        Assert.AreEqual(2f, byPath.GetSpan<float>("x")[1]);
        var ex = Assert.ThrowsExactly<KeyNotFoundException>(() => byPath.Get("y"));
        StringAssert.Contains(ex.Message, "'y'");
        StringAssert.Contains(ex.Message, tmp.File("model.safetensors"));
    }

    [TestMethod]
    public void MissingWeightsNameFolderAndBothFiles()
    {
        using var tmp = new TempFolder();
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(ex.Message, tmp.Path);
        StringAssert.Contains(ex.Message, "model.safetensors'");
        StringAssert.Contains(ex.Message, "model.safetensors.index.json");
    }

    [TestMethod]
    public void BrokenIndexesAreReported()
    {
        using var tmp = new TempFolder();
        SafeTensorsWriter.WriteSharded(tmp.Path, [F32("a", 4, 0), F32("b", 4, 0)], maxShardBytes: 16);
        var index = tmp.File("model.safetensors.index.json");
        var good = File.ReadAllText(index);

        File.WriteAllText(index, good.Replace("\"b\": \"model-00002", "\"zz\": \"model-00002"));
        var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(ex.Message, "'zz'");
        StringAssert.Contains(ex.Message, "model-00002-of-00002.safetensors");
        StringAssert.Contains(ex.Message, index);

        File.WriteAllText(index, good.Replace("model-00002-of-00002", "model-00009-of-00009"));
        var missing = Assert.ThrowsExactly<FileNotFoundException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(missing.Message, "model-00009-of-00009.safetensors");
        StringAssert.Contains(missing.Message, index);

        File.WriteAllText(index, "{\n  \"weight_map\": {\n    \"a\": 3\n  }\n}\n");
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(ex.Message, "weight_map.a");
        StringAssert.Contains(ex.Message, "found a number");

        File.WriteAllText(index, "{\"weight_map\": {\"a\": ");
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(ex.Message, "not valid JSON");
        StringAssert.Contains(ex.Message, "line 1");

        File.WriteAllText(index, "{\"weight_map\": {\"a\": \"../escape.safetensors\"}}");
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
        StringAssert.Contains(ex.Message, "inside the checkpoint folder");
    }
}
