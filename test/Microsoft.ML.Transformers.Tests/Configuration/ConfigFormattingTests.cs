using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Configuration;

/// <summary>Our writer against Python's json module: goldens made by test/fixtures/io/make_config_goldens.py.</summary>
[TestClass]
public class ConfigFormattingTests
{
    private static string Io(params string[] parts) => TestPaths.Fixture(["io", .. parts]);

    public static IEnumerable<object[]> ConfigFiles() =>
        Directory.GetFiles(TestPaths.Fixture("io", "configs"), "*.json").Order().Select(f => new object[] { Path.GetFileName(f) });

    [TestMethod]
    public void PythonFloatReprMatchesPython()
    {
        var pairs = JsonDocument.Parse(File.ReadAllText(Io("float_repr.json"))).RootElement;
        Assert.IsGreaterThan(500, pairs.GetArrayLength());
        foreach (var pair in pairs.EnumerateArray())
        {
            var bits = long.Parse(pair[0].GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var d = BitConverter.Int64BitsToDouble(bits);
            Assert.AreEqual(pair[1].GetString(), HfJson.PythonFloatRepr(d), pair[0].GetString());
        }
    }

    [TestMethod]
    [DynamicData(nameof(ConfigFiles))]
    public void SaveMatchesHuggingFaceJsonDumps(string name)
    {
        var golden = File.ReadAllBytes(Io("configs", "golden", name));
        var config = AutoConfig.FromPretrained(Io("configs", name));
        using var tmp = new TempFolder();
        var saved = config.SavePretrained(tmp.Path);
        CollectionAssert.AreEqual(golden, File.ReadAllBytes(saved), File.ReadAllText(saved));
        CollectionAssert.AreEqual(new[] { "config.json" }, tmp.Entries());

        // Load -> Save -> Load keeps every key and value; Save -> Load -> Save gives the same bytes.
        var again = AutoConfig.FromPretrained(tmp.Path);
        Assert.AreEqual(config.GetType(), again.GetType());
        CollectionAssert.AreEquivalent(config.Raw.Select(p => p.Key).ToArray(), again.Raw.Select(p => p.Key).ToArray());
        Assert.AreEqual(config.ToJsonString(), again.ToJsonString());
        using var tmp2 = new TempFolder();
        CollectionAssert.AreEqual(golden, File.ReadAllBytes(again.SavePretrained(tmp2.Path)));
    }
}
