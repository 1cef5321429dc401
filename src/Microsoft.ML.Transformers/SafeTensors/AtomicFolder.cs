using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers;

/// <summary>
/// A save of several files into one folder that is all-or-nothing for the folder as a whole, even when the process is
/// killed: loaders see either every file of the save or none of them, never new weights beside an old config.
/// </summary>
/// <remarks>
/// Files are written into a work folder whose name starts with <see cref="Marker"/> (hidden, never matching a checkpoint
/// or weight name), holding a <c>lock</c> file open without sharing for the whole save (an advisory lock the kernel drops
/// when the process dies) and the staged files under <c>files/</c>.
/// <list type="bullet">
/// <item>A folder that does not exist yet (or is empty) is staged beside it, <c>.NAME.mlt-save-PID-ID</c>, and committed by
/// one rename of <c>files/</c> to NAME.</item>
/// <item>A folder that holds files already (a model folder receiving its tokenizer, a save over an older one) is staged
/// inside it, <c>NAME/.mlt-save-PID-ID</c>, and committed by writing <c>commit.json</c> (the files to move in and the stale
/// ones to delete, written through a temporary file and a rename: the commit point), then applying it.</item>
/// </list>
/// <see cref="Recover"/> (run by every save and by the loaders) finishes what a dead process left: a journal that has
/// its commit.json is applied (rolled forward), anything else is deleted. A work folder whose lock is held belongs to a
/// live save and is left alone.
/// </remarks>
internal sealed class AtomicFolder : IDisposable
{
    public const string Marker = ".mlt-save-";
    private const string FilesDir = "files", LockFile = "lock", CommitFile = "commit.json";

    private readonly string _work;
    private readonly bool _inPlace;
    private readonly FileStream _lock;
    private readonly List<string> _removePatterns = [];
    private bool _replaceAll, _done;

    private AtomicFolder(string target, string work, bool inPlace)
    {
        Target = target;
        _work = work;
        _inPlace = inPlace;
        Directory.CreateDirectory(work);
        try
        {
            _lock = new FileStream(Path.Combine(work, LockFile), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            Staging = Directory.CreateDirectory(Path.Combine(work, FilesDir)).FullName;
        }
        catch
        {
            _lock?.Dispose();
            TryDeleteDirectory(work);
            throw;
        }
    }

    /// <summary>The folder being saved.</summary>
    public string Target { get; }

    /// <summary>Where the save writes its files (relative paths as they will be in <see cref="Target"/>).</summary>
    public string Staging { get; }

    /// <summary>The path of <paramref name="relative"/> inside <see cref="Staging"/>.</summary>
    public string PathOf(string relative) => Path.Combine(Staging, relative);

    /// <summary>Starts a save into <paramref name="folder"/> after finishing or removing what interrupted saves left there.</summary>
    public static AtomicFolder Begin(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var target = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(target) ?? throw new IOException($"Cannot save into the root folder '{target}'.");
        Directory.CreateDirectory(parent);
        Recover(target);
        string id = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        bool inPlace = Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any();
        return inPlace
            ? new AtomicFolder(target, Path.Combine(target, Marker + id), inPlace: true)
            : new AtomicFolder(target, Path.Combine(parent, $".{Path.GetFileName(target)}{Marker}{id}"), inPlace: false);
    }

    /// <summary>At commit, deletes the target's files matching <paramref name="pattern"/> (a file name pattern of the
    /// top level, e.g. <c>model-*-of-*.safetensors</c>, or of a subfolder, <c>onnx/model.onnx_data</c>) that this save
    /// does not write.</summary>
    public void RemoveStale(string pattern) => _removePatterns.Add(pattern);

    /// <summary>At commit, deletes every file of the target that this save does not write (the folder is replaced).</summary>
    public void ReplaceAll() => _replaceAll = true;

    /// <summary>Makes the staged files the folder's content.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        var puts = Directory.EnumerateFiles(Staging, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Staging, f)).Order(StringComparer.Ordinal).ToList();
        foreach (var f in puts)
        {
            // What was written with plain File.Write* reaches the disk before anything refers to it.
            using var fs = new FileStream(PathOf(f), FileMode.Open, FileAccess.ReadWrite);
            fs.Flush(flushToDisk: true);
        }
        if (!_inPlace && (!Directory.Exists(Target) || !Directory.EnumerateFileSystemEntries(Target).Any()))
        {
            if (Directory.Exists(Target)) Directory.Delete(Target);
            Directory.Move(Staging, Target);
            Finish();
            return;
        }
        if (!_inPlace)
            throw new IOException($"Cannot save into '{Target}': another process wrote files into it during this save.");
        var written = new HashSet<string>(puts, StringComparer.Ordinal);
        var stale = (_replaceAll
                ? Directory.EnumerateFiles(Target, "*", SearchOption.AllDirectories).Where(f => !f.StartsWith(_work, StringComparison.Ordinal))
                : _removePatterns.SelectMany(StaleMatches))
            .Select(f => Path.GetRelativePath(Target, f))
            .Where(f => !written.Contains(f) && !IsWorkEntry(f))
            .Distinct().Order(StringComparer.Ordinal).ToList();
        var journal = new JsonObject
        {
            ["put"] = new JsonArray(puts.Select(p => (JsonNode?)p).ToArray()),
            ["delete"] = new JsonArray(stale.Select(p => (JsonNode?)p).ToArray()),
        };
        AtomicFile.WriteAllBytes(Path.Combine(_work, CommitFile), Encoding.UTF8.GetBytes(journal.ToJsonString()));
        Apply(Target, _work, journal);
        Finish();
    }

