using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

/// <summary>
/// The graphs and numpy-computed expectations written by test/fixtures/onnx/make_onnx_fixtures.py.
/// </summary>
internal static class OnnxFixtures
{
    private static readonly Lazy<JsonDocument> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path("expected.json"))));

    public static string Path(params string[] parts) => TestPaths.Fixture(["onnx", .. parts]);

    public static NamedTensor Input(string graph, string name) => Read(graph, "inputs", name);
    public static NamedTensor Output(string graph, string name) => Read(graph, "outputs", name);

    public static IEnumerable<string> OutputNames(string graph) =>
        Expected.Value.RootElement.GetProperty(graph).GetProperty("outputs").EnumerateObject().Select(p => p.Name);

    private static NamedTensor Read(string graph, string kind, string name)
    {
        JsonElement e = Expected.Value.RootElement.GetProperty(graph).GetProperty(kind).GetProperty(name);
        long[] shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        JsonElement data = e.GetProperty("data");
        return e.GetProperty("dtype").GetString() switch
        {
            "float32" => NamedTensor.Create(name, data.EnumerateArray().Select(x => x.GetSingle()).ToArray(), shape),
            "int64" => NamedTensor.Create(name, data.EnumerateArray().Select(x => x.GetInt64()).ToArray(), shape),
            var t => throw new InvalidDataException($"expected.json {graph}.{kind}.{name}: unsupported dtype {t}"),
        };
    }

    /// <summary>A fixture tensor as an ONNX Runtime value over its array (for running a graph on a raw InferenceSession).</summary>
    public static OrtValue ToOrtValue(NamedTensor t) => t.ElementType switch
    {
        TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(t.GetData<float>(), t.Shape),
        TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(t.GetData<long>(), t.Shape),
        _ => throw new NotSupportedException(t.ToString()),
    };

    /// <summary>[batch, sequence] fixture ids as a 2-D array.</summary>
    public static long[,] To2D(NamedTensor t)
    {
        long[] flat = t.GetData<long>();
        var a = new long[t.Shape[0], t.Shape[1]];
        Buffer.BlockCopy(flat, 0, a, 0, flat.Length * sizeof(long));
        return a;
    }

    /// <summary>Asserts same name, type, shape and values (floats within an absolute+relative tolerance).</summary>
    public static void AssertClose(NamedTensor expected, NamedTensor actual, float tolerance = 1e-5f)
    {
        Assert.AreEqual(expected.Name, actual.Name);
        Assert.AreEqual(expected.ElementType, actual.ElementType, expected.Name);
        CollectionAssert.AreEqual(expected.Shape, actual.Shape, $"{expected.Name} shape");
        if (expected.ElementType == TensorElementType.Float)
        {
            float[] e = expected.GetData<float>(), a = actual.GetData<float>();
            for (int i = 0; i < e.Length; i++)
                Assert.IsTrue(Math.Abs(e[i] - a[i]) <= tolerance * (1 + Math.Abs(e[i])),
                    $"{expected.Name}[{i}]: expected {e[i]}, got {a[i]}");
        }
        else
        {
            CollectionAssert.AreEqual(expected.Data, actual.Data, expected.Name);
        }
    }
}
