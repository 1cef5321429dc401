using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.SafeTensors;

/// <summary>Reading files written from PyTorch tensors by test/fixtures/io/make_safetensors.py; expected values are
/// what torch itself printed into torch_all_dtypes.expected.json.</summary>
[TestClass]
public class SafeTensorsReadTests
{
    private static string Io(params string[] parts) => TestPaths.Fixture(["io", .. parts]);

    private static Dictionary<string, JsonElement> Expected() =>
        JsonDocument.Parse(File.ReadAllText(Io("torch_all_dtypes.expected.json"))).RootElement
            .EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    private static double ParseExpected(JsonElement v) => v.ValueKind == JsonValueKind.String
        ? v.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
        : v.GetDouble();

    private static void CheckAgainstTorch(SafeTensorsFile file)
    {
        var expected = Expected();
        Assert.HasCount(expected.Count, file.Tensors);
        foreach (var (name, exp) in expected)
        {
            var info = file.Get(name);
            Assert.AreEqual(exp.GetProperty("dtype").GetString(), info.DType.ToHeaderName(), name);
            CollectionAssert.AreEqual(exp.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), info.Shape, name);
            var want = exp.GetProperty("values").EnumerateArray().Select(ParseExpected).ToArray();
            Assert.AreEqual(want.LongLength, info.ElementCount, name);
            var got = TensorDecoding.ToDoubles(file.GetBytes(name), info.DType);
            CollectionAssert.AreEqual(want, got, $"{name}: [{string.Join(", ", got.Select(g => g.ToString(CultureInfo.InvariantCulture)))}]");
            foreach (var i in exp.GetProperty("negative_zero_at").EnumerateArray())
            {
                Assert.IsTrue(double.IsNegative(got[i.GetInt32()]), $"{name}[{i}] should be -0.0");
            }
        }
    }

    [TestMethod]
    public void ReadsEveryDtypeWrittenFromTorch()
    {
        using var file = SafeTensorsFile.Open(Io("torch_all_dtypes.safetensors"));
        CheckAgainstTorch(file);
        Assert.AreEqual("pt", file.Metadata["format"]);
        Assert.HasCount(1, file.Metadata);
    }

    [TestMethod]
    public void ReadsPythonStyleHeaderInAnyKeyOrder()
    {
        using var file = SafeTensorsFile.Open(Io("torch_python_style.safetensors"));
        CheckAgainstTorch(file);
        Assert.IsEmpty(file.Metadata);
        // Tensors come in data order whatever the header order was.
        var begins = file.Tensors.Select(t => t.Begin).ToArray();
        CollectionAssert.AreEqual(begins.Order().ToArray(), begins);
    }

    [TestMethod]
    public void InfoOffsetsAreRelativeToTheDataSection()
    {
        var path = Io("torch_all_dtypes.safetensors");
        using var file = SafeTensorsFile.Open(path);
        var raw = File.ReadAllBytes(path);
        Assert.AreEqual(8 + (long)BitConverter.ToUInt64(raw, 0), file.DataStart);
        var info = file.Get("f32.weight");
        Assert.AreEqual(12, info.ElementCount);
        Assert.AreEqual(48, info.ByteLength);
        CollectionAssert.AreEqual(raw.AsSpan((int)(file.DataStart + info.Begin), 48).ToArray(), file.GetBytes("f32.weight").ToArray());
        Assert.AreEqual(file.Tensors[^1].End, raw.Length - file.DataStart);
    }

    [TestMethod]
    public unsafe void SpanAndPointerViewsAgree()
    {
        using var file = SafeTensorsFile.Open(Io("torch_all_dtypes.safetensors"));
        var floats = file.GetSpan<float>("f32.weight");
        var bytes = file.GetBytes("f32.weight");
        Assert.AreEqual(BitConverter.ToSingle(bytes[4..8]), floats[1]);
        var p = file.GetPointer("f32.weight");
        Assert.AreEqual(floats[3], ((float*)p)[3]);
        Assert.AreEqual(0, file.GetBytes("z.empty").Length);
        Assert.AreEqual(1, file.Get("a.scalar").ElementCount);
        var ex = Assert.ThrowsExactly<InvalidOperationException>(() => file.GetSpan<double>("f32.weight"));
        StringAssert.Contains(ex.Message, "F32");
    }

    [TestMethod]
    public void MissingKeyNamesFileAndKey()
    {
        var path = Io("torch_all_dtypes.safetensors");
        using var file = SafeTensorsFile.Open(path);
        Assert.IsFalse(file.Contains("nope.weight"));
        Assert.IsTrue(file.Contains("f32.weight"));
        var ex = Assert.ThrowsExactly<KeyNotFoundException>(() => file.Get("nope.weight"));
        StringAssert.Contains(ex.Message, "nope.weight");
        StringAssert.Contains(ex.Message, Path.GetFullPath(path));
        var near = Assert.ThrowsExactly<KeyNotFoundException>(() => file.Get("bert.f32.weight"));
        StringAssert.Contains(near.Message, "'f32.weight'");
    }

    [TestMethod]
    public void ViewsFailAfterDispose()
    {
        var file = SafeTensorsFile.Open(Io("torch_all_dtypes.safetensors"));
        file.Dispose();
        file.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => file.GetBytes("f32.weight").Length);
    }

    [TestMethod]
    public void MissingFileNamesPath()
    {
        var path = Io("does_not_exist.safetensors");
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => SafeTensorsFile.Open(path));
        StringAssert.Contains(ex.Message, path);
    }
}
