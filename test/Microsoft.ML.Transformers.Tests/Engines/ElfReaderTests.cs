using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Engines.Elf;

namespace Microsoft.ML.Transformers.Tests.Engines;

/// <summary>Malformed input gets an <see cref="ElfFormatException"/> naming the file and the problem, never a crash.</summary>
[TestClass]
public class ElfReaderTests
{
    private static byte[] RealLibrary()
    {
        string path = Path.Combine(TestPaths.TorchSharpPackageDir, "runtimes", "linux-x64", "native", LibTorchSharpGlibcxxPatch.LibraryFileName);
        if (!File.Exists(path)) Assert.Inconclusive($"{path} is not restored");
        return File.ReadAllBytes(path);
    }

    private static ElfFormatException Rejects(byte[] bytes, string expected)
    {
        var e = Assert.ThrowsExactly<ElfFormatException>(() => new ElfFile(bytes, "bad.so"));
        StringAssert.StartsWith(e.Message, "bad.so: ");
        StringAssert.Contains(e.Message, expected);
        Assert.ThrowsExactly<ElfFormatException>(() => LibTorchSharpGlibcxxPatch.Patch(bytes, "bad.so"));
        return e;
    }

    [TestMethod]
    public void RejectsAnEmptyFile() => Rejects([], "no ELF magic");

    [TestMethod]
    public void RejectsWrongMagic() => Rejects("MZ\x90\0 this is a PE file, not ELF"u8.ToArray(), "no ELF magic");

    [TestMethod]
    public void RejectsAFileCutInsideTheHeader() => Rejects(RealLibrary()[..40], "shorter than an ELF64 header");

    [TestMethod]
    public void RejectsAFileCutBeforeItsSectionHeaders()
    {
        byte[] real = RealLibrary();
        Rejects(real[..(real.Length / 2)], "past the end of the file");
    }

    [TestMethod]
    public void RejectsAFileCutInsideItsSections()
    {
        // keep the header and the section header table, drop the middle: sections now point past the end
        byte[] real = RealLibrary();
        long shoff = BitConverter.ToInt64(real, 40);
        byte[] cut = new byte[64 + (real.Length - shoff)];
        Array.Copy(real, cut, 64);
        Array.Copy(real, shoff, cut, 64, real.Length - shoff);
        BitConverter.GetBytes(64L).CopyTo(cut, 40);
        Rejects(cut, $"past the end of the file ({cut.Length} bytes)");
    }

    [TestMethod]
    public void Rejects32BitAndBigEndianFiles()
    {
        byte[] elf32 = RealLibrary()[..4096];
        elf32[4] = 1;
        Rejects(elf32, "ELFCLASS64");
        byte[] bigEndian = RealLibrary()[..4096];
        bigEndian[5] = 2;
        Rejects(bigEndian, "little-endian");
    }

    [TestMethod]
    public void RejectsAStringOffsetOutsideItsTable()
    {
        byte[] real = RealLibrary();
        var elf = new ElfFile(real, "ok");
        var need = elf.VersionNeeds[0];
        // vna_name sits 4 bytes after vna_flags
        BitConverter.GetBytes(uint.MaxValue).CopyTo(real, need.FlagsOffset + 4);
        Rejects(real, "outside its string table");
    }

    [TestMethod]
    public void ReadingAMissingFileIsAnIOError()
    {
        Assert.ThrowsExactly<FileNotFoundException>(() => ElfFile.Read(Path.Combine(Path.GetTempPath(), "mlt-no-such-library.so")));
        Assert.IsNull(TorchSharpRuntime.Diagnose(Path.Combine(Path.GetTempPath(), "mlt-no-such-library.so"), "/nonexistent/libstdc++.so.6"));
    }
}
