using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>The libtorch engine through TorchSharp: its errors, devices, dtypes and disposal under concurrent use.</summary>
[TestClass]
public class TorchEngineTests
{
    private static string Fixture(string name) => TestPaths.Fixture("models", name);

    [TestMethod]
    public void LibtorchErrorsArriveAsExceptionsWithTheirMessage()
    {
        TorchSharpRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var a = ones(2, 3);
        var b = ones(4, 5);
        // (Not matmul: TorchSharp 0.107's THSTensor_matmul lets libtorch's C++ exception escape, which ends the process.)
        var e = Assert.Throws<Exception>(() => a.add(b));
        StringAssert.Contains(e.Message, "must match the size of tensor b"); // libtorch's own message
    }

    [TestMethod]
    public void InputsOfMismatchedShapesAreRefusedBeforeLibtorchSeesThem()
    {
        using var model = ModelRegistries.SequenceClassification.FromPretrained(Fixture("bert-seqcls"));
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 2, 10, 11, 3 }, [1, 4]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { InputIds = ids, AttentionMask = ones(1, 5, ScalarType.Int64) }));
        StringAssert.Contains(e.Message, "attention_mask");
        StringAssert.Contains(e.Message, "[1, 5]");
        StringAssert.Contains(e.Message, "[1, 4]");
        Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { InputIds = ids.view(4) }));
        Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { InputIds = ids.to(ScalarType.Float32) }));
        Assert.ThrowsExactly<ArgumentException>(() => model.Forward(new ModelInputs { InputIds = ids, TokenTypeIds = zeros(2, 4, ScalarType.Int64) }));
    }

    [TestMethod]
    public void ToDtypeMovesBuffersToo()
    {
        // ResNet's BatchNorm keeps running statistics as buffers: to() converts them with the parameters.
        var folder = TestPaths.Fixture("vision", "models", "resnet-basic");
        using var model = ModelRegistries.ImageClassification.FromPretrained(folder);
        using var wide = ModelRegistries.ImageClassification.FromPretrained(folder);
        wide.to(ScalarType.Float64);
        Assert.IsTrue(wide.named_buffers().Any(), "the model has buffers");
        Assert.IsTrue(wide.named_buffers().Where(b => b.buffer.is_floating_point()).All(b => b.buffer.dtype == ScalarType.Float64));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        manual_seed(0);
        var pixels = randn(2, 3, 32, 32);
        var a = model.Forward(new ModelInputs { PixelValues = pixels }).Logits!;
        var b = wide.Forward(new ModelInputs { PixelValues = pixels.to(ScalarType.Float64) }).Logits!;
        Assert.IsTrue(Goldens.MaxAbsDiff(b, a, "float64") < 1e-4);
    }

    [TestMethod]
    public void CudaWithoutCudaIsAClearError()
    {
        if (TorchDevices.Parse("cpu") is var cpu && cuda.is_available()) Assert.Inconclusive("this machine has CUDA");
        var e = Assert.ThrowsExactly<NotSupportedException>(() => ModelRegistries.Base.FromPretrained(Fixture("bert-base"), new ModelLoadOptions { Device = "cuda" }));
        StringAssert.Contains(e.Message, "CUDA is not available");
        Assert.ThrowsExactly<ArgumentException>(() => TorchDevices.Parse("tpu"));
    }

    [TestMethod]
    [DataRow("float16", ScalarType.Float16, 0.01)]   // relative to the largest logit
    [DataRow("bfloat16", ScalarType.BFloat16, 0.05)] // 8 mantissa bits
    public void HalfPrecisionLoadsAndKeepsTiesAndOutputsClose(string dtype, ScalarType expected, double tolerance)
    {
        using var full = ModelRegistries.MaskedLM.FromPretrained(Fixture("bert-mlm"));
        using var half = ModelRegistries.MaskedLM.FromPretrained(Fixture("bert-mlm"), new ModelLoadOptions { TorchDtype = dtype });
        Assert.IsTrue(half.parameters().All(p => p.dtype == expected));
        var p = half.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.IsFalse(p.ContainsKey("cls.predictions.decoder.weight"), "the decoder stays tied to the word embeddings after the conversion");
        using var g = new Goldens("bert-mlm");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var inputs = new ModelInputs { InputIds = g.Tensor("input_ids"), AttentionMask = g.Tensor("attention_mask"), TokenTypeIds = g.Tensor("token_type_ids") };
        var a = full.Forward(inputs).Logits!;
        var b = half.Forward(inputs).Logits!;
        Assert.AreEqual(expected, b.dtype);
        var diff = Goldens.MaxAbsDiff(b, a, dtype) / a.abs().max().item<float>();
        Assert.IsTrue(diff < tolerance, $"{dtype} logits differ from float32 by {diff:P2} of the largest logit");

        // A half-precision checkpoint is saved in its dtype and "auto" loads it back as such.
        var dir = TempDir.Create();
        try
        {
            half.SavePretrained(dir);
            using var auto = ModelRegistries.MaskedLM.FromPretrained(dir, new ModelLoadOptions { TorchDtype = "auto" });
            Assert.IsTrue(auto.parameters().All(x => x.dtype == expected));
            using var widened = ModelRegistries.MaskedLM.FromPretrained(dir);
            Assert.IsTrue(widened.parameters().All(x => x.dtype == ScalarType.Float32), "without torch_dtype the weights load as float32, as Hugging Face");
        }
        finally { Directory.Delete(dir, true); }
    }

    [TestMethod]
    [DataRow(Engine.LibTorch)]
    [DataRow(Engine.OnnxRuntime)]
    public void DisposingWhileAnotherThreadRunsIsObjectDisposedNeverACrash(Engine engine)
    {
        var batch = new InferenceBatch([2, 10, 11, 12, 3, 0, 2, 13, 14, 3, 0, 0], [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0], null, 2, 6);
        for (int trial = 0; trial < 20; trial++)
        {
            var model = InferenceModel.Load(Fixture("bert-seqcls"), ModelHead.SequenceClassification, new InferenceModelOptions { Engine = engine });
            int runs = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var r = model.Run(batch);
                        Assert.AreEqual(2L, r.TryGet("logits")!.Shape[0]);
                        Interlocked.Increment(ref runs);
                    }
                }
                catch (ObjectDisposedException) { }
                catch (Exception e) { failures.Enqueue(e); }
            })).ToList();
            threads.ForEach(t => t.Start());
            SpinWait.SpinUntil(() => Volatile.Read(ref runs) > trial % 5, 10_000);
            model.Dispose();
            threads.ForEach(t => Assert.IsTrue(t.Join(30_000), "a worker hung after Dispose"));
            Assert.IsTrue(failures.IsEmpty, string.Join("\n", failures));
            Assert.ThrowsExactly<ObjectDisposedException>(() => model.Run(batch));
        }
    }
}
