using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Configuration;

[TestClass]
public class ConfigErrorTests
{
    private static ConfigException Fails(string json, string? key, params string[] fragments)
    {
        var ex = Assert.ThrowsExactly<ConfigException>(() => AutoConfig.FromJson(json, "/models/x/config.json"));
        StringAssert.Contains(ex.Message, "/models/x/config.json");
        Assert.AreEqual("/models/x/config.json", ex.ConfigSource);
        Assert.AreEqual(key, ex.Key, ex.Message);
        if (key is not null)
        {
            StringAssert.Contains(ex.Message, $"'{key}'");
        }
        foreach (var f in fragments)
        {
            StringAssert.Contains(ex.Message, f);
        }
        return ex;
    }

    [TestMethod]
    public void MissingConfigNamesPath()
    {
        using var tmp = new TempFolder();
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => AutoConfig.FromPretrained(tmp.Path));
        StringAssert.Contains(ex.Message, tmp.File("config.json"));
        Assert.AreEqual(tmp.File("config.json"), ex.FileName);
    }

    [TestMethod]
    public void MalformedJsonNamesFileAndPosition()
    {
        using var tmp = new TempFolder();
        File.WriteAllText(tmp.File("config.json"), "{\n  \"model_type\": \"bert\",\n  \"hidden_size\": 768,,\n}\n");
        var ex = Assert.ThrowsExactly<ConfigException>(() => AutoConfig.FromPretrained(tmp.Path));
        StringAssert.Contains(ex.Message, tmp.File("config.json"));
        StringAssert.Contains(ex.Message, "line 3, byte 22");
        Fails("[1, 2]", null, "expected a JSON object", "found an array");
    }

    [TestMethod]
    public void WrongJsonTypeNamesKeyExpectedAndFound()
    {
        Fails("""{"model_type": "bert", "hidden_size": "768"}""", "hidden_size", "expected an integer", "found a string \"768\"");
        Fails("""{"model_type": "bert", "layer_norm_eps": "tiny"}""", "layer_norm_eps", "expected a number", "found a string");
        Fails("""{"model_type": "bert", "use_cache": 1}""", "use_cache", "expected a boolean", "found a number 1");
        Fails("""{"model_type": "distilbert", "n_layers": 6.5}""", "n_layers", "expected an integer", "6.5");
        Fails("""{"model_type": "bert", "architectures": "BertModel"}""", "architectures", "expected an array");
        Fails("""{"model_type": "bert", "pad_token_id": [0]}""", "pad_token_id", "expected an integer", "found an array");
        Fails("""{"model_type": "bert", "id2label": {"zero": "a"}}""", "id2label.zero", "expected an integer key", "\"zero\"");
        Fails("""{"model_type": "bert", "id2label": {"0": 5}}""", "id2label.0", "expected a string", "found a number 5");
        Fails("""{"model_type": "bert", "label2id": {"a": "0"}}""", "label2id.a", "expected an integer");
        Fails("""{"model_type": "bert", "problem_type": "ranking"}""", "problem_type", "\"ranking\"", "single_label_classification", "regression");
        Fails("""{"model_type": "bert", "hidden_size": null}""", "hidden_size", "expected an integer", "found null");
    }

    [TestMethod]
    public void UnknownOrMissingModelTypeNamesTheRegisteredOnes()
    {
        Fails("""{"model_type": "gpt-neo-x"}""", "model_type", "unknown model_type 'gpt-neo-x'", "bert", "distilbert", "roberta");
        Fails("""{"hidden_size": 3}""", "model_type", "missing", "bert", "distilbert", "roberta");
        Fails("""{"model_type": 3}""", "model_type", "expected a string", "found a number 3");
    }

    [TestMethod]
    public void SettersRejectInvalidValues()
    {
        var c = new BertConfig();
        Assert.ThrowsExactly<ArgumentException>(() => c.ProblemType = "ranking");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => c.Set("x", double.NaN));
    }

    [TestMethod]
    public void RegistryTakesNewModelTypesAndGuardsExistingOnes()
    {
        var type = "test-custom-" + Guid.NewGuid().ToString("N")[..8];
        AutoConfig.Register(type, raw => new CustomConfig(raw));
        var c = AutoConfig.FromJson($$"""{"model_type": "{{type}}", "width": 5}""", "custom.json");
        Assert.IsInstanceOfType<CustomConfig>(c);
        Assert.AreEqual(5, ((CustomConfig)c).Width);
        Assert.AreEqual("custom.json", c.Source);
        Assert.Contains(type, AutoConfig.RegisteredModelTypes);

        var ex = Assert.ThrowsExactly<ArgumentException>(() => AutoConfig.Register(type, raw => new CustomConfig(raw)));
        StringAssert.Contains(ex.Message, type);
        Assert.ThrowsExactly<ArgumentException>(() => AutoConfig.Register("bert", raw => new CustomConfig(raw)));
        AutoConfig.Register(type, raw => new PretrainedConfig(raw), replace: true);
        Assert.AreEqual(typeof(PretrainedConfig), AutoConfig.FromJson($$"""{"model_type": "{{type}}"}""", "c").GetType());
    }

    [TestMethod]
    public void TypedLoadChecksTheClass()
    {
        var ex = Assert.ThrowsExactly<ConfigException>(() =>
            AutoConfig.FromPretrained<BertConfig>(TestPaths.Fixture("io", "configs", "roberta-base.json")));
        StringAssert.Contains(ex.Message, "roberta");
        StringAssert.Contains(ex.Message, "BertConfig");
    }

    private sealed class CustomConfig(JsonObject raw) : PretrainedConfig(raw)
    {
        public int Width => GetOrDefault("width", 1);
    }
}
