using Microsoft.ML.Transformers.Modeling;
using static TorchSharp.torch;
using DataType = Microsoft.ML.Transformers.Onnx.OnnxFields.DataType;

namespace Microsoft.ML.Transformers.Onnx;

/// <summary>
/// Writes the layers of the encoder families (BERT, RoBERTa, DistilBERT; and the linear, norm, activation and attention
/// layers the vision models share with them, see <see cref="VisionOnnx"/>) into an <see cref="OnnxGraph"/>, reading the
/// weights (parameters and persistent buffers) by their checkpoint keys. Each layer has a portable form (standard ONNX opset 17 operators, the default) and,
/// with <see cref="OnnxExportOptions.Fuse"/>, ONNX Runtime's com.microsoft contrib operator where its semantics are
/// the model's (each method says which and why). With <see cref="Quantized"/>, linear layers are dynamic int8.
/// </summary>
internal sealed class EncoderOnnx
{
    private readonly Dictionary<string, Tensor> _weights;
    private readonly Dictionary<string, string> _initialized = new(StringComparer.Ordinal);
    private string? _additiveMask, _int32Mask;

    public EncoderOnnx(PreTrainedModel model, OnnxGraph graph, bool fuse, bool quantized)
    {
        Model = model;
        Graph = graph;
        Fuse = fuse;
        Quantized = quantized;
        _weights = new(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters()) _weights.TryAdd(name, p);
        // Persistent buffers are checkpoint tensors too: BatchNorm running statistics, Swin's relative position index.
        foreach (var (name, b) in model.named_buffers(include_nonpersistent: false)) _weights.TryAdd(name, b);
    }

    public PreTrainedModel Model { get; }
    public OnnxGraph Graph { get; }
    public bool Fuse { get; }
    public bool Quantized { get; }

    /// <summary>Residual + LayerNorm as com.microsoft SkipLayerNormalization (<see cref="OnnxExportOptions.SkipLayerNormalization"/>).</summary>
    public bool SkipLayerNorm { get; init; }

    /// <summary>The model's parameter under checkpoint key <paramref name="key"/>.</summary>
    public Tensor Weight(string key) => _weights.TryGetValue(key, out var t) ? t
        : throw new InvalidOperationException($"ONNX export of {Model.GetType().Name}: the model has no weight '{key}'.");

    public bool HasWeight(string key) => _weights.ContainsKey(key);

    /// <summary>The initializer holding weight <paramref name="key"/> (added once).</summary>
    public string Init(string key) => Cached(key, () => Weight(key));

    /// <summary>The initializer holding <paramref name="transform"/> of weight <paramref name="key"/>, named "{key}.{variant}" (added once).</summary>
    public string Init(string key, string variant, Func<Tensor, Tensor> transform) => Cached($"{key}.{variant}", () => transform(Weight(key)));

    private string Cached(string name, Func<Tensor> make)
    {
        if (_initialized.TryGetValue(name, out var existing)) return existing;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return _initialized[name] = Graph.Initializer(name, make());
    }

    // ---- inputs and masks ----

    public string InputIds() => Graph.Input(OnnxRuntime.OnnxModel.InputIds, DataType.Int64, "batch_size", "sequence_length");
    public string AttentionMaskInput() => Graph.Input(OnnxRuntime.OnnxModel.AttentionMask, DataType.Int64, "batch_size", "sequence_length");
    public string TokenTypeIdsInput() => Graph.Input(OnnxRuntime.OnnxModel.TokenTypeIds, DataType.Int64, "batch_size", "sequence_length");

    /// <summary>[1, S] positions 0..S-1 for the ids' sequence length.</summary>
    public string Positions(string inputIds)
    {
        var shape = Graph.Node("Shape", [inputIds]);
        var length = Graph.Node("Gather", [shape, Graph.Ints([1], scalar: true)], OnnxAttr.Int("axis", 0));
        var range = Graph.Node("Range", [Graph.Ints([0], scalar: true), length, Graph.Ints([1], scalar: true)]);
        return Graph.Node("Unsqueeze", [range, Graph.Ints([0])]);
    }

    /// <summary>Rows of an embedding table.</summary>
    public string Embed(string key, string ids) => Graph.Node("Gather", [Init(key), ids], OnnxAttr.Int("axis", 0));

    /// <summary>Hugging Face's extended mask: [B, S] 1/0 -> additive [B, 1, 1, S] of 0 or float32's lowest value (computed once).</summary>
    private string AdditiveMask(string mask)
    {
        if (_additiveMask is not null) return _additiveMask;
        var m = Graph.Node("Cast", [mask], OnnxAttr.Int("to", (long)DataType.Float));
        var inverted = Graph.Node("Sub", [Graph.Float(1f), m]);
        var additive = Graph.Node("Mul", [inverted, Graph.Float(float.MinValue)]);
        return _additiveMask = Graph.Node("Unsqueeze", [additive, Graph.Ints([1, 2])]);
    }

