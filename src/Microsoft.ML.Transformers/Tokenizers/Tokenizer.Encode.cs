namespace Microsoft.ML.Transformers.Tokenizers;

public sealed partial class Tokenizer
{
    /// <summary>Per-thread scratch buffers: encoding allocates only the result arrays.</summary>
    private sealed class Context
    {
        public readonly NormalizedText Original = new(), Norm = new(), NormScratch = new();
        public readonly PieceList List = new(), Scratch = new();
        public readonly TokenSink Sink = new();
        public readonly List<(int Start, int End, int Id)> Splits = new(), NormSplits = new();
        public int[] Ids = new int[256];
        public string[] Tokens = new string[256];
        public (int, int)[] Offsets = new (int, int)[256];
        public int[] Words = new int[256];
        public int Count;

        public void Add(int id, string token, int s, int e, int word)
        {
            if (Count == Ids.Length)
            {
                int n = Count * 2;
                Array.Resize(ref Ids, n); Array.Resize(ref Tokens, n); Array.Resize(ref Offsets, n); Array.Resize(ref Words, n);
            }
            Ids[Count] = id; Tokens[Count] = token; Offsets[Count] = (s, e); Words[Count] = word; Count++;
        }
    }

    [ThreadStatic] private static Context? t_context;

    /// <summary>Encodes a text (and optional pair) with special tokens, truncation and padding as configured or given.</summary>
    public Encoding Encode(string text, string? pair = null, bool addSpecialTokens = true,
        TruncationOptions? truncation = null, PaddingOptions? padding = null)
    {
        var trunc = truncation ?? Truncation;
        var enc = PostProcess(EncodeSequence(text, 0, trunc), pair == null ? null : EncodeSequence(pair, 1, trunc), addSpecialTokens, trunc);
        var pad = padding ?? Padding;
        if (pad != null) PadBatch([enc], pad);
        return enc;
    }

    /// <summary>Number of tokens of <paramref name="text"/> (no truncation or padding).</summary>
    public int CountTokens(string text, bool addSpecialTokens = false)
    {
        int n = EncodeSequence(text, 0, null).Length;
        return addSpecialTokens && PostProcessor != null ? n + PostProcessor.AddedTokens(false) : n;
    }

    /// <summary>Ids only (no truncation or padding, special tokens as asked).</summary>
    public int[] EncodeToIds(string text, bool addSpecialTokens = true) =>
        Encode(text, null, addSpecialTokens, truncation: null, padding: null).Ids;

