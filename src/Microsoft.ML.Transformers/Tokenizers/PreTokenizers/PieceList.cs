namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>One split of the text: a range of <see cref="PieceList.Text"/>, possibly already an added token.</summary>
internal struct Piece
{
    public int Start;
    public int Length;
    public int TokenId; // >= 0 when the split is an added token
    public Piece(int start, int length, int tokenId = -1) { Start = start; Length = length; TokenId = tokenId; }
}

/// <summary>Hugging Face's PreTokenizedString: the normalized text and its splits, in order.</summary>
internal sealed class PieceList
{
    public NormalizedText Text = new();
    public List<Piece> Pieces = new(64);

    public void Clear() { Text.Clear(0); Pieces.Clear(); }

    public ReadOnlySpan<char> SpanOf(Piece p) => Text.Chars.AsSpan(p.Start, p.Length);

    /// <summary>Appends a range of another normalized text as a new piece.</summary>
    public void AddCopy(NormalizedText src, int start, int length, int tokenId = -1)
    {
        if (length == 0) return;
        int at = Text.Length;
        Text.Ensure(length);
        Array.Copy(src.Chars, start, Text.Chars, at, length);
        Array.Copy(src.Starts, start, Text.Starts, at, length);
        Array.Copy(src.Ends, start, Text.Ends, at, length);
        Text.Length += length;
        Pieces.Add(new Piece(at, length, tokenId));
    }
}
