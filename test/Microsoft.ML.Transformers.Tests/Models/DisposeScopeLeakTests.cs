using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
[DoNotParallelize] // counts every TorchSharp tensor in the process
public class DisposeScopeLeakTests
{
    // Wrappers whose native handle was moved into a Parameter (TorchSharp's AsParameter) hold no memory but leave the
    // count only when finalized: settle those first, so the count is of tensors that hold libtorch memory.
    private static long LiveTensorCount
    {
        get
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return Tensor.TotalCount;
        }
    }

    [TestMethod]
    public void ThousandForwardPassesInScopesLeaveNoLiveTensors()
    {
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
        Assert.AreEqual(baseline, LiveTensorCount, $"tensors leaked across 1,000 scoped forward passes: {baseline} -> {LiveTensorCount}");

        ids.Dispose();
        mask.Dispose();
        // TorchSharp counts the wrapper a Parameter's handle moved out of as live for good, so the count cannot tell
        // whether disposing freed the parameters: each is checked instead.
        var parameters = model.parameters().ToList();
        long beforeDispose = LiveTensorCount;
        model.Dispose();
        Assert.IsTrue(parameters.All(p => p.IsInvalid), "disposing the model releases every parameter");
        Assert.IsTrue(LiveTensorCount <= beforeDispose - parameters.Count, "disposing the model releases its parameters and derived weights");
    }
}