    /// <summary>The [B, S] mask as int32 1/0, the raw key-padding format the fused attention operators take (computed once).</summary>
    private string Int32Mask(string mask) =>
        _int32Mask ??= Graph.Node("Cast", [mask], OnnxAttr.Int("to", (long)DataType.Int32));

    // ---- layers ----

    /// <summary>LayerNormalization (opset 17) over the last axis, as torch.nn.LayerNorm.</summary>
    public string LayerNorm(string x, string prefix, double eps) =>
        Graph.Node("LayerNormalization", [x, Init(prefix + ".weight"), Init(prefix + ".bias")],
            OnnxAttr.Int("axis", -1), OnnxAttr.Float("epsilon", (float)eps));

    /// <summary>x W^T + b for the nn.Linear under <paramref name="prefix"/>.</summary>
    public string Linear(string x, string prefix)
    {
        var (y, bias) = LinearNoBias(x, prefix, foldBias: true);
        return bias is null ? y : Graph.Node("Add", [y, bias]);
    }

    /// <summary>
    /// x W^T of the nn.Linear under <paramref name="prefix"/>, and its bias when the caller adds it (inside a fused
    /// operator). Quantized: com.microsoft DynamicQuantizeMatMul — x quantized to uint8 per call (ONNX Runtime's
    /// DynamicQuantizeLinear: asymmetric, per tensor), W stored int8, symmetric, one scale per output column; the bias
    /// is added inside in float when <paramref name="foldBias"/>.
    /// </summary>
    public (string y, string? bias) LinearNoBias(string x, string prefix, bool foldBias = false, string? weightKey = null)
    {
        string wKey = weightKey ?? prefix + ".weight";
        string? bias = _weights.ContainsKey(prefix + ".bias") ? Init(prefix + ".bias") : null;
        if (Quantized)
        {
            var (q, scale, zero) = QuantizedWeight(wKey, () => Weight(wKey));
            var y = Graph.MsNode("DynamicQuantizeMatMul", [x, q, scale, zero, foldBias ? bias : null]);
            return (y, foldBias ? null : bias);
        }
        return (Graph.Node("MatMul", [x, Init(wKey, "T", t => t.t())]), bias);
    }

    /// <summary>Symmetric per-column int8 of an [out, in] weight, transposed to [in, out]: scale = max|w| / 127 per
    /// output column, zero point 0 (added once under <paramref name="name"/>).</summary>
    private (string q, string scale, string zero) QuantizedWeight(string name, Func<Tensor> weight)
    {
        if (_initialized.TryGetValue(name + ".quantized", out var q))
            return (q, _initialized[name + ".scale"], _initialized[name + ".zero_point"]);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var wt = weight().t().to(ScalarType.Float32); // [in, out]
        var scale = wt.abs().amax([0]).div(127.0).clamp_min(1e-12);
        var quantized = wt.div(scale).round().clamp(-127, 127).to(ScalarType.Int8);
        _initialized[name + ".quantized"] = Graph.Initializer(name + ".quantized", quantized);
        _initialized[name + ".scale"] = Graph.Initializer(name + ".scale", scale);
        _initialized[name + ".zero_point"] = Graph.Initializer(name + ".zero_point", zeros(scale.shape[0], ScalarType.Int8));
        return QuantizedWeight(name, weight);
    }

    /// <summary>
    /// LayerNorm(x + bias + residual) as Add, Add and LayerNormalization (opset 17), fused or not. com.microsoft
    /// SkipLayerNormalization computes the same, but ONNX Runtime's CPU kernel for it (1.31, float) is a scalar loop:
    /// its 24 nodes took 13-15 ms of a BERT-base batch-1 run at seq 128 on one thread where Add + LayerNormalization took
    /// ~5 ms (test/benchmarks/run.sh onnx-export). ONNX Runtime's SkipLayerNormFusion would rebuild it from this pattern on
    /// the CPU; <see cref="OnnxRuntime.OnnxModel"/> turns that fusion off there, and on CUDA it still fuses. With
    /// <see cref="SkipLayerNorm"/> the export writes SkipLayerNormalization(input = x, skip = residual, gamma, beta, bias)
    /// itself: exactly LayerNorm(input + skip + bias) over the last axis with the layer's epsilon.
    /// </summary>
    public string AddLayerNorm(string x, string? bias, string residual, string normPrefix, double eps)
    {
        if (SkipLayerNorm)
            return Graph.NodeN("SkipLayerNormalization", [x, residual, Init(normPrefix + ".weight"), Init(normPrefix + ".bias"), bias], 1,
                OnnxGraph.MicrosoftDomain, OnnxAttr.Float("epsilon", (float)eps))[0];
        var sum = bias is null ? x : Graph.Node("Add", [x, bias]);
        return LayerNorm(Graph.Node("Add", [sum, residual]), normPrefix, eps);
    }

