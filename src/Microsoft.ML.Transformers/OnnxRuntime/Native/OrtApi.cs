using System.Runtime.InteropServices;

namespace Microsoft.ML.Transformers.OnnxRuntime.Native;

/// <summary>
/// The ONNX Runtime C API function table (<c>OrtApi</c> in onnxruntime_c_api.h), read once through
/// <c>OrtGetApiBase()-&gt;GetApi(version)</c> and kept as typed function pointers.
/// </summary>
/// <remarks>
/// The table is ABI: entries are only ever appended, so an entry's index is fixed forever. The indices below are the
/// positions in <c>struct OrtApi</c> (0-based). We request <see cref="RequestedApiVersion"/>, the oldest version that
/// has every entry we use, so any ONNX Runtime from 1.16 on (1.30 is what eng/install-deps.sh stages) serves it.
/// Opaque handles (OrtStatus*, OrtEnv*, ...) are <c>nint</c>; strings are UTF-8 <c>byte*</c>.
/// </remarks>
internal sealed unsafe class OrtApi
{
    public const uint RequestedApiVersion = 16;

    private static readonly object Gate = new();
    private static OrtApi? instance;

    /// <summary>The bound table; loads the library on first use.</summary>
    public static OrtApi Instance
    {
        get
        {
            if (Volatile.Read(ref instance) is { } api) return api;
            lock (Gate) return instance ??= new OrtApi(OrtLibrary.Load());
        }
    }

    public readonly string VersionString;

    public readonly delegate* unmanaged[Cdecl]<nint, int> GetErrorCode;                                   // 1
    public readonly delegate* unmanaged[Cdecl]<nint, byte*> GetErrorMessage;                              // 2
    public readonly delegate* unmanaged[Cdecl]<int, byte*, nint*, nint> CreateEnv;                        // 3
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint> CreateSession;             // 7
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray; // 8
    public readonly delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run; // 9
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateSessionOptions;                         // 10
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionExecutionMode;                  // 13
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetSessionGraphOptimizationLevel;         // 23
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetIntraOpNumThreads;                     // 24
    public readonly delegate* unmanaged[Cdecl]<nint, int, nint> SetInterOpNumThreads;                     // 25
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetInputCount;                  // 30
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> SessionGetOutputCount;                 // 31
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetInputTypeInfo;         // 33
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;        // 34
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetInputName;      // 36
    public readonly delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint> SessionGetOutputName;     // 37
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue; // 49
    public readonly delegate* unmanaged[Cdecl]<nint, void**, nint> GetTensorMutableData;                  // 51
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> CastTypeInfoToTensorInfo;               // 55
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetOnnxTypeFromTypeInfo;                 // 56
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetTensorElementType;                    // 60
    public readonly delegate* unmanaged[Cdecl]<nint, nuint*, nint> GetDimensionsCount;                    // 61
    public readonly delegate* unmanaged[Cdecl]<nint, long*, nuint, nint> GetDimensions;                   // 62
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint> GetSymbolicDimensions;          // 63
    public readonly delegate* unmanaged[Cdecl]<nint, nint*, nint> GetTensorTypeAndShape;                  // 65
    public readonly delegate* unmanaged[Cdecl]<nint, int*, nint> GetValueType;                            // 67
    public readonly delegate* unmanaged[Cdecl]<int, int, nint*, nint> CreateCpuMemoryInfo;                // 69
    public readonly delegate* unmanaged[Cdecl]<nint, void*, nint> AllocatorFree;                          // 76
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> GetAllocatorWithDefaultOptions;               // 78
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseEnv;                                    // 92
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseStatus;                                 // 93
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseMemoryInfo;                             // 94
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSession;                                // 95
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseValue;                                  // 96
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTypeInfo;                               // 98
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseTensorTypeAndShapeInfo;                 // 99
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseSessionOptions;                         // 100
    public readonly delegate* unmanaged[Cdecl]<byte***, int*, nint> GetAvailableProviders;                // 125
    public readonly delegate* unmanaged[Cdecl]<byte**, int, nint> ReleaseAvailableProviders;              // 126
    public readonly delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint> AddSessionConfigEntry;           // 130
    public readonly delegate* unmanaged[Cdecl]<nint, nint, nint> SessionOptionsAppendExecutionProvider_CUDA_V2; // 204
    public readonly delegate* unmanaged[Cdecl]<nint*, nint> CreateCUDAProviderOptions;                    // 205
    public readonly delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint> UpdateCUDAProviderOptions; // 206
    public readonly delegate* unmanaged[Cdecl]<nint, void> ReleaseCUDAProviderOptions;                    // 208

