using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.OnnxRuntime.Native;

/// <summary>
/// Finds and loads the ONNX Runtime shared library in the order DESIGN.md fixes: the path in
/// <c>MLT_ONNXRUNTIME_PATH</c>, then the copy the build placed next to our assembly, then the system loader.
/// </summary>
internal static class OrtLibrary
{
    public const string EnvironmentVariable = "MLT_ONNXRUNTIME_PATH";
    public const string InstallCommand = "bash eng/install-deps.sh";

    public static string FileName =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll" :
        OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so.1";

    /// <summary>Loads the library from the default places and returns its handle.</summary>
    public static nint Load()
    {
        var dirs = new List<string>();
        string? asm = Path.GetDirectoryName(typeof(OrtLibrary).Assembly.Location);
        if (!string.IsNullOrEmpty(asm)) dirs.Add(asm);
        if (!dirs.Contains(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))
            dirs.Add(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        return Load(Environment.GetEnvironmentVariable(EnvironmentVariable), dirs, trySystemLoader: true);
    }

    /// <summary>Probing with explicit places, so tests can check the failure message without unloading anything.</summary>
    public static nint Load(string? explicitPath, IEnumerable<string> directories, bool trySystemLoader)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            // An explicit setting that does not work is a mistake worth reporting, not something to skip past.
            string path = Directory.Exists(explicitPath) ? Path.Combine(explicitPath, FileName) : explicitPath;
            try { return NativeLibrary.Load(path); }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new DllNotFoundException(
                    $"ONNX Runtime library '{path}' named by {EnvironmentVariable} could not be loaded: {e.Message}. " +
                    $"Unset {EnvironmentVariable} to use the bundled copy, or run `{InstallCommand}`.", e);
            }
        }

        var looked = new List<string>();
        foreach (string dir in directories)
        {
            string path = Path.Combine(dir, FileName);
            looked.Add(path);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out nint handle)) return handle;
        }
        if (trySystemLoader)
        {
            foreach (string name in new[] { FileName, Path.ChangeExtension(FileName, null) })
            {
                looked.Add($"system loader ({name})");
                if (NativeLibrary.TryLoad(name, out nint handle)) return handle;
            }
        }
        throw new DllNotFoundException(
            $"ONNX Runtime library '{FileName}' was not found. Looked in: {string.Join("; ", looked)}. " +
            $"Install it with `{InstallCommand}` (it stages {FileName} in artifacts/native/, which the build copies " +
            $"next to the assemblies), or set {EnvironmentVariable} to its path.");
    }
}
