using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// The Unicode character data of Hugging Face's Rust tokenizers 0.23.2 (unicode-tables.json.gz, written by make_tables.js
/// beside it by probing the Rust library on every code point). The Rust library combines several Unicode versions
/// (Rust's std, the unicode_categories crate, unicode-normalization-alignments, Oniguruma), none of them .NET's, so
/// .NET's own character data would disagree on hundreds of code points.
/// </summary>
internal static class UnicodeTables
{
    // Per code point, one uint: category (5 bits), combining-class rank (6 bits), then flags.
    private const int CategoryBits = 5, RankShift = 5, RankBits = 6;
    public const uint Punct = 1u << 11, Numeric = 1u << 12, BertRemove = 1u << 13, Combining = 1u << 14, Nonspacing = 1u << 15,
        RegexWord = 1u << 16, RegexSpace = 1u << 17, RegexDigit = 1u << 18, HasLower = 1u << 19, HasCanonical = 1u << 20,
        HasCompat = 1u << 21, ComposesAsSecond = 1u << 22, PrimaryComposite = 1u << 23,
        // Unicode's quick-check "No or Maybe" per form, derived from the above
        NfdUnstable = 1u << 24, NfkdUnstable = 1u << 25, NfcUnstable = 1u << 26, NfkcUnstable = 1u << 27,
        RustWord = 1u << 28;

    private const int PageBits = 8, PageSize = 1 << PageBits;

    // Loaded once, on first use (no static constructor, so the JIT treats the arrays as initialized constants).
    private sealed class Data
    {
        public ushort[] PageIndex = null!;
        public uint[] Pages = null!;
        public readonly Dictionary<int, int[]> Lower = new(), Canonical = new(), Compat = new();
        public readonly Dictionary<long, int> Compose = new();
        public UnicodeCategory[] Categories = null!;
        public string[] CategoryNames = null!;
    }

    private static readonly Data s = Load();
    private static readonly ushort[] s_pageIndex = s.PageIndex;
    private static readonly uint[] s_pages = s.Pages;
    private static readonly Dictionary<int, int[]> s_lower = s.Lower, s_canonical = s.Canonical, s_compat = s.Compat;
    private static readonly Dictionary<long, int> s_compose = s.Compose;
    private static readonly UnicodeCategory[] s_categories = s.Categories;

    /// <summary>Oniguruma's general category names in the table's order.</summary>
    public static IReadOnlyList<string> CategoryNames => s.CategoryNames;

