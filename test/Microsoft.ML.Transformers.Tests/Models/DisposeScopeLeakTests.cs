using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

[TestClass]
[DoNotParallelize]
public class DisposeScopeLeakTests
{
    [TestMethod]
    public void ThousandForwardPassesInScopesLeaveNoLiveTensors()
    {
        using var model = AutoModelForSequenceClassification.FromPretrained(TestPaths.Fixture("models", "bert-seqcls"));
        using var ids = tensor(new long[] { 2, 10, 11, 12, 3, 0 }, [1, 6]);
        using var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0 }, [1, 6]);
        long baseline = LiveTensorCount;
        for (int i = 0; i < 1000; i++)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var output = model.Forward(new ModelInputs { InputIds = ids, AttentionMask = mask, OutputHiddenStates = true, OutputAttentions = true });
            Assert.AreEqual(3L, output.Logits!.shape[1]);
        }
        Assert.AreEqual(baseline, LiveTensorCount, "native tensors leaked across 1,000 scoped forward passes");
    }
}
