using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using OrtException = Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

namespace Microsoft.ML.Transformers.OnnxRuntime;

// Opening a model folder: config.json, which ONNX file, the ONNX Runtime session (CUDA or CPU) and the inputs it takes.
public sealed partial class OnnxModel
{
    /// <summary>The name ONNX Runtime lists the CUDA provider under (<see cref="OrtEnv.GetAvailableProviders"/>).</summary>
    internal const string CudaProviderName = "CUDAExecutionProvider";

    /// <summary>The NuGet packages of ONNX Runtime's native builds, one of which the application references.</summary>
    internal const string CpuPackage = "Microsoft.ML.OnnxRuntime";
    internal const string CudaPackage = "Microsoft.ML.OnnxRuntime.Gpu.Linux";

    private OnnxModel(string folder, string modelPath, JsonElement config, InferenceSession session,
        OnnxExecutionProvider provider, string? fallbackReason)
    {
        Folder = folder;
        ModelPath = modelPath;
        Config = config;
        ModelType = config.TryGetProperty("model_type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        this.session = session;
        ExecutionProvider = provider;
        FallbackReason = fallbackReason;
        inputNames = session.InputNames.ToArray();
        OutputNames = session.OutputNames.ToArray();
        InputMetadata = session.InputMetadata;
        OutputMetadata = session.OutputMetadata;
        CheckInputs();
        runOptions = new RunOptions();
    }

    /// <summary>Opens a model folder; see <see cref="OnnxModelOptions"/> for which file is loaded and how it runs.</summary>
    public static OnnxModel FromPretrained(string folder, OnnxModelOptions? options = null)
    {
        options ??= new OnnxModelOptions();
        string dir = Path.GetFullPath(folder);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"Model folder '{dir}' was not found.");
        JsonElement config = ReadConfig(Path.Combine(dir, "config.json"));
        string modelPath = FindModelFile(dir, options);
        (InferenceSession session, OnnxExecutionProvider provider, string? fallback) = OpenSession(modelPath, options.Session);
        try { return new OnnxModel(dir, modelPath, config, session, provider, fallback); }
        catch { session.Dispose(); throw; }
    }

    private static (InferenceSession, OnnxExecutionProvider, string?) OpenSession(string path, OnnxSessionOptions options)
    {
        try
        {
            if (options.ExecutionProvider != OnnxExecutionProvider.Cuda)
                return (CreateSession(path, options, cuda: false), OnnxExecutionProvider.Cpu, null);

            string problem;
            Exception? cause = null;
            string[] providers = OrtEnv.Instance().GetAvailableProviders();
            if (!providers.Contains(CudaProviderName))
            {
                problem = $"the installed ONNX Runtime build ({OrtEnv.Instance().GetVersionString()}) has no CUDA execution provider " +
                          $"(it has: {string.Join(", ", providers)}); reference the NuGet package {CudaPackage} in the application " +
                          $"instead of {CpuPackage}";
            }
            else
            {
                try { return (CreateSession(path, options, cuda: true), OnnxExecutionProvider.Cuda, null); }
                catch (OrtException e)
                {
                    problem = $"ONNX Runtime could not start it ({e.Message}); the CUDA provider of {CudaPackage} also needs the " +
                              "CUDA and cuDNN libraries it was built against";
                    cause = e;
                }
            }
            if (!options.FallbackToCpu)
                throw new OnnxModelException(path,
                    $"The CUDA execution provider was requested for '{path}' but cannot be used: {problem}. " +
                    $"Set {nameof(OnnxSessionOptions)}.{nameof(OnnxSessionOptions.FallbackToCpu)} = true to run on CPU instead.", cause);
            return (CreateSession(path, options, cuda: false), OnnxExecutionProvider.Cpu, problem);
        }
        catch (OrtException e)
        {
            throw new OnnxModelException(path, $"ONNX Runtime could not open ONNX model '{path}': {e.Message}", e);
        }
        catch (Exception e) when (NativeLibraryMissing(e))
        {
            throw NativeLibraryError(path, e);
        }
    }

    internal static DllNotFoundException NativeLibraryError(string path, Exception e) => new(
        $"ONNX Runtime's native library could not be loaded to open '{path}'. The application must reference one of " +
        $"ONNX Runtime's native packages: {CpuPackage} (CPU) or {CudaPackage} (CUDA); this library references only " +
        $"Microsoft.ML.OnnxRuntime.Managed. ({e.GetBaseException().Message})", e);

    /// <summary>The session entry naming graph optimizers ONNX Runtime must skip. On the CPU we name SkipLayerNormFusion:
    /// ONNX Runtime's float SkipLayerNormalization kernel is a scalar loop, ~3x slower than the Add + LayerNormalization
    /// it replaces (BERT-base, seq 128: 13-15 ms against ~5 ms per run on one thread), so the fusion costs ~5% of a run on
    /// one thread and 1-2% on two (test/benchmarks/OnnxRuntime/README.md).</summary>
    internal const string DisableOptimizersKey = "optimization.disable_specified_optimizers";