    public IReadOnlyList<Encoding> EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true,
        TruncationOptions? truncation = null, PaddingOptions? padding = null, int maxDegreeOfParallelism = -1) =>
        EncodeBatch(texts.Select(t => (t, (string?)null)).ToArray(), addSpecialTokens, truncation, padding, maxDegreeOfParallelism);

    /// <summary>Encodes many inputs across cores; batch padding (longest or fixed) is applied to the whole batch.</summary>
    public IReadOnlyList<Encoding> EncodeBatch(IReadOnlyList<(string Text, string? Pair)> inputs, bool addSpecialTokens = true,
        TruncationOptions? truncation = null, PaddingOptions? padding = null, int maxDegreeOfParallelism = -1)
    {
        var trunc = truncation ?? Truncation;
        var result = new Encoding[inputs.Count];
        void One(int i)
        {
            var (t, p) = inputs[i];
            result[i] = PostProcess(EncodeSequence(t, 0, trunc), p == null ? null : EncodeSequence(p, 1, trunc), addSpecialTokens, trunc);
        }
        if (maxDegreeOfParallelism == 1 || inputs.Count < 2) for (int i = 0; i < inputs.Count; i++) One(i);
        else
        {
            try { Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, One); }
            catch (AggregateException ae) when (ae.InnerExceptions.Count > 0)
            {
                // surface the first failure itself (e.g. TruncationException), as a sequential call would
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ae.InnerExceptions[0]);
            }
        }
        var pad = padding ?? Padding;
        if (pad != null) PadBatch(result, pad);
        return result;
    }

    private static void PadBatch(IReadOnlyList<Encoding> encodings, PaddingOptions pad)
    {
        if (pad.Length is < 0 or > PaddingOptions.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(pad), pad.Length, $"padding Length must be from 0 to {PaddingOptions.MaxLength}");
        if (pad.PadToMultipleOf is < 0 or > PaddingOptions.MaxMultiple)
            throw new ArgumentOutOfRangeException(nameof(pad), pad.PadToMultipleOf, $"PadToMultipleOf must be from 0 to {PaddingOptions.MaxMultiple}");
        if (encodings.Count == 0) return;
        int length = pad.Length ?? encodings.Max(e => e.Length);
        if (pad.PadToMultipleOf is int m && m > 0 && length % m > 0) length += m - length % m; // both bounded: no overflow
        foreach (var e in encodings) e.Pad(length, pad.PadId, pad.PadTypeId, pad.PadToken, pad.Direction == PaddingDirection.Left);
    }

    private Encoding PostProcess(Encoding a, Encoding? b, bool addSpecialTokens, TruncationOptions? trunc)
    {
        if (trunc != null)
        {
            int added = addSpecialTokens && PostProcessor != null ? PostProcessor.AddedTokens(b != null) : 0;
            Truncate(a, b, trunc with { MaxLength = Math.Max(0, trunc.MaxLength - added) });
        }
        if (PostProcessor != null) return PostProcessor.Process(a, b, addSpecialTokens);
        return b == null ? a : Encoding.MergeAll([a, b]);
    }

    /// <summary>Hugging Face's <c>truncate_encodings</c>.</summary>
    private static void Truncate(Encoding a, Encoding? b, TruncationOptions p)
    {
        bool left = p.Direction == TruncationDirection.Left;
        if (p.MaxLength == 0)
        {
            a.Truncate(0, p.Stride, left);
            b?.Truncate(0, p.Stride, left);
            return;
        }
        int total = a.Length + (b?.Length ?? 0);
        if (total <= p.MaxLength) return;
        int toRemove = total - p.MaxLength;
        switch (p.Strategy)
        {
            case TruncationStrategy.LongestFirst:
                if (b != null)
                {
                    int n1 = a.Length, n2 = b.Length;
                    bool swap = n1 > n2;
                    if (swap) (n1, n2) = (n2, n1);
                    n2 = n1 > p.MaxLength ? n1 : Math.Max(n1, p.MaxLength - n1);
                    if (n1 + n2 > p.MaxLength) { n1 = p.MaxLength / 2; n2 = n1 + p.MaxLength % 2; }
                    if (swap) (n1, n2) = (n2, n1);
                    a.Truncate(n1, p.Stride, left);
                    b.Truncate(n2, p.Stride, left);
                }
                else a.Truncate(total - toRemove, p.Stride, left);
                break;
            default:
                var target = p.Strategy == TruncationStrategy.OnlyFirst ? a
                    : b ?? throw new TruncationException("Truncation error: Second sequence not provided");
                if (target.Length > toRemove) target.Truncate(target.Length - toRemove, p.Stride, left);
                else throw new TruncationException("Truncation error: Sequence to truncate too short to respect the provided max_length");
                break;
        }
    }

    /// <summary>Added tokens, normalization, pre-tokenization and the model for one sequence.</summary>
    /// <remarks>
    /// With truncation on, Hugging Face 0.23 only tokenizes words (splits) until max_length tokens are reached, from
    /// the start or, for left truncation, from the end; the words past that are dropped before any overflowing window
    /// is cut, and word ids count from the first kept word. This is reproduced here (and saves work on long texts).
    /// </remarks>
    private Encoding EncodeSequence(string text, int typeId, TruncationOptions? trunc)
    {
        ArgumentNullException.ThrowIfNull(text);
        ValidateUtf16(text);
        var ctx = t_context ??= new Context();
        ctx.Count = 0;
        var list = ctx.List;
        list.Clear();
        _added.Split(text, normalized: false, ctx.Splits);
        bool done = false;
        if (ctx.Splits.Count == 1 && ctx.Splits[0].Id < 0)
        {
            // common case: no added token in the text; normalize straight into the piece list
            list.Text.SetOriginal(text, 0);
            Normalizer?.Normalize(list.Text, ctx.NormScratch);
            if (_added.HasNormalized) _added.Split(list.Text.Span, normalized: true, ctx.NormSplits);
            if (!_added.HasNormalized || (ctx.NormSplits.Count == 1 && ctx.NormSplits[0].Id < 0))
            {
                if (list.Text.Length > 0) list.Pieces.Add(new Piece(0, list.Text.Length));
                done = true;
            }
            else list.Clear();
        }
        if (!done)
        {
            ctx.Original.SetOriginal(text, 0);
            foreach (var (s, e, id) in ctx.Splits)
            {
                if (e == s) continue;
                if (id >= 0) { list.AddCopy(ctx.Original, s, e - s, id); continue; }
                var norm = ctx.Norm;
                norm.CopyFrom(ctx.Original, s, e - s);
                norm.OriginStart = s;
                Normalizer?.Normalize(norm, ctx.NormScratch);
                if (!_added.HasNormalized) { list.AddCopy(norm, 0, norm.Length); continue; }
                _added.Split(norm.Span, normalized: true, ctx.NormSplits);
                foreach (var (ns, ne, nid) in ctx.NormSplits) list.AddCopy(norm, ns, ne - ns, nid);
            }
        }

        PreTokenizer?.PreTokenize(list, ctx.Scratch);

        var textBuf = list.Text;
        var sink = ctx.Sink;
        int first = 0, last = list.Pieces.Count;
        bool cut = trunc != null;
        if (cut && trunc!.Direction == TruncationDirection.Left)
        {
            // find the first word to keep by counting tokens from the end
            int count = 0;
            first = last;
            while (first > 0 && count < trunc.MaxLength)
            {
                first--;
                var p = list.Pieces[first];
                if (p.TokenId >= 0) count++;
                else { sink.Clear(); Model.Tokenize(list.SpanOf(p), sink); count += sink.Count; }
            }
            cut = false;
        }
        for (int w = first; w < last; w++)
        {
            if (cut && ctx.Count >= trunc!.MaxLength) break;
            var p = list.Pieces[w];
            int word = w - first;
            if (p.TokenId >= 0)
            {
                ctx.Add(p.TokenId, new string(textBuf.Chars, p.Start, p.Length), textBuf.Starts[p.Start], textBuf.Ends[p.Start + p.Length - 1], word);
                continue;
            }
            sink.Clear();
            Model.Tokenize(list.SpanOf(p), sink);
            for (int k = 0; k < sink.Count; k++)
            {
                int a = sink.Starts[k], b = sink.Ends[k];
                int os, oe;
                if (b > a) { os = textBuf.Starts[p.Start + a]; oe = textBuf.Ends[p.Start + b - 1]; }
                else { os = textBuf.Starts[p.Start] + a; oe = textBuf.Starts[p.Start] + b; }
                int id = sink.Ids[k];
                ctx.Add(id, sink.Values[k] ?? Model.IdToToken(id) ?? "", os, oe, word);
            }
        }

        int n = ctx.Count;
        var words = new int?[n];
        var seq = new int?[n];
        var typeIds = new int[n];
        var attention = new int[n];
        for (int i = 0; i < n; i++) { words[i] = ctx.Words[i]; seq[i] = typeId; typeIds[i] = typeId; attention[i] = 1; }
        return new Encoding(ctx.Ids[..n], ctx.Tokens[..n], ctx.Offsets[..n], typeIds, attention, new int[n], words, seq) { Source = text };
    }

    /// <summary>Lone surrogates cannot be tokenized (they are not Unicode scalar values): fail clearly instead.</summary>
    private static void ValidateUtf16(string text)
    {
        int firstSurrogate = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (firstSurrogate < 0) return;
        for (int i = firstSurrogate; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            throw new ArgumentException($"Text contains a lone surrogate U+{(int)c:X4} at index {i}; tokenizers need valid UTF-16 (well-formed Unicode).", nameof(text));
        }
    }
}
