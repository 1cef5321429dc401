using System.Globalization;
using System.Text;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Translates a tokenizer.json regex (Oniguruma, Ruby syntax, matched over code points by Hugging Face's Rust library)
/// into a .NET pattern over UTF-16 with the same matches. .NET classes test single UTF-16 units, so every class
/// (\p{L}, \s, \w, [^...], ., ...) is expanded into an explicit set of code points from Oniguruma's own tables
/// (<see cref="UnicodeTables"/>): BMP ranges in one bracket class, characters outside the BMP as surrogate pairs.
/// Characters outside the BMP written literally become one unit, so quantifiers apply to the whole character.
/// Ruby semantics kept: ^ and $ are line anchors, (?m) makes . match newlines, {,n} is {0,n}, X*+ X++ X?+ are
/// possessive (atomic groups here), lookarounds and backreferences pass through.
/// </summary>
internal sealed class OnigurumaPattern
{
    private readonly string _p;
    private readonly bool _bmpOnly;
    private int _i;
    private readonly StringBuilder _out = new();

    private OnigurumaPattern(string pattern, bool bmpOnly) { _p = pattern; _bmpOnly = bmpOnly; }

    /// <summary>
    /// The .NET pattern (to be used with RegexOptions.Multiline | CultureInvariant). With <paramref name="bmpOnly"/>, a
    /// pattern that is equivalent on text without surrogates (no characters outside the BMP): compact and much faster.
    /// </summary>
    /// <exception cref="NotSupportedException">a construct this translation does not handle (named in the message).</exception>
    /// <exception cref="FormatException">a malformed pattern (position in the message).</exception>
    public static string Translate(string pattern, bool bmpOnly = false)
    {
        var t = new OnigurumaPattern(pattern, bmpOnly);
        t.Run();
        return t._out.ToString();
    }

    private record struct Flags(bool IgnoreCase, bool DotAll, bool Extended);

    private FormatException Bad(string what) => new($"{what} at position {_i} of the pattern");

    private void Run()
    {
        var flags = new Flags(false, false, false);
        var groups = new Stack<(Flags Saved, int Start)>();
        int lastAtom = -1; // output index where the last quantifiable item starts
        bool lastWasQuantified = false;
        while (_i < _p.Length)
        {
            char c = _p[_i];
            if (flags.Extended && (c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')) { _i++; continue; }
            if (flags.Extended && c == '#') { while (_i < _p.Length && _p[_i] != '\n') _i++; continue; }
            switch (c)
            {
                case '\\':
                    lastAtom = _out.Length; lastWasQuantified = false;
                    Escape(flags);
                    break;
                case '[':
                    lastAtom = _out.Length; lastWasQuantified = false;
                    EmitSet(Class(flags), flags);
                    break;
                case '.':
                    _i++;
                    lastAtom = _out.Length; lastWasQuantified = false;
                    EmitSet(flags.DotAll ? CodePointSet.All : CodePointSet.All.Minus(CodePointSet.Single('\n')), flags);
                    break;
                case '(':
                {
                    int start = _out.Length;
                    if (Starts("(?#")) { int end = _p.IndexOf(')', _i); if (end < 0) throw Bad("unterminated comment"); _i = end + 1; break; }
                    if (Starts("(?") && _i + 2 < _p.Length && (char.IsAsciiLetter(_p[_i + 2]) || _p[_i + 2] == '-'))
                    {
                        // inline options: (?imx-imx) or (?imx-imx:...)
                        int j = _i + 2;
                        var f = flags;
                        bool on = true;
                        var net = new StringBuilder();
                        for (; j < _p.Length && _p[j] != ')' && _p[j] != ':'; j++)
                        {
                            char o = _p[j];
                            if (o == '-') { on = false; net.Append('-'); continue; }
                            if (o == 'i') { f = f with { IgnoreCase = on }; net.Append('i'); }
                            else if (o == 'm') f = f with { DotAll = on }; // Ruby's m is .NET's s; handled by the translation of '.'
                            else if (o == 'x') f = f with { Extended = on };
                            else throw new NotSupportedException($"inline option '{o}' at position {j} of the pattern");
                        }
                        if (j >= _p.Length) throw Bad("unterminated group");
                        string opts = net.ToString().TrimEnd('-');
                        if (_p[j] == ')')
                        {
                            _i = j + 1;
                            if (opts.Length > 0) _out.Append("(?").Append(opts).Append(')');
                            flags = f; // to the end of the enclosing group
                            break;
                        }
                        _i = j + 1;
                        groups.Push((flags, start));
                        flags = f;
                        _out.Append("(?").Append(opts).Append(':');
                        lastAtom = -1;
                        break;
                    }
                    string[] kinds = ["(?:", "(?=", "(?!", "(?<=", "(?<!", "(?>"];
                    string? kind = kinds.FirstOrDefault(Starts);
                    if (kind != null) { _out.Append(kind); _i += kind.Length; }
                    else if (Starts("(?<") || Starts("(?'") || Starts("(?P<"))
                    {
                        int nameStart = _p.IndexOfAny(['<', '\''], _i) + 1;
                        int nameEnd = _p.IndexOfAny(['>', '\''], nameStart);
                        if (nameEnd < 0) throw Bad("unterminated group name");
                        _out.Append("(?<").Append(_p, nameStart, nameEnd - nameStart).Append('>');
                        _i = nameEnd + 1;
                    }
                    else if (Starts("(?")) throw new NotSupportedException($"group syntax '{_p.Substring(_i, Math.Min(4, _p.Length - _i))}' at position {_i} of the pattern");
                    else { _out.Append('('); _i++; }
                    groups.Push((flags, start));
                    lastAtom = -1;
                    break;
                }
                case ')':
                {
                    if (groups.Count == 0) throw Bad("unmatched ')'");
                    var (saved, start) = groups.Pop();
                    flags = saved;
                    _out.Append(')');
                    _i++;
                    lastAtom = start; lastWasQuantified = false;
                    break;
                }
                case '*' or '+' or '?' or '{':
                {
                    string? q = Quantifier();
                    if (q == null) { lastAtom = _out.Length; lastWasQuantified = false; Literal('{', flags); _i++; break; }
                    if (lastAtom < 0) throw Bad("quantifier without anything to repeat");
                    if (lastWasQuantified)
                    {
                        // Ruby: a quantifier after a quantifier repeats the quantified item ((a{2})+)
                        _out.Insert(lastAtom, "(?:").Append(')');
                    }
                    bool intervalQ = q[0] == '{';
                    if (_i < _p.Length && _p[_i] == '?') { q += "?"; _i++; }
                    else if (!intervalQ && _i < _p.Length && _p[_i] == '+')
                    {
                        // possessive: an atomic group around the greedy repetition
                        _i++;
                        _out.Insert(lastAtom, "(?>").Append(q).Append(')');
                        lastWasQuantified = true;
                        break;
                    }
                    _out.Append(q);
                    lastWasQuantified = true;
                    break;
                }
                case '|':
                    _out.Append('|'); _i++; lastAtom = -1; lastWasQuantified = false;
                    break;
                case '^' or '$':
                    _out.Append(c); _i++; lastAtom = -1; lastWasQuantified = false;
                    break;
                default:
                {
                    int cp = NormalizedText.RuneAt(_p, _i, out int w);
                    _i += w;
                    lastAtom = _out.Length; lastWasQuantified = false;
                    Literal(cp, flags);
                    break;
                }
            }
        }
        if (groups.Count > 0) throw Bad("unterminated group");
    }

    private bool Starts(string s) => string.CompareOrdinal(_p, _i, s, 0, s.Length) == 0;

    /// <summary>*, +, ?, {n}, {n,}, {n,m} or {,m} at the cursor (consumed), in .NET syntax; null when '{' is a literal.</summary>
    private string? Quantifier()
    {
        char c = _p[_i];
        if (c != '{') { _i++; return c.ToString(); }
        int j = _i + 1;
        int a = j;
        while (j < _p.Length && char.IsAsciiDigit(_p[j])) j++;
        string min = _p[a..j];
        string? max = null;
        bool comma = false;
        if (j < _p.Length && _p[j] == ',')
        {
            comma = true;
            int b = ++j;
            while (j < _p.Length && char.IsAsciiDigit(_p[j])) j++;
            max = _p[b..j];
        }
        if (j >= _p.Length || _p[j] != '}' || (min.Length == 0 && string.IsNullOrEmpty(max))) return null;
        _i = j + 1;
        if (min.Length == 0) min = "0";
        return comma ? $"{{{min},{max}}}" : $"{{{min}}}";
    }

    private void Literal(int cp, Flags flags)
    {
        if (cp >= 0x10000)
        {
            var set = CodePointSet.Single(cp);
            EmitSet(flags.IgnoreCase ? set.CaseClosed() : set, flags);
            return;
        }
        AppendUnit(_out, (char)cp);
    }

    private static void AppendUnit(StringBuilder sb, char c)
    {
        if (char.IsAsciiLetterOrDigit(c) || c == '_' || c == ' ') sb.Append(c);
        else sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
    }

    // ---- escapes ----

    private void Escape(Flags flags)
    {
        _i++; // the backslash
        if (_i >= _p.Length) throw Bad("trailing backslash");
        char c = _p[_i];
        var set = ClassEscape(inClass: false);
        if (set != null) { EmitSet(set, flags); return; }
        switch (c)
        {
            case 'A' or 'z' or 'Z' or 'b' or 'B' or 'G':
                _out.Append('\\').Append(c); _i++; return;
            case 'k':
                int end = _p.IndexOfAny(['>', '\''], _i);
                if (end < 0) throw Bad("unterminated \\k");
                _out.Append(_p, _i - 1, end - _i + 2); _i = end + 1; return;
            case >= '1' and <= '9':
                int j = _i;
                while (j < _p.Length && char.IsAsciiDigit(_p[j])) j++;
                _out.Append('\\').Append(_p, _i, j - _i); _i = j; return;
            case 'K' or 'R' or 'X' or 'N' or 'O' or 'y' or 'Y' or 'g':
                throw new NotSupportedException($"'\\{c}' at position {_i - 1} of the pattern");
        }
        Literal(EscapedCodePoint(), flags);
    }

    /// <summary>A class escape at the cursor (\p{..}, \s, \w, \d, \h and their negations), consumed; null when it is not one.</summary>
    private CodePointSet? ClassEscape(bool inClass)
    {
        char c = _p[_i];
        switch (c)
        {
            case 'p' or 'P':
            {
                if (_i + 1 >= _p.Length || _p[_i + 1] != '{') throw Bad("\\p without {name}");
                int end = _p.IndexOf('}', _i);
                if (end < 0) throw Bad("unterminated \\p{");
                string name = _p[(_i + 2)..end];
                bool negate = c == 'P';
                if (name.StartsWith('^')) { negate = !negate; name = name[1..]; }
                _i = end + 1;
                var set = CodePointSet.Property(name) ?? throw new NotSupportedException($"property \\p{{{name}}} (supported: general categories)");
                return negate ? set.Complement() : set;
            }
            case 's': _i++; return CodePointSet.Space;
            case 'S': _i++; return CodePointSet.Space.Complement();
            case 'w': _i++; return CodePointSet.Word;
            case 'W': _i++; return CodePointSet.Word.Complement();
            case 'd': _i++; return CodePointSet.Digit;
            case 'D': _i++; return CodePointSet.Digit.Complement();
            case 'h': _i++; return CodePointSet.HexDigit;
            case 'H': _i++; return CodePointSet.HexDigit.Complement();
            default: return null;
        }
    }

    /// <summary>The code point of a character escape at the cursor (after the backslash), consumed.</summary>
    private int EscapedCodePoint()
    {
        char c = _p[_i++];
        switch (c)
        {
            case 'n': return '\n';
            case 't': return '\t';
            case 'r': return '\r';
            case 'f': return '\f';
            case 'v': return '\v';
            case 'a': return '\a';
            case 'e': return 0x1B;
            case '0':
            {
                int v = 0, k = 0;
                while (k < 2 && _i < _p.Length && _p[_i] is >= '0' and <= '7') { v = v * 8 + (_p[_i++] - '0'); k++; }
                return v;
            }
            case 'x':
                if (_i < _p.Length && _p[_i] == '{')
                {
                    int end = _p.IndexOf('}', _i);
                    if (end < 0 || !int.TryParse(_p.AsSpan(_i + 1, end - _i - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int x)
                        || x > 0x10FFFF || (x >= 0xD800 && x <= 0xDFFF))
                        throw Bad("bad \\x{...}");
                    _i = end + 1;
                    return x;
                }
                return Hex(2, exact: false);
            case 'u': return Hex(4, exact: true);
            default:
                if (char.IsAsciiLetterOrDigit(c)) throw new NotSupportedException($"escape '\\{c}' at position {_i - 2} of the pattern");
                if (char.IsHighSurrogate(c) && _i < _p.Length && char.IsLowSurrogate(_p[_i])) return char.ConvertToUtf32(c, _p[_i++]);
                return c;
        }
    }

    private int Hex(int max, bool exact)
    {
        int v = 0, k = 0;
        while (k < max && _i < _p.Length && char.IsAsciiHexDigit(_p[_i])) { v = v * 16 + Convert.ToInt32(_p[_i].ToString(), 16); _i++; k++; }
        if (k == 0 || (exact && k != max)) throw Bad("bad hexadecimal escape");
        return v;
    }

    // ---- bracket classes ----

    private CodePointSet Class(Flags flags)
    {
        _i++; // '['
        bool negate = false;
        if (_i < _p.Length && _p[_i] == '^') { negate = true; _i++; }
        var set = CodePointSet.Empty;
        bool first = true;
        while (true)
        {
            if (_i >= _p.Length) throw Bad("unterminated character class");
            char c = _p[_i];
            if (c == ']' && !first) { _i++; break; }
            first = false;
            if (Starts("[:")) throw new NotSupportedException($"POSIX bracket at position {_i} of the pattern");
            if (Starts("&&")) throw new NotSupportedException($"class intersection '&&' at position {_i} of the pattern");
            if (c == '[') { set = set.Union(Class(flags)); continue; }
            var (single, lo) = ClassAtom();
            if (single == null) { set = set.Union(lo!); continue; }
            if (_i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']')
            {
                _i++;
                var (hiCp, hiSet) = ClassAtom();
                if (hiCp == null || hiCp < single) throw Bad("bad range in character class");
                set = set.Union(CodePointSet.Range(single.Value, hiCp.Value));
                _ = hiSet;
                continue;
            }
            set = set.Union(CodePointSet.Single(single.Value));
        }
        if (flags.IgnoreCase) set = set.CaseClosed();
        return negate ? set.Complement() : set;
    }

    private (int? Single, CodePointSet? Set) ClassAtom()
    {
        char c = _p[_i];
        if (c == '\\')
        {
            _i++;
            if (_i >= _p.Length) throw Bad("trailing backslash");
            var set = ClassEscape(inClass: true);
            if (set != null) return (null, set);
            if (_p[_i] == 'b') { _i++; return (8, null); } // backspace inside a class
            return (EscapedCodePoint(), null);
        }
        int cp = NormalizedText.RuneAt(_p, _i, out int w);
        _i += w;
        return (cp, null);
    }

    // ---- output of a set ----

    private void EmitSet(CodePointSet set, Flags flags)
    {
        _ = flags;
        var r = set.Ranges.Any(x => x.Start <= 0xDFFF && x.End >= 0xD800)
            ? set.Minus(CodePointSet.Range(0xD800, 0xDFFF)).Ranges : set.Ranges; // surrogate units never stand alone in valid text
        if (r.Count == 0) { _out.Append("(?!)"); return; }
        var bmp = new StringBuilder();
        bool netBmp = set.NetBmp != null;
        if (netBmp) bmp.Append(set.NetNegated ? "^" + set.NetBmp + (_bmpOnly ? "" : "\\uD800-\\uDFFF") : set.NetBmp);
        var astral = new List<string>();
        // per high surrogate, the low-surrogate ranges; whole high surrogates are grouped
        var lows = new SortedDictionary<int, List<(int, int)>>();
        foreach (var (a, b) in r)
        {
            int lo = a, hi = b;
            if (lo <= 0xFFFF)
            {
                int e = Math.Min(hi, 0xFFFF);
                if (!netBmp) AppendPlain(bmp, lo, e);
                lo = 0x10000;
            }
            for (int s = Math.Max(lo, 0x10000); s <= hi;)
            {
                int h = 0xD800 + ((s - 0x10000) >> 10);
                int blockEnd = 0x10000 + ((h - 0xD800 + 1) << 10) - 1;
                int e = Math.Min(hi, blockEnd);
                if (!lows.TryGetValue(h, out var list)) lows[h] = list = new List<(int, int)>();
                list.Add((0xDC00 + ((s - 0x10000) & 0x3FF), 0xDC00 + ((e - 0x10000) & 0x3FF)));
                s = e + 1;
            }
        }
        if (_bmpOnly) lows.Clear();
        var full = new List<int>();
        foreach (var (h, list) in lows)
        {
            if (list.Count == 1 && list[0] == (0xDC00, 0xDFFF)) { full.Add(h); continue; }
            var sb = new StringBuilder();
            sb.Append("\\u").Append(h.ToString("X4", CultureInfo.InvariantCulture)).Append('[');
            foreach (var (a, b) in list) AppendPlain(sb, a, b);
            astral.Add(sb.Append(']').ToString());
        }
        if (full.Count > 0)
        {
            var sb = new StringBuilder("[");
            for (int k = 0; k < full.Count;)
            {
                int j = k;
                while (j + 1 < full.Count && full[j + 1] == full[j] + 1) j++;
                AppendPlain(sb, full[k], full[j]);
                k = j + 1;
            }
            astral.Add(sb.Append("][\\uDC00-\\uDFFF]").ToString());
        }
        var parts = new List<string>();
        if (bmp.Length > 0) parts.Add("[" + bmp + "]");
        parts.AddRange(astral);
        if (parts.Count == 0) { _out.Append("(?!)"); return; }
        if (parts.Count == 1 && bmp.Length > 0) _out.Append(parts[0]);
        else _out.Append("(?:").AppendJoin('|', parts).Append(')');
    }

    internal static void AppendPlain(StringBuilder sb, int a, int b)
    {
        sb.Append("\\u").Append(a.ToString("X4", CultureInfo.InvariantCulture));
        if (b > a) sb.Append(b == a + 1 ? "" : "-").Append("\\u").Append(b.ToString("X4", CultureInfo.InvariantCulture));
    }
}

/// <summary>A set of Unicode scalar values as sorted, disjoint, non-adjacent inclusive ranges.</summary>
internal sealed class CodePointSet
{
    public IReadOnlyList<(int Start, int End)> Ranges { get; }

    /// <summary>
    /// When known: a .NET class body (e.g. <c>\p{L}\p{N}</c>) whose members in the BMP are exactly this set's, checked
    /// against .NET's character data, so the BMP part can be written compactly; <see cref="NetNegated"/> negates it.
    /// </summary>
    public string? NetBmp { get; private init; }
    public bool NetNegated { get; private init; }

    private CodePointSet(List<(int, int)> ranges) { Ranges = ranges; }

    public static readonly CodePointSet Empty = new([]);
    public static readonly CodePointSet All = new([(0, 0xD7FF), (0xE000, 0x10FFFF)]);
    public static CodePointSet Single(int cp) => Range(cp, cp);

    public static CodePointSet Range(int a, int b)
    {
        // the BMP part, surrogates aside, written out as a .NET range
        var body = new StringBuilder();
        foreach (var (x, y) in new[] { (a, Math.Min(b, 0xD7FF)), (Math.Max(a, 0xE000), Math.Min(b, 0xFFFF)) })
            if (x <= y) OnigurumaPattern.AppendPlain(body, x, y);
        return new CodePointSet(new List<(int, int)> { (a, b) }) { NetBmp = body.ToString() };
    }

    private static readonly Lazy<CodePointSet> s_space = new(() => WithNet(FromFlag(UnicodeTables.RegexSpace), "\\s", c => char.IsWhiteSpace((char)c)));
    private static readonly Lazy<CodePointSet> s_word = new(() => FromFlag(UnicodeTables.RegexWord));
    private static readonly Lazy<CodePointSet> s_digit = new(() => WithNet(FromFlag(UnicodeTables.RegexDigit), "\\d",
        c => CharUnicodeInfo.GetUnicodeCategory((char)c) == UnicodeCategory.DecimalDigitNumber));

    /// <summary>Attaches a .NET class body when .NET agrees with the set on every BMP scalar value.</summary>
    private static CodePointSet WithNet(CodePointSet set, string body, Func<int, bool> net)
    {
        for (int c = 0; c <= 0xFFFF; c++)
        {
            if (c == 0xD800) c = 0xE000;
            if (net(c) != set.Contains(c)) return set;
        }
        return new CodePointSet((List<(int, int)>)set.Ranges) { NetBmp = body };
    }
    public static CodePointSet Space => s_space.Value;
    public static CodePointSet Word => s_word.Value;
    public static CodePointSet Digit => s_digit.Value;
    public static readonly CodePointSet HexDigit = Normalize([('0', '9'), ('A', 'F'), ('a', 'f')]);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, CodePointSet?> s_properties = new();

    /// <summary>Oniguruma's \p{name} for general categories (one- and two-letter and long names; case, spaces, '-' and '_' ignored).</summary>
    public static CodePointSet? Property(string name) => s_properties.GetOrAdd(Canonical(name), static n =>
    {
        string[]? cats = n switch
        {
            "l" or "letter" => ["Lu", "Ll", "Lt", "Lm", "Lo"],
            "lc" or "l&" or "casedletter" => ["Lu", "Ll", "Lt"],
            "m" or "mark" or "combiningmark" => ["Mn", "Mc", "Me"],
            "n" or "number" => ["Nd", "Nl", "No"],
            "p" or "punctuation" or "punct" => ["Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"],
            "s" or "symbol" => ["Sm", "Sc", "Sk", "So"],
            "z" or "separator" => ["Zs", "Zl", "Zp"],
            "c" or "other" => ["Cc", "Cf", "Cs", "Co", "Cn"],
            "any" => null,
            _ => LongNames.TryGetValue(n, out var two) ? [two] : UnicodeTables.CategoryNames.FirstOrDefault(c => c.ToLowerInvariant() == n) is { } t ? [t] : null,
        };
        if (n == "any") return All;
        if (cats == null) return null;
        var wanted = cats.Select(c => c == "Cs" ? UnicodeCategory.Surrogate : ToCategory(c)).ToHashSet();
        var list = new List<(int, int)>();
        int start = -1;
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            bool inside = (cp < 0xD800 || cp > 0xDFFF) && wanted.Contains(UnicodeTables.Category(cp));
            if (inside && start < 0) start = cp;
            else if (!inside && start >= 0) { list.Add((start, cp - 1)); start = -1; }
        }
        if (start >= 0) list.Add((start, 0x10FFFF));
        // (.NET's \p{Cs} would match the halves of surrogate pairs: surrogates are never members here)
        string body = cats.Length == 5 && n is "l" or "letter" ? "\\p{L}" : cats.Length == 3 && n is "n" or "number" ? "\\p{N}"
            : cats.Length == 3 && n is "m" or "mark" or "combiningmark" ? "\\p{M}" : cats.Length == 7 ? "\\p{P}" : cats.Length == 4 && n is "s" or "symbol" ? "\\p{S}"
            : cats.Length == 3 && n is "z" or "separator" ? "\\p{Z}" : string.Concat(cats.Where(c => c != "Cs").Select(c => $"\\p{{{c}}}"));
        return WithNet(new CodePointSet(list), body,
            c => wanted.Contains(CharUnicodeInfo.GetUnicodeCategory((char)c)));
    });

    private static readonly Dictionary<string, string> LongNames = new()
    {
        ["uppercaseletter"] = "Lu", ["lowercaseletter"] = "Ll", ["titlecaseletter"] = "Lt", ["modifierletter"] = "Lm", ["otherletter"] = "Lo",
        ["nonspacingmark"] = "Mn", ["spacingmark"] = "Mc", ["enclosingmark"] = "Me", ["decimalnumber"] = "Nd", ["letternumber"] = "Nl",
        ["othernumber"] = "No", ["connectorpunctuation"] = "Pc", ["dashpunctuation"] = "Pd", ["openpunctuation"] = "Ps",
        ["closepunctuation"] = "Pe", ["initialpunctuation"] = "Pi", ["finalpunctuation"] = "Pf", ["otherpunctuation"] = "Po",
        ["mathsymbol"] = "Sm", ["currencysymbol"] = "Sc", ["modifiersymbol"] = "Sk", ["othersymbol"] = "So", ["spaceseparator"] = "Zs",
        ["lineseparator"] = "Zl", ["paragraphseparator"] = "Zp", ["control"] = "Cc", ["format"] = "Cf", ["privateuse"] = "Co",
        ["unassigned"] = "Cn", ["surrogate"] = "Cs",
    };

    private static string Canonical(string name) => new string(name.Where(ch => ch is not (' ' or '_' or '-')).ToArray()).ToLowerInvariant();

    private static UnicodeCategory ToCategory(string two) => UnicodeTables.ParseCategory(two);

    private static CodePointSet FromFlag(uint flag)
    {
        var list = new List<(int, int)>();
        int start = -1;
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            bool inside = (cp < 0xD800 || cp > 0xDFFF) && UnicodeTables.Has(cp, flag);
            if (inside && start < 0) start = cp;
            else if (!inside && start >= 0) { list.Add((start, cp - 1)); start = -1; }
        }
        if (start >= 0) list.Add((start, 0x10FFFF));
        return new CodePointSet(list);
    }

    private static CodePointSet Normalize(List<(int Start, int End)> ranges)
    {
        ranges.Sort((x, y) => x.Start.CompareTo(y.Start));
        var list = new List<(int, int)>();
        foreach (var (a, b) in ranges)
        {
            if (list.Count > 0 && a <= list[^1].Item2 + 1) list[^1] = (list[^1].Item1, Math.Max(list[^1].Item2, b));
            else list.Add((a, b));
        }
        return new CodePointSet(list);
    }

    public CodePointSet Union(CodePointSet other)
    {
        var u = Normalize(Ranges.Concat(other.Ranges).ToList());
        if (Ranges.Count == 0) return other;
        if (other.Ranges.Count == 0) return this;
        return NetBmp != null && other.NetBmp != null && !NetNegated && !other.NetNegated
            ? new CodePointSet((List<(int, int)>)u.Ranges) { NetBmp = NetBmp + other.NetBmp } : u;
    }

    public CodePointSet Complement()
    {
        var list = new List<(int, int)>();
        int next = 0;
        foreach (var (a, b) in Ranges)
        {
            if (a > next) list.Add((next, a - 1));
            next = b + 1;
        }
        if (next <= 0x10FFFF) list.Add((next, 0x10FFFF));
        var c = new CodePointSet(list).Minus(Range(0xD800, 0xDFFF));
        return NetBmp == null ? c : new CodePointSet((List<(int, int)>)c.Ranges) { NetBmp = NetBmp, NetNegated = !NetNegated };
    }

    public CodePointSet Minus(CodePointSet other)
    {
        var list = new List<(int, int)>();
        foreach (var (a0, b) in Ranges)
        {
            int a = a0;
            foreach (var (c, d) in other.Ranges)
            {
                if (d < a || c > b) continue;
                if (c > a) list.Add((a, c - 1));
                a = d + 1;
                if (a > b) break;
            }
            if (a <= b) list.Add((a, b));
        }
        return Normalize(list);
    }

    public bool Contains(int cp)
    {
        int lo = 0, hi = Ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (cp < Ranges[mid].Start) hi = mid - 1;
            else if (cp > Ranges[mid].End) lo = mid + 1;
            else return true;
        }
        return false;
    }

    /// <summary>With every simple case partner (per the lowercase table) of its members added.</summary>
    public CodePointSet CaseClosed()
    {
        var extra = new List<(int, int)>();
        foreach (var (upper, lower) in UnicodeTables.SimpleCasePairs)
        {
            bool hasU = Contains(upper), hasL = Contains(lower);
            if (hasU && !hasL) extra.Add((lower, lower));
            if (hasL && !hasU) extra.Add((upper, upper));
        }
        return extra.Count == 0 ? this : Normalize(Ranges.Concat(extra).ToList());
    }
}