    /// <summary>An nn.Linear followed by Hugging Face's activation <paramref name="act"/> (config hidden_act / activation).</summary>
    public string LinearActivation(string x, string prefix, string act, string configKey)
    {
        var (y, bias) = LinearNoBias(x, prefix);
        return Activation(y, bias, act, configKey);
    }

    /// <summary>
    /// act(x + bias). "gelu" is the exact erf form: fused as com.microsoft BiasGelu (erf, like torch's gelu), never
    /// FastGelu. "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast" are the tanh approximation: fused as com.microsoft
    /// FastGelu (the same tanh formula). Unfused, both are written out with Erf / Tanh.
    /// </summary>
    public string Activation(string x, string? bias, string act, string configKey)
    {
        bool erf = act == "gelu", tanhGelu = act is "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast";
        if (Fuse && bias is not null && erf) return Graph.MsNode("BiasGelu", [x, bias]);
        if (Fuse && tanhGelu) return Graph.MsNode("FastGelu", [x, bias]);
        if (bias is not null) x = Graph.Node("Add", [x, bias]);
        if (erf)
        {
            var e = Graph.Node("Erf", [Graph.Node("Div", [x, Graph.Float(MathF.Sqrt(2f))])]);
            return Graph.Node("Mul", [Graph.Node("Mul", [x, Graph.Float(0.5f)]), Graph.Node("Add", [e, Graph.Float(1f)])]);
        }
        if (tanhGelu)
        {
            var cube = Graph.Node("Mul", [Graph.Node("Mul", [x, x]), x]);
            var inner = Graph.Node("Mul", [Graph.Node("Add", [x, Graph.Node("Mul", [cube, Graph.Float(0.044715f)])]), Graph.Float(MathF.Sqrt(2f / MathF.PI))]);
            return Graph.Node("Mul", [Graph.Node("Mul", [x, Graph.Float(0.5f)]), Graph.Node("Add", [Graph.Node("Tanh", [inner]), Graph.Float(1f)])]);
        }
        return act switch
        {
            "relu" => Graph.Node("Relu", [x]),
            "tanh" => Graph.Node("Tanh", [x]),
            "sigmoid" => Graph.Node("Sigmoid", [x]),
            "silu" or "swish" => Graph.Node("Mul", [x, Graph.Node("Sigmoid", [x])]),
            _ => throw new NotSupportedException($"config.json: {configKey} \"{act}\" has no ONNX export; supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, tanh, sigmoid, silu."),
        };
    }

    /// <summary>
    /// Multi-head self-attention of x [B, S, H] with the q/k/v nn.Linear layers under <paramref name="qkv"/> and the
    /// [B, S] 1/0 <paramref name="mask"/>; returns the context [B, S, H] before the output projection.
    /// <list type="bullet">
    /// <item>Portable: one MatMul over the concatenated q/k/v weights, Split, softmax(q k^T / sqrt(d) + additive mask) v,
    /// with Hugging Face's additive mask (0 or float32's lowest value).</item>
    /// <item>Fused: com.microsoft Attention(input, weights [H, 3H], bias [3H], mask_index) with mask_index the raw 2-D
    /// [B, S] int32 key-padding mask (1 attend, 0 masked); it adds mask_filter_value (-10000) to masked scores instead of
    /// float32's lowest: after softmax both are exactly 0 whenever a row's kept scores are within ~9,900 of each other.</item>
    /// <item>Fused + quantized: the q/k/v projection is one DynamicQuantizeMatMul, then com.microsoft
    /// MultiHeadAttention(q, k, v, key_padding_mask) with the same raw 2-D int32 mask.</item>
    /// </list>
    /// </summary>
    public string SelfAttention(string x, string[] qkv, long heads, long hidden, string mask)
    {
        if (Fuse && !Quantized)
        {
            string weights = Init(qkv[0] + ".weight", "qkvT", _ => QkvWeights(qkv).t());
            return Graph.MsNode("Attention", [x, weights, QkvBias(qkv)!, Int32Mask(mask)], OnnxAttr.Int("num_heads", heads));
        }
        var parts = ProjectQkv(x, qkv);
        if (Fuse)
            return Graph.MsNode("MultiHeadAttention", [parts[0], parts[1], parts[2], null, Int32Mask(mask)], OnnxAttr.Int("num_heads", heads));
        return ScaledDotProduct(parts, heads, hidden, scores => Graph.Node("Add", [scores, AdditiveMask(mask)]));
    }