    private OrtApi(nint library)
    {
        // const OrtApiBase* OrtGetApiBase(void); struct OrtApiBase { GetApi(uint32_t); GetVersionString(void); }
        var getApiBase = (delegate* unmanaged[Cdecl]<void**>)NativeLibrary.GetExport(library, "OrtGetApiBase");
        void** apiBase = getApiBase();
        var getApi = (delegate* unmanaged[Cdecl]<uint, void**>)apiBase[0];
        var getVersion = (delegate* unmanaged[Cdecl]<byte*>)apiBase[1];
        VersionString = Marshal.PtrToStringUTF8((nint)getVersion()) ?? "";
        void** t = getApi(RequestedApiVersion);
        if (t == null)
            throw new OnnxRuntimeException(OrtErrorCode.Fail,
                $"ONNX Runtime {VersionString} does not serve C API version {RequestedApiVersion}; " +
                $"install 1.16 or newer with `{OrtLibrary.InstallCommand}`.");

        GetErrorCode = (delegate* unmanaged[Cdecl]<nint, int>)t[1];
        GetErrorMessage = (delegate* unmanaged[Cdecl]<nint, byte*>)t[2];
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)t[3];
        CreateSession = (delegate* unmanaged[Cdecl]<nint, void*, nint, nint*, nint>)t[7];
        CreateSessionFromArray = (delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint>)t[8];
        Run = (delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)t[9];
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[10];
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[13];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[23];
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[24];
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<nint, int, nint>)t[25];
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[30];
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[31];
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[33];
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)t[34];
        SessionGetInputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[36];
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)t[37];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)t[49];
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<nint, void**, nint>)t[51];
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[55];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[56];
        GetTensorElementType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[60];
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<nint, nuint*, nint>)t[61];
        GetDimensions = (delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)t[62];
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)t[63];
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<nint, nint*, nint>)t[65];
        GetValueType = (delegate* unmanaged[Cdecl]<nint, int*, nint>)t[67];
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, nint*, nint>)t[69];
        AllocatorFree = (delegate* unmanaged[Cdecl]<nint, void*, nint>)t[76];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[78];
        ReleaseEnv = (delegate* unmanaged[Cdecl]<nint, void>)t[92];
        ReleaseStatus = (delegate* unmanaged[Cdecl]<nint, void>)t[93];
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[94];
        ReleaseSession = (delegate* unmanaged[Cdecl]<nint, void>)t[95];
        ReleaseValue = (delegate* unmanaged[Cdecl]<nint, void>)t[96];
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[98];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<nint, void>)t[99];
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[100];
        GetAvailableProviders = (delegate* unmanaged[Cdecl]<byte***, int*, nint>)t[125];
        ReleaseAvailableProviders = (delegate* unmanaged[Cdecl]<byte**, int, nint>)t[126];
        AddSessionConfigEntry = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)t[130];
        SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged[Cdecl]<nint, nint, nint>)t[204];
        CreateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint*, nint>)t[205];
        UpdateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)t[206];
        ReleaseCUDAProviderOptions = (delegate* unmanaged[Cdecl]<nint, void>)t[208];
    }

    /// <summary>
    /// The one place every returned OrtStatus* is checked: null means success; otherwise read code and message,
    /// release the status, and throw. <paramref name="context"/> says what we were doing (and on which file).
    /// </summary>
    public void Check(nint status, string? context = null)
    {
        if (status == 0) return;
        var code = (OrtErrorCode)GetErrorCode(status);
        string message = (Marshal.PtrToStringUTF8((nint)GetErrorMessage(status)) ?? "").TrimEnd();
        ReleaseStatus(status);
        throw new OnnxRuntimeException(code, context is null ? message : $"{context}: {message}");
    }
}
