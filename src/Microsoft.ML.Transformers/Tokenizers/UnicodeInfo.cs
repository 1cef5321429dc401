using System.Globalization;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// Character classes as Hugging Face's Rust tokenizers sees them, each from the table the Rust component uses
/// (<see cref="UnicodeTables"/>): Rust's std for whitespace, lowercase and is_numeric, the unicode_categories crate for
/// punctuation and Bert's control/mark tests, unicode-normalization-alignments for combining marks, Oniguruma for regex
/// classes. Never .NET's character data, which follows another Unicode version.
/// </summary>
internal static class UnicodeInfo
{
    /// <summary>Rust <c>char::is_whitespace</c>: the Unicode White_Space property (stable since Unicode 6).</summary>
    public static bool IsWhitespace(int c) => c switch
    {
        >= 9 and <= 13 or 32 => true,
        < 0x85 => false,
        0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    /// <summary>Oniguruma's general category (what the regex classes \p{L}, \p{N}... test).</summary>
    public static UnicodeCategory Category(int cp) => UnicodeTables.Category(cp);

    /// <summary>BertNormalizer's clean_text drops it: NUL, U+FFFD and unicode_categories' is_other (Cc, Cf, Co, Cs) but tab, LF, CR.</summary>
    public static bool IsBertRemoved(int cp) => cp < 0x80 ? cp < 0x20 && cp is not (9 or 10 or 13) || cp == 0x7F : UnicodeTables.Has(cp, UnicodeTables.BertRemove);

    /// <summary>Bert's and the Punctuation pre-tokenizer's <c>is_punc</c>: ASCII punctuation or unicode_categories' punctuation.</summary>
    public static bool IsPunctuation(int cp)
    {
        if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
        return UnicodeTables.Has(cp, UnicodeTables.Punct);
    }

    /// <summary>Oniguruma's \p{L}.</summary>
    public static bool IsLetter(int cp)
    {
        if (cp < 0x80) return (uint)((cp | 0x20) - 'a') <= 'z' - 'a';
        return Category(cp) <= UnicodeCategory.OtherLetter;
    }

    /// <summary>Oniguruma's \p{N}.</summary>
    public static bool IsRegexNumber(int cp)
    {
        if (cp < 0x80) return (uint)(cp - '0') <= 9;
        return Category(cp) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
    }

    /// <summary>Rust <c>char::is_numeric</c> (the Digits pre-tokenizer).</summary>
    public static bool IsNumeric(int cp)
    {
        if (cp < 0x80) return (uint)(cp - '0') <= 9;
        return UnicodeTables.Has(cp, UnicodeTables.Numeric);
    }

    /// <summary>Oniguruma's \w (Alphabetic, marks, decimal digits, connector punctuation, join controls).</summary>
    public static bool IsRegexWord(int cp)
    {
        if (cp < 0x80) return (uint)((cp | 0x20) - 'a') <= 'z' - 'a' || (uint)(cp - '0') <= 9 || cp == '_';
        return UnicodeTables.Has(cp, UnicodeTables.RegexWord);
    }

    /// <summary>unicode_categories' is_mark_nonspacing (BertNormalizer's strip_accents).</summary>
    public static bool IsNonSpacingMark(int cp) => cp >= 0x300 && UnicodeTables.Has(cp, UnicodeTables.Nonspacing);

    /// <summary>unicode-normalization-alignments' is_combining_mark (the StripAccents normalizer).</summary>
    public static bool IsCombiningMark(int cp) => cp >= 0x300 && UnicodeTables.Has(cp, UnicodeTables.Combining);

    public static bool IsChineseChar(int c) =>
        (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
        || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF)
        || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);

    /// <summary>
    /// Rust <c>char::to_lowercase</c> (full mapping, no context): one to three code points written to
    /// <paramref name="dst"/>; returns the count.
    /// </summary>
    public static int ToLower(int cp, Span<int> dst)
    {
        if (cp < 0x80) { dst[0] = (uint)(cp - 'A') <= 'Z' - 'A' ? cp + 32 : cp; return 1; }
        return UnicodeTables.ToLower(cp, dst);
    }

    /// <summary>The regex crate's \w (Alphabetic, marks, decimal numbers, connector punctuation, join controls): the
    /// Whitespace pre-tokenizer and the single_word rule of added tokens use it.</summary>
    public static bool IsRustWord(int cp)
    {
        if (cp < 0x80) return (uint)((cp | 0x20) - 'a') <= 'z' - 'a' || (uint)(cp - '0') <= 9 || cp == '_';
        return UnicodeTables.Has(cp, UnicodeTables.RustWord);
    }
}
