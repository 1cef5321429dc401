using Microsoft.ML.Transformers.Vision;

namespace Microsoft.ML.Transformers.Tests.Vision;

/// <summary>post_process_semantic_segmentation on cases worked out by hand (bilinear, align_corners = false).</summary>
[TestClass]
public class SemanticSegmentationTests
{
    // Two classes on a 2x2 map: class 0 is -0.5 everywhere, class 1 is [[4, -4], [0, -4]].
    private static readonly float[] TwoByTwo = [-0.5f, -0.5f, -0.5f, -0.5f, 4, -4, 0, -4];

    [TestMethod]
    public void UpsampledTwoByTwoToFourByFour()
    {
        // 2 -> 4: source index max(0.5 * (i + 0.5) - 0.5, 0) = 0, 0.25, 0.75, 1 (clamped to the last row/column), so the
        // weights of row/column 0 are 1, 0.75, 0.25, 0. Class 1 is 4*wy0*wx0 - 4*wx1*(wy0+wy1) = 4*wx0*(1+wy0) - 4:
        //   x=0: 4, 3, 1, 0 (> -0.5: class 1 on every row); x=1: 2, 1.25, -0.25, -1 (class 1 on rows 0-2);
        //   x=2, x=3: at most -2 (class 0).
        var map = SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 2], [(4, 4)]).Single();
        Assert.AreEqual((4, 4), (map.Height, map.Width));
        CollectionAssert.AreEqual(new[]
        {
            1, 1, 0, 0,
            1, 1, 0, 0,
            1, 1, 0, 0,
            1, 0, 0, 0,
        }, map.Data);
        CollectionAssert.AreEqual(new[] { 0, 1 }, map.LabelIds);
    }

    [TestMethod]
    public void NonSquareTargetAndTiesGoToTheFirstClass()
    {
        // 2 -> 3 rows: source 0, 0.5, 1 (weights of row 0: 1, 0.5, 0); 2 -> 5 columns: source 0, 0.1, 0.5, 0.9, 1 clamped
        // (weights of column 0: 1, 0.9, 0.5, 0.1, 0). Class 1 = 4*wx0*(1+wy0) - 4; class 0 = -0.5.
        //   row 0 (wy0 = 1):   8*wx0 - 4 = 4, 3.2, 0, -3.2, -4  -> 1 1 1 0 0
        //   row 1 (wy0 = 0.5): 6*wx0 - 4 = 2, 1.4, -1, ...     -> 1 1 0 0 0
        //   row 2 (wy0 = 0):   4*wx0 - 4 = 0, -0.4, -2, ...    -> 1 1 0 0 0
        var map = SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 2], [(3, 5)]).Single();
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0 }, map.Data);

        // Equal logits everywhere: torch.argmax's first maximum, class 0.
        var tie = SemanticSegmentation.PostProcess(new float[3 * 4], [1, 3, 2, 2], [(5, 7)]).Single();
        Assert.IsTrue(tie.Data.All(v => v == 0));
        CollectionAssert.AreEqual(new[] { 0 }, tie.LabelIds);
    }

    [TestMethod]
    public void WithoutTargetSizesEachImageKeepsTheLogitsSize()
    {
        // Batch of two 1x3 maps with 2 classes: the arg-max per pixel, no resize.
        float[] logits = [0, 5, 0, 1, 0, 2, /* image 1 */ 3, 3, 9, 1, 4, 0];
        var maps = SemanticSegmentation.PostProcess(logits, [2, 2, 1, 3]);
        Assert.AreEqual(2, maps.Count);
        CollectionAssert.AreEqual(new[] { 1, 0, 1 }, maps[0].Data);
        CollectionAssert.AreEqual(new[] { 0, 1, 0 }, maps[1].Data);
        using var t = maps[1].ToTensor();
        CollectionAssert.AreEqual(new long[] { 1, 3 }, t.shape);
    }

    [TestMethod]
    public void BadInputIsRefused()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 2], [(4, 4), (4, 4)]));
        StringAssert.Contains(e.Message, "as many target sizes as the batch dimension");
        Assert.ThrowsExactly<ArgumentException>(() => SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 3]));
        Assert.ThrowsExactly<ArgumentException>(() => SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 2], [(0, 4)]));
        e = Assert.ThrowsExactly<ArgumentException>(() => SemanticSegmentation.PostProcess(TwoByTwo, [1, 2, 2, 2], [(100_000, 100_000)]));
        StringAssert.Contains(e.Message, "100000x100000");
    }
}
