using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
[DoNotParallelize] // counts every TorchSharp tensor in the process
public class DisposeScopeLeakTests
{
    private static long LiveTensorCount => Tensor.TotalCount;

    [TestMethod]
    public void ThousandForwardPassesInScopesLeaveNoLiveTensors()
    {
        long beforeModel = LiveTensorCount;
        var model = AutoModelForSequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-seqcls"));
        var ids = tensor(new long[] { 2, 10, 11, 12, 3, 0 }, [1, 6]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0 }, [1, 6]);
        ModelOutput Run()
        {
            using var _ = no_grad();
            return model.Forward(new ModelInputs { InputIds = ids, AttentionMask = mask, OutputHiddenStates = true, OutputAttentions = true });
        }
        // The first inference pass builds the model's derived weights (fused q/k/v), kept for later calls.
        using (NewDisposeScope()) Run();
        using (NewDisposeScope()) { using var _ = no_grad(); model.Forward(new ModelInputs { InputIds = ids, AttentionMask = mask }); }
        long baseline = LiveTensorCount;
        for (int i = 0; i < 1000; i++)
        {
            using var scope = NewDisposeScope();
            var output = Run();
            Assert.AreEqual(3L, output.Logits!.shape[1]);
            Assert.IsTrue(scope.DisposablesCount > 0, "the scope collected the temporaries");
        }
        Assert.AreEqual(baseline, LiveTensorCount, "tensors leaked across 1,000 scoped forward passes");

        ids.Dispose();
        mask.Dispose();
        model.Dispose();
        Assert.AreEqual(beforeModel, LiveTensorCount, "disposing the model releases its parameters and derived weights");
    }
}
