using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Tests.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.Configuration;

[TestClass]
public class PretrainedConfigTests
{
    private static string Config(string name) => TestPaths.Fixture("io", "configs", name);

    [TestMethod]
    public void ReadsBertBaseUncased()
    {
        var c = AutoConfig.FromPretrained<BertConfig>(Config("bert-base-uncased.json"));
        Assert.AreEqual("bert", c.ModelType);
        CollectionAssert.AreEqual(new[] { "BertForMaskedLM" }, c.Architectures!.ToArray());
        Assert.AreEqual(768, c.HiddenSize);
        Assert.AreEqual(12, c.NumHiddenLayers);
        Assert.AreEqual(1e-12, c.LayerNormEps);
        Assert.AreEqual(0, c.PadTokenId);
        Assert.IsNull(c.BosTokenId);
        Assert.IsNull(c.ClassifierDropout);
        Assert.IsTrue(c.TieWordEmbeddings);
        Assert.IsFalse(c.OutputHiddenStates);
        Assert.AreEqual("4.6.0.dev0", c.TransformersVersion);
        // No id2label in the file: two generated labels, as Hugging Face does, without adding keys.
        Assert.AreEqual(2, c.NumLabels);
        Assert.AreEqual("LABEL_1", c.Id2Label[1]);
        Assert.AreEqual(1, c.Label2Id["LABEL_1"]);
        Assert.IsFalse(c.ContainsKey("id2label"));
        Assert.AreEqual(false, c.Get<bool>("gradient_checkpointing"));
        Assert.AreEqual(Path.GetFullPath(Config("bert-base-uncased.json")), c.Source);
    }

    /// <summary>Each default config equals the published base checkpoint's config.json on every key both have.</summary>
    [TestMethod]
    [DataRow("bert-base-uncased.json", typeof(BertConfig))]
    [DataRow("roberta-base.json", typeof(RobertaConfig))]
    [DataRow("distilbert-base-uncased.json", typeof(DistilBertConfig))]
    public void DefaultsEqualBaseCheckpoint(string file, Type type)
    {
        var published = AutoConfig.FromPretrained(Config(file));
        Assert.AreEqual(type, published.GetType());
        var fresh = (PretrainedConfig)Activator.CreateInstance(type)!;
        var shared = 0;
        foreach (var (key, value) in published.Raw)
        {
            if (fresh.Raw.TryGetPropertyValue(key, out var mine))
            {
                Assert.AreEqual(HfJson.Serialize(value), HfJson.Serialize(mine), key);
                shared++;
            }
        }
        Assert.IsGreaterThanOrEqualTo(14, shared);
        // Every typed member reads the same through defaults as through the file.
        foreach (var p in type.GetProperties().Where(p => p.DeclaringType != typeof(PretrainedConfig) && p.GetIndexParameters().Length == 0))
        {
            Assert.AreEqual(p.GetValue(published), p.GetValue(fresh), p.Name);
        }
    }

    [TestMethod]
    public void DefaultConfigsRoundTrip()
    {
        foreach (var fresh in new PretrainedConfig[] { new BertConfig(), new RobertaConfig(), new DistilBertConfig() })
        {
            using var tmp = new TempFolder();
            var first = File.ReadAllBytes(fresh.SavePretrained(tmp.Path));
            var loaded = AutoConfig.FromPretrained(tmp.Path);
            Assert.AreEqual(fresh.GetType(), loaded.GetType());
            Assert.IsTrue(JsonNode.DeepEquals(fresh.Raw, loaded.Raw));
            using var tmp2 = new TempFolder();
            CollectionAssert.AreEqual(first, File.ReadAllBytes(loaded.SavePretrained(tmp2.Path)));
            if (fresh is BertLikeConfig)
            {
                StringAssert.Contains(File.ReadAllText(tmp.File("config.json")), "\"classifier_dropout\": null");
            }
        }
        var distil = new DistilBertConfig();
        Assert.AreEqual(768, distil.HiddenSize);
        Assert.AreEqual(6, distil.NumHiddenLayers);
        Assert.AreEqual(0.2, distil.SeqClassifDropout);
        var roberta = new RobertaConfig();
        Assert.AreEqual((1, 0, 2), (roberta.PadTokenId, roberta.BosTokenId, roberta.EosTokenId));
        Assert.AreEqual(1e-5, roberta.LayerNormEps);
        Assert.AreEqual(50265, roberta.VocabSize);
    }

