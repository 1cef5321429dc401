namespace Microsoft.ML.Transformers.OnnxRuntime.Native;

/// <summary>Turns <see cref="OnnxSessionOptions"/> into a native <c>OrtSessionOptions</c>.</summary>
internal static unsafe class SessionOptionsBuilder
{
    public static OrtSessionOptionsHandle Build(OnnxSessionOptions o, bool useCuda)
    {
        if (o.IntraOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(o), $"IntraOpThreads must be >= 0, got {o.IntraOpThreads}.");
        if (o.InterOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(o), $"InterOpThreads must be >= 0, got {o.InterOpThreads}.");
        OrtApi api = OrtApi.Instance;
        var h = new OrtSessionOptionsHandle();
        try
        {
            nint p;
            api.Check(api.CreateSessionOptions(&p), "creating session options");
            h.Attach(p);
            api.Check(api.SetIntraOpNumThreads(p, o.IntraOpThreads), "setting intra-op threads");
            api.Check(api.SetInterOpNumThreads(p, o.InterOpThreads), "setting inter-op threads");
            api.Check(api.SetSessionGraphOptimizationLevel(p, (int)o.GraphOptimizationLevel), "setting the graph optimization level");
            api.Check(api.SetSessionExecutionMode(p, (int)o.ExecutionMode), "setting the execution mode");
            foreach (var (key, value) in o.ConfigEntries ?? new Dictionary<string, string>())
                fixed (byte* k = OnnxSession.Utf8(key))
                fixed (byte* v = OnnxSession.Utf8(value))
                    api.Check(api.AddSessionConfigEntry(p, k, v), $"setting session config entry '{key}'");
            if (useCuda) AppendCuda(api, p, o.CudaDeviceId);
            return h;
        }
        catch
        {
            h.Dispose();
            throw;
        }
    }

    private static void AppendCuda(OrtApi api, nint options, int deviceId)
    {
        using var cuda = new OrtCudaProviderOptionsHandle();
        nint p;
        api.Check(api.CreateCUDAProviderOptions(&p), "creating CUDA provider options");
        cuda.Attach(p);
        fixed (byte* key = "device_id"u8)
        fixed (byte* value = OnnxSession.Utf8(deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            byte** keys = stackalloc byte*[] { key };
            byte** values = stackalloc byte*[] { value };
            api.Check(api.UpdateCUDAProviderOptions(p, keys, values, 1), "setting the CUDA device id");
        }
        api.Check(api.SessionOptionsAppendExecutionProvider_CUDA_V2(options, p), "adding the CUDA execution provider");
    }
}
