using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>How <see cref="Pipelines.Create"/> opens the model, and the pipeline's construction-time parameters.</summary>
public sealed record PipelineOptions
{
    /// <summary>null: libtorch when the folder has model.safetensors, else ONNX Runtime (onnx/model.onnx).</summary>
    public Engine? Engine { get; init; }
    /// <summary>libtorch device: "cpu" (default), "cuda", "cuda:N", as Hugging Face's pipeline(device=...).</summary>
    public string? Device { get; init; }
    /// <summary>libtorch weights' dtype (Hugging Face's torch_dtype: "float32" by default, "float16", "bfloat16", "auto").</summary>
    public string? TorchDtype { get; init; }
    /// <summary>Which ONNX file and session settings (threads, optimization level) when ONNX Runtime runs the model.</summary>
    public OnnxModelOptions? Onnx { get; init; }
    /// <summary>Parameters every call starts from (top_k, batch_size, ...); call-time parameters win.</summary>
    public PipelineParameters? Parameters { get; init; }
}
