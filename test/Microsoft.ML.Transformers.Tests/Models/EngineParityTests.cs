using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>The same checkpoint through ONNX Runtime (its onnx/model.onnx export) and through libtorch gives the same
/// outputs within 1e-4, for every architecture and head, behind the one <see cref="IInferenceModel"/> interface.</summary>
[TestClass]
public class EngineParityTests
{
    internal static ModelHead HeadOf(string caseName) => caseName[(caseName.IndexOf('-') + 1)..] switch
    {
        "base" => ModelHead.Base,
        "seqcls" or "seqcls-multi" or "seqcls-regression" => ModelHead.SequenceClassification,
        "tokcls" => ModelHead.TokenClassification,
        "qa" => ModelHead.QuestionAnswering,
        "mlm" => ModelHead.MaskedLM,
        _ => throw new ArgumentException(caseName),
    };

    [TestMethod]
    [DynamicData(nameof(ModelParityTests.Cases), typeof(ModelParityTests))]
    public void OnnxRuntimeMatchesLibtorch(string caseName)
    {
        var folder = TestPaths.Fixture("models", caseName);
        var head = HeadOf(caseName);
        using var torchModel = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.LibTorch });
        using var onnxModel = InferenceModel.Load(folder, head, new InferenceModelOptions { Engine = Engine.OnnxRuntime });
        Assert.AreEqual(Engine.LibTorch, torchModel.Engine);
        Assert.AreEqual(Engine.OnnxRuntime, onnxModel.Engine);

        using var g = new Goldens(caseName);
        using var ids = g.Tensor("input_ids");
        using var mask = g.Tensor("attention_mask");
        using var types = g.TryTensor("token_type_ids");
        var shape = ids.shape;
        var batch = new InferenceBatch(ids.data<long>().ToArray(), mask.data<long>().ToArray(), types?.data<long>().ToArray(), (int)shape[0], (int)shape[1]);

        var a = torchModel.Run(batch);
        var b = onnxModel.Run(batch);
        int compared = 0;
        foreach (var output in b)
        {
            var mine = a.TryGet(output.Name);
            Assert.IsNotNull(mine, $"{caseName}: libtorch path lacks output {output.Name}");
            CollectionAssert.AreEqual(output.Shape, mine.Shape, $"{caseName} {output.Name} shape");
            var x = mine.GetData<float>();
            var y = output.GetData<float>();
            double max = 0;
            for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
            Assert.IsTrue(max <= 1e-4, $"{caseName} {output.Name}: max abs difference {max:E3}");
            compared++;
        }
        Assert.IsTrue(compared > 0);
    }
}
