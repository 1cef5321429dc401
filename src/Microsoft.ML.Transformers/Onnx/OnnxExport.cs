using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using Microsoft.ML.Transformers.Models.ConvNext;
using Microsoft.ML.Transformers.Models.DistilBert;
using Microsoft.ML.Transformers.Models.ResNet;
using Microsoft.ML.Transformers.Models.Swin;
using Microsoft.ML.Transformers.SafeTensors;

namespace Microsoft.ML.Transformers.Onnx;

/// <summary>Options for <see cref="OnnxExport.ExportOnnx"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Write ONNX Runtime's fused com.microsoft operators (Attention, or MultiHeadAttention after the quantized q/k/v
    /// projection; BiasGelu for erf / FastGelu for tanh GELU; EmbedLayerNormalization for BERT) where exact; residual + LayerNorm stays Add + LayerNormalization, faster than SkipLayerNormalization on ONNX Runtime's
    /// CPU). Such a graph runs only on ONNX Runtime; the default graph uses standard ONNX operators only.</summary>
    public bool Fuse { get; init; }

    /// <summary>With <see cref="Fuse"/>: write residual + LayerNorm as com.microsoft SkipLayerNormalization (LayerNorm(input +
    /// skip + bias), exact) instead of Add + LayerNormalization. For ONNX Runtime builds whose kernel for it is fast (CUDA);
    /// ONNX Runtime 1.31's float CPU kernel is ~3x slower than the two operators it replaces, hence off by default.</summary>
    public bool SkipLayerNormalization { get; init; }

    /// <summary>Also write <c>onnx/model_quantized.onnx</c> (Transformers.js' "q8"): every linear layer as dynamic int8
    /// (com.microsoft DynamicQuantizeMatMul, int8 weights with one scale per output column).</summary>
    public bool Quantize { get; init; }

    /// <summary>Initializer bytes above which the weights go to an external data file (<c>model.onnx_data</c>) beside the
    /// graph; protobuf cannot hold more than 2 GiB. Lower it to force external data.</summary>
    public long ExternalDataThreshold { get; init; } = 2_000_000_000;

    /// <summary>Folder to copy the tokenizer files (text models) and preprocessor_config.json (vision models) from; null:
    /// the folder the model was loaded from, if any.</summary>
    public string? TokenizerFolder { get; init; }

    /// <summary>Called with each graph file's (staged) path once it is written; tests inject failures midway here.</summary>
    internal Action<string>? GraphWritten { get; init; }
}

/// <summary>What <see cref="OnnxExport.ExportOnnx"/> wrote.</summary>
public sealed record OnnxExportResult(string Folder, string ModelPath, string? QuantizedModelPath, IReadOnlyList<string> InputNames,
    IReadOnlyList<string> OutputNames, IReadOnlyList<string> CopiedFiles);

