using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// A model.zip written once (ML.NET 5.0.1, format 1) and committed: it must keep loading, whatever changes later in this
/// library or in ML.NET, or the change must be deliberate (a new format version that still reads this one).
/// Regenerate (only when the format is changed on purpose): MLT_WRITE_MLNET_ZIP=1 dotnet test --filter MLNetZipFixtureTests
/// </summary>
[TestClass]
public class MLNetZipFixtureTests
{
    private static string ZipPath => TestPaths.Fixture("mlnet", "text-classification-onnx.zip");

    [TestMethod]
    public void CommittedZipStillLoads()
    {
        if (Environment.GetEnvironmentVariable("MLT_WRITE_MLNET_ZIP") == "1") Write();
        var ml = new MLContext();
        var loaded = ml.Model.Load(ZipPath, out var schema);
        Assert.AreEqual("Text", schema[0].Name);
        var data = TextData(ml);
        MLNetTaskCase.All.Single(c => c.Name == "text-classification").Check(loaded.Transform(data), Engine.OnnxRuntime);
        ((IDisposable)loaded).Dispose();
    }

    private static void Write()
    {
        var ml = new MLContext();
        var data = TextData(ml);
        using var model = ml.Transforms.TextClassification(new TextClassificationEstimator.Options
            { ModelFolder = PipelineFixtures.Model("bert-seqcls"), Engine = Engine.OnnxRuntime, BatchSize = 3 }).Fit(data);
        var temp = ZipPath + ".tmp";
        ml.Model.Save(model, data.Schema, temp);
        File.Move(temp, ZipPath, overwrite: true);
    }
}
