namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>Which ONNX file of a model folder to load, and how to run it.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>
    /// The ONNX file to load, e.g. "model_fp16.onnx" or "onnx/decoder_model.onnx" (".onnx" may be left off).
    /// A bare name is looked for in the folder's <c>onnx/</c> subfolder (Transformers.js layout), then beside
    /// config.json (Optimum layout). Overrides <see cref="Dtype"/> and <see cref="Quantized"/>.
    /// </summary>
    public string? FileName { get; init; }

    /// <summary>Load <c>model_quantized.onnx</c> (Transformers.js' int8 export) instead of <c>model.onnx</c>.</summary>
    public bool Quantized { get; init; }

    /// <summary>
    /// A Transformers.js <c>dtype</c> ("fp32", "fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4", ...): loads
    /// <c>model{suffix}.onnx</c> with that library's suffix (q8 -> "_quantized"). Overrides <see cref="Quantized"/>.
    /// </summary>
    public string? Dtype { get; init; }

    // Transformers.js utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING.
    internal static readonly IReadOnlyDictionary<string, string> DtypeSuffixes = new Dictionary<string, string>
    {
        ["fp32"] = "", ["fp16"] = "_fp16", ["int8"] = "_int8", ["uint8"] = "_uint8", ["q8"] = "_quantized",
        ["q4"] = "_q4", ["q2"] = "_q2", ["q1"] = "_q1", ["q4f16"] = "_q4f16", ["q2f16"] = "_q2f16", ["q1f16"] = "_q1f16",
        ["bnb4"] = "_bnb4",
    };

    internal string ModelFileName()
    {
        if (FileName is not null) return FileName;
        if (Dtype is null) return Quantized ? "model_quantized.onnx" : "model.onnx";
        return DtypeSuffixes.TryGetValue(Dtype, out string? suffix) ? $"model{suffix}.onnx" : throw new ArgumentException(
            $"Unknown dtype '{Dtype}'; expected one of: {string.Join(", ", DtypeSuffixes.Keys)}.", nameof(Dtype));
    }

    public OnnxSessionOptions Session { get; init; } = OnnxSessionOptions.Default;
}
