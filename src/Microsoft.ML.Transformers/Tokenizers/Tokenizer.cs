using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// A tokenizer read from tokenizer.json: added tokens, normalizer, pre-tokenizer, model, post-processor and
/// decoder, behaving as Hugging Face's Rust <c>tokenizers</c>. Thread-safe for encoding and decoding.
/// </summary>
public sealed partial class Tokenizer
{
    public Normalizer? Normalizer { get; }
    public PreTokenizer? PreTokenizer { get; }
    public TokenizerModel Model { get; }
    public PostProcessor? PostProcessor { get; }
    public Decoder? Decoder { get; }
    public IReadOnlyList<AddedToken> AddedTokens => _added.Tokens;
    /// <summary>Default truncation for Encode / EncodeBatch (from the file, or set here); null disables it.</summary>
    public TruncationOptions? Truncation { get; set; }
    /// <summary>Default padding for Encode / EncodeBatch (from the file, or set here); null disables it.</summary>
    public PaddingOptions? Padding { get; set; }
    /// <summary>tokenizer_config.json values (model_max_length, special tokens) when the file was present.</summary>
    public TokenizerConfig Config { get; }

    private readonly AddedVocabulary _added;
    internal JsonObject Json { get; }

    internal Tokenizer(TokenizerModel model, Normalizer? normalizer, PreTokenizer? preTokenizer, PostProcessor? postProcessor, Decoder? decoder,
        IReadOnlyList<AddedToken> addedTokens, TruncationOptions? truncation, PaddingOptions? padding, JsonObject json, TokenizerConfig? config)
    {
        Model = model; Normalizer = normalizer; PreTokenizer = preTokenizer; PostProcessor = postProcessor; Decoder = decoder;
        _added = new AddedVocabulary(AssignIds(model, addedTokens), normalizer);
        Truncation = truncation; Padding = padding; Json = json;
        Config = config ?? new TokenizerConfig(null, null);
    }

    /// <summary>
    /// Ids as Hugging Face's AddedVocabulary gives them when reading added_tokens (the file's ids are not used): the
    /// model's id when the content is in its vocabulary, else the next id after the vocabulary and earlier added tokens.
    /// </summary>
    private static List<AddedToken> AssignIds(TokenizerModel model, IReadOnlyList<AddedToken> tokens)
    {
        var result = new List<AddedToken>(tokens.Count);
        var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
        int vocabSize = model.VocabSize;
        int maxAdded = -1;
        foreach (var t in tokens)
        {
            if (!byContent.TryGetValue(t.Content, out int id))
            {
                if (model.TokenToId(t.Content) is int mid) id = mid;
                else id = maxAdded < 0 ? vocabSize : (maxAdded >= vocabSize || vocabSize == 0 ? maxAdded + 1 : vocabSize);
            }
            byContent[t.Content] = id;
            maxAdded = Math.Max(maxAdded, id);
            result.Add(id == t.Id ? t : t with { Id = id });
        }
        return result;
    }

    // ---- vocabulary ----

    public int? TokenToId(string token) => _added.ContentToId.TryGetValue(token, out int id) ? id : Model.TokenToId(token);
    public string? IdToToken(int id) => _added.IdToToken.TryGetValue(id, out var t) ? t.Content : Model.IdToToken(id);
    /// <summary>Model vocabulary plus added tokens that are not in it.</summary>
    public int VocabSize => Model.VocabSize + _added.Tokens.Count(t => Model.IdToToken(t.Id) == null);
    public bool IsSpecialId(int id) => _added.SpecialIds.Contains(id);

    public string? UnkToken => Config.Get("unk_token") ?? (Model switch { WordPieceModel w => w.UnkToken, BpeModel b => b.UnkToken, WordLevelModel l => l.UnkToken, UnigramModel u when u.UnkId is int i => u.IdToToken(i), _ => null });
    public string? ClsToken => Config.Get("cls_token") ?? FirstExisting("[CLS]", "<s>");
    public string? SepToken => Config.Get("sep_token") ?? FirstExisting("[SEP]", "</s>");
    public string? PadToken => Config.Get("pad_token") ?? Padding?.PadToken ?? FirstExisting("[PAD]", "<pad>");
    public string? MaskToken => Config.Get("mask_token") ?? FirstExisting("[MASK]", "<mask>");
    public string? BosToken => Config.Get("bos_token") ?? FirstExisting("<s>", "<|startoftext|>", "<|endoftext|>");
    public string? EosToken => Config.Get("eos_token") ?? FirstExisting("</s>", "<|endoftext|>");
    public int? UnkTokenId => Id(UnkToken);
    public int? ClsTokenId => Id(ClsToken);
    public int? SepTokenId => Id(SepToken);
    public int? PadTokenId => Id(PadToken);
    public int? MaskTokenId => Id(MaskToken);
    public int? BosTokenId => Id(BosToken);
    public int? EosTokenId => Id(EosToken);
    /// <summary>tokenizer_config.json's model_max_length (absent or the "very large" sentinel gives null).</summary>
    public int? ModelMaxLength => Config.ModelMaxLength;

    private int? Id(string? token) => token == null ? null : TokenToId(token);
    private string? FirstExisting(params string[] candidates) => candidates.FirstOrDefault(c => TokenToId(c) != null);

    // ---- decoding ----

    /// <summary>
    /// Ids back to text, as Hugging Face's <c>decode</c>. <paramref name="cleanUpTokenizationSpaces"/> additionally applies
    /// the transformers-level English cleanup (" ." to "." ...), which the Rust library itself does not.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool cleanUpTokenizationSpaces = false)
    {
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            string? t = _added.DecodeForm.TryGetValue(id, out var form) ? form : Model.IdToToken(id);
            if (t == null) continue;
            if (skipSpecialTokens && _added.SpecialContents.Contains(t)) continue;
            tokens.Add(t);
        }
        string text = Decoder != null ? string.Concat(Decoder.DecodeChain(tokens)) : string.Join(" ", tokens);
        return cleanUpTokenizationSpaces ? CleanUpTokenization(text) : text;
    }

    /// <summary>
    /// transformers' <c>clean_up_tokenization</c> (tokenization_utils_base.py): drops the space before . ? ! , and English
    /// contractions. Plain substring rules, as in Python (so " 's" is rewritten inside a word too).
    /// </summary>
    public static string CleanUpTokenization(string text) => text.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!")
        .Replace(" ,", ",").Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");

    public IReadOnlyList<string> DecodeBatch(IReadOnlyList<IReadOnlyList<int>> batch, bool skipSpecialTokens = false, bool cleanUpTokenizationSpaces = false)
    {
        var r = new string[batch.Count];
        Parallel.For(0, batch.Count, i => r[i] = Decode(batch[i], skipSpecialTokens, cleanUpTokenizationSpaces));
        return r;
    }
}
