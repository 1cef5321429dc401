using System.Diagnostics;

namespace Microsoft.ML.Transformers.Tests.Onnx;

/// <summary>Runs a node script of the Transformers.js oracle (artifacts/oracles, eng/install-deps.sh --oracles) from the
/// repository root; the test is inconclusive where Transformers.js or node is not installed.</summary>
internal static class TransformersJsOracle
{
    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/>, asserts it exits with 0 and returns its stdout.</summary>
    public static string Run(string script, params string[] args)
    {
        string tjs = Path.Combine(TestPaths.RepoRoot, "artifacts", "oracles", "node_modules", "@huggingface", "transformers");
        if (!Directory.Exists(tjs)) Assert.Inconclusive("Transformers.js is not installed (eng/install-deps.sh --oracles).");
        var psi = new ProcessStartInfo("node", [script, .. args])
        { WorkingDirectory = TestPaths.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { Assert.Inconclusive("node is not installed."); throw; }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.AreEqual(0, p.ExitCode, stdout + stderr.Result);
            return stdout;
        }
    }
}
