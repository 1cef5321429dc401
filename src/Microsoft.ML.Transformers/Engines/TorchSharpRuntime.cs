using System.Runtime.InteropServices;
using Microsoft.ML.Transformers.Engines.Elf;

namespace Microsoft.ML.Transformers.Engines;

/// <summary>TorchSharp's native library cannot start on this system; the message names the cause and the fix.</summary>
public sealed class TorchSharpLoadException : Exception
{
    public TorchSharpLoadException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Starts TorchSharp's native backend (libtorch on the CPU) once per process, before the library's first use of
/// <c>torch</c>, and turns the one start-up failure we know of into a <see cref="TorchSharpLoadException"/> that says
/// what to do. TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13's libstdc++); where the system's
/// libstdc++ is older (Debian 12) the loader refuses it, and TorchSharp then copies the whole libtorch package next to
/// the application and reports that the application "doesn't contain a reference to libtorch-cpu-linux-x64". The
/// package's build step (buildTransitive/Microsoft.ML.Transformers.targets) ships a copy whose requirement is weak.
/// </summary>
public static class TorchSharpRuntime
{
    private static readonly object Gate = new();
    private static volatile bool loaded;
    private static string? failureMessage;
    private static Exception? failureCause;

    /// <summary>Loads TorchSharp's native backend if it is not loaded yet; throws <see cref="TorchSharpLoadException"/>
    /// (the same one on every later call) when it cannot be.</summary>
    public static void EnsureLoaded()
    {
        if (loaded) return;
        lock (Gate)
        {
            if (loaded) return;
            if (failureMessage != null) throw new TorchSharpLoadException(failureMessage, failureCause);
            TorchThreads.ApplyBeforeLoad(); // libgomp reads its wait policy once, when libtorch loads it

            // The known cause is ruled out before TorchSharp tries: its fallback on a failed load copies ~500 MB of
            // libtorch next to the application and prints its own, misleading, message.
            string? known = DiagnoseThisProcess(confirmByLoading: true);
            if (known != null) Fail(known, null);

            try
            {
                global::TorchSharp.torch.InitializeDeviceType(global::TorchSharp.DeviceType.CPU);
            }
            catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException or EntryPointNotFoundException)
            {
                string? cause = DiagnoseThisProcess(confirmByLoading: false);
                if (cause != null) Fail(cause, e);
                Fail("TorchSharp could not start its native backend: " + Innermost(e).Message, e);
            }
            loaded = true;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message, Exception? cause)
    {
        failureMessage = message;
        failureCause = cause;
        throw new TorchSharpLoadException(message, cause);
    }

    private static Exception Innermost(Exception e)
    {
        while (e is TypeInitializationException && e.InnerException != null) e = e.InnerException;
        return e;
    }

    private static string? DiagnoseThisProcess(bool confirmByLoading)
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? library = FindLibTorchSharp();
        string? libstdcxx = LibTorchSharpGlibcxxPatch.FindSystemLibstdcxx();
        if (library == null || libstdcxx == null) return null;
        string? message = Diagnose(library, libstdcxx);
        if (message == null || !confirmByLoading) return message;
        // Facts say the loader refuses it; let the loader say so too (a refused library leaves nothing loaded).
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(library));
            return null;
        }
        catch (DllNotFoundException e)
        {
            return message + Environment.NewLine + "The loader said: " + e.Message;
        }
    }

    /// <summary>
    /// The message for a libLibTorchSharp.so that the loader refuses because it needs GLIBCXX_3.4.32 from a libstdc++
    /// without it; null when that is not the case (or either file cannot be read).
    /// </summary>
    internal static string? Diagnose(string libTorchSharpPath, string libstdcxxPath)
    {
        try
        {
            if (!LibTorchSharpGlibcxxPatch.HasHardRequirement(ElfFile.Read(libTorchSharpPath))) return null;
            if (LibTorchSharpGlibcxxPatch.DefinesVersion(libstdcxxPath)) return null;
        }
        catch (Exception e) when (e is ElfFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return $"TorchSharp cannot start: {libTorchSharpPath} requires {LibTorchSharpGlibcxxPatch.Version} (the libstdc++ of GCC 13 " +
            $"or newer) and this system's {libstdcxxPath} does not define it (Debian 12 has GLIBCXX_3.4.30). The requirement is " +
            $"for one symbol, {LibTorchSharpGlibcxxPatch.AnchorSymbol}, that is never called at run time. Fix: build or publish " +
            "the application with the Microsoft.ML.Transformers package's build targets (they put a copy of libLibTorchSharp.so " +
            "with that requirement marked weak in the output; do not set MltPatchLibTorchSharp=false, and use " +
            "MltPatchLibTorchSharp=true when publishing on a newer system for this one), or install a libstdc++ from GCC 13 or newer.";
    }

    /// <summary>The libLibTorchSharp.so TorchSharp's load by name finds: the application's native search directories
    /// (from its .deps.json), then TorchSharp.dll's directory.</summary>
    internal static string? FindLibTorchSharp()
    {
        var dirs = new List<string>();
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            dirs.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        string torchSharpDir = Path.GetDirectoryName(typeof(global::TorchSharp.torch).Assembly.Location) ?? "";
        if (torchSharpDir.Length > 0) dirs.Add(torchSharpDir);
        foreach (var dir in dirs)
        {
            string candidate = Path.Combine(dir, LibTorchSharpGlibcxxPatch.LibraryFileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