/// <summary>
/// Writes a model as an ONNX graph of our own (opset 17), from its config and weights, in the Transformers.js /
/// Optimum layout: <c>{folder}/onnx/model.onnx</c> (and <c>model_quantized.onnx</c>), config.json and the tokenizer
/// files or preprocessor_config.json beside it. Text models: inputs input_ids, attention_mask and, for BERT,
/// token_type_ids (int64, dynamic batch_size and sequence_length); outputs last_hidden_state, logits, or start_logits and
/// end_logits, as Optimum names them. Vision models (ResNet, ConvNeXt, Swin): input pixel_values (see
/// <see cref="VisionOnnx"/>). The export is all-or-nothing for the folder (<see cref="AtomicFolder"/>): a failure
/// midway, or a killed process, leaves the folder as it was.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;

    private static readonly Dictionary<Type, Action<PreTrainedModel, EncoderOnnx>> s_writers = new();

    /// <summary>Tokenizer and image processor files Transformers.js and our pipelines read, copied when present.</summary>
    private static readonly string[] s_processorFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "added_tokens.json",
         "preprocessor_config.json"];

    /// <summary>What an export writes into onnx/: an earlier export's files of these names that this one does not write are removed.</summary>
    private static readonly string[] s_onnxFiles = ["model.onnx", "model.onnx_data", "model_quantized.onnx", "model_quantized.onnx_data"];

    static OnnxExport()
    {
        BertOnnx.Register();
        DistilBertOnnx.Register();
        ResNetOnnx.Register();
        ConvNextOnnx.Register();
        SwinOnnx.Register();
    }

    internal static void Register<TModel>(Action<TModel, EncoderOnnx> write) where TModel : PreTrainedModel
    {
        lock (s_writers) s_writers[typeof(TModel)] = (m, e) => write((TModel)m, e);
    }

    /// <summary>Whether <paramref name="model"/>'s class has an ONNX graph writer.</summary>
    public static bool Supports(PreTrainedModel model)
    {
        lock (s_writers) return s_writers.ContainsKey(model.GetType());
    }

    /// <summary>Exports <paramref name="model"/> (its current weights, as in eval mode) to <paramref name="folder"/>.</summary>
    public static OnnxExportResult ExportOnnx(this PreTrainedModel model, string folder, OnnxExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new OnnxExportOptions();
        Action<PreTrainedModel, EncoderOnnx>? write;
        lock (s_writers) s_writers.TryGetValue(model.GetType(), out write);
        if (write is null)
        {
            string known;
            lock (s_writers) known = string.Join(", ", s_writers.Keys.Select(k => k.Name).Order(StringComparer.Ordinal));
            throw new NotSupportedException($"ONNX export has no graph for {model.GetType().Name} (model_type \"{model.Config.ModelType}\"). Supported: {known}.");
        }
        string tokenizerFolder = options.TokenizerFolder ?? model.LoadingInfo?.Source ?? "";
        if (options.TokenizerFolder is not null && !Directory.Exists(options.TokenizerFolder))
            throw new DirectoryNotFoundException($"OnnxExportOptions.TokenizerFolder '{options.TokenizerFolder}' was not found.");

        using var lease = model.Use();
        using var save = AtomicFolder.Begin(folder);
        Directory.CreateDirectory(save.PathOf("onnx"));
        var (_, inputs, outputs) = WriteGraph(model, write, save.PathOf(Path.Combine("onnx", "model.onnx")), options, quantized: false);
        if (options.Quantize) WriteGraph(model, write, save.PathOf(Path.Combine("onnx", "model_quantized.onnx")), options, quantized: true);

        model.Config.SavePretrained(save.Staging);
        var copied = new List<string>();
        if (tokenizerFolder.Length > 0 && Directory.Exists(tokenizerFolder) && !SamePath(tokenizerFolder, folder))
        {
            foreach (var name in s_processorFiles)
            {
                string source = Path.Combine(tokenizerFolder, name);
                if (!File.Exists(source)) continue;
                File.Copy(source, save.PathOf(name));
                copied.Add(name);
            }
        }
        foreach (var name in s_onnxFiles) save.RemoveStale(Path.Combine("onnx", name));
        save.Commit();
        string onnxDir = Path.Combine(folder, "onnx");
        return new OnnxExportResult(folder, Path.Combine(onnxDir, "model.onnx"), options.Quantize ? Path.Combine(onnxDir, "model_quantized.onnx") : null,
            inputs, outputs, copied);
    }

    private static (string path, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs) WriteGraph(
        PreTrainedModel model, Action<PreTrainedModel, EncoderOnnx> write, string path, OnnxExportOptions options, bool quantized)
    {
        using var graph = new OnnxGraph();
        var encoder = new EncoderOnnx(model, graph, options.Fuse, quantized) { SkipLayerNorm = options.Fuse && options.SkipLayerNormalization };
        write(model, encoder);
        graph.Save(path, options.ExternalDataThreshold, new Dictionary<string, string>
        {
            ["model_type"] = model.Config.ModelType ?? "",
            ["architecture"] = model.GetType().Name,
            ["fused"] = !options.Fuse ? "false" : options.SkipLayerNormalization ? "true (SkipLayerNormalization)" : "true",
            ["quantized"] = quantized ? "dynamic int8 (DynamicQuantizeMatMul, per-column symmetric weights)" : "false",
        });
        options.GraphWritten?.Invoke(path);
        return (path, graph.InputNames, graph.OutputNames);
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
}
