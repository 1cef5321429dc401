using Microsoft.ML.Transformers.Torch;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Tests.Torch;

[TestClass]
public class TensorTests
{
    [TestMethod]
    public void RoundTripsEveryDtype()
    {
        using var scope = NewDisposeScope();
        CollectionAssert.AreEqual(new[] { 1.5f, -2f, 3.25f }, tensor(new[] { 1.5f, -2f, 3.25f }).data<float>());
        CollectionAssert.AreEqual(new[] { 1L, long.MaxValue, -7L }, tensor(new[] { 1L, long.MaxValue, -7L }).data<long>());
        CollectionAssert.AreEqual(new[] { 4, -5 }, tensor(new[] { 4, -5 }).data<int>());
        CollectionAssert.AreEqual(new[] { true, false, true }, tensor(new[] { true, false, true }).data<bool>());
        var halves = new[] { (Half)0.5f, (Half)(-1.25f), (Half)1024f };
        CollectionAssert.AreEqual(halves, tensor(halves).data<Half>());
        var bf = new[] { (BFloat16)0.5f, (BFloat16)(-3f) };
        CollectionAssert.AreEqual(bf, tensor(bf).data<BFloat16>());
        // bf16 -> f32 conversion by libtorch agrees with ours
        CollectionAssert.AreEqual(new[] { 0.5f, -3f }, tensor(bf).to(ScalarType.Float32).data<float>());
        Assert.AreEqual(ScalarType.BFloat16, tensor(bf).dtype);
    }

    [TestMethod]
    public void ShapeViewsAndMath()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, x.shape);
        CollectionAssert.AreEqual(new float[] { 1, 4, 2, 5, 3, 6 }, x.t().contiguous().data<float>());
        CollectionAssert.AreEqual(new float[] { 2, 3, 5, 6 }, x.slice(1, 1, 3).data<float>());
        CollectionAssert.AreEqual(new float[] { 4, 5, 6 }, x.select(0, 1).data<float>());
        CollectionAssert.AreEqual(new float[] { 6, 15 }, x.sum(1).data<float>());
        // [[1,2,3],[4,5,6]] @ [[1],[1],[1]] = [[6],[15]]
        CollectionAssert.AreEqual(new float[] { 6, 15 }, x.matmul(ones([3, 1])).data<float>());
        CollectionAssert.AreEqual(new long[] { 2, 2 }, x.argmax(1).data<long>());
        var (v, i) = tensor(new float[] { 3, 9, 1, 7 }).topk(2);
        CollectionAssert.AreEqual(new float[] { 9, 7 }, v.data<float>());
        CollectionAssert.AreEqual(new long[] { 1, 3 }, i.data<long>());
        CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6 }, cat([x, x], 0).data<float>());
        var mask = tensor(new[] { false, true, false, true, false, true }, [2, 3]);
        CollectionAssert.AreEqual(new float[] { 1, -1, 3, -1, 5, -1 }, x.masked_fill(mask, -1).data<float>());
    }

    [TestMethod]
    public void SoftmaxAndGeluMatchClosedForms()
    {
        using var scope = NewDisposeScope();
        var s = tensor(new float[] { 0, (float)Math.Log(3) }).softmax(0).data<float>();
        Assert.AreEqual(0.25f, s[0], 1e-6f);
        Assert.AreEqual(0.75f, s[1], 1e-6f);
        // gelu(x) = x * Phi(x); Phi(1) = 0.8413447460685429
        Assert.AreEqual(0.8413447460685429, tensor(new float[] { 1 }).gelu().data<float>()[0], 1e-6);
        // tanh approximation: 0.5 * (1 + tanh(sqrt(2/pi) * (1 + 0.044715)))
        var approx = 0.5 * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * 1.044715));
        Assert.AreEqual(approx, tensor(new float[] { 1 }).gelu("tanh").data<float>()[0], 1e-6);
    }

    [TestMethod]
    public void CrossEntropyIgnoresMinus100()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0, 0, 0, 5, 0, 0 }, [2, 3]);
        var loss = nn.functional.cross_entropy(logits, tensor(new long[] { 1, -100 })).item<float>();
        Assert.AreEqual(Math.Log(3), loss, 1e-6); // only the first row counts: uniform over 3 classes
        var mse = nn.functional.mse_loss(tensor(new float[] { 1, 3 }), tensor(new float[] { 0, 0 })).item<float>();
        Assert.AreEqual(5f, mse, 1e-6f);
        // BCE with logits at x=0, y=1: log 2
        var bce = nn.functional.binary_cross_entropy_with_logits(tensor(new float[] { 0 }), tensor(new float[] { 1 })).item<float>();
        Assert.AreEqual(Math.Log(2), bce, 1e-6);
    }

    [TestMethod]
    public void AutogradComputesGradients()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, -2, 3 }, requires_grad: true);
        x.mul(x).sum().backward(); // d/dx sum(x^2) = 2x
        CollectionAssert.AreEqual(new float[] { 2, -4, 6 }, x.grad!.data<float>());
        x.zero_grad();
        Assert.IsNull(x.grad);
        using (no_grad())
        {
            Assert.IsFalse(is_grad_enabled());
            Assert.IsFalse(x.mul(2).requires_grad);
        }
        Assert.IsTrue(is_grad_enabled());
        Assert.IsTrue(x.mul(2).requires_grad);
    }

    [TestMethod]
    public void LibtorchErrorsBecomeExceptions()
    {
        using var scope = NewDisposeScope();
        var a = zeros([2, 3]);
        var b = zeros([4, 5]);
        var e = Assert.ThrowsExactly<TorchException>(() => a.matmul(b));
        StringAssert.Contains(e.Message, "cannot be multiplied");
        StringAssert.Contains(e.Message, "2x3 and 4x5");
        Assert.IsFalse(e.Message.Contains("frame #"), "the C++ backtrace must not leak into the message");
        // the engine is still usable afterwards
        Assert.AreEqual(0f, a.sum().item<float>());
    }

    [TestMethod]
    public void CudaWithoutCudaBuildIsAClearError()
    {
        if (cuda.is_available()) Assert.Inconclusive("this libtorch build has CUDA");
        var e = Assert.ThrowsExactly<NotSupportedException>(() => zeros([2], device: Device.CUDA));
        StringAssert.Contains(e.Message, "no CUDA support");
        Assert.ThrowsExactly<ArgumentException>(() => Device.Parse("tpu"));
    }

    [TestMethod]
    public void DisposedTensorThrows()
    {
        var t = zeros([1]);
        t.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => t.add(1));
    }
}
