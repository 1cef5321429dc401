using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Models;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>ResNet (basic, bottleneck), ConvNeXt and Swin against torchvision 0.14 with the weights mapped by
/// scripts/make_vision_fixtures.py: logits, every stage, and backbone feature maps within 1e-4.</summary>
[TestClass]
public class VisionModelTests
{
    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);

    [TestMethod]
    [DataRow("resnet-basic")]
    [DataRow("resnet-bottleneck")]
    [DataRow("convnext")]
    [DataRow("swin")]
    public void ClassifierLogitsAndStagesEqualTorchvision(string name)
    {
        using var model = AutoModelForImageClassification.FromPretrained(Model(name));
        Assert.AreEqual(0, model.LoadingInfo!.MissingKeys.Count, string.Join(", ", model.LoadingInfo.MissingKeys));
        Assert.AreEqual(0, model.LoadingInfo.UnexpectedKeys.Count, string.Join(", ", model.LoadingInfo.UnexpectedKeys));
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values"), OutputHiddenStates = true });
        Goldens.AssertClose(o.Logits!, g.Tensor("logits"), 1e-4, $"{name} logits");
        var stages = name == "swin" ? o.ReshapedHiddenStates! : o.HiddenStates!;
        Assert.AreEqual(5, stages.Count);
        for (int i = 0; i < 5; i++) Goldens.AssertClose(stages[i], g.Tensor($"hidden_states.{i}"), 1e-4, $"{name} hidden_states[{i}]");
    }

    [TestMethod]
    [DataRow("resnet-basic")]
    [DataRow("convnext")]
    [DataRow("swin")]
    public void BaseModelLoadsFromTheHeadCheckpoint(string name)
    {
        using var model = AutoModel.FromPretrained(Model(name));
        Assert.AreEqual(0, model.LoadingInfo!.MissingKeys.Count, string.Join(", ", model.LoadingInfo.MissingKeys));
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values") });
        if (name != "swin") Goldens.AssertClose(o.LastHiddenState!, g.Tensor("hidden_states.4"), 1e-4, $"{name} last_hidden_state");
        Assert.IsNotNull(o.PoolerOutput);
    }

    public static IEnumerable<object?[]> BackboneCases()
    {
        foreach (var name in new[] { "resnet-basic", "resnet-bottleneck", "convnext", "swin" })
        {
            yield return [name, null, null, new[] { "stem", "stage1", "stage2", "stage3", "stage4" }];
            yield return [name, new[] { "stage2", "stage4" }, null, new[] { "stage2", "stage4" }];
            yield return [name, null, new[] { 0 }, new[] { "stem" }];
            yield return [name, null, new[] { 1, -1 }, new[] { "stage1", "stage4" }];
            yield return [name, new[] { "stem", "stage3" }, new[] { 0, 3 }, new[] { "stem", "stage3" }];
        }
    }

    [TestMethod]
    [DynamicData(nameof(BackboneCases))]
    public void BackboneFeatureMapsEqualTorchvision(string name, string[]? outFeatures, int[]? outIndices, string[] expected)
    {
        using var backbone = AutoBackbone.FromPretrained(Model(name + "-backbone"), outFeatures, outIndices);
        CollectionAssert.AreEqual(expected, backbone.OutFeatures.ToArray());
        Assert.AreEqual(0, backbone.LoadingInfo!.MissingKeys.Count, string.Join(", ", backbone.LoadingInfo.MissingKeys));
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = backbone.ForwardBackbone(g.Tensor("pixel_values"));
        Assert.AreEqual(expected.Length, o.FeatureMaps.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Goldens.AssertClose(o.FeatureMaps[i], g.Tensor($"backbone.{expected[i]}"), 1e-4, $"{name} {expected[i]}");
            Assert.AreEqual(backbone.Channels[i], (int)o.FeatureMaps[i].size(1), "channels");
        }
    }

    [TestMethod]
    public void BackboneFromAClassifierCheckpointDropsTheHead()
    {
        using var backbone = AutoBackbone.FromPretrained(Model("resnet-bottleneck"), outIndices: [2]);
        Assert.AreEqual(0, backbone.LoadingInfo!.MissingKeys.Count);
        CollectionAssert.AreEqual(new[] { "classifier.1.bias", "classifier.1.weight" }, backbone.LoadingInfo.UnexpectedKeys.ToArray());
        CollectionAssert.AreEqual(new[] { 8, 16, 32, 48, 64 }, backbone.NumFeatures.ToArray());
        CollectionAssert.AreEqual(new[] { 32 }, backbone.Channels.ToArray());
        using var g = new Goldens("vision-resnet-bottleneck");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Goldens.AssertClose(backbone.ForwardBackbone(g.Tensor("pixel_values")).FeatureMaps[0], g.Tensor("backbone.stage2"), 1e-4, "stage2");
    }

    [TestMethod]
    public void LossFollowsProblemType()
    {
        using var model = AutoModelForImageClassification.FromPretrained(Model("resnet-basic"));
        using var g = new Goldens("vision-resnet-basic");
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 1, 3 });
        var o = model.Forward(new ModelInputs { PixelValues = g.Tensor("pixel_values"), Labels = labels });
        var expected = nn.functional.cross_entropy(g.Tensor("logits"), labels);
        Goldens.AssertClose(o.Loss!, expected, 1e-4, "cross entropy");
    }
}

