using Microsoft.ML.Transformers.SafeTensors;

using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>Reads the golden tensors written by test/fixtures/scripts/make_model_fixtures.py (PyTorch reference).</summary>
internal sealed class Goldens : IDisposable
{
    private readonly SafeTensorsFile _file;

    public Goldens(string caseName) => _file = SafeTensorsFile.Open(TestPaths.Fixture("goldens", caseName + ".safetensors"));

    public bool Contains(string key) => _file.Contains(key);

    public IEnumerable<string> Keys => _file.Keys;

    /// <summary>The file's __metadata__ (a generator's arguments, for instance).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    public Tensor Tensor(string key)
    {
        var info = _file.Get(key);
        var type = info.DType switch
        {
            SafeTensorDType.F32 => ScalarType.Float32,
            SafeTensorDType.I64 => ScalarType.Int64,
            _ => throw new NotSupportedException(info.DType.ToString()),
        };
        var t = empty(info.Shape, type);
        _file.GetBytes(key).CopyTo(t.bytes);
        return t;
    }

    public Tensor? TryTensor(string key) => Contains(key) ? Tensor(key) : null;

    public void Dispose() => _file.Dispose();

    /// <summary>Largest absolute elementwise difference; shapes must match.</summary>
    public static double MaxAbsDiff(Tensor actual, Tensor expected, string what)
    {
        CollectionAssert.AreEqual(expected.shape, actual.shape, $"{what}: shape");
        var a = actual.detach().to(ScalarType.Float32).cpu().data<float>().ToArray();
        var e = expected.to(ScalarType.Float32).data<float>().ToArray();
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - e[i]));
        return max;
    }

    public static void AssertClose(Tensor actual, Tensor expected, double tolerance, string what)
    {
        var d = MaxAbsDiff(actual, expected, what);
        Assert.IsTrue(d <= tolerance, $"{what}: max abs difference {d:E3} > {tolerance:E1}");
    }
}
