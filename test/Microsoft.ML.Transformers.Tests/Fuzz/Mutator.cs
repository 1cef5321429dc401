using System.Text;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Tests.Fuzz;

/// <summary>
/// Seeded mutations of file contents: byte-level (bit flips, interesting bytes, insertions, deletions, duplications,
/// truncation, splices from another input) and JSON-aware (a value replaced by an extreme or ill-typed one, a key
/// removed, renamed or repeated, deep nesting, huge strings). The same seed gives the same mutation.
/// </summary>
internal sealed class Mutator(Random random)
{
    private readonly Random _r = random;

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFE, 0xFF,
        (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'-', (byte)'0', (byte)'9', (byte)'e'];

    private static readonly string[] InterestingNumbers = ["-1", "0", "1", "2", "-0", "2147483647", "2147483648", "-2147483649",
        "4294967296", "9007199254740993", "18446744073709551616", "1e308", "-1e308", "1e309", "1e-320", "0.5", "-7.25", "1E5", "100000000"];

    public T Pick<T>(IReadOnlyList<T> items) => items[_r.Next(items.Count)];

    /// <summary>1 to 4 byte-level mutations.</summary>
    public byte[] MutateBytes(byte[] input, byte[]? other = null, int focusEnd = -1)
    {
        var b = new List<byte>(input);
        int n = 1 + _r.Next(4);
        int Pos(bool insert = false)
        {
            int end = focusEnd > 0 && _r.Next(4) != 0 ? Math.Min(focusEnd, b.Count) : b.Count;
            return end == 0 ? 0 : _r.Next(insert ? end + 1 : end);
        }
        for (int k = 0; k < n; k++)
        {
            if (b.Count == 0) { b.Add(Pick(InterestingBytes)); continue; }
            switch (_r.Next(9))
            {
                case 0: { int p = Pos(); b[p] ^= (byte)(1 << _r.Next(8)); break; }
                case 1: { int p = Pos(); b[p] = Pick(InterestingBytes); break; }
                case 2: { int p = Pos(); b[p] = (byte)_r.Next(256); break; }
                case 3: { int p = Pos(true); int len = 1 + _r.Next(8); for (int i = 0; i < len; i++) b.Insert(p, Pick(InterestingBytes)); break; }
                case 4: { int p = Pos(); int len = Math.Min(b.Count - p, 1 + _r.Next(16)); b.RemoveRange(p, len); break; }
                case 5: { int p = Pos(); int len = Math.Min(b.Count - p, 1 + _r.Next(32)); b.InsertRange(Pos(true), b.GetRange(p, len)); break; }
                case 6:
                    if (_r.Next(3) == 0) { b.InsertRange(Pos(true), Enumerable.Repeat((byte)'[', 300 + _r.Next(300))); break; } // deep nesting
                    int cut = _r.Next(b.Count + 1); b.RemoveRange(cut, b.Count - cut); // truncation
                    break;
                case 7 when other is { Length: > 0 }:
                {
                    int p = _r.Next(other.Length); int len = Math.Min(other.Length - p, 1 + _r.Next(64));
                    b.InsertRange(Pos(true), other.AsSpan(p, len).ToArray());
                    break;
                }
                default: { int p = Pos(); var digits = Encoding.ASCII.GetBytes(Pick(InterestingNumbers)); b.InsertRange(p, digits); break; }
            }
        }
        return b.ToArray();
    }

