using System.Diagnostics;
using Microsoft.ML.Transformers.Configuration;

namespace Microsoft.ML.Transformers.Tests.Configuration;

/// <summary>
/// Values no real model has are refused when config.json is read, with the key and the value (issue 13, item 17): they
/// used to take seconds and gigabytes (num_labels 10000000), divide by zero (num_attention_heads 0), overflow
/// (num_hidden_layers -1) or fail only when the model was built (a null activation).
/// </summary>
[TestClass]
public class ConfigRangeTests
{
    private static ConfigException Refused(string type, string extra, string key, params string[] fragments)
    {
        string json = $"{{\"model_type\": \"{type}\", {extra}}}";
        var sw = Stopwatch.StartNew();
        var ex = Assert.ThrowsExactly<ConfigException>(() => AutoConfig.FromJson(json, "/m/config.json"));
        Assert.IsLessThan(5.0, sw.Elapsed.TotalSeconds, "refused before anything is built from the value");
        Assert.AreEqual(key, ex.Key, ex.Message);
        StringAssert.Contains(ex.Message, "/m/config.json");
        StringAssert.Contains(ex.Message, $"'{key}'");
        foreach (var f in fragments) StringAssert.Contains(ex.Message, f);
        return ex;
    }

    [TestMethod]
    public void NumLabelsBeyondAnyModelIsRefused()
    {
        Refused("bert", "\"num_labels\": 10000000", "num_labels", "10000000", PretrainedConfig.MaxLabels.ToString());
        Refused("roberta", "\"num_labels\": 100000000", "num_labels", "100000000");
        Refused("distilbert", "\"num_labels\": -1", "num_labels", "-1");
        Assert.AreEqual(1000, AutoConfig.FromJson("{\"model_type\": \"bert\", \"num_labels\": 1000}", "c").NumLabels);
    }

    [TestMethod]
    public void AttentionHeadsMustBePositiveAndDivideTheHiddenSize()
    {
        Refused("bert", "\"num_attention_heads\": 0", "num_attention_heads", "found 0");
        Refused("bert", "\"hidden_size\": 768, \"num_attention_heads\": 7", "num_attention_heads", "768", "7", "multiple");
        Refused("roberta", "\"hidden_size\": 32, \"num_attention_heads\": 64", "num_attention_heads", "64");
        Refused("distilbert", "\"n_heads\": 0", "n_heads", "found 0");
        Refused("distilbert", "\"dim\": 768, \"n_heads\": 5", "n_heads", "multiple");
    }

    [TestMethod]
    public void LayerCountsAndSizesAreBounded()
    {
        Refused("bert", "\"num_hidden_layers\": -1", "num_hidden_layers", "-1");
        Refused("bert", "\"num_hidden_layers\": 100000", "num_hidden_layers", "100000", "1024");
        Refused("distilbert", "\"n_layers\": 100000", "n_layers", "100000");
        Refused("bert", "\"vocab_size\": 0", "vocab_size", "found 0");
        Refused("bert", "\"hidden_size\": 10000000, \"num_attention_heads\": 1", "hidden_size", "10000000");
        Refused("bert", "\"intermediate_size\": 2000000000", "intermediate_size", "2000000000");
        Refused("roberta", "\"max_position_embeddings\": 0", "max_position_embeddings", "found 0");
        Refused("distilbert", "\"hidden_dim\": -3", "hidden_dim", "-3");
    }

    [TestMethod]
    public void PadTokenIdMustBeInTheVocabulary()
    {
        Refused("bert", "\"vocab_size\": 100, \"pad_token_id\": 100", "pad_token_id", "found 100", "99");
        Refused("distilbert", "\"pad_token_id\": -1", "pad_token_id", "-1");
        Assert.IsNull(AutoConfig.FromJson("{\"model_type\": \"bert\", \"pad_token_id\": null}", "c").PadTokenId);
    }

    [TestMethod]
    public void ActivationMustBeNamedAndDropoutAProbability()
    {
        Refused("bert", "\"hidden_act\": null", "hidden_act", "found null");
        Refused("roberta", "\"hidden_act\": \"\"", "hidden_act");
        Refused("distilbert", "\"activation\": null", "activation");
        Refused("bert", "\"hidden_dropout_prob\": 1.5", "hidden_dropout_prob", "1.5");
        Refused("bert", "\"classifier_dropout\": -0.1", "classifier_dropout", "-0.1");
        Refused("distilbert", "\"seq_classif_dropout\": 2", "seq_classif_dropout", "2");
    }

    [TestMethod]
    public void VisionSizesAreBounded()
    {
        Refused("resnet", "\"num_channels\": 0", "num_channels", "found 0");
        Refused("resnet", "\"depths\": [3, -1, 6, 3]", "depths[1]", "-1");
        Refused("resnet", "\"depths\": [3, 4], \"hidden_sizes\": [8, 8, 8]", "hidden_sizes", "found 3");
        Refused("resnet", "\"hidden_sizes\": [256, 512, 1024, 2000000000]", "hidden_sizes[3]", "2000000000");
        Refused("resnet", "\"layer_type\": \"wide\"", "layer_type", "wide");
        Refused("resnet", "\"hidden_act\": null", "hidden_act", "null");
        Refused("resnet", "\"depths\": [1000, 1000, 6, 3]", "depths", "2009");
        Refused("convnext", "\"num_stages\": 3", "depths", "found 4");
        Refused("convnext", "\"patch_size\": 0", "patch_size", "found 0");
        Refused("convnext", "\"image_size\": -224", "image_size", "-224");
        Refused("swin", "\"window_size\": 0", "window_size", "found 0");
        Refused("swin", "\"patch_size\": 500", "patch_size", "500", "at most image_size");
        Refused("swin", "\"num_heads\": [3, 6, 12]", "num_heads", "found 3");
        Refused("swin", "\"num_heads\": [3, 5, 12, 24]", "num_heads[1]", "192", "5");
        Refused("swin", "\"embed_dim\": 4096, \"depths\": [2, 2, 2, 2, 2, 2, 2, 2], \"num_heads\": [1, 1, 1, 1, 1, 1, 1, 1]", "embed_dim", "131072");
        Refused("swin", "\"mlp_ratio\": 0", "mlp_ratio", "found 0");
        Refused("swin", "\"drop_path_rate\": 2", "drop_path_rate", "2");
        foreach (var type in new[] { "resnet", "convnext", "swin" }) AutoConfig.FromJson($"{{\"model_type\": \"{type}\"}}", "c"); // the defaults are real models
    }
}
