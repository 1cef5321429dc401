using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
public class ModelBadInputTests
{
    private static string Fixture => TestPaths.Fixture("models", "bert-seqcls");

    private static Exception LoadFails(Action<string> corrupt)
    {
        var dir = TempDir.CopyOf(Fixture);
        try
        {
            corrupt(dir);
            try
            {
                AutoModelForSequenceClassification.FromPretrained(dir).Dispose();
            }
            catch (Exception e)
            {
                return e;
            }
            Assert.Fail("loading the corrupted checkpoint succeeded");
            return null!;
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void MissingConfigNamesThePath()
    {
        var e = LoadFails(d => File.Delete(Path.Combine(d, "config.json")));
        Assert.IsInstanceOfType<FileNotFoundException>(e);
        StringAssert.Contains(e.Message, "config.json");
    }

    [TestMethod]
    public void MalformedConfigNamesTheFile()
    {
        var e = LoadFails(d => File.WriteAllText(Path.Combine(d, "config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 32,,}"));
        StringAssert.Contains(e.Message, "config.json");
    }

    [TestMethod]
    public void UnknownModelTypeNamesIt()
    {
        var e = LoadFails(d => EditConfig(d, c => c["model_type"] = "no-such-model"));
        StringAssert.Contains(e.Message, "no-such-model");
    }

    [TestMethod]
    public void TruncatedSafetensorsIsReported()
    {
        var e = LoadFails(d =>
        {
            var p = Path.Combine(d, "model.safetensors");
            var bytes = File.ReadAllBytes(p);
            File.WriteAllBytes(p, bytes[..(bytes.Length / 2)]);
        });
        StringAssert.Contains(e.Message, "model.safetensors");
    }

    [TestMethod]
    public void HeaderOffsetOutOfBoundsIsReported()
    {
        var e = LoadFails(d =>
        {
            var p = Path.Combine(d, "model.safetensors");
            var bytes = File.ReadAllBytes(p);
            long n = BitConverter.ToInt64(bytes, 0);
            var header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n);
            var json = JsonNode.Parse(header)!.AsObject();
            var last = json.Where(kv => kv.Key != "__metadata__").MaxBy(kv => kv.Value!["data_offsets"]![1]!.GetValue<long>());
            last.Value!["data_offsets"]![1] = last.Value["data_offsets"]![1]!.GetValue<long>() + 4096;
            var newHeader = System.Text.Encoding.UTF8.GetBytes(json.ToJsonString().PadRight((int)n));
            Assert.AreEqual((int)n, newHeader.Length, "test setup keeps the header length");
            newHeader.CopyTo(bytes, 8);
            File.WriteAllBytes(p, bytes);
        });
        StringAssert.Contains(e.Message, "model.safetensors");
    }

    [TestMethod]
    public void WrongShapeNamesTheKeyAndBothShapes()
    {
        var e = LoadFails(d => EditConfig(d, c => c["intermediate_size"] = 38));
        StringAssert.Contains(e.Message, "bert.encoder.layer.0.intermediate.dense.weight");
        StringAssert.Contains(e.Message, "[37, 32]");
        StringAssert.Contains(e.Message, "[38, 32]");
    }

    [TestMethod]
    public void InputLongerThanMaxPositionsIsAClearError()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(Fixture);
        using var scope = NewDisposeScope();
        var ids = zeros([1, 65], ScalarType.Int64);
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { InputIds = ids }));
        StringAssert.Contains(e.Message, "65");
        StringAssert.Contains(e.Message, "max_position_embeddings");
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var p = Path.Combine(dir, "config.json");
        var c = JsonNode.Parse(File.ReadAllText(p))!.AsObject();
        edit(c);
        File.WriteAllText(p, c.ToJsonString());
    }

    [TestMethod]
    public void ConfigFarLargerThanItsCheckpointIsRefusedBeforeAllocating()
    {
        // 1000 layers of width 4096 would be about 2e11 parameters (800 GB) over a 27k-parameter checkpoint.
        var e = LoadFails(d => EditConfig(d, c =>
        {
            c["num_hidden_layers"] = 1000;
            c["hidden_size"] = 4096;
            c["intermediate_size"] = 16384;
        }));
        var ce = Assert.IsInstanceOfType<Microsoft.ML.Transformers.Configuration.ConfigException>(e);
        Assert.AreEqual("num_hidden_layers", ce.Key);
        StringAssert.Contains(e.Message, "num_hidden_layers = 1000");
        StringAssert.Contains(e.Message, "hidden_size = 4096");
        StringAssert.Contains(e.Message, "refusing to allocate");
    }
}