/// <summary>out_features / out_indices as transformers' backbone_utils aligns and checks them.</summary>
[TestClass]
public class BackboneAlignmentTests
{
    private static readonly string[] Stages = ["stem", "stage1", "stage2", "stage3", "stage4"];

    [TestMethod]
    public void AlignsAsTransformers()
    {
        var (f, i) = Backbone.Align(null, null, Stages);
        CollectionAssert.AreEqual(new[] { "stage4" }, f.ToArray());
        CollectionAssert.AreEqual(new[] { 4 }, i.ToArray());
        (f, i) = Backbone.Align(["stage1", "stage3"], null, Stages);
        CollectionAssert.AreEqual(new[] { 1, 3 }, i.ToArray());
        (f, i) = Backbone.Align(null, [-2, -1], Stages);
        CollectionAssert.AreEqual(new[] { "stage3", "stage4" }, f.ToArray());
        CollectionAssert.AreEqual(new[] { -2, -1 }, i.ToArray(), "negative indices are kept as given");
    }

    [TestMethod]
    [DataRow(new[] { "stage9" }, null, "must be a subset of stage_names")]
    [DataRow(null, new[] { 5 }, "out_indices must be in the range")]
    [DataRow(null, new[] { -6 }, "out_indices must be in the range")]
    [DataRow(new[] { "stage1" }, new[] { 2 }, "should correspond to the same stages")]
    [DataRow(new[] { "stage1", "stage2" }, new[] { 1 }, "same length")]
    [DataRow(new[] { "stage2", "stage1" }, null, "same order as stage_names")]
    public void InconsistentOrUnknownValuesFail(string[]? features, int[]? indices, string message)
    {
        var e = Assert.ThrowsExactly<ConfigException>(() => Backbone.Align(features, indices, Stages));
        StringAssert.Contains(e.Message, message);
    }

    [TestMethod]
    public void AutoBackboneRefusesAStageThatDoesNotExist()
    {
        var e = Assert.ThrowsExactly<ConfigException>(() => AutoBackbone.FromPretrained(TestPaths.Fixture("vision", "models", "resnet-basic"), ["stage5"]));
        StringAssert.Contains(e.Message, "stage5");
        Assert.ThrowsExactly<ConfigException>(() => AutoBackbone.FromPretrained(TestPaths.Fixture("vision", "models", "resnet-basic"), outIndices: [7]));
    }
}

