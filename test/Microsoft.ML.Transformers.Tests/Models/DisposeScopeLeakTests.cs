using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
[DoNotParallelize] // counts every native tensor in the process
public class DisposeScopeLeakTests
{
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
        // The first inference pass builds the model's derived weights (fused q/k/v, packed GEMM weights), kept for later calls.
        using (NewDisposeScope()) Run();
        long baseline = LiveTensorCount;
        for (int i = 0; i < 1000; i++)
        {
            using var scope = NewDisposeScope();
            var output = Run();
            Assert.AreEqual(3L, output.Logits!.shape[1]);
            Assert.IsTrue(scope.Count > 0, "the scope collected the temporaries");
        }
        Assert.AreEqual(baseline, LiveTensorCount, "native tensors leaked across 1,000 scoped forward passes");

        ids.Dispose();
        mask.Dispose();
        model.Dispose();
        Assert.AreEqual(beforeModel, LiveTensorCount, "disposing the model releases its parameters and derived weights");
    }
}
