namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>
/// ONNX Runtime could not open or run an <see cref="OnnxModel"/>. The message has ONNX Runtime's own message plus
/// what it lacks: the model file, and for a run the inputs that were fed (name, element type, shape).
/// <see cref="Exception.InnerException"/> is ONNX Runtime's <c>Microsoft.ML.OnnxRuntime.OnnxRuntimeException</c>
/// when it raised one.
/// </summary>
public sealed class OnnxModelException(string modelPath, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The ONNX file being opened or run.</summary>
    public string ModelPath { get; } = modelPath;
}
