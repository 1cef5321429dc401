using System.Text.RegularExpressions;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>A pattern from tokenizer.json (<c>{"String": ...}</c> or <c>{"Regex": ...}</c>).</summary>
public abstract class SplitPattern
{
    /// <summary>Non-overlapping matches, in order, as (start, end) UTF-16 ranges.</summary>
    public abstract List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text);

    public static SplitPattern FromString(string s) => new StringSplitPattern(s);
    public static SplitPattern FromRegex(string pattern) => new RegexSplitPattern(pattern);
}

public sealed class StringSplitPattern(string value) : SplitPattern
{
    public string Value { get; } = value;
    public override List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text)
    {
        var list = new List<(int, int)>();
        if (Value.Length == 0) return list;
        int i = 0;
        while (i <= text.Length - Value.Length)
        {
            int k = text[i..].IndexOf(Value.AsSpan(), StringComparison.Ordinal);
            if (k < 0) break;
            list.Add((i + k, i + k + Value.Length));
            i += k + Value.Length;
        }
        return list;
    }
}

/// <summary>
/// A tokenizer.json regex with Oniguruma's semantics (<see cref="OnigurumaPattern"/>): classes over code points with
/// Oniguruma's character data, Ruby's anchors. Matching time is bounded: a pattern that backtracks without end (the
/// file is user input) fails with <see cref="TokenizerRegexTimeoutException"/> naming it.
/// </summary>
public sealed class RegexSplitPattern : SplitPattern
{
    /// <summary>The longest one search for the next match may take before it fails (default 2 s); read when a pattern is loaded.</summary>
    public static TimeSpan DefaultMatchTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>For tests (fuzzing): a timeout for patterns loaded in the current async flow, ahead of <see cref="DefaultMatchTimeout"/>.</summary>
    internal static readonly AsyncLocal<TimeSpan?> MatchTimeoutOverride = new();

    /// <summary>The pattern as tokenizer.json gives it (Oniguruma syntax).</summary>
    public string Pattern { get; }
    /// <summary>Where the pattern came from (file and JSON path), for error messages.</summary>
    public string? Source { get; }
    private readonly TimeSpan _timeout;
    private readonly Regex _bmp;      // for text without surrogate pairs: compact classes, fast loops
    private Regex? _full;             // built on first text with characters outside the BMP

    // Loading the same tokenizer twice should not compile its patterns twice.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, TimeSpan), Regex> s_compiled = new();

    /// <exception cref="NotSupportedException">a construct the translation does not handle.</exception>
    /// <exception cref="FormatException">a malformed pattern.</exception>
    /// <exception cref="ArgumentException">.NET rejects the translated pattern.</exception>
    public RegexSplitPattern(string pattern, string? source = null, TimeSpan? matchTimeout = null)
    {
        Pattern = pattern;
        Source = source;
        _timeout = matchTimeout ?? MatchTimeoutOverride.Value ?? DefaultMatchTimeout;
        OnigurumaPattern.Translate(pattern); // reject what the full translation cannot handle now, not on first use
        _bmp = Compile(OnigurumaPattern.Translate(pattern, bmpOnly: true), _timeout);
    }

    private static Regex Compile(string netPattern, TimeSpan timeout)
    {
        if (s_compiled.TryGetValue((netPattern, timeout), out var r)) return r;
        r = new Regex(netPattern, RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.Multiline, timeout);
        if (s_compiled.Count < 256) s_compiled.TryAdd((netPattern, timeout), r);
        return r;
    }

    public override List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text)
    {
        var list = new List<(int, int)>();
        var regex = text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? _bmp
            : _full ??= Compile(OnigurumaPattern.Translate(Pattern), _timeout);
        try
        {
            foreach (var m in regex.EnumerateMatches(text)) list.Add((m.Index, m.Index + m.Length));
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new TokenizerRegexTimeoutException(Pattern, Source, e.MatchTimeout, text.Length, e);
        }
        return list;
    }
}

/// <summary>Every single character satisfying a predicate is one match (Hugging Face's <c>Fn(char) -> bool</c> pattern).</summary>
internal sealed class CharPredicatePattern(Func<int, bool> predicate) : SplitPattern
{
    public override List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text)
    {
        var list = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int cp = NormalizedText.RuneAt(text, i, out int w);
            if (predicate(cp)) list.Add((i, i + w));
            i += w;
        }
        return list;
    }
}
