using System.Security.Cryptography;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.Engines.Elf;

namespace Microsoft.ML.Transformers.Tests.Engines;

/// <summary>The GLIBCXX_3.4.32 patch on TorchSharp's real libLibTorchSharp.so (read from the package, never written).</summary>
[TestClass]
public class LibTorchSharpPatchTests
{
    private static string PackageLibrary()
    {
        string path = Path.Combine(TestPaths.TorchSharpPackageDir, "runtimes", "linux-x64", "native", LibTorchSharpGlibcxxPatch.LibraryFileName);
        if (!File.Exists(path)) Assert.Inconclusive($"{path} is not restored");
        return path;
    }

    private static ElfVersionNeed Need(ElfFile elf) =>
        elf.VersionNeeds.Single(n => n.File == "libstdc++.so.6" && n.Name == LibTorchSharpGlibcxxPatch.Version);

    private static ElfDynamicSymbol Anchor(ElfFile elf) =>
        elf.DynamicSymbols.Single(s => s.Name == LibTorchSharpGlibcxxPatch.AnchorSymbol);

    [TestMethod]
    public void PackageLibraryHardRequiresTheVersionForTheAnchorOnly()
    {
        var elf = ElfFile.Read(PackageLibrary());
        Assert.IsTrue(LibTorchSharpGlibcxxPatch.HasHardRequirement(elf));
        var need = Need(elf);
        var versioned = elf.DynamicSymbols.Where(s => s.VersionIndex == need.Index).Select(s => s.Name).ToArray();
        CollectionAssert.AreEqual(new[] { LibTorchSharpGlibcxxPatch.AnchorSymbol }, versioned);
        var anchor = Anchor(elf);
        Assert.IsTrue(anchor.IsUndefined);
        Assert.AreEqual(ElfFile.STB_GLOBAL, anchor.Binding);
        // no relocation refers to it: nothing binds to it at run time, so the version check is all that is in the way
        Assert.IsFalse(elf.IsRelocated(anchor.Index));
    }

    [TestMethod]
    public void PatchMarksTheRequirementWeakAndTheAnchorUnversioned()
    {
        byte[] original = File.ReadAllBytes(PackageLibrary());
        byte[] before = SHA256.HashData(original);

        var result = LibTorchSharpGlibcxxPatch.Patch(original, "libLibTorchSharp.so");

        Assert.IsTrue(result.Changed, result.Description);
        CollectionAssert.AreEqual(before, SHA256.HashData(original), "the input must not be modified");
        Assert.AreEqual(original.Length, result.Bytes.Length);
        int differing = original.Zip(result.Bytes).Count(p => p.First != p.Second);
        Assert.IsTrue(differing is > 0 and <= 4, $"{differing} bytes changed");

        var patched = new ElfFile(result.Bytes, "patched");
        Assert.IsFalse(LibTorchSharpGlibcxxPatch.HasHardRequirement(patched));
        Assert.IsTrue(Need(patched).IsWeak);
        Assert.AreEqual(1, Anchor(patched).VersionIndex);
        Assert.AreEqual(ElfFile.STB_GLOBAL, Anchor(patched).Binding, "not relocated, so its binding is left alone");
        // every other versioned symbol is untouched
        var was = new ElfFile(original, "original");
        for (int i = 0; i < was.DynamicSymbols.Count; i++)
            if (was.DynamicSymbols[i].Name != LibTorchSharpGlibcxxPatch.AnchorSymbol)
                Assert.AreEqual(was.DynamicSymbols[i].VersionIndex, patched.DynamicSymbols[i].VersionIndex, was.DynamicSymbols[i].Name);
    }

    [TestMethod]
    public void AlreadyPatchedLibraryIsLeftByteIdentical()
    {
        byte[] patched = LibTorchSharpGlibcxxPatch.Patch(File.ReadAllBytes(PackageLibrary()), "once").Bytes;
        byte[] copy = (byte[])patched.Clone();

        var again = LibTorchSharpGlibcxxPatch.Patch(patched, "twice");

        Assert.IsFalse(again.Changed, again.Description);
        Assert.AreSame(patched, again.Bytes);
        CollectionAssert.AreEqual(copy, patched);
    }

