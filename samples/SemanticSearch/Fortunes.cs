using System.Text;

namespace SemanticSearch;

/// <summary>
/// The corpus: every cookie of the Debian fortune files under /usr/share/games/fortunes (all languages installed), read
/// lazily file by file in a fixed order, whitespace collapsed to single spaces, duplicates dropped.
/// </summary>
public static class Fortunes
{
    public const string Root = "/usr/share/games/fortunes";

    /// <summary>The packages the sample installs when the folder is missing (eng/setup-fortunes.sh).</summary>
    public static readonly string[] Packages = ["fortunes-min", "fortunes-de", "fortunes-es", "fortunes-it", "fortunes-ru"];

    /// <summary>Cookie files: no index (.dat) files, no .u8 links to the same text, no offensive ("off") sections.</summary>
    public static IEnumerable<string> Files(string root = Root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is not (".dat" or ".u8")
                        && !f.Split(Path.DirectorySeparatorChar).Contains("off")
                        && !File.GetAttributes(f).HasFlag(FileAttributes.ReparsePoint))
            .Order(StringComparer.Ordinal);

    /// <summary>Cookies of at least <paramref name="minChars"/> characters, each once, in file order.</summary>
    public static IEnumerable<string> Read(string root = Root, int minChars = 20)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Files(root))
            foreach (var cookie in Cookies(file))
                if (cookie.Length >= minChars && seen.Add(cookie)) yield return cookie;
    }

    /// <summary>The cookies of one file: texts between lines holding a single '%'.</summary>
    public static IEnumerable<string> Cookies(string file)
    {
        var text = new StringBuilder();
        foreach (var line in File.ReadLines(file, Encoding.UTF8).Append("%"))
        {
            if (line.TrimEnd() != "%")
            {
                foreach (var word in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                    text.Append(text.Length > 0 ? " " : "").Append(word);
                continue;
            }
            // undecodable bytes would be embedded as [UNK]s: skip such cookies
            if (text.Length > 0 && !text.ToString().Contains('\uFFFD')) yield return text.ToString();
            text.Clear();
        }
    }
}
