using System.Runtime.InteropServices;
using Microsoft.ML.Transformers.OnnxRuntime.Native;

namespace Microsoft.ML.Transformers.OnnxRuntime;

// Session creation: choosing the execution provider (with the CUDA fallback) and reading the graph's inputs/outputs.
public sealed unsafe partial class OnnxSession
{
    private OnnxNodeInfo[] ReadNodes(OrtApi api, int count, bool isInput)
    {
        nint allocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator));
        var nodes = new OnnxNodeInfo[count];
        for (int i = 0; i < count; i++)
        {
            byte* raw;
            api.Check(isInput ? api.SessionGetInputName(handle.Pointer, (nuint)i, allocator, &raw)
                              : api.SessionGetOutputName(handle.Pointer, (nuint)i, allocator, &raw), Describe("reading names of"));
            string name = Marshal.PtrToStringUTF8((nint)raw) ?? "";
            api.Check(api.AllocatorFree(allocator, raw));

            using var typeInfo = new OrtTypeInfoHandle();
            nint p;
            api.Check(isInput ? api.SessionGetInputTypeInfo(handle.Pointer, (nuint)i, &p)
                              : api.SessionGetOutputTypeInfo(handle.Pointer, (nuint)i, &p), Describe($"reading type of '{name}' in"));
            typeInfo.Attach(p);
            int kind;
            api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo.Pointer, &kind));
            if ((OnnxValueKind)kind != OnnxValueKind.Tensor)
            {
                nodes[i] = new OnnxNodeInfo(name, (OnnxValueKind)kind, TensorElementType.Undefined, [], []);
                continue;
            }
            nint tensorInfo; // owned by typeInfo, not released separately
            api.Check(api.CastTypeInfoToTensorInfo(typeInfo.Pointer, &tensorInfo));
            int type;
            api.Check(api.GetTensorElementType(tensorInfo, &type));
            nuint rank;
            api.Check(api.GetDimensionsCount(tensorInfo, &rank));
            var shape = new long[(int)rank];
            var symbolic = new nint[(int)rank];
            fixed (long* s = shape) api.Check(api.GetDimensions(tensorInfo, s, rank));
            fixed (nint* s = symbolic) api.Check(api.GetSymbolicDimensions(tensorInfo, (byte**)s, rank));
            string[] dimNames = symbolic.Select(s => s == 0 ? "" : Marshal.PtrToStringUTF8(s) ?? "").ToArray();
            nodes[i] = new OnnxNodeInfo(name, OnnxValueKind.Tensor, (TensorElementType)type, shape, dimNames);
        }
        return nodes;
    }

    private static OnnxSession Create(OnnxSessionOptions options, string? path, Func<nint, nint> createSession)
    {
        if (options.ExecutionProvider == OnnxExecutionProvider.Cuda)
        {
            string? problem = null;
            OrtErrorCode code = OrtErrorCode.NotImplemented;
            if (!OnnxRuntimeEnvironment.IsCudaListed)
                problem = $"this ONNX Runtime build ({OnnxRuntimeEnvironment.Version}) has no CUDA execution provider " +
                          $"(it has: {string.Join(", ", OnnxRuntimeEnvironment.AvailableProviders)})";
            else
            {
                OrtSessionOptionsHandle? cudaOptions = null;
                try { cudaOptions = SessionOptionsBuilder.Build(options, useCuda: true); }
                catch (OnnxRuntimeException e) { problem = e.RuntimeMessage; code = e.Code; }
                if (cudaOptions is not null)
                {
                    using (cudaOptions)
                    {
                        try { return Wrap(createSession(cudaOptions.Pointer), path, OnnxExecutionProvider.Cuda); }
                        catch (OnnxRuntimeException) when (options.FallbackToCpu) { }
                    }
                }
            }
            if (problem is not null && !options.FallbackToCpu)
                throw new OnnxRuntimeException(code,
                    $"The CUDA execution provider was requested{(path is null ? "" : $" for '{path}'")} but cannot be used: {problem}. " +
                    "Set OnnxSessionOptions.FallbackToCpu = true to run on CPU instead, or use an ONNX Runtime build with CUDA " +
                    "(and the CUDA/cuDNN libraries it needs).");
        }
        using OrtSessionOptionsHandle cpu = SessionOptionsBuilder.Build(options, useCuda: false);
        return Wrap(createSession(cpu.Pointer), path, OnnxExecutionProvider.Cpu);
    }

    private static OnnxSession Wrap(nint session, string? path, OnnxExecutionProvider provider)
    {
        var h = new OrtSessionHandle();
        h.Attach(session);
        try { return new OnnxSession(h, path, provider); }
        catch { h.Dispose(); throw; }
    }
}
