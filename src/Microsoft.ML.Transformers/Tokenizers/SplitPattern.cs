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

public sealed class RegexSplitPattern : SplitPattern
{
    public string Pattern { get; }
    private readonly Regex _regex;
    public RegexSplitPattern(string pattern)
    {
        Pattern = pattern;
        _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);
    }
    public override List<(int Start, int End)> FindMatches(ReadOnlySpan<char> text)
    {
        var list = new List<(int, int)>();
        foreach (var m in _regex.EnumerateMatches(text)) list.Add((m.Index, m.Index + m.Length));
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
