using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Models;

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
        // RoBERTa's positions start after the padding row: 1 + 1 rows hold no position for a first token
        Refused("roberta", "\"pad_token_id\": 1, \"max_position_embeddings\": 2", "max_position_embeddings", "found 2", "3");
        Refused("roberta", "\"pad_token_id\": 50, \"max_position_embeddings\": 1", "max_position_embeddings", "found 1", "52");
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
        Refused("swin", "\"mlp_ratio\": 0.001", "mlp_ratio", "0.001", "at least 1"); // 96 x 0.001: an MLP of no channels
        foreach (var type in new[] { "resnet", "convnext", "swin" }) AutoConfig.FromJson($"{{\"model_type\": \"{type}\"}}", "c"); // the defaults are real models
    }

    [TestMethod]
    public void DetrSizesAreBounded()
    {
        Refused("detr", "\"d_model\": 100000", "d_model", "100000", "65536");
        Refused("detr", "\"d_model\": 1", "d_model", "found 1");
        Refused("detr", "\"d_model\": 20, \"encoder_attention_heads\": 1, \"decoder_attention_heads\": 3", "encoder_attention_heads", "20", "3");
        Refused("detr", "\"d_model\": 15, \"encoder_attention_heads\": 5, \"decoder_attention_heads\": 5", "d_model", "even", "15");
        Refused("detr", "\"num_queries\": 0", "num_queries", "found 0");
        Refused("detr", "\"num_queries\": 100000", "num_queries", "100000");
        Refused("detr", "\"num_channels\": 65", "num_channels", "65", "64");
        Refused("detr", "\"encoder_layers\": -1", "encoder_layers", "-1");
        Refused("detr", "\"encoder_layers\": 1025", "encoder_layers", "1025", "1024");
        Refused("detr", "\"decoder_layers\": 0", "decoder_layers", "found 0");
        Refused("detr", "\"decoder_layers\": 100000", "decoder_layers", "100000");
        Refused("detr", "\"encoder_ffn_dim\": 0", "encoder_ffn_dim", "found 0");
        Refused("detr", "\"encoder_ffn_dim\": 262145", "encoder_ffn_dim", "262145", "262144");
        Refused("detr", "\"decoder_ffn_dim\": 2000000000", "decoder_ffn_dim", "2000000000");
        Refused("detr", "\"encoder_attention_heads\": 0", "encoder_attention_heads", "found 0");
        Refused("detr", "\"decoder_attention_heads\": 512", "decoder_attention_heads", "512", "256");
        Refused("detr", "\"position_embedding_type\": \"rotary\"", "position_embedding_type", "rotary");
        Refused("detr", "\"dropout\": 1.5", "dropout", "1.5");
        Refused("detr", "\"attention_dropout\": -0.5", "attention_dropout", "-0.5");
        Refused("detr", "\"activation_dropout\": 2", "activation_dropout", "2");
        Refused("detr", "\"activation_function\": null", "activation_function", "null");
        Refused("detr", "\"num_labels\": 10000000", "num_labels", "10000000");
        Refused("detr", "\"backbone_config\": {\"model_type\": \"resnet\", \"depths\": [3, -1, 6, 3]}", "backbone_config.depths[1]", "-1");
        Refused("detr", "\"backbone_config\": [1, 2]", "backbone_config", "expected an object");
        AutoConfig.FromJson("{\"model_type\": \"detr\"}", "c"); // the defaults are facebook/detr-resnet-50's
    }

    [TestMethod]
    public void UperNetSizesAreBounded()
    {
        Refused("upernet", "\"hidden_size\": 0", "hidden_size", "found 0");
        Refused("upernet", "\"hidden_size\": 16385", "hidden_size", "16385", "16384");
        Refused("upernet", "\"auxiliary_channels\": 0", "auxiliary_channels", "found 0");
        Refused("upernet", "\"auxiliary_channels\": 2000000000", "auxiliary_channels", "2000000000");
        Refused("upernet", "\"auxiliary_num_convs\": -1", "auxiliary_num_convs", "-1");
        Refused("upernet", "\"auxiliary_num_convs\": 65", "auxiliary_num_convs", "65", "64");
        Refused("upernet", "\"auxiliary_in_channels\": 0", "auxiliary_in_channels", "found 0");
        Refused("upernet", "\"auxiliary_in_channels\": 100000", "auxiliary_in_channels", "100000");
        Refused("upernet", "\"pool_scales\": []", "pool_scales", "none");
        Refused("upernet", "\"pool_scales\": [1, 0, 3]", "pool_scales", "found 0");
        Refused("upernet", "\"pool_scales\": [1, 2, 1025]", "pool_scales", "1025");
        Refused("upernet", "\"num_labels\": -2", "num_labels", "-2");
        Refused("upernet", "\"num_labels\": 0", "num_labels", "found 0"); // a classifier convolution to no channels
        Refused("upernet", "\"id2label\": {}", "id2label", "found 0");
        Refused("upernet", "\"backbone_config\": {\"model_type\": \"swin\", \"window_size\": 0}", "backbone_config.window_size", "found 0");
        AutoConfig.FromJson("{\"model_type\": \"upernet\"}", "c");
    }

    /// <summary>Loads a copy of a fixture checkpoint with its config.json edited (and, with <paramref name="padElements"/>,
    /// an unused float32 tensor of that many elements added to its weights, a sparse file so nothing is written) and
    /// returns the refusal.</summary>
    private static ConfigException RefusedAgainstCheckpoint(string[] fixture, ModelRegistry registry, Action<JsonObject> edit, long padElements = 0)
    {
        var dir = TempDir.CopyOf(TestPaths.Fixture(fixture));
        try
        {
            var path = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            edit(config);
            File.WriteAllText(path, config.ToJsonString());
            if (padElements > 0) AddUnusedTensor(Path.Combine(dir, "model.safetensors"), padElements);
            var sw = Stopwatch.StartNew();
            var e = Assert.ThrowsExactly<ConfigException>(() => registry.FromPretrained(dir).Dispose());
            Assert.IsLessThan(5.0, sw.Elapsed.TotalSeconds, "refused from the headers, before the module tree is built");
            StringAssert.Contains(e.Message, "refusing to allocate");
            StringAssert.Contains(e.Message, path);
            return e;
        }
        finally { Directory.Delete(dir, true); }
    }

    private static void AddUnusedTensor(string file, long elements)
    {
        var bytes = File.ReadAllBytes(file);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        long data = bytes.Length - 8 - headerLength;
        header["unused.padding"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(elements), ["data_offsets"] = new JsonArray(data, data + 4 * elements) };
        var json = header.ToJsonString();
        json += new string(' ', (8 - Encoding.UTF8.GetByteCount(json) % 8) % 8);
        var newHeader = Encoding.UTF8.GetBytes(json);
        using var s = File.Create(file);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, newHeader.Length);
        s.Write(length);
        s.Write(newHeader);
        s.Write(bytes, 8 + (int)headerLength, (int)data);
        s.SetLength(s.Position + 4 * elements);
    }

    [TestMethod]
    public void ClassifierHeadCountsAgainstTheCheckpoint()
    {
        // 2^20 labels over hidden_size 128: a head of 2^20 x 129 = 135.3M parameters, the body about 0.2M. The checkpoint
        // holds 10M more than the fixture's ~27k, so the total is within the factor, 8 x 10.03M + 2^26 (67.1M) = 147.3M,
        // but the head alone, an exact count either in the checkpoint or fresh, exceeds what the checkpoint holds plus
        // 2^26 for a fresh head (77.1M).
        var e = RefusedAgainstCheckpoint(["models", "bert-seqcls"], ModelRegistries.SequenceClassification, c =>
        {
            c.Remove("id2label");
            c.Remove("label2id");
            c["num_labels"] = 1 << 20;
            c["hidden_size"] = 128;
        }, padElements: 10_000_000);
        Assert.AreEqual("num_labels", e.Key);
        StringAssert.Contains(e.Message, "num_labels = 1048576");
        StringAssert.Contains(e.Message, "hidden_size = 128");
        StringAssert.Contains(e.Message, "classification head");
    }

    [TestMethod]
    public void DetrFarLargerThanItsCheckpointIsRefused()
    {
        // 32 encoder layers at d_model 512 and ffn 2048: 32 x (4 x 512^2 + 2 x 512 x 2048) = 100.7M parameters over a
        // checkpoint of ~31k (at most 8 x 31k + 2^26 = 67.4M accepted).
        var e = RefusedAgainstCheckpoint(["vision", "models", "detr"], ModelRegistries.ObjectDetection, c =>
        {
            c["encoder_layers"] = 32;
            c["d_model"] = 512;
            c["encoder_ffn_dim"] = 2048;
        });
        Assert.AreEqual("encoder_layers", e.Key);
        StringAssert.Contains(e.Message, "encoder_layers = 32");
        StringAssert.Contains(e.Message, "d_model = 512");
        StringAssert.Contains(e.Message, "encoder_ffn_dim = 2048");

        // the backbone counts too: a basic ResNet stage of width 2048 is two 3x3 convolutions, 18 x 2048^2 = 75.5M
        e = RefusedAgainstCheckpoint(["vision", "models", "detr"], ModelRegistries.ObjectDetection,
            c => c["backbone_config"]!["hidden_sizes"] = new JsonArray(8, 12, 16, 2048));
        StringAssert.Contains(e.Message, "backbone_config.hidden_sizes = [8,12,16,2048]");
    }

    [TestMethod]
    public void BackboneOutIndicesFromTheEndAreEstimated()
    {
        // out_indices may count from the end (-1: stage4), as transformers' backbone_utils allows
        var dir = TempDir.CopyOf(TestPaths.Fixture("vision", "models", "upernet-swin"));
        try
        {
            var path = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            config["backbone_config"]!["out_indices"] = new JsonArray(1, 2, 3, -1);
            File.WriteAllText(path, config.ToJsonString());
            ModelRegistries.SemanticSegmentation.FromPretrained(dir).Dispose();
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    public void UperNetFarLargerThanItsCheckpointIsRefused()
    {
        // hidden_size 1024 over four ConvNeXt maps: the 3x3 FPN bottleneck alone is 9 x 4 x 1024^2 = 37.7M, the 3x3
        // bottleneck over the last map and two pooled maps 9 x (32 + 2 x 1024) x 1024 = 19.2M, three 3x3 FPN
        // convolutions 28.3M: over 85M against a checkpoint of ~69k (at most 8 x 69k + 2^26 = 67.7M accepted).
        var e = RefusedAgainstCheckpoint(["vision", "models", "upernet-convnext"], ModelRegistries.SemanticSegmentation,
            c => c["hidden_size"] = 1024);
        Assert.AreEqual("hidden_size", e.Key);
        StringAssert.Contains(e.Message, "hidden_size = 1024");

        // the auxiliary head: 39 more 3x3 convolutions of 512 channels, 39 x 9 x 512^2 = 92M
        e = RefusedAgainstCheckpoint(["vision", "models", "upernet-convnext"], ModelRegistries.SemanticSegmentation, c =>
        {
            c["auxiliary_channels"] = 512;
            c["auxiliary_num_convs"] = 40;
        });
        StringAssert.Contains(e.Message, "auxiliary_num_convs = 40");
        StringAssert.Contains(e.Message, "auxiliary_channels = 512");

        // and the backbone, from backbone_config: a ConvNeXt block of width 4096 (two pointwise layers of 4x width) is
        // 8 x 4096^2 = 134M
        e = RefusedAgainstCheckpoint(["vision", "models", "upernet-convnext"], ModelRegistries.SemanticSegmentation,
            c => c["backbone_config"]!["hidden_sizes"] = new JsonArray(8, 16, 24, 4096));
        StringAssert.Contains(e.Message, "backbone_config.hidden_sizes = [8,16,24,4096]");
    }
}