/// <summary>One full-size forward each (torchvision resnet18, resnet50, convnext_tiny, swin_t with seeded random
/// weights, 224x224) on both engines, written at setup by <c>make_vision_fixtures.py --full artifacts/vision-full</c>
/// (~800 MB, not committed; ONNX Runtime runs its onnx/model.onnx, which outputs logits and hidden_states.0..4).</summary>
[TestClass]
public class FullSizeVisionModelTests
{
    [TestMethod]
    [TestCategory("Slow")]
    [DataRow("resnet18", Engine.LibTorch)]
    [DataRow("resnet50", Engine.LibTorch)]
    [DataRow("convnext_tiny", Engine.LibTorch)]
    [DataRow("swin_t", Engine.LibTorch)]
    [DataRow("resnet18", Engine.OnnxRuntime)]
    [DataRow("resnet50", Engine.OnnxRuntime)]
    [DataRow("convnext_tiny", Engine.OnnxRuntime)]
    [DataRow("swin_t", Engine.OnnxRuntime)]
    public void FullSizeLogitsAndStagesEqualTorchvision(string name, Engine engine)
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "artifacts", "vision-full", name);
        var golden = Path.Combine(TestPaths.RepoRoot, "artifacts", "vision-full", $"vision-{name}.safetensors");
        if (!File.Exists(Path.Combine(folder, "onnx", "model.onnx")))
            Assert.Inconclusive($"run /usr/bin/python3 test/fixtures/scripts/make_vision_fixtures.py --full artifacts/vision-full first ({folder}/onnx/model.onnx is missing)");
        using var file = Microsoft.ML.Transformers.SafeTensors.SafeTensorsFile.Open(golden);
        Tensor T(string k)
        {
            var info = file.Get(k);
            var t = empty(info.Shape, ScalarType.Float32);
            file.GetBytes(k).CopyTo(t.bytes);
            return t;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = T("pixel_values");
        var actual = new List<Tensor>();
        if (engine == Engine.LibTorch)
        {
            using var model = AutoModelForImageClassification.FromPretrained(folder);
            var o = model.Forward(new ModelInputs { PixelValues = x, OutputHiddenStates = true });
            actual.Add(o.Logits!);
            actual.AddRange(name == "swin_t" ? o.ReshapedHiddenStates! : o.HiddenStates!);
        }
        else
        {
            using var model = InferenceModel.Load(folder, ModelHead.ImageClassification, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
            var o = model.RunPixels(Microsoft.ML.Transformers.Vision.PixelValues.FromTensor(x));
            foreach (var k in new[] { "logits", "hidden_states.0", "hidden_states.1", "hidden_states.2", "hidden_states.3", "hidden_states.4" })
                actual.Add(tensor(o[k].GetData<float>(), o[k].Shape));
        }
        Assert.AreEqual(6, actual.Count);
        var diffs = new List<string>();
        double worst = 0;
        for (int i = 0; i < 6; i++)
        {
            var key = i == 0 ? "logits" : $"hidden_states.{i - 1}";
            double d = Goldens.MaxAbsDiff(actual[i], T(key), key);
            diffs.Add($"{key} {d:E1}");
            worst = Math.Max(worst, d);
        }
        Console.WriteLine($"{name} {engine}: {string.Join(", ", diffs)}");
        Assert.IsTrue(worst <= 1e-4, $"{name} {engine}: {string.Join(", ", diffs)}");
    }
}

/// <summary>Backbones behind <see cref="InferenceBackbone"/> on both engines: libtorch runs our model, ONNX Runtime the
/// torchvision module (with its stage norms) exported by make_vision_fixtures.py; both equal torchvision's maps.</summary>
[TestClass]
public class BackboneEngineTests
{
    private static string Model(string name) => TestPaths.Fixture("vision", "models", name);

    public static IEnumerable<object?[]> Cases()
    {
        foreach (var engine in new[] { Engine.LibTorch, Engine.OnnxRuntime })
            foreach (var name in new[] { "resnet-basic", "resnet-bottleneck", "convnext", "swin" })
            {
                yield return [engine, name, null, null, new[] { "stem", "stage1", "stage2", "stage3", "stage4" }];
                yield return [engine, name, new[] { "stage1", "stage3" }, null, new[] { "stage1", "stage3" }];
                yield return [engine, name, null, new[] { 0, -1 }, new[] { "stem", "stage4" }];
            }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void FeatureMapsEqualTorchvision(Engine engine, string name, string[]? outFeatures, int[]? outIndices, string[] expected)
    {
        using var backbone = InferenceBackbone.Load(Model(name + "-backbone"), outFeatures, outIndices, new InferenceModelOptions { Engine = engine });
        Assert.AreEqual(engine, backbone.Engine);
        CollectionAssert.AreEqual(expected, backbone.OutFeatures.ToArray());
        using var g = new Goldens($"vision-{name}");
        using var scope = NewDisposeScope();
        var maps = backbone.Run(Microsoft.ML.Transformers.Vision.PixelValues.FromTensor(g.Tensor("pixel_values")));
        CollectionAssert.AreEqual(expected, maps.Select(m => m.Name).ToArray());
        foreach (var m in maps)
            Goldens.AssertClose(tensor(m.GetData<float>(), m.Shape), g.Tensor($"backbone.{m.Name}"), 1e-4, $"{engine} {name} {m.Name}");
    }

    [TestMethod]
    public void OnnxBackboneBadInputIsClear()
    {
        var options = new InferenceModelOptions { Engine = Engine.OnnxRuntime };
        var e = Assert.ThrowsExactly<ConfigException>(() => InferenceBackbone.Load(Model("convnext-backbone"), ["stage9"], options: options));
        StringAssert.Contains(e.Message, "stage9");
        Assert.ThrowsExactly<ConfigException>(() => InferenceBackbone.Load(Model("convnext-backbone"), outIndices: [5], options: options));
        // a classifier export has logits, not stage outputs
        var o = Assert.ThrowsExactly<Microsoft.ML.Transformers.OnnxRuntime.OnnxModelException>(() => InferenceBackbone.Load(Model("convnext"), options: options));
        StringAssert.Contains(o.Message, "stage4");
        StringAssert.Contains(o.Message, "logits");
    }
}
