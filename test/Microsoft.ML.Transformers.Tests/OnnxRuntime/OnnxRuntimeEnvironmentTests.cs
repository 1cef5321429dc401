using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.OnnxRuntime.Native;

namespace Microsoft.ML.Transformers.Tests.OnnxRuntime;

[TestClass]
public class OnnxRuntimeEnvironmentTests
{
    [TestMethod]
    public void VersionIsTheStagedLibrary() => Assert.AreEqual("1.30.0", OnnxRuntimeEnvironment.Version);

    [TestMethod]
    public void CpuProviderIsListed() =>
        CollectionAssert.Contains(OnnxRuntimeEnvironment.AvailableProviders.ToList(), OnnxRuntimeEnvironment.CpuProviderName);

    [TestMethod]
    public void MissingLibraryNamesFilePlacesAndInstallCommand()
    {
        string empty = Directory.CreateTempSubdirectory("mlt-ort-").FullName;
        try
        {
            var e = Assert.ThrowsExactly<DllNotFoundException>(() => OrtLibrary.Load(null, [empty], trySystemLoader: false));
            StringAssert.Contains(e.Message, OrtLibrary.FileName);
            StringAssert.Contains(e.Message, Path.Combine(empty, OrtLibrary.FileName));
            StringAssert.Contains(e.Message, "bash eng/install-deps.sh");
            StringAssert.Contains(e.Message, "MLT_ONNXRUNTIME_PATH");
        }
        finally { Directory.Delete(empty); }
    }

    [TestMethod]
    public void BadExplicitPathIsReportedNotSkipped()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-dir-mlt", "libonnxruntime.so.1");
        var e = Assert.ThrowsExactly<DllNotFoundException>(() => OrtLibrary.Load(missing, [], trySystemLoader: true));
        StringAssert.Contains(e.Message, missing);
        StringAssert.Contains(e.Message, "MLT_ONNXRUNTIME_PATH");
    }
}

[TestClass]
public class OrtLibraryTests
{
    [TestMethod]
    public void ExplicitPathLoadsAsFileOrFolder()
    {
        string dir = Path.GetDirectoryName(typeof(OnnxSession).Assembly.Location)!;
        Assert.AreNotEqual(0, (long)OrtLibrary.Load(Path.Combine(dir, OrtLibrary.FileName), [], trySystemLoader: false));
        Assert.AreNotEqual(0, (long)OrtLibrary.Load(dir, [], trySystemLoader: false));
    }

    [TestMethod]
    public void CopyNextToTheAssemblyIsFound()
    {
        string dir = Path.GetDirectoryName(typeof(OnnxSession).Assembly.Location)!;
        Assert.AreNotEqual(0, (long)OrtLibrary.Load(null, ["/nonexistent-mlt", dir], trySystemLoader: false));
    }
}
