namespace Microsoft.ML.Transformers.Tokenizers;

public enum TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond }
public enum TruncationDirection { Right, Left }
public enum PaddingDirection { Right, Left }

/// <summary>Truncation settings (tokenizer.json's <c>truncation</c>). Windows past max_length go to <see cref="Encoding.Overflowing"/>.</summary>
public sealed record TruncationOptions(int MaxLength, TruncationStrategy Strategy = TruncationStrategy.LongestFirst, int Stride = 0,
    TruncationDirection Direction = TruncationDirection.Right);

/// <summary>Padding settings (tokenizer.json's <c>padding</c>). <see cref="Length"/> null pads to the longest in the batch.</summary>
public sealed record PaddingOptions(int? Length = null, PaddingDirection Direction = PaddingDirection.Right, int? PadToMultipleOf = null,
    int PadId = 0, int PadTypeId = 0, string PadToken = "[PAD]")
{
    /// <summary>The longest fixed padding accepted (2^20 tokens): far past any model's context, short of exhausting memory.</summary>
    public const int MaxLength = 1 << 20;

    /// <summary>The largest pad_to_multiple_of accepted (real files use 8 to 128).</summary>
    public const int MaxMultiple = 1 << 16;
}

/// <summary>Thrown when tokenizer files are malformed; the message names the file and the JSON path.</summary>
public sealed class TokenizerFormatException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>Thrown when tokenizer.json names a component this library does not implement.</summary>
public sealed class TokenizerNotSupportedException(string message) : NotSupportedException(message);

/// <summary>Thrown when truncation cannot satisfy max_length (Hugging Face's TruncationError).</summary>
public sealed class TruncationException(string message) : InvalidOperationException(message);

/// <summary>
/// A tokenizer.json regex (Split pre-tokenizer, Replace normalizer or decoder) took longer than its time bound on one
/// search: patterns such as <c>(a+)+$</c> backtrack exponentially. Names the pattern and where it came from.
/// </summary>
public sealed class TokenizerRegexTimeoutException(string pattern, string? source, TimeSpan timeout, int textLength, Exception? inner = null)
    : TimeoutException($"{(source == null ? "" : source + ": ")}the regex \"{(pattern.Length > 200 ? pattern[..200] + "..." : pattern)}\" took longer than " +
        $"{timeout.TotalMilliseconds:0} ms on a text of {textLength} characters (catastrophic backtracking); fix the pattern or raise " +
        $"RegexSplitPattern.DefaultMatchTimeout", inner)
{
    /// <summary>The pattern as tokenizer.json gives it.</summary>
    public string Pattern { get; } = pattern;
    /// <summary>The file and JSON path of the pattern, when known.</summary>
    public string? Location { get; } = source;
}
