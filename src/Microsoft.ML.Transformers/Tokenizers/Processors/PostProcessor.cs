namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>A post-processor from tokenizer.json's <c>post_processor</c>: adds special tokens, sets type ids.</summary>
public abstract class PostProcessor
{
    /// <summary>How many special tokens are added for a single text or a pair.</summary>
    public abstract int AddedTokens(bool isPair);

    /// <summary>Returns the parts that are concatenated into the final encoding.</summary>
    internal abstract List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens);

    internal Encoding Process(Encoding a, Encoding? b, bool addSpecialTokens)
    {
        var list = b == null ? new List<Encoding> { a } : new List<Encoding> { a, b };
        return Encoding.MergeAll(ProcessEncodings(list, addSpecialTokens));
    }

    /// <summary>Hugging Face's byte-level <c>process_offsets</c>: offsets exclude leading/trailing spaces of a token.</summary>
    internal static void TrimOffsets(Encoding e, bool addPrefixSpace)
    {
        for (int i = 0; i < e.Length; i++)
        {
            string tok = e.Tokens[i];
            int lead = 0;
            while (lead < tok.Length && (tok[lead] == '\u0120' || UnicodeInfo.IsWhitespace(tok[lead]))) lead++;
            int trail = 0;
            while (trail < tok.Length && (tok[tok.Length - 1 - trail] == '\u0120' || UnicodeInfo.IsWhitespace(tok[tok.Length - 1 - trail]))) trail++;
            if (lead == 0 && trail == 0) continue;
            var (s, en) = e.Offsets[i];
            if (lead > 0)
            {
                bool isFirst = i == 0 || s == 0;
                if (isFirst && addPrefixSpace && lead == 1) lead = 0;
                s = Math.Min(s + lead, en);
                // Rust trims bytes: one byte into a 4-byte character rounds to the character's end when converted
                if (e.Source is string src && s > 0 && s < src.Length && char.IsLowSurrogate(src[s]) && char.IsHighSurrogate(src[s - 1]))
                    s = Math.Min(s + 1, Math.Max(en, s + 1));
            }
            if (trail > 0 && en >= trail) en = Math.Max(en - trail, s);
            e.Offsets[i] = (s, en);
        }
    }
}

public enum TemplateSequence { A, B }

/// <summary>One element of a template: a sequence or a special token, with its type id.</summary>
public sealed record TemplatePiece(bool IsSpecial, TemplateSequence Sequence, string SpecialId, int TypeId);

/// <summary>Hugging Face's TemplateProcessing (also used for BertProcessing).</summary>
public sealed class TemplateProcessor(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece> pair,
    IReadOnlyDictionary<string, (int[] Ids, string[] Tokens)> specialTokens) : PostProcessor
{
    public IReadOnlyList<TemplatePiece> Single { get; } = single;
    public IReadOnlyList<TemplatePiece> Pair { get; } = pair;
    public IReadOnlyDictionary<string, (int[] Ids, string[] Tokens)> SpecialTokens { get; } = specialTokens;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int), Encoding> _specialParts = new();
    private int _addedSingle = -1, _addedPair = -1;

    private Encoding SpecialPart(TemplatePiece p) => _specialParts.GetOrAdd((p.SpecialId, p.TypeId),
        k => Encoding.Special(SpecialTokens[k.Item1].Ids, SpecialTokens[k.Item1].Tokens, k.Item2));

    public override int AddedTokens(bool isPair)
    {
        ref int cached = ref isPair ? ref _addedPair : ref _addedSingle;
        if (cached < 0) cached = (isPair ? Pair : Single).Where(p => p.IsSpecial).Sum(p => SpecialTokens[p.SpecialId].Ids.Length);
        return cached;
    }

    internal override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        var template = encodings.Count == 2 ? Pair : Single;
        var parts = new List<Encoding>();
        foreach (var p in template)
        {
            if (p.IsSpecial)
            {
                if (!addSpecialTokens) continue;
                parts.Add(SpecialPart(p)); // shared: merging only reads it
            }
            else
            {
                int i = p.Sequence == TemplateSequence.A ? 0 : 1;
                var e = encodings[i];
                e.SetTypeIds(p.TypeId); // the main window only, as in Hugging Face
                parts.Add(e.Overflowing.Count == 0 ? e : e.Clone());
            }
        }
        return parts;
    }

    public static TemplateProcessor Bert((string Token, int Id) sep, (string Token, int Id) cls)
    {
        var st = new Dictionary<string, (int[], string[])> { [cls.Token] = ([cls.Id], [cls.Token]), [sep.Token] = ([sep.Id], [sep.Token]) };
        return new TemplateProcessor(
            [new(true, default, cls.Token, 0), new(false, TemplateSequence.A, "", 0), new(true, default, sep.Token, 0)],
            [new(true, default, cls.Token, 0), new(false, TemplateSequence.A, "", 0), new(true, default, sep.Token, 0),
             new(false, TemplateSequence.B, "", 1), new(true, default, sep.Token, 1)], st);
    }
}