    /// <summary>
    /// Portable multi-head self-attention of x [N, S, H] whose scores [N, heads, S, S] go through
    /// <paramref name="biasScores"/> before the softmax (a relative position bias, a window mask): the attention of
    /// vision transformers, which have no fused ONNX Runtime operator with these semantics. Returns [N, S, H].
    /// </summary>
    public string BiasedSelfAttention(string x, string[] qkv, long heads, long hidden, Func<string, string> biasScores) =>
        ScaledDotProduct(ProjectQkv(x, qkv), heads, hidden, biasScores);

    private Tensor QkvWeights(string[] qkv) => cat(qkv.Select(p => Weight(p + ".weight")).ToArray(), 0);

    /// <summary>The concatenated q/k/v biases (null when the projections have none).</summary>
    private string? QkvBias(string[] qkv) => HasWeight(qkv[0] + ".bias")
        ? Init(qkv[0] + ".bias", "qkv", _ => cat(qkv.Select(p => Weight(p + ".bias")).ToArray(), 0))
        : null;

    /// <summary>One MatMul (or DynamicQuantizeMatMul) over the concatenated q/k/v weights, split into q, k, v.</summary>
    private string[] ProjectQkv(string x, string[] qkv)
    {
        string? bias = QkvBias(qkv);
        string projected;
        if (Quantized)
        {
            var (q, scale, zero) = QuantizedWeight(qkv[0] + ".weight.qkv", () => QkvWeights(qkv));
            projected = Graph.MsNode("DynamicQuantizeMatMul", [x, q, scale, zero, bias]);
        }
        else
        {
            projected = Graph.Node("MatMul", [x, Init(qkv[0] + ".weight", "qkvT", _ => QkvWeights(qkv).t())]);
            if (bias is not null) projected = Graph.Node("Add", [projected, bias]);
        }
        return Graph.NodeN("Split", [projected], 3, null, OnnxAttr.Int("axis", -1));
    }

    /// <summary>softmax(biasScores(q k^T / sqrt(d))) v over heads, back to [N, S, H].</summary>
    private string ScaledDotProduct(string[] qkv, long heads, long hidden, Func<string, string> biasScores)
    {
        long headDim = hidden / heads;
        string Heads(string t) => Graph.Node("Reshape", [t, Graph.Ints([0, 0, heads, headDim])]);
        var qh = Graph.Node("Transpose", [Heads(qkv[0])], OnnxAttr.Ints("perm", 0, 2, 1, 3));
        var kh = Graph.Node("Transpose", [Heads(qkv[1])], OnnxAttr.Ints("perm", 0, 2, 3, 1));
        var vh = Graph.Node("Transpose", [Heads(qkv[2])], OnnxAttr.Ints("perm", 0, 2, 1, 3));
        var scores = Graph.Node("Div", [Graph.Node("MatMul", [qh, kh]), Graph.Float(MathF.Sqrt(headDim))]);
        var probs = Graph.Node("Softmax", [biasScores(scores)], OnnxAttr.Int("axis", -1));
        var context = Graph.Node("Transpose", [Graph.Node("MatMul", [probs, vh])], OnnxAttr.Ints("perm", 0, 2, 1, 3));
        return Graph.Node("Reshape", [context, Graph.Ints([0, 0, hidden])]);
    }

    /// <summary>hidden[:, 0] ([B, S, H] -> [B, H]).</summary>
    public string FirstToken(string hidden) => Graph.Node("Gather", [hidden, Graph.Ints([0], scalar: true)], OnnxAttr.Int("axis", 1));

    // ---- outputs, named as Optimum / Transformers.js name them ----

    public void LastHiddenState(string hidden, long size) => Graph.Output(hidden, "last_hidden_state", DataType.Float, "batch_size", "sequence_length", size);
    public void SequenceLogits(string logits, long labels) => Graph.Output(logits, "logits", DataType.Float, "batch_size", labels);
    public void TokenLogits(string logits, long labels) => Graph.Output(logits, "logits", DataType.Float, "batch_size", "sequence_length", labels);

    /// <summary>[B, S, 2] -> start_logits, end_logits [B, S].</summary>
    public void SpanLogits(string logits)
    {
        var parts = Graph.NodeN("Split", [logits], 2, null, OnnxAttr.Int("axis", -1));
        Graph.Output(Graph.Node("Squeeze", [parts[0], Graph.Ints([-1])]), "start_logits", DataType.Float, "batch_size", "sequence_length");
        Graph.Output(Graph.Node("Squeeze", [parts[1], Graph.Ints([-1])]), "end_logits", DataType.Float, "batch_size", "sequence_length");
    }
}
