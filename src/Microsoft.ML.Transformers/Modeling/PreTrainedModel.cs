using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.SafeTensors;
using Microsoft.ML.Transformers.Torch;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Options for <c>FromPretrained</c>.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Device the weights are placed on (default CPU). CUDA needs a CUDA build of libtorch.</summary>
    public Device? Device { get; init; }
    /// <summary>Called with the loading report (missing / unexpected keys), Hugging Face's warnings.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>What loading a checkpoint found, as Hugging Face reports it.</summary>
public sealed record LoadingInfo(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, string Source)
{
    public override string ToString()
    {
        var parts = new List<string>();
        if (UnexpectedKeys.Count > 0)
            parts.Add($"Some weights of the model checkpoint at {Source} were not used when initializing the model: [{string.Join(", ", UnexpectedKeys)}]");
        if (MissingKeys.Count > 0)
            parts.Add($"Some weights of the model were not initialized from the model checkpoint at {Source} and are newly initialized: [{string.Join(", ", MissingKeys)}]. You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.");
        return parts.Count == 0 ? $"All weights were loaded from {Source}." : string.Join(Environment.NewLine, parts);
    }
}

/// <summary>
/// Base of every model: holds the config, loads and saves Hugging Face checkpoint folders
/// (config.json + model.safetensors or a sharded index). Parameter names are the checkpoint keys.
/// </summary>
public abstract class PreTrainedModel : nn.Module
{
    protected PreTrainedModel(PretrainedConfig config) => Config = config;

    public PretrainedConfig Config { get; }

    /// <summary>The attribute name of the base model inside heads ("bert", "roberta", "distilbert"): the key prefix
    /// that head checkpoints carry and base checkpoints lack.</summary>
    public abstract string BaseModelPrefix { get; }

    /// <summary>Missing and unexpected keys of the last load, or null for a model built from a config.</summary>
    public LoadingInfo? LoadingInfo { get; private set; }

    public abstract ModelOutput Forward(ModelInputs inputs);

    public ModelOutput forward(ModelInputs inputs) => Forward(inputs);

    /// <summary>Device of the first parameter.</summary>
    public Device Device => parameters().First().device;

    protected double InitializerRange => Config.GetOrDefault("initializer_range", 0.02);

    /// <summary>Initializes every parameter as Hugging Face's _init_weights does (normal(0, initializer_range) for
    /// linear and embedding weights, zero biases, unit LayerNorm).</summary>
    public void InitWeights()
    {
        foreach (var (_, m) in named_modules()) m.ResetParameters(InitializerRange);
    }

    /// <summary>Loads weights from a checkpoint folder into this model, returning the report it also keeps in <see cref="LoadingInfo"/>.</summary>
    public unsafe LoadingInfo LoadWeights(string folder)
    {
        using var ckpt = SafeTensorsCheckpoint.Open(folder);
        var fileKeys = new HashSet<string>(ckpt.Keys, StringComparer.Ordinal);
        string prefix = BaseModelPrefix + ".";
        var groups = GroupTiedNames();
        bool modelHasPrefix = groups.Any(g => g.names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal)));
        bool fileHasPrefix = fileKeys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        Func<string, string> toFileKey =
            modelHasPrefix && !fileHasPrefix ? n => n.StartsWith(prefix, StringComparison.Ordinal) ? n[prefix.Length..] : n
            : !modelHasPrefix && fileHasPrefix ? n => prefix + n
            : n => n;

        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        var loaded = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (tensor, names) in groups)
        {
            string? key = names.Select(toFileKey).FirstOrDefault(fileKeys.Contains);
            if (key is null)
            {
                missing.Add(names[0]);
                continue;
            }
            var info = ckpt.Get(key);
            var expected = tensor.shape;
            if (!expected.SequenceEqual(info.Shape))
                throw new InvalidDataException(
                    $"Weight '{key}' in {ckpt.FileOf(key).Path} has shape [{string.Join(", ", info.Shape)}] but the model expects " +
                    $"[{string.Join(", ", expected)}] (config.json of {folder}: {Config.ModelType}). Check that the checkpoint matches its config.");
            tensor.CopyFromBlob(ckpt.GetPointer(key), info.Shape, ToScalarType(info.DType, key));
            used.Add(key);
            loaded.Add(tensor);
        }
        var unexpected = fileKeys.Where(k => !used.Contains(k) && !k.EndsWith(".position_ids", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

        // Parameters the checkpoint lacked start from the family's initialization, as in Hugging Face.
        foreach (var (_, m) in named_modules())
        {
            if (m.OwnParameterTensors().Any(t => !loaded.Contains(t)))
                m.ResetParameters(InitializerRange);
            m.OnWeightsChanged();
        }
        LoadingInfo = new LoadingInfo(missing, unexpected, folder);
        return LoadingInfo;
    }

    private List<(Tensor tensor, List<string> names)> GroupTiedNames()
    {
        var groups = new List<(Tensor, List<string>)>();
        var index = new Dictionary<Tensor, List<string>>(ReferenceEqualityComparer.Instance);
        foreach (var (name, t) in state_dict())
        {
            if (!index.TryGetValue(t, out var names))
            {
                names = [];
                index[t] = names;
                groups.Add((t, names));
            }
            names.Add(name);
        }
        return groups;
    }

    private static ScalarType ToScalarType(SafeTensorDType dtype, string key) => dtype switch
    {
        SafeTensorDType.F32 => ScalarType.Float32,
        SafeTensorDType.F16 => ScalarType.Float16,
        SafeTensorDType.BF16 => ScalarType.BFloat16,
        SafeTensorDType.F64 => ScalarType.Float64,
        SafeTensorDType.I64 => ScalarType.Int64,
        SafeTensorDType.I32 => ScalarType.Int32,
        SafeTensorDType.I16 => ScalarType.Int16,
        SafeTensorDType.I8 => ScalarType.Int8,
        SafeTensorDType.U8 => ScalarType.Byte,
        SafeTensorDType.Bool => ScalarType.Bool,
        _ => throw new NotSupportedException($"Weight '{key}' has dtype {dtype}, which models cannot load."),
    };

    private static SafeTensorDType ToSafeTensorDType(ScalarType t) => t switch
    {
        ScalarType.Float32 => SafeTensorDType.F32,
        ScalarType.Float16 => SafeTensorDType.F16,
        ScalarType.BFloat16 => SafeTensorDType.BF16,
        ScalarType.Float64 => SafeTensorDType.F64,
        ScalarType.Int64 => SafeTensorDType.I64,
        ScalarType.Int32 => SafeTensorDType.I32,
        _ => throw new NotSupportedException($"Cannot save a {t} tensor."),
    };

    /// <summary>
    /// Writes config.json and model.safetensors into <paramref name="folder"/> (created if needed). Tied weights are
    /// written once, under their first name, as Hugging Face does. Each file is written to a temporary file and then moved.
    /// </summary>
    public void SavePretrained(string folder)
    {
        Directory.CreateDirectory(folder);
        // Each tensor is copied out only while the writer streams it, so the model is never held twice in managed memory.
        var entries = named_parameters().Select(p => new SafeTensorStreamEntry(p.name, ToSafeTensorDType(p.parameter.dtype), p.parameter.shape,
            stream =>
            {
                var bytes = new byte[p.parameter.numel() * p.parameter.dtype.ElementSize()];
                p.parameter.CopyToBytes(bytes);
                stream.Write(bytes);
            })).ToList();
        SafeTensorsWriter.WriteStreaming(Path.Combine(folder, "model.safetensors"), entries, new Dictionary<string, string> { ["format"] = "pt" });
        Config.SavePretrained(folder);
    }
}
