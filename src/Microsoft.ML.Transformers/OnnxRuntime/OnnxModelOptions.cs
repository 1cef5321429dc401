namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>Which ONNX file of a model folder to load, and how to run it.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>
    /// The ONNX file to load, e.g. "model_fp16.onnx" or "onnx/decoder_model.onnx" (".onnx" may be left off).
    /// A bare name is looked for in the folder's <c>onnx/</c> subfolder (Transformers.js layout), then beside
    /// config.json (Optimum layout). Overrides <see cref="Quantized"/>.
    /// </summary>
    public string? FileName { get; init; }

    /// <summary>Load <c>model_quantized.onnx</c> (Transformers.js' int8 export) instead of <c>model.onnx</c>.</summary>
    public bool Quantized { get; init; }

    public OnnxSessionOptions Session { get; init; } = OnnxSessionOptions.Default;
}
