using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Onnx;
using Microsoft.ML.Transformers.Tests.SafeTensors;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>The fitted ML.NET transformer exports its model (transformer.ExportOnnx); the same estimator over the export on
/// ONNX Runtime scores the rows as the libtorch transformer did.</summary>
[TestClass]
public class MLNetOnnxExportTests
{
    private static float[][] Scores(MLContext ml, ITransformer t, IDataView data) =>
        t.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();

    [TestMethod]
    public void FittedTransformerExportsAndTheExportScoresAlike()
    {
        var ml = new MLContext(seed: 1);
        var data = TextData(ml);
        using var dir = new TempFolder();
        using var onTorch = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
        {
            ModelFolder = Pipelines.PipelineFixtures.Model("roberta-seqcls"), Engine = Engine.LibTorch,
        }).Fit(data);
        var result = onTorch.ExportOnnx(dir.Path, new OnnxExportOptions { Fuse = true });
        CollectionAssert.AreEqual(new[] { "logits" }, result.OutputNames.ToArray());
        CollectionAssert.Contains(result.CopiedFiles.ToArray(), "tokenizer.json");

        using var onOrt = ml.Transforms.TextClassification(new TextClassificationEstimator.Options { ModelFolder = dir.Path, Engine = Engine.OnnxRuntime }).Fit(data);
        Assert.AreEqual(Engine.OnnxRuntime, onOrt.Pipeline.Model.Engine);
        var a = Scores(ml, onTorch, data);
        var b = Scores(ml, onOrt, data);
        Assert.AreEqual(Texts.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < a[i].Length; j++)
                Assert.AreEqual(a[i][j], b[i][j], 1e-4, $"row {i} class {j}");

        // A transformer already on ONNX Runtime has no libtorch weights to export.
        var e = Assert.ThrowsExactly<NotSupportedException>(() => onOrt.ExportOnnx(dir.File("again")));
        StringAssert.Contains(e.Message, "LibTorch");
    }
}
