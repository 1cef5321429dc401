using System.Text;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>A decoder from tokenizer.json's <c>decoder</c>: turns tokens back into text pieces (joined by the tokenizer).</summary>
public abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);
    public string Decode(IEnumerable<string> tokens) => string.Concat(DecodeChain(tokens.ToList()));
}

public sealed class SequenceDecoder(IReadOnlyList<Decoder> decoders) : Decoder
{
    public IReadOnlyList<Decoder> Decoders { get; } = decoders;
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var d in Decoders) tokens = d.DecodeChain(tokens);
        return tokens;
    }
}

public sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public string Prefix { get; } = prefix;
    public bool Cleanup { get; } = cleanup;
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (i != 0) t = t.StartsWith(Prefix, StringComparison.Ordinal) ? t[Prefix.Length..] : " " + t;
            if (Cleanup) t = CleanUp(t);
            r.Add(t);
        }
        return r;
    }

    /// <summary>
    /// The Rust WordPiece decoder's per-token clean-up (decoders/wordpiece.rs <c>cleanup</c>). It has one rule more than
    /// transformers' <see cref="Tokenizer.CleanUpTokenization"/>: " do not" to " don't", harmless on one token.
    /// </summary>
    public static string CleanUp(string s) => s.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");
}

public sealed class ByteLevelDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>();
        var utf8 = new byte[64];
        foreach (var t in tokens)
        {
            bool mapped = true;
            foreach (char c in t) if (!ByteLevel.CharToByte.ContainsKey(c)) { mapped = false; break; }
            if (mapped) { foreach (char c in t) bytes.Add(ByteLevel.CharToByte[c]); continue; }
            int n = System.Text.Encoding.UTF8.GetMaxByteCount(t.Length);
            if (utf8.Length < n) utf8 = new byte[n];
            n = System.Text.Encoding.UTF8.GetBytes(t, utf8);
            for (int k = 0; k < n; k++) bytes.Add(utf8[k]);
        }
        return [System.Text.Encoding.UTF8.GetString(bytes.ToArray())];
    }
}

public sealed class MetaspaceDecoder(char replacement, PrependScheme prependScheme) : Decoder
{
    public char Replacement { get; } = replacement;
    public PrependScheme PrependScheme { get; } = prependScheme;
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            sb.Clear();
            foreach (char c in tokens[i])
            {
                if (c == Replacement) { if (!(i == 0 && PrependScheme != PrependScheme.Never)) sb.Append(' '); }
                else sb.Append(c);
            }
            r.Add(sb.ToString());
        }
        return r;
    }
}

public sealed class BpeDecoder(string suffix) : Decoder
{
    public string Suffix { get; } = suffix;
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++) r.Add(tokens[i].Replace(Suffix, i == tokens.Count - 1 ? "" : " "));
        return r;
    }
}

/// <summary>&lt;0xXX&gt; tokens become bytes; invalid UTF-8 gives one U+FFFD per byte.</summary>
public sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        var pending = new List<byte>();
        var strict = new UTF8Encoding(false, true);
        void Flush()
        {
            if (pending.Count == 0) return;
            try { r.Add(strict.GetString(pending.ToArray())); }
            catch (DecoderFallbackException) { for (int k = 0; k < pending.Count; k++) r.Add("\uFFFD"); }
            pending.Clear();
        }
        foreach (var t in tokens)
        {
            if (t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>'
                && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                pending.Add(b);
                continue;
            }
            Flush();
            r.Add(t);
        }
        Flush();
        return r;
    }
}

public sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

public sealed class StripDecoder(char content, int start, int stop) : Decoder
{
    public char Content { get; } = content;
    public int Start { get; } = start;
    public int Stop { get; } = stop;
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        foreach (var t in tokens)
        {
            int a = 0;
            for (int i = 0; i < Start && i < t.Length; i++) { if (t[i] == Content) a = i + 1; else break; }
            int b = t.Length;
            for (int i = 0; i < Stop && t.Length - i - 1 >= 0; i++) { int idx = t.Length - i - 1; if (t[idx] == Content) b = idx; else break; }
            r.Add(b > a ? t[a..b] : "");
        }
        return r;
    }
}

public sealed class ReplaceDecoder(SplitPattern pattern, string content) : Decoder
{
    public SplitPattern Pattern { get; } = pattern;
    public string Content { get; } = content;
    public override List<string> DecodeChain(List<string> tokens)
    {
        var r = new List<string>(tokens.Count);
        var sb = new StringBuilder();
        foreach (var t in tokens)
        {
            var matches = Pattern.FindMatches(t);
            if (matches.Count == 0) { r.Add(t); continue; }
            sb.Clear();
            int prev = 0;
            foreach (var (s, e) in matches) { sb.Append(t, prev, s - prev).Append(Content); prev = e; }
            sb.Append(t, prev, t.Length - prev);
            r.Add(sb.ToString());
        }
        return r;
    }
}