    /// <summary>A JSON-aware mutation when the text parses (1 to 3 edits), else a byte-level one.</summary>
    public string MutateJson(string json, Func<JsonNode, bool>? skipChildrenOf = null)
    {
        if (_r.Next(4) == 0) return Encoding.UTF8.GetString(MutateBytes(Encoding.UTF8.GetBytes(json)));
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch { return Encoding.UTF8.GetString(MutateBytes(Encoding.UTF8.GetBytes(json))); }
        if (root == null) return json;
        int edits = 1 + _r.Next(3);
        string? textual = null;
        for (int k = 0; k < edits; k++)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes, skipChildrenOf);
            var node = Pick(nodes);
            if (node is JsonValue leaf && _r.Next(5) < 2)
            {
                // a value of the same kind: keeps the file readable more often, so later stages run
                var strings = nodes.OfType<JsonValue>().Where(v => v.GetValueKind() == System.Text.Json.JsonValueKind.String).ToList();
                JsonNode? same = leaf.GetValueKind() switch
                {
                    System.Text.Json.JsonValueKind.Number => JsonNode.Parse(Pick(InterestingNumbers)),
                    System.Text.Json.JsonValueKind.String when strings.Count > 0 && _r.Next(2) == 0 => Pick(strings).DeepClone(),
                    System.Text.Json.JsonValueKind.String => InterestingValue() is JsonValue sv && sv.GetValueKind() == System.Text.Json.JsonValueKind.String
                        ? sv : JsonValue.Create(leaf.GetValue<string>() + Pick(new[] { "x", "\u0301", "😀", " ", "", "[", "\\" })),
                    System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => JsonValue.Create(_r.Next(2) == 0),
                    _ => InterestingValue(),
                };
                Replace(node, same);
                continue;
            }
            switch (_r.Next(8))
            {
                case 0 or 1: Replace(node, InterestingValue()); break;
                case 2 when node.Parent is JsonObject po: po.Remove(node.GetPropertyName()); break;
                case 3 when node is JsonObject o:
                    o[Pick(Keys)] = InterestingValue();
                    break;
                case 4 when node.Parent is JsonObject po2:
                {
                    // a repeated key (only expressible as text)
                    string name = node.GetPropertyName();
                    string marker = "\"__dup_marker__\":0";
                    po2["__dup_marker__"] = 0;
                    textual = root.ToJsonString().Replace(marker, $"{System.Text.Json.JsonSerializer.Serialize(name)}:{InterestingValue()?.ToJsonString() ?? "null"}");
                    break;
                }
                case 5 when node is JsonArray a && a.Count > 0:
                    if (_r.Next(2) == 0) a.RemoveAt(_r.Next(a.Count)); else a.Add(a[_r.Next(a.Count)]?.DeepClone());
                    break;
                case 6 when node.Parent is JsonObject po3:
                {
                    string name = node.GetPropertyName();
                    var v = node.DeepClone();
                    po3.Remove(name);
                    po3[Pick(Keys)] = v;
                    break;
                }
                default: Replace(node, InterestingValue()); break;
            }
            if (textual != null) return textual;
        }
        return root.ToJsonString();
    }

    private static readonly string[] Keys = ["type", "model", "vocab", "merges", "unk_token", "pattern", "Regex", "String", "content",
        "normalizers", "pretokenizers", "decoders", "processors", "single", "pair", "special_tokens", "ids", "tokens", "id", "type_id",
        "Sequence", "SpecialToken", "truncation", "padding", "strategy", "Fixed", "max_length", "stride", "pad_to_multiple_of",
        "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback", "unk_id", "prefix", "suffix", "replacement", "behavior",
        "num_labels", "id2label", "label2id", "hidden_size", "num_attention_heads", "num_hidden_layers", "hidden_act", "vocab_size",
        "pad_token_id", "model_type", "dtype", "shape", "data_offsets", "__metadata__", "weight_map", "metadata", "added_tokens",
        // vision configs and the nested backbone_config of DETR and UperNet
        "backbone_config", "backbone", "use_timm_backbone", "use_pretrained_backbone", "backbone_kwargs", "out_features", "out_indices",
        "stage_names", "depths", "hidden_sizes", "embedding_size", "layer_type", "num_stages", "embed_dim", "num_heads", "window_size",
        "mlp_ratio", "image_size", "patch_size", "num_channels", "d_model", "encoder_layers", "decoder_layers", "encoder_ffn_dim",
        "num_queries", "dilation", "position_embedding_type", "pool_scales", "auxiliary_in_channels", "auxiliary_channels",
        "auxiliary_num_convs", "use_auxiliary_head"];

    private static void Collect(JsonNode node, List<JsonNode> into, Func<JsonNode, bool>? skipChildrenOf)
    {
        into.Add(node);
        if (skipChildrenOf != null && skipChildrenOf(node)) return;
        if (node is JsonObject o) foreach (var (_, v) in o) { if (v != null) Collect(v, into, skipChildrenOf); }
        else if (node is JsonArray a) foreach (var v in a) { if (v != null) Collect(v, into, skipChildrenOf); }
    }

    private static void Replace(JsonNode node, JsonNode? value)
    {
        switch (node.Parent)
        {
            case JsonObject o: o[node.GetPropertyName()] = value; break;
            case JsonArray a: a[node.GetElementIndex()] = value; break;
        }
    }

    public JsonNode? InterestingValue()
    {
        switch (_r.Next(12))
        {
            case 0: return null;
            case 1: return JsonNode.Parse(Pick(InterestingNumbers));
            case 2: return JsonNode.Parse(Pick(InterestingNumbers));
            case 3: return JsonValue.Create(_r.Next(2) == 0);
            case 4: return JsonValue.Create(Pick(new[] { "", "A", "B", "[UNK]", "<unk>", "gelu", "BPE", "WordPiece", "Unigram", "WordLevel",
                "Split", "Replace", "NFC", "NFKD", "ByteLevel", "Metaspace", "Sequence", "TemplateProcessing", "F32", "I64", "BF16", "bert",
                "roberta", "distilbert", "resnet", "convnext", "swin", "detr", "upernet", "stem", "stage1", "stage4", "basic", "bottleneck",
                "resnet18", "resnet50", "sine", "learned" }));
            case 5: return JsonValue.Create(new string('x', _r.Next(2) == 0 ? 100_000 : 1 + _r.Next(10)));
            case 6: return JsonValue.Create(Pick(new[] { "(a+)+$", "[", "\\p{Han}", "\\p{L}+|\\s+", "(?<=x)y", "\u0000", "a\uD800b", "😀", "\\", "\\k<x>" }));
            case 7: return new JsonObject();
            case 8: return new JsonArray();
            case 9:
            {
                // deep nesting
                JsonNode n = new JsonArray();
                int depth = _r.Next(2) == 0 ? 10 : 60; // (deeper nesting comes from the byte-level mutations)
                for (int i = 0; i < depth; i++) n = new JsonArray(n);
                return n;
            }
            case 10: return new JsonArray(JsonNode.Parse(Pick(InterestingNumbers)), JsonNode.Parse(Pick(InterestingNumbers)));
            default: return new JsonObject { [Pick(Keys)] = JsonNode.Parse(Pick(InterestingNumbers)) };
        }
    }
}
