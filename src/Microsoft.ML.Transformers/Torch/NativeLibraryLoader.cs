using System.Reflection;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.Torch;

/// <summary>
/// Resolves the native libraries this assembly P/Invokes, in the order DESIGN.md fixes: an explicit path in an
/// environment variable, then the copy the build placed next to the assemblies, then the system loader.
/// </summary>
internal static class NativeLibraryLoader
{
    internal const string ShimName = "mlt_torch";
    internal const string ShimFile = "libmlt_torch.so";
    internal const string ShimEnvironmentVariable = "MLT_LIBTORCH_SHIM";

    private static readonly Dictionary<string, Func<IntPtr>> s_resolvers = new(StringComparer.Ordinal);
    private static int s_registered;

    /// <summary>Adds a resolver for one library name; the single assembly-wide DllImport resolver dispatches on it.</summary>
    internal static void Register(string libraryName, Func<IntPtr> resolve)
    {
        lock (s_resolvers) s_resolvers[libraryName] = resolve;
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        Func<IntPtr>? resolver;
        lock (s_resolvers) s_resolvers.TryGetValue(name, out resolver);
        return resolver is null ? IntPtr.Zero : resolver();
    }

    /// <summary>
    /// Loads <paramref name="fileName"/> from the environment-variable path, the assembly folder, or the system, and
    /// throws a <see cref="DllNotFoundException"/> naming every place looked at and the install command otherwise.
    /// </summary>
    internal static IntPtr Load(string fileName, string environmentVariable, string installHint)
    {
        var tried = new List<string>();
        var fromEnv = Environment.GetEnvironmentVariable(environmentVariable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (NativeLibrary.TryLoad(fromEnv, out var h)) return h;
            tried.Add($"{fromEnv} (from ${environmentVariable})");
        }
        foreach (var dir in CandidateDirectories())
        {
            var candidate = Path.Combine(dir, fileName);
            if (File.Exists(candidate))
            {
                try { return NativeLibrary.Load(candidate); }
                catch (DllNotFoundException e) { tried.Add($"{candidate} (exists but failed to load: {e.Message})"); continue; }
            }
            tried.Add(candidate);
        }
        if (NativeLibrary.TryLoad(fileName, out var sys)) return sys;
        tried.Add($"{fileName} (system loader)");
        throw new DllNotFoundException(
            $"Could not load native library '{fileName}'. Looked at: {string.Join("; ", tried)}. {installHint}");
    }

    private static IEnumerable<string> CandidateDirectories()
    {
        var asmDir = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
        if (!string.IsNullOrEmpty(asmDir)) yield return asmDir;
        var baseDir = AppContext.BaseDirectory;
        if (!string.IsNullOrEmpty(baseDir) && baseDir.TrimEnd('/') != asmDir?.TrimEnd('/')) yield return baseDir;
        if (!string.IsNullOrEmpty(asmDir)) yield return Path.Combine(asmDir, "runtimes", "linux-x64", "native");
    }
}
