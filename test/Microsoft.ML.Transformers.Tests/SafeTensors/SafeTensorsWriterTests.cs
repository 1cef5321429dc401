using System.Text;
using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Tests.SafeTensors;

[TestClass]
public class SafeTensorsWriterTests
{
    private static byte[] Floats(params float[] v) => v.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] FileBytes(string header, int padding, byte[] data) =>
        [.. BitConverter.GetBytes((ulong)(header.Length + padding)), .. Encoding.ASCII.GetBytes(header),
         .. Enumerable.Repeat((byte)' ', padding), .. data];

    /// <summary>Byte vectors from the reference library's own serializer tests (safetensors/src/tensor.rs:
    /// test_serialization, test_empty, test_serialization_forced_alignement).</summary>
    [TestMethod]
    public void MatchesReferenceSerializerVectors()
    {
        using var tmp = new TempFolder();
        var data = Floats(0, 1, 2, 3, 4, 5);

        var path = tmp.File("a.safetensors");
        SafeTensorsWriter.Write(path, [new SafeTensorEntry("attn.0", SafeTensorDType.F32, [1, 2, 3], data)]);
        CollectionAssert.AreEqual(
            FileBytes("""{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}""", 0, data), File.ReadAllBytes(path));

        SafeTensorsWriter.Write(path, [new SafeTensorEntry("attn0", SafeTensorDType.F32, [1, 1, 2, 3], data)]);
        CollectionAssert.AreEqual(
            FileBytes("""{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}""", 7, data), File.ReadAllBytes(path));

        SafeTensorsWriter.Write(path, []);
        CollectionAssert.AreEqual(FileBytes("{}", 6, []), File.ReadAllBytes(path));

        SafeTensorsWriter.Write(path, [], new Dictionary<string, string> { ["framework"] = "pt" });
        CollectionAssert.AreEqual(FileBytes("""{"__metadata__":{"framework":"pt"}}""", 5, []), File.ReadAllBytes(path));
    }

    /// <summary>Re-writing the torch fixture's tensors, given in a scrambled order, reproduces the file exactly:
    /// same dtype-then-name order, same header bytes, same padding.</summary>
    [TestMethod]
    public void ReproducesReferenceLayoutOfTorchFixture()
    {
        var fixture = TestPaths.Fixture("io", "torch_all_dtypes.safetensors");
        List<SafeTensorEntry> entries;
        using (var file = SafeTensorsFile.Open(fixture))
        {
            entries = file.Tensors.Select(t => new SafeTensorEntry(t.Name, t.DType, t.Shape, file.GetBytes(t).ToArray()))
                .OrderBy(e => e.Name.Length).ThenByDescending(e => e.Name, StringComparer.Ordinal).ToList();
        }
        using var tmp = new TempFolder();
        var path = tmp.File("copy.safetensors");
        SafeTensorsWriter.Write(path, entries, new Dictionary<string, string> { ["format"] = "pt" });
        CollectionAssert.AreEqual(File.ReadAllBytes(fixture), File.ReadAllBytes(path));
    }

    [TestMethod]
    public void RoundTripsEveryDtype()
    {
        var rng = new Random(42);
        var entries = new List<SafeTensorEntry>();
        foreach (var dtype in Enum.GetValues<SafeTensorDType>())
        {
            long[] shape = [2, 3];
            var bytes = new byte[6 * dtype.ElementSize()];
            rng.NextBytes(bytes);
            entries.Add(new SafeTensorEntry($"t.{dtype}", dtype, shape, bytes));
            entries.Add(new SafeTensorEntry($"s.{dtype}", dtype, [], bytes.AsMemory(0, dtype.ElementSize())));
        }
        entries.Add(new SafeTensorEntry("empty", SafeTensorDType.F32, [3, 0], Array.Empty<byte>()));
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "quote \" backslash \\ tab \t é 😀" };

        using var tmp = new TempFolder();
        var path = tmp.File("all.safetensors");
        SafeTensorsWriter.Write(path, entries, meta);
        using var file = SafeTensorsFile.Open(path);
        Assert.HasCount(entries.Count, file.Tensors);
        CollectionAssert.AreEquivalent(meta, file.Metadata.ToDictionary());
        foreach (var e in entries)
        {
            var info = file.Get(e.Name);
            Assert.AreEqual(e.DType, info.DType, e.Name);
            CollectionAssert.AreEqual(e.Shape, info.Shape, e.Name);
            CollectionAssert.AreEqual(e.Data.ToArray(), file.GetBytes(e.Name).ToArray(), e.Name);
        }
        // Every tensor starts at an offset aligned to its element size (the point of the reference ordering).
        foreach (var t in file.Tensors)
        {
            Assert.AreEqual(0, (file.DataStart + t.Begin) % t.DType.ElementSize(), t.Name);
        }
    }

    [TestMethod]
    public void NonAsciiNamesRoundTrip()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("u.safetensors");
        SafeTensorsWriter.Write(path, [new SafeTensorEntry("poids.é.\u4e2d", SafeTensorDType.U8, [2], new byte[] { 1, 2 })]);
        using var file = SafeTensorsFile.Open(path);
        CollectionAssert.AreEqual(new byte[] { 1, 2 }, file.GetBytes("poids.é.\u4e2d").ToArray());
        // Raw UTF-8 in the header, as serde_json writes it.
        StringAssert.Contains(Encoding.UTF8.GetString(File.ReadAllBytes(path)), "poids.é.\u4e2d");
    }

    [TestMethod]
    public void StreamingWriterMatchesInMemoryWriter()
    {
        var a = Floats(1, 2, 3, 4);
        var b = new byte[] { 9, 8, 7 };
        using var tmp = new TempFolder();
        SafeTensorsWriter.Write(tmp.File("m.safetensors"),
            [new SafeTensorEntry("a", SafeTensorDType.F32, [2, 2], a), new SafeTensorEntry("b", SafeTensorDType.I8, [3], b)]);
        SafeTensorsWriter.WriteStreaming(tmp.File("s.safetensors"),
        [
            new SafeTensorStreamEntry("b", SafeTensorDType.I8, [3], s => { s.WriteByte(9); s.Write(b, 1, 2); }),
            new SafeTensorStreamEntry("a", SafeTensorDType.F32, [2, 2], s => s.Write(a)),
        ]);
        CollectionAssert.AreEqual(File.ReadAllBytes(tmp.File("m.safetensors")), File.ReadAllBytes(tmp.File("s.safetensors")));
    }

    [TestMethod]
    public void RejectsDataOfWrongLengthNamingTensor()
    {
        using var tmp = new TempFolder();
        var ex = Assert.ThrowsExactly<ArgumentException>(() => SafeTensorsWriter.Write(tmp.File("x.safetensors"),
            [new SafeTensorEntry("enc.w", SafeTensorDType.F32, [2, 3], new byte[20])]));
        StringAssert.Contains(ex.Message, "'enc.w'");
        StringAssert.Contains(ex.Message, "needs 24 bytes");
        StringAssert.Contains(ex.Message, "has 20");
        Assert.IsEmpty(tmp.Entries());
    }

    [TestMethod]
    public void RejectsDuplicateAndReservedNames()
    {
        using var tmp = new TempFolder();
        var one = new SafeTensorEntry("w", SafeTensorDType.U8, [1], new byte[1]);
        var ex = Assert.ThrowsExactly<ArgumentException>(() => SafeTensorsWriter.Write(tmp.File("x.safetensors"), [one, one]));
        StringAssert.Contains(ex.Message, "'w' appears twice");
        ex = Assert.ThrowsExactly<ArgumentException>(() => SafeTensorsWriter.Write(tmp.File("x.safetensors"),
            [one with { Name = "__metadata__" }]));
        StringAssert.Contains(ex.Message, "reserved");
    }

    /// <summary>A failure while streaming data leaves neither a partial file nor a temp file, and keeps the old file.</summary>
    [TestMethod]
    public void FailedWriteLeavesNoPartialFile()
    {
        using var tmp = new TempFolder();
        var path = tmp.File("model.safetensors");
        SafeTensorsWriter.Write(path, [new SafeTensorEntry("old", SafeTensorDType.U8, [1], new byte[] { 7 })]);
        var before = File.ReadAllBytes(path);

        var shortWrite = Assert.ThrowsExactly<InvalidOperationException>(() => SafeTensorsWriter.WriteStreaming(path,
            [new SafeTensorStreamEntry("big", SafeTensorDType.F32, [1000], s => s.Write(new byte[3000]))]));
        StringAssert.Contains(shortWrite.Message, "'big'");
        StringAssert.Contains(shortWrite.Message, "wrote 3000 bytes");
        StringAssert.Contains(shortWrite.Message, "need 4000");

        Assert.ThrowsExactly<IOException>(() => SafeTensorsWriter.WriteStreaming(path,
            [new SafeTensorStreamEntry("big", SafeTensorDType.F32, [1000], s => { s.Write(new byte[100]); throw new IOException("disk gone"); })]));

        var longWrite = Assert.ThrowsExactly<InvalidOperationException>(() => SafeTensorsWriter.WriteStreaming(tmp.File("new.safetensors"),
            [new SafeTensorStreamEntry("w", SafeTensorDType.U8, [2], s => s.Write(new byte[3]))]));
        StringAssert.Contains(longWrite.Message, "more than the 2 bytes");

        CollectionAssert.AreEqual(new[] { "model.safetensors" }, tmp.Entries());
        CollectionAssert.AreEqual(before, File.ReadAllBytes(path));
    }
}