    private IEnumerable<string> StaleMatches(string pattern)
    {
        var dir = Path.Combine(Target, Path.GetDirectoryName(pattern) ?? "");
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir, Path.GetFileName(pattern)) : [];
    }

    private static bool IsWorkEntry(string relative) => relative.Split(Path.DirectorySeparatorChar)[0].StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>Moves the journal's files into place and deletes its stale ones; every step can be repeated.</summary>
    private static void Apply(string target, string work, JsonObject journal)
    {
        foreach (var node in journal["delete"]?.AsArray() ?? [])
        {
            var path = Path.Combine(target, node!.GetValue<string>());
            if (File.Exists(path)) File.Delete(path);
        }
        foreach (var node in journal["put"]?.AsArray() ?? [])
        {
            var relative = node!.GetValue<string>();
            var from = Path.Combine(work, FilesDir, relative);
            if (!File.Exists(from)) continue; // moved before the process died
            var to = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Move(from, to, overwrite: true);
        }
    }

    private void Finish()
    {
        _done = true;
        _lock.Dispose();
        TryDeleteDirectory(_work);
    }

    /// <summary>An unfinished save is abandoned: its work folder goes, the target is as it was.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _lock.Dispose();
        TryDeleteDirectory(_work);
    }

    /// <summary>
    /// Finishes or removes what saves into <paramref name="folder"/> left when their process died: journals inside it
    /// with a commit.json are applied, other work folders (inside it, or beside it for a folder that did not exist) are
    /// deleted. Best effort: a folder that cannot be written (read-only, no permission) is left as it is.
    /// </summary>
    public static void Recover(string folder)
    {
        try
        {
            var target = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
            if (Directory.Exists(target))
            {
                foreach (var work in Directory.EnumerateDirectories(target, Marker + "*"))
                    RecoverWork(target, work, inPlace: true);
                RemoveDeadTempFiles(target);
            }
            var parent = Path.GetDirectoryName(target);
            if (parent is not null && Directory.Exists(parent))
            {
                foreach (var work in Directory.EnumerateDirectories(parent, $".{Path.GetFileName(target)}{Marker}*"))
                    RecoverWork(target, work, inPlace: false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftovers stay until a save or load that may write finds them.
        }
    }

    /// <summary><see cref="Recover"/> for every folder saved into <paramref name="parent"/> (work folders beside them).</summary>
    public static void RecoverChildren(string parent)
    {
        try
        {
            if (!Directory.Exists(parent)) return;
            RemoveDeadTempFiles(parent);
            foreach (var work in Directory.EnumerateDirectories(parent, ".*" + Marker + "*"))
            {
                var name = Path.GetFileName(work);
                var target = Path.Combine(parent, name[1..name.IndexOf(Marker, 1, StringComparison.Ordinal)]);
                RecoverWork(target, work, inPlace: false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Deletes the temporary files of <see cref="AtomicFile"/> whose process died before renaming them.</summary>
    private static void RemoveDeadTempFiles(string dir)
    {
        foreach (var file in Directory.EnumerateFiles(dir, ".*" + Marker + "*.tmp"))
            if (!ProcessAlive(file)) File.Delete(file);
    }

    private static void RecoverWork(string target, string work, bool inPlace)
    {
        using var held = TryTakeLock(work);
        if (held is null) return; // a live save
        var commit = Path.Combine(work, CommitFile);
        if (inPlace && File.Exists(commit))
        {
            JsonObject? journal = null;
            try { journal = JsonNode.Parse(File.ReadAllText(commit)) as JsonObject; }
            catch (System.Text.Json.JsonException) { } // cannot happen (written through a rename); treated as uncommitted
            if (journal is not null) Apply(target, work, journal);
        }
        held.Dispose();
        TryDeleteDirectory(work);
    }

    /// <summary>The work folder's lock, held; null when a live process holds it. A work folder without its lock file
    /// (killed before creating it, or after deleting it) is dead unless its process still runs.</summary>
    private static IDisposable? TryTakeLock(string work)
    {
        var path = Path.Combine(work, LockFile);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (FileNotFoundException)
        {
            return ProcessAlive(work) ? null : new NoLock();
        }
        catch (DirectoryNotFoundException)
        {
            return null; // removed meanwhile by its owner or another recovery
        }
        catch (IOException)
        {
            return null; // held
        }
    }

    private static bool ProcessAlive(string work)
    {
        var name = Path.GetFileName(work);
        var rest = name[(name.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..];
        var dash = rest.IndexOf('-');
        if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) return false;
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private sealed class NoLock : IDisposable
    {
        public void Dispose() { }
    }

    private static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed by the next Recover.
        }
    }
}