    [TestMethod]
    public void LibraryWithoutTheRequirementIsLeftByteIdentical()
    {
        // libtorch.so (libtorch-cpu-linux-x64) needs nothing newer than GLIBCXX_3.4.26
        string libtorch = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libtorch.so");
        if (!File.Exists(libtorch)) Assert.Inconclusive($"{libtorch} is not in the test output");
        byte[] bytes = File.ReadAllBytes(libtorch);
        byte[] copy = (byte[])bytes.Clone();

        var result = LibTorchSharpGlibcxxPatch.Patch(bytes, libtorch);

        Assert.IsFalse(result.Changed, result.Description);
        Assert.AreSame(bytes, result.Bytes);
        CollectionAssert.AreEqual(copy, bytes);
    }

    [TestMethod]
    public void BuildPutsALoadableCopyInTheOutputWhereTheSystemNeedsIt()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only");
        string? output = TorchSharpRuntime.FindLibTorchSharp();
        Assert.IsNotNull(output, "libLibTorchSharp.so not found in the test's native search directories");
        string? libstdcxx = LibTorchSharpGlibcxxPatch.FindSystemLibstdcxx();
        Assert.IsNotNull(libstdcxx);
        bool systemHasIt = LibTorchSharpGlibcxxPatch.DefinesVersion(libstdcxx);
        bool outputHard = LibTorchSharpGlibcxxPatch.HasHardRequirement(ElfFile.Read(output));
        if (systemHasIt)
            CollectionAssert.AreEqual(File.ReadAllBytes(PackageLibrary()), File.ReadAllBytes(output), "left untouched where not needed");
        else
            Assert.IsFalse(outputHard, $"{output} still hard-requires {LibTorchSharpGlibcxxPatch.Version} and {libstdcxx} lacks it");
    }

    [TestMethod]
    public void DiagnosisNamesTheCauseAndTheFixOnlyForTheUnpatchedLibrary()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("Linux only");
        string original = PackageLibrary();
        string libstdcxx = LibTorchSharpGlibcxxPatch.FindSystemLibstdcxx()!;
        string dir = Directory.CreateTempSubdirectory("mlt-glibcxx-").FullName;
        try
        {
            string patched = Path.Combine(dir, "libLibTorchSharp.so");
            File.WriteAllBytes(patched, LibTorchSharpGlibcxxPatch.Patch(File.ReadAllBytes(original), original).Bytes);
            Assert.IsNull(TorchSharpRuntime.Diagnose(patched, libstdcxx));

            string? message = TorchSharpRuntime.Diagnose(original, libstdcxx);
            if (LibTorchSharpGlibcxxPatch.DefinesVersion(libstdcxx))
            {
                Assert.IsNull(message, "this system's libstdc++ has the version: nothing to report");
                return;
            }
            Assert.IsNotNull(message);
            StringAssert.Contains(message, original);
            StringAssert.Contains(message, libstdcxx);
            StringAssert.Contains(message, "GLIBCXX_3.4.32");
            StringAssert.Contains(message, "MltPatchLibTorchSharp");
            StringAssert.Contains(message, "GCC 13");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
    [TestMethod]
    public void NothingToReportWhereLibstdcxxHasTheVersion()
    {
        string? libstdcxx = LibTorchSharpGlibcxxPatch.FindSystemLibstdcxx();
        if (libstdcxx == null) Assert.Inconclusive("no libstdc++.so.6 on this system");
        byte[] bytes = File.ReadAllBytes(libstdcxx);
        if (!LibTorchSharpGlibcxxPatch.DefinesVersion(libstdcxx))
        {
            // stand-in for GCC 13's libstdc++: a copy whose GLIBCXX_3.4.30 definition is renamed (same length) to 3.4.32
            byte[] from = "GLIBCXX_3.4.30\0"u8.ToArray(), to = "GLIBCXX_3.4.32\0"u8.ToArray();
            int at = bytes.AsSpan().IndexOf(from);
            if (at < 0) Assert.Inconclusive($"{libstdcxx} has neither GLIBCXX_3.4.32 nor GLIBCXX_3.4.30");
            to.CopyTo(bytes, at);
        }
        string dir = Directory.CreateTempSubdirectory("mlt-glibcxx-").FullName;
        try
        {
            string newer = Path.Combine(dir, "libstdc++.so.6");
            File.WriteAllBytes(newer, bytes);
            Assert.IsTrue(LibTorchSharpGlibcxxPatch.DefinesVersion(newer));
            Assert.IsNull(TorchSharpRuntime.Diagnose(PackageLibrary(), newer));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