    private static Data Load()
    {
        var data = new Data();
        using var stream = typeof(UnicodeTables).Assembly.GetManifestResourceStream("Microsoft.ML.Transformers.Tokenizers.unicode-tables.json.gz")
            ?? throw new InvalidOperationException("The embedded Unicode tables are missing from the assembly.");
        using var gz = new GZipStream(stream, CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz);
        var root = doc.RootElement;
        static int[] Ints(JsonElement e) { var a = new int[e.GetArrayLength()]; int i = 0; foreach (var x in e.EnumerateArray()) a[i++] = x.GetInt32(); return a; }

        var names = root.GetProperty("categoryNames").EnumerateArray().Select(x => x.GetString()!).ToArray();
        data.CategoryNames = names;
        data.Categories = names.Select(ParseCategory).Append(UnicodeCategory.Surrogate).ToArray();
        var info = new uint[0x110000];
        var cat = Ints(root.GetProperty("category"));
        for (int i = 0; i < cat.Length; i += 2)
        {
            int end = i + 2 < cat.Length ? cat[i + 2] : 0x110000;
            for (int c = cat[i]; c < end; c++) info[c] = (uint)cat[i + 1];
        }
        for (int c = 0xD800; c <= 0xDFFF; c++) info[c] = (uint)names.Length; // not scalar values: the table skips them
        foreach (var (name, flag) in new[] { ("punct", Punct), ("numeric", Numeric), ("bertRemove", BertRemove), ("combining", Combining),
                     ("nonspacing", Nonspacing), ("regexWord", RegexWord), ("regexSpace", RegexSpace), ("regexDigit", RegexDigit), ("rustWord", RustWord) })
        {
            var r = Ints(root.GetProperty("sets").GetProperty(name));
            for (int i = 0; i < r.Length; i += 2) for (int c = r[i]; c <= r[i + 1]; c++) info[c] |= flag;
        }
        var ccc = Ints(root.GetProperty("ccc"));
        for (int i = 0; i < ccc.Length; i += 2) info[ccc[i]] |= (uint)ccc[i + 1] << RankShift;
        ReadMappings(Ints(root.GetProperty("lower")), data.Lower, info, HasLower);
        ReadMappings(Ints(root.GetProperty("canonical")), data.Canonical, info, HasCanonical);
        ReadMappings(Ints(root.GetProperty("compat")), data.Compat, info, HasCompat);
        for (int c = HangulSBase; c < HangulSBase + HangulSCount; c++) info[c] |= HasCanonical;
        var comp = Ints(root.GetProperty("compose"));
        for (int i = 0; i < comp.Length; i += 3)
        {
            data.Compose[((long)comp[i] << 21) | (uint)comp[i + 1]] = comp[i + 2];
            info[comp[i + 1]] |= ComposesAsSecond;
            info[comp[i + 2]] |= PrimaryComposite;
        }
        for (int c = HangulVBase; c < HangulVBase + HangulVCount; c++) info[c] |= ComposesAsSecond;
        for (int c = HangulTBase + 1; c < HangulTBase + HangulTCount; c++) info[c] |= ComposesAsSecond;
        for (int c = HangulSBase; c < HangulSBase + HangulSCount; c++) info[c] |= PrimaryComposite;
        for (int c = 0; c < info.Length; c++)
        {
            uint x = info[c];
            if (CombiningRank(x) != 0 || (x & HasCanonical) != 0) x |= NfdUnstable | NfkdUnstable;
            if ((x & HasCompat) != 0) x |= NfkdUnstable | NfkcUnstable;
            if (CombiningRank(x) != 0 || (x & ComposesAsSecond) != 0 || ((x & HasCanonical) != 0 && (x & PrimaryComposite) == 0))
                x |= NfcUnstable | NfkcUnstable;
            info[c] = x;
        }

        // two-stage table: identical pages are stored once
        var pageIndex = data.PageIndex = new ushort[0x110000 >> PageBits];
        var pages = new List<uint>();
        var seen = new Dictionary<string, ushort>();
        for (int p = 0; p < pageIndex.Length; p++)
        {
            var page = new ReadOnlySpan<uint>(info, p << PageBits, PageSize);
            string key = Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(page));
            if (!seen.TryGetValue(key, out ushort index))
            {
                index = (ushort)(pages.Count / PageSize);
                pages.AddRange(page.ToArray());
                seen[key] = index;
            }
            pageIndex[p] = index;
        }
        data.Pages = pages.ToArray();
        return data;
    }

    private static void ReadMappings(int[] flat, Dictionary<int, int[]> map, uint[] info, uint flag)
    {
        for (int i = 0; i < flat.Length;)
        {
            int cp = flat[i], n = flat[i + 1];
            map[cp] = flat.AsSpan(i + 2, n).ToArray();
            info[cp] |= flag;
            i += 2 + n;
        }
    }

    /// <summary>A two-letter general category name as .NET's enum.</summary>
    public static UnicodeCategory ParseCategory(string name) => name switch
    {
        "Lu" => UnicodeCategory.UppercaseLetter, "Ll" => UnicodeCategory.LowercaseLetter, "Lt" => UnicodeCategory.TitlecaseLetter,
        "Lm" => UnicodeCategory.ModifierLetter, "Lo" => UnicodeCategory.OtherLetter, "Mn" => UnicodeCategory.NonSpacingMark,
        "Mc" => UnicodeCategory.SpacingCombiningMark, "Me" => UnicodeCategory.EnclosingMark, "Nd" => UnicodeCategory.DecimalDigitNumber,
        "Nl" => UnicodeCategory.LetterNumber, "No" => UnicodeCategory.OtherNumber, "Pc" => UnicodeCategory.ConnectorPunctuation,
        "Pd" => UnicodeCategory.DashPunctuation, "Ps" => UnicodeCategory.OpenPunctuation, "Pe" => UnicodeCategory.ClosePunctuation,
        "Pi" => UnicodeCategory.InitialQuotePunctuation, "Pf" => UnicodeCategory.FinalQuotePunctuation, "Po" => UnicodeCategory.OtherPunctuation,
        "Sm" => UnicodeCategory.MathSymbol, "Sc" => UnicodeCategory.CurrencySymbol, "Sk" => UnicodeCategory.ModifierSymbol,
        "So" => UnicodeCategory.OtherSymbol, "Zs" => UnicodeCategory.SpaceSeparator, "Zl" => UnicodeCategory.LineSeparator,
        "Zp" => UnicodeCategory.ParagraphSeparator, "Cc" => UnicodeCategory.Control, "Cf" => UnicodeCategory.Format,
        "Co" => UnicodeCategory.PrivateUse, "Cs" => UnicodeCategory.Surrogate, _ => UnicodeCategory.OtherNotAssigned,
    };

    /// <summary>(character, its lowercase) where Rust's lowercase is a single character: the simple case pairs.</summary>
    public static IReadOnlyList<(int Upper, int Lower)> SimpleCasePairs =>
        s_casePairs ??= s_lower.Where(kv => kv.Value.Length == 1).Select(kv => (kv.Key, kv.Value[0])).OrderBy(p => p.Key).ToArray();
    private static (int, int)[]? s_casePairs;

    /// <summary>All data of a code point (a scalar value below 0x110000).</summary>
    public static uint Info(int cp) => s_pages[(s_pageIndex[cp >> PageBits] << PageBits) | (cp & (PageSize - 1))];

    public static bool Has(int cp, uint flag) => (Info(cp) & flag) != 0;

    /// <summary>Oniguruma's general category.</summary>
    public static UnicodeCategory Category(int cp) => s_categories[Info(cp) & ((1u << CategoryBits) - 1)];

    /// <summary>Canonical combining class as a rank: 0 for starters; only the order of ranks is meaningful.</summary>
    public static int CombiningRank(uint info) => (int)(info >> RankShift) & ((1 << RankBits) - 1);

    /// <summary>Rust's <c>char::to_lowercase</c>: one to three code points written to <paramref name="dst"/>; returns the count.</summary>
    public static int ToLower(int cp, Span<int> dst)
    {
        if (Has(cp, HasLower))
        {
            var m = s_lower[cp];
            m.CopyTo(dst);
            return m.Length;
        }
        dst[0] = cp;
        return 1;
    }

    /// <summary>The full canonical (or, with <paramref name="compat"/>, compatibility) decomposition; null when none (Hangul excluded).</summary>
    public static int[]? Decomposition(int cp, uint info, bool compat)
    {
        if (compat && (info & HasCompat) != 0) return s_compat[cp];
        if ((info & HasCanonical) != 0 && s_canonical.TryGetValue(cp, out var d)) return d;
        return null;
    }

    public const int HangulSBase = 0xAC00, HangulLBase = 0x1100, HangulVBase = 0x1161, HangulTBase = 0x11A7;
    public const int HangulLCount = 19, HangulVCount = 21, HangulTCount = 28, HangulNCount = HangulVCount * HangulTCount,
        HangulSCount = HangulLCount * HangulNCount;

    /// <summary>The primary composite of a pair (Hangul included), or -1.</summary>
    public static int Compose(int a, int b)
    {
        if (a >= HangulLBase && a < HangulLBase + HangulLCount && b >= HangulVBase && b < HangulVBase + HangulVCount)
            return HangulSBase + ((a - HangulLBase) * HangulVCount + (b - HangulVBase)) * HangulTCount;
        if (a >= HangulSBase && a < HangulSBase + HangulSCount && (a - HangulSBase) % HangulTCount == 0 && b > HangulTBase && b < HangulTBase + HangulTCount)
            return a + (b - HangulTBase);
        return s_compose.TryGetValue(((long)a << 21) | (uint)b, out int c) ? c : -1;
    }
}
