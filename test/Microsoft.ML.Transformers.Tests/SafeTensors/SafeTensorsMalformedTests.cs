using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.SafeTensors;

/// <summary>Each file under test/fixtures/io/bad has one defect (see make_safetensors.py); the error must name the
/// file, the tensor where one is at fault, and what was expected vs found.</summary>
[TestClass]
public class SafeTensorsMalformedTests
{
    private static SafeTensorsFormatException Fails(string name, string? key, params string[] fragments)
    {
        var path = TestPaths.Fixture("io", "bad", name);
        var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        StringAssert.Contains(ex.Message, Path.GetFullPath(path));
        Assert.AreEqual(Path.GetFullPath(path), ex.FilePath);
        Assert.AreEqual(key, ex.Key, ex.Message);
        if (key is not null)
        {
            StringAssert.Contains(ex.Message, $"'{key}'");
        }
        foreach (var f in fragments)
        {
            StringAssert.Contains(ex.Message, f);
        }
        return ex;
    }

    [TestMethod]
    public void TruncatedFile() => Fails("truncated.safetensors", null, "has 3 bytes", "at least 8");

    [TestMethod]
    public void HeaderLengthBeyondFile() =>
        Fails("header_too_long.safetensors", null, "header length 4096", "file has 72 bytes", "at most 64");

    [TestMethod]
    public void HeaderNotJson()
    {
        var ex = Fails("bad_json.safetensors", null, "not valid JSON", "line 1, byte");
        Assert.IsNotNull(ex.InnerException);
    }

    [TestMethod]
    public void HeaderNotAnObject() => Fails("not_object.safetensors", null, "must be a JSON object", "found an array");

    [TestMethod]
    public void UnknownDtype() => Fails("unknown_dtype.safetensors", "w", "unknown dtype 'Q4'", "F32", "BF16", "BOOL");

    [TestMethod]
    public void ByteLengthDisagreesWithShape() =>
        Fails("wrong_length.safetensors", "w", "shape [2, 2]", "needs 16 bytes", "span 8");

    [TestMethod]
    public void OffsetsBeyondData() =>
        Fails("out_of_bounds.safetensors", "w", "[0, 16]", "data section, which has 8 bytes");

    [TestMethod]
    public void OverlappingTensors() =>
        Fails("overlap.safetensors", "b", "overlap tensor 'a'", "ends at 8", "expected this tensor to begin at 8");

    [TestMethod]
    public void GapBetweenTensors() => Fails("gap.safetensors", "b", "gap", "expected begin 4", "'a'");

    [TestMethod]
    public void TrailingBytesAfterLastTensor() =>
        Fails("trailing_bytes.safetensors", "w", "has 12 bytes", "cover 8", "end exactly at 12");

    [TestMethod]
    public void NegativeDimension() => Fails("bad_shape.safetensors", "w", "shape[1]", "non-negative integer", "-1");

    [TestMethod]
    public void DuplicateKeyAndMissingFieldsAreReported()
    {
        using var tmp = new TempFolder();
        var dup = tmp.File("dup.safetensors");
        WriteRaw(dup, """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8);
        var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(dup));
        StringAssert.Contains(ex.Message, "twice");
        StringAssert.Contains(ex.Message, dup);

        var noShape = tmp.File("noshape.safetensors");
        WriteRaw(noShape, """{"w":{"dtype":"F32","data_offsets":[0,4]}}""", 4);
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(noShape));
        StringAssert.Contains(ex.Message, "missing field 'shape'");

        var badMeta = tmp.File("badmeta.safetensors");
        WriteRaw(badMeta, """{"__metadata__":{"format":3}}""", 0);
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(badMeta));
        StringAssert.Contains(ex.Message, "__metadata__.format");
        StringAssert.Contains(ex.Message, "found a number");
    }

    [TestMethod]
    public void HeaderWithoutTensorsIsValid()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("empty.safetensors");
        WriteRaw(path, "{}", 0);
        using var file = SafeTensorsFile.Open(path);
        Assert.IsEmpty(file.Tensors);
    }

    /// <summary>Issue 13, item 18: malformed names end in SafeTensorsFormatException, not InvalidOperationException / ArgumentException.</summary>
    [TestMethod]
    public void InvalidUtf8OrUnicodeInNamesIsAFormatError()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("utf8.safetensors");
        var header = System.Text.Encoding.UTF8.GetBytes("{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".Replace("\xff", "#"));
        header[3] = 0xC3; // a lead byte followed by '"': not UTF-8
        using (var s = File.Create(path)) { s.Write(BitConverter.GetBytes((ulong)header.Length)); s.Write(header); s.Write(new byte[4]); }
        var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        StringAssert.Contains(ex.Message, "not valid UTF-8");
        StringAssert.Contains(ex.Message, "byte 3");

        var surrogate = tmp.File("surrogate.safetensors");
        WriteRaw(surrogate, """{"w\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4);
        ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsFile.Open(surrogate));
        StringAssert.Contains(ex.Message, "not valid Unicode");
    }

    [TestMethod]
    public void ShardNamesThatAreNotFileNamesAreAFormatError()
    {
        using var tmp = new TempFolder();
        foreach (var name in new[] { "model\\u0000.safetensors", "model\\u0001x.safetensors" }) // JSON escapes
        {
            File.WriteAllText(tmp.File("model.safetensors.index.json"), "{\"weight_map\": {\"w\": \"" + name + "\"}}");
            var ex = Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
            StringAssert.Contains(ex.Message, "model.safetensors.index.json");
            StringAssert.Contains(ex.Message, "weight_map.w");
        }
        File.WriteAllBytes(tmp.File("model.safetensors.index.json"), [.. "{\"weight_map\": {\"w\": \"m"u8, 0xFF, .. ".safetensors\"}}"u8]);
        Assert.ThrowsExactly<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(tmp.Path));
    }

    private static void WriteRaw(string path, string header, int dataBytes)
    {
        var h = System.Text.Encoding.UTF8.GetBytes(header);
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((ulong)h.Length));
        s.Write(h);
        s.Write(new byte[dataBytes]);
    }
}
