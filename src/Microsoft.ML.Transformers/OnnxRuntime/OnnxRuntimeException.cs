namespace Microsoft.ML.Transformers.OnnxRuntime;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in onnxruntime_c_api.h).</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
}

/// <summary>An error reported by ONNX Runtime (its code and message), or by our wrapper before calling it.</summary>
public sealed class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(OrtErrorCode code, string message, Exception? inner = null)
        : base($"[ONNX Runtime {code}] {message}", inner)
    {
        Code = code;
        RuntimeMessage = message;
    }

    /// <summary>The error code ONNX Runtime returned.</summary>
    public OrtErrorCode Code { get; }

    /// <summary>The message without the code prefix.</summary>
    public string RuntimeMessage { get; }
}
