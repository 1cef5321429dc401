using System.Diagnostics;

namespace Microsoft.ML.Transformers.Tests;

/// <summary>
/// The small samples the README points to run to the end on their default inputs (the repository's tiny fixtures):
/// a sample that builds but fails at start (as samples/MLNet did without a native engine package) fails here.
/// They are built by the solution build that CI and Build.proj run before the tests.
/// </summary>
[TestClass]
public sealed class SamplesTests
{
    [TestMethod]
    [DataRow("QuickStart", "[pipeline OnnxRuntime]")]
    [DataRow("MLNet", "Micro accuracy")]
    [DataRow("PairClassification", "reloaded")]
    public void SampleRunsToTheEnd(string sample, string expectedLine)
    {
        // The test's own configuration (bin/<Configuration>/<tfm>/), so a Debug test run looks for Debug samples.
        var tfmDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(TestPaths.RepoRoot, "samples", sample, "bin", tfmDir.Parent!.Name, tfmDir.Name, sample + ".dll");
        if (!File.Exists(dll)) Assert.Inconclusive($"{dll} is not built: build the solution (dotnet msbuild Build.proj -t:Build) first");

        var psi = new ProcessStartInfo("dotnet", [dll]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); Assert.Fail($"{sample} did not end within 3 minutes"); }
        Assert.AreEqual(0, p.ExitCode, $"{sample} exited with {p.ExitCode}:\n{stdout}\n{stderr.Result}");
        StringAssert.Contains(stdout, expectedLine, $"{sample}'s output:\n{stdout}");
    }
}