    [TestMethod]
    public void LabelsFollowHuggingFaceRules()
    {
        var c = AutoConfig.FromPretrained<DistilBertConfig>(Config("distilbert-sst2.json"));
        Assert.AreEqual(2, c.NumLabels);
        Assert.AreEqual("POSITIVE", c.Id2Label[1]);
        Assert.AreEqual(0, c.Label2Id["NEGATIVE"]);

        c.NumLabels = 2; // same count: names kept
        Assert.AreEqual("NEGATIVE", c.Id2Label[0]);

        c.NumLabels = 3; // new count: regenerated
        CollectionAssert.AreEqual(new[] { "LABEL_0", "LABEL_1", "LABEL_2" }, c.Id2Label.Values.ToArray());
        Assert.AreEqual(2, c.Label2Id["LABEL_2"]);
        StringAssert.Contains(c.ToJsonString(), "\"id2label\": {\n    \"0\": \"LABEL_0\",");

        c.Id2Label = new Dictionary<int, string> { [1] = "pos", [0] = "neg" };
        Assert.AreEqual(1, c.Label2Id["pos"]);
        Assert.AreEqual(2, c.NumLabels);

        var numOnly = (BertConfig)AutoConfig.FromJson("""{"model_type": "bert", "num_labels": 5}""", "inline");
        Assert.AreEqual(5, numOnly.NumLabels);
        Assert.AreEqual("LABEL_4", numOnly.Id2Label[4]);
        numOnly.NumLabels = 3;
        Assert.AreEqual(3, numOnly.Get<int>("num_labels"));
        Assert.AreEqual(3, numOnly.Id2Label.Count);
    }

    [TestMethod]
    public void TypedWritesOverwriteAndUnknownKeysSurvive()
    {
        var c = AutoConfig.FromPretrained<BertConfig>(Config("tiny-bert-messy.json"));
        Assert.AreEqual("multi_label_classification", c.ProblemType);
        Assert.AreEqual("deux été", c.Id2Label[2]);
        Assert.AreEqual(10000.0, c.Get<double>("rope_theta"));
        Assert.AreEqual("中文", c.Get<string>("über_key"));
        Assert.IsNull(c.Get<int?>("no_such_key"));
        Assert.AreEqual(7, c.GetOrDefault("no_such_key", 7));
        Assert.AreEqual(7, c.GetOrDefault("nothing", 7));
        CollectionAssert.AreEqual(new[] { 2, 3 }, c.EosTokenIds.ToArray());
        var eos = Assert.ThrowsExactly<ConfigException>(() => c.EosTokenId);
        StringAssert.Contains(eos.Message, "'eos_token_id'");
        StringAssert.Contains(eos.Message, "[2,3]");

        c.HiddenSize = 64;
        c.LayerNormEps = 1e-5;
        c.HiddenDropoutProb = 0;
        c.ClassifierDropout = null;
        c.ProblemType = null;
        c.Set("my_extra", new[] { 1.5, 2 });
        var text = c.ToJsonString();
        StringAssert.Contains(text, "\"hidden_size\": 64,");
        StringAssert.Contains(text, "\"layer_norm_eps\": 1e-05,");
        StringAssert.Contains(text, "\"hidden_dropout_prob\": 0.0,");
        StringAssert.Contains(text, "\"classifier_dropout\": null,");
        StringAssert.Contains(text, "\"problem_type\": null,");
        StringAssert.Contains(text, "\"my_extra\": [\n    1.5,\n    2.0\n  ],");
        StringAssert.Contains(text, "\"huge_int\": 123456789012345678901234567890,");
        StringAssert.Contains(text, "\"\\u00fcber_key\": \"\\u4e2d\\u6587\"");

        using var tmp = new TempFolder();
        var back = AutoConfig.FromPretrained<BertConfig>(c.SavePretrained(tmp.Path));
        Assert.AreEqual(64, back.HiddenSize);
        Assert.AreEqual(1e-5, back.LayerNormEps);
        Assert.AreEqual(c.ToJsonString(), back.ToJsonString());
    }

    [TestMethod]
    public void LabelNamedTwiceKeepsItsLastIdLikePython()
    {
        // found by the fuzz suite: the generated inverse threw ArgumentException
        var c = AutoConfig.FromJson("""{"model_type": "bert", "id2label": {"0": "A", "1": "B", "2": "A"}}""", "dup");
        Assert.AreEqual(2, c.Label2Id["A"]);
        Assert.AreEqual(3, c.NumLabels);
    }

    [TestMethod]
    public void DuplicateKeysKeepTheLastLikePython()
    {
        var c = (BertConfig)AutoConfig.FromJson("""{"model_type": "bert", "num_attention_heads": 1, "hidden_size": 1, "hidden_size": 2}""", "dup");
        Assert.AreEqual(2, c.HiddenSize);
    }
}