    private static InferenceSession CreateSession(string path, OnnxSessionOptions options, bool cuda)
    {
        using SessionOptions sessionOptions = options.ToSessionOptions();
        if (cuda) sessionOptions.AppendExecutionProvider_CUDA(options.CudaDeviceId);
        else if (options.ConfigEntries?.ContainsKey(DisableOptimizersKey) != true)
            sessionOptions.AddSessionConfigEntry(DisableOptimizersKey, "SkipLayerNormFusion");
        // ONNX Runtime copies the options into the session, so they can go when this returns.
        return new InferenceSession(path, sessionOptions);
    }

    /// <summary>Whether <paramref name="e"/> says that ONNX Runtime's managed API found no native library to call.</summary>
    internal static bool NativeLibraryMissing(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException or EntryPointNotFoundException) return true;
        return false;
    }

    // OnnxModel fills input_ids, attention_mask and token_type_ids, each int64 [batch, sequence]; a graph that needs
    // anything else is refused when it is opened, not at its first run, with the library's exception naming the file
    // (a damaged file's inputs are a file's fault like its protobuf).
    private void CheckInputs()
    {
        // A vision export (Optimum / Transformers.js layout): a float input pixel_values [batch, channels, height, width],
        // and for DETR an int64 pixel_mask [batch, height, width].
        if (InputMetadata.TryGetValue(PixelValues, out var pixels))
        {
            if (!pixels.IsTensor || (TensorElementType)pixels.ElementDataType != TensorElementType.Float || pixels.Dimensions.Length != 4)
                throw new OnnxModelException(ModelPath, $"ONNX model '{ModelPath}' expects input {Describe(PixelValues, pixels)}, but OnnxModel feeds " +
                    $"{PixelValues} as Float [batch, channels, height, width].");
            foreach (string name in inputNames)
            {
                if (name == PixelValues) continue;
                NodeMetadata node = InputMetadata[name];
                if (name != PixelMask)
                    throw new OnnxModelException(ModelPath, $"ONNX model '{ModelPath}' takes input {Describe(name, node)}, which OnnxModel cannot fill " +
                        $"(a vision export gets {PixelValues} and, when it declares one, {PixelMask}); run it with ONNX Runtime's InferenceSession directly.");
                if (!node.IsTensor || (TensorElementType)node.ElementDataType != TensorElementType.Int64 || node.Dimensions.Length != 3)
                    throw new OnnxModelException(ModelPath, $"ONNX model '{ModelPath}' expects input {Describe(name, node)}, but OnnxModel feeds " +
                        $"{PixelMask} as Int64 [batch, height, width].");
            }
            return;
        }
        if (!InputMetadata.ContainsKey(InputIds))
            throw new OnnxModelException(ModelPath,
                $"ONNX model '{ModelPath}' has no '{InputIds}' input (its inputs: {DescribeInputs()}); OnnxModel runs token-id models.");
        foreach (string name in inputNames)
        {
            NodeMetadata node = InputMetadata[name];
            if (name is not (InputIds or AttentionMask or TokenTypeIds))
                throw new OnnxModelException(ModelPath,
                    $"ONNX model '{ModelPath}' takes input {Describe(name, node)}, which OnnxModel cannot fill (it fills " +
                    $"{InputIds}, {AttentionMask}, {TokenTypeIds}); run it with ONNX Runtime's InferenceSession directly.");
            if (!node.IsTensor || (TensorElementType)node.ElementDataType != TensorElementType.Int64 || node.Dimensions.Length != 2)
                throw new OnnxModelException(ModelPath,
                    $"ONNX model '{ModelPath}' expects input {Describe(name, node)}, but OnnxModel feeds {name} as " +
                    $"Int64 [batch, sequence] (as Transformers.js does).");
        }
    }

    private string DescribeInputs() => string.Join(", ", inputNames.Select(n => Describe(n, InputMetadata[n])));

    private static JsonElement ReadConfig(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Model config '{path}' was not found; a model folder needs config.json.", path);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Model config '{path}': expected a JSON object at the top level, found {doc.RootElement.ValueKind}.");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Model config '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string FindModelFile(string dir, OnnxModelOptions options)
    {
        string name = options.ModelFileName();
        if (!name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) name += ".onnx";
        string[] candidates = Path.GetDirectoryName(name) is { Length: > 0 }
            ? [Path.Combine(dir, name)]
            : [Path.Combine(dir, "onnx", name), Path.Combine(dir, name)];
        foreach (string c in candidates)
            if (File.Exists(c)) return c;
        string[] present = Directory.Exists(Path.Combine(dir, "onnx"))
            ? Directory.GetFiles(Path.Combine(dir, "onnx"), "*.onnx").Concat(Directory.GetFiles(dir, "*.onnx")).ToArray()
            : Directory.GetFiles(dir, "*.onnx");
        throw new FileNotFoundException(
            $"ONNX model '{name}' was not found in '{dir}'. Looked for: {string.Join(", ", candidates)}. " +
            $"ONNX files there: {(present.Length == 0 ? "none" : string.Join(", ", present.Select(p => Path.GetRelativePath(dir, p))))}.",
            candidates[0]);
    }
}