/// <summary>RoBERTa: &lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;, type ids all 0, byte-level offset trimming.</summary>
public sealed class RobertaProcessor((string Token, int Id) sep, (string Token, int Id) cls, bool trimOffsets, bool addPrefixSpace) : PostProcessor
{
    public (string Token, int Id) Sep { get; } = sep;
    public (string Token, int Id) Cls { get; } = cls;
    public bool TrimOffsetsEnabled { get; } = trimOffsets;
    public bool AddPrefixSpace { get; } = addPrefixSpace;

    public override int AddedTokens(bool isPair) => isPair ? 4 : 2;

    internal override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        foreach (var e in encodings)
        {
            if (TrimOffsetsEnabled)
            {
                TrimOffsets(e, AddPrefixSpace);
                foreach (var o in e.Overflowing) TrimOffsets(o, AddPrefixSpace);
            }
            e.SetTypeIds(0);
            foreach (var o in e.Overflowing) o.SetTypeIds(0);
        }
        if (!addSpecialTokens) return encodings;
        var result = new List<Encoding>();
        for (int i = 0; i < encodings.Count; i++)
        {
            var e = encodings[i];
            var first = i == 0 ? Cls : Sep;
            var wrapped = Wrap(e, first);
            wrapped.Overflowing = e.Overflowing.Select(o => Wrap(o, first)).ToList();
            result.Add(wrapped);
        }
        return result;
    }

    private Encoding? _cls, _sep;

    private Encoding Wrap(Encoding e, (string Token, int Id) first)
    {
        // special parts are shared: merging only reads them
        var head = first == Cls ? (_cls ??= Encoding.Special([Cls.Id], [Cls.Token], 0)) : (_sep ??= Encoding.Special([Sep.Id], [Sep.Token], 0));
        var tail = _sep ??= Encoding.Special([Sep.Id], [Sep.Token], 0);
        var body = new Encoding(e.Ids, e.Tokens, e.Offsets, e.TypeIds, e.AttentionMask, e.SpecialTokensMask, e.WordIds, e.SequenceIds);
        return Encoding.MergeAll([head, body, tail]);
    }
}

/// <summary>GPT-2 style: only trims byte-level offsets.</summary>
public sealed class ByteLevelProcessor(bool trimOffsets, bool addPrefixSpace) : PostProcessor
{
    public bool TrimOffsetsEnabled { get; } = trimOffsets;
    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public override int AddedTokens(bool isPair) => 0;

    internal override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        if (TrimOffsetsEnabled)
            foreach (var e in encodings)
            {
                TrimOffsets(e, AddPrefixSpace);
                foreach (var o in e.Overflowing) TrimOffsets(o, AddPrefixSpace);
            }
        return encodings;
    }
}

public sealed class SequenceProcessor(IReadOnlyList<PostProcessor> processors) : PostProcessor
{
    public IReadOnlyList<PostProcessor> Processors { get; } = processors;
    public override int AddedTokens(bool isPair) => Processors.Sum(p => p.AddedTokens(isPair));
    internal override List<Encoding> ProcessEncodings(List<Encoding> encodings, bool addSpecialTokens)
    {
        foreach (var p in Processors) encodings = p.ProcessEncodings(encodings, addSpecialTokens);
        return encodings;
    }
}
