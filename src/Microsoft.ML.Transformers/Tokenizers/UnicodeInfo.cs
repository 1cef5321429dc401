using System.Globalization;
using System.Text;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>Character classes with the definitions Rust's <c>char</c> methods use (White_Space, general categories).</summary>
internal static class UnicodeInfo
{
    /// <summary>Rust <c>char::is_whitespace</c>: the Unicode White_Space property.</summary>
    public static bool IsWhitespace(int c) => c switch
    {
        >= 9 and <= 13 or 32 => true,
        < 0x85 => false,
        0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    public static UnicodeCategory Category(int cp) =>
        cp < 0x10000 ? CharUnicodeInfo.GetUnicodeCategory((char)cp) : CharUnicodeInfo.GetUnicodeCategory(cp);

    /// <summary>
    /// Hugging Face's <c>is_other</c> (unicode_categories crate): Cc, Cf, Cs, Co. Its Cn table is generated from
    /// UnicodeData.txt, which lists no unassigned code points, so unassigned characters (U+FFFF ...) are not "other".
    /// </summary>
    public static bool IsOther(int cp)
    {
        if (cp < 0x7F) return cp < 0x20;
        var cat = Category(cp);
        return cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse;
    }

    public static bool IsPunctuation(int cp)
    {
        if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        var cat = Category(cp);
        return cat is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    public static bool IsLetter(int cp)
    {
        if (cp < 0x80) return (uint)((cp | 0x20) - 'a') <= 'z' - 'a';
        var cat = Category(cp);
        return cat <= UnicodeCategory.OtherLetter;
    }

    public static bool IsNumber(int cp)
    {
        if (cp < 0x80) return (uint)(cp - '0') <= 9;
        var cat = Category(cp);
        return cat is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }

    public static bool IsAlphanumeric(int cp) => IsLetter(cp) || IsNumber(cp);

    public static bool IsNonSpacingMark(int cp) => cp >= 0x300 && Category(cp) == UnicodeCategory.NonSpacingMark;

    public static bool IsMark(int cp) => cp >= 0x300 && Category(cp) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    public static bool IsChineseChar(int c) =>
        (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
        || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);

    /// <summary>
    /// Rust <c>char::to_lowercase</c> (full mapping, no context): one or two code points written to
    /// <paramref name="dst"/>; returns the count.
    /// </summary>
    public static int ToLower(int cp, Span<int> dst)
    {
        if (cp < 0x80) { dst[0] = (uint)(cp - 'A') <= 'Z' - 'A' ? cp + 32 : cp; return 1; }
        if (cp == 0x130) { dst[0] = 'i'; dst[1] = 0x307; return 2; }
        if (cp < 0x10000) { dst[0] = char.ToLowerInvariant((char)cp); return 1; }
        var r = Rune.ToLowerInvariant(new Rune(cp));
        dst[0] = r.Value;
        return 1;
    }
}
