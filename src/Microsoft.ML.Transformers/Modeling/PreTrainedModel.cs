using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.SafeTensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Options for <c>FromPretrained</c>.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Device the weights are placed on: "cpu" (default), "cuda", "cuda:N". CUDA needs a CUDA build of libtorch.</summary>
    public string? Device { get; init; }
    /// <summary>Hugging Face's torch_dtype: null or "float32" (the default, as Hugging Face), "float16", "bfloat16",
    /// or "auto" (config.json's torch_dtype, else the checkpoint's floating-point dtype).</summary>
    public string? TorchDtype { get; init; }
    /// <summary>Called with the loading report (missing / unexpected keys), Hugging Face's warnings.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>What loading a checkpoint found, as Hugging Face reports it, plus the weights holding NaN or infinite
/// values (which would make every output NaN), by key.</summary>
public sealed record LoadingInfo(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, string Source)
{
    public IReadOnlyList<string> NonFiniteKeys { get; init; } = [];

    public override string ToString()
    {
        var parts = new List<string>();
        if (UnexpectedKeys.Count > 0)
            parts.Add($"Some weights of the model checkpoint at {Source} were not used when initializing the model: [{string.Join(", ", UnexpectedKeys)}]");
        if (MissingKeys.Count > 0)
            parts.Add($"Some weights of the model were not initialized from the model checkpoint at {Source} and are newly initialized: [{string.Join(", ", MissingKeys)}]. You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.");
        if (NonFiniteKeys.Count > 0)
            parts.Add($"Some weights of the model checkpoint at {Source} hold NaN or infinite values, so the model's outputs will too: [{string.Join(", ", NonFiniteKeys)}]");
        return parts.Count == 0 ? $"All weights were loaded from {Source}." : string.Join(Environment.NewLine, parts);
    }
}

/// <summary>A layer that keeps tensors derived from its parameters (fused q/k/v), rebuilt when the weights change.</summary>
internal interface IDerivedWeights
{
    void DropDerivedWeights();
}

/// <summary>A layer with parameters of its own (not inside a TorchSharp layer) that Hugging Face's _init_weights sets.</summary>
internal interface IInitWeights
{
    void InitWeights(double initializerRange);
}

/// <summary>
/// Base of every model: a TorchSharp <see cref="nn.Module{T, TResult}"/> holding the config, that loads and saves
/// Hugging Face checkpoint folders (config.json + model.safetensors or a sharded index). Parameter names are the
/// checkpoint keys. Disposing the model while another thread runs <see cref="forward"/> waits for that call to end;
/// calls after disposal throw <see cref="ObjectDisposedException"/>.
/// </summary>
public abstract class PreTrainedModel : nn.Module<ModelInputs, ModelOutput>
{
    private int _active;
    private int _disposed;

    protected PreTrainedModel(PretrainedConfig config) : base(LoadEngine(config)) => Config = config;

    private static string LoadEngine(PretrainedConfig config)
    {
        TorchSharpRuntime.EnsureLoaded();
        return config.ModelType ?? "model";
    }

    public PretrainedConfig Config { get; }

    /// <summary>The attribute name of the base model inside heads ("bert", "roberta", "distilbert"): the key prefix
    /// that head checkpoints carry and base checkpoints lack.</summary>
    public abstract string BaseModelPrefix { get; }

    /// <summary>Missing and unexpected keys of the last load, or null for a model built from a config.</summary>
    public LoadingInfo? LoadingInfo { get; private set; }

    /// <summary>The model's forward (Hugging Face's keyword arguments in <paramref name="inputs"/>).</summary>
    protected abstract ModelOutput Run(ModelInputs inputs);

    public sealed override ModelOutput forward(ModelInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var lease = Use();
        CheckInputs(inputs);
        return Run(inputs);
    }

    /// <summary>Marks a use of the model's tensors: <see cref="Dispose(bool)"/> waits for it to end; after disposal it
    /// throws <see cref="ObjectDisposedException"/>.</summary>
    internal UseLease Use()
    {
        Interlocked.Increment(ref _active);
        if (Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Decrement(ref _active);
            throw new ObjectDisposedException(GetType().Name);
        }
        return new UseLease(this);
    }

    internal readonly struct UseLease(PreTrainedModel model) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref model._active);
    }

    /// <summary>Shapes and dtypes are checked here, in managed code: a libtorch error inside some TorchSharp calls
    /// (matmul in 0.107) escapes as a C++ exception and ends the process instead of becoming an exception.</summary>
    private void CheckInputs(ModelInputs inputs)
    {
        if (MainInputName == "pixel_values")
        {
            var px = inputs.PixelValues ?? throw new ArgumentException("pixel_values is required.", nameof(inputs));
            if (px.dim() != 4 || !px.is_floating_point())
                throw new ArgumentException($"pixel_values must be a 4-D float tensor [batch, channels, height, width]; found {px.dtype} [{string.Join(", ", px.shape)}].", nameof(inputs));
            return;
        }
        var ids = inputs.InputIds ?? throw new ArgumentException("input_ids is required.", nameof(inputs));
        if (ids.dim() != 2 || ids.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"input_ids must be a 2-D integer tensor [batch, sequence]; found {ids.dtype} [{string.Join(", ", ids.shape)}].", nameof(inputs));
        void Same(Tensor? t, string name)
        {
            if (t is null) return;
            if (!t.shape.SequenceEqual(ids.shape))
                throw new ArgumentException($"{name} has shape [{string.Join(", ", t.shape)}] but input_ids has [{string.Join(", ", ids.shape)}]; they must match.", nameof(inputs));
            if (t.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Bool or ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
                throw new ArgumentException($"{name} has dtype {t.dtype}; expected an integer, bool or float tensor.", nameof(inputs));
        }
        Same(inputs.AttentionMask, "attention_mask");
        Same(inputs.TokenTypeIds, "token_type_ids");
        if (inputs.PositionIds is { } pos && (pos.dim() != 2 || pos.shape[1] != ids.shape[1]))
            throw new ArgumentException($"position_ids has shape [{string.Join(", ", pos.shape)}]; expected [batch or 1, {ids.shape[1]}].", nameof(inputs));
        // Values last: a negative id would index the table from its end on some engines, an id past it fails inside
        // libtorch, and a mask value other than 0 or 1 turns the outputs into NaN.
        InputValues.CheckIds(ids, "input_ids", Config.Get<long?>("vocab_size") ?? long.MaxValue, "vocab_size");
        if (inputs.TokenTypeIds is { } types && Config.Get<long?>("type_vocab_size") is long typeVocab)
            InputValues.CheckIds(types, "token_type_ids", typeVocab, "type_vocab_size");
        if (inputs.AttentionMask is { } mask) InputValues.CheckMask(mask);
    }

    /// <summary>Hugging Face's main_input_name: "input_ids" for text models, "pixel_values" for vision models.</summary>
    public virtual string MainInputName => "input_ids";

    /// <summary>Same as <see cref="forward"/>.</summary>
    public ModelOutput Forward(ModelInputs inputs) => forward(inputs);

    /// <summary>Device of the first parameter.</summary>
    public Device Device => parameters().First().device;

    protected double InitializerRange => Config.GetOrDefault("initializer_range", 0.02);

    /// <summary>Establishes shared parameters (output embeddings tied to the input embeddings, a head's bias shared
    /// with its decoder), as Hugging Face's tie_weights: both layers hold the same parameter object.</summary>
    protected virtual void TieWeights() { }

    // TorchSharp's Module.to() converts each layer's references on its own, which would turn a tied parameter into
    // two copies (and dispose it under the other layer). Models convert each parameter once and hand the converted
    // tensor to every layer that holds it, as PyTorch's Module._apply does.
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking) => Convert(t => t.to(dtype, device, non_blocking: non_blocking), device);
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        var device = new Device(deviceType, deviceIndex);
        return Convert(t => t.to(device, non_blocking: non_blocking), device);
    }
    protected override nn.Module _to(ScalarType dtype, bool non_blocking) => Convert(t => t.to(dtype, non_blocking: non_blocking), null);

    private nn.Module Convert(Func<Tensor, Tensor> convert, Device? device)
    {
        if (device is not null) TorchDevices.EnsureAvailable(device);
        // Handles are read before anything is replaced: a layer's setter disposes the tensor it held, which a tied
        // parameter's other holders still list.
        var owners = new List<(nn.Module module, string name, Parameter parameter, IntPtr handle)>();
        foreach (var m in named_modules().Select(m => m.module).Prepend(this))
            foreach (var (name, p) in m.named_parameters(recurse: false)) owners.Add((m, name, p, p.Handle));
        var converted = new Dictionary<IntPtr, Parameter>();
        using (no_grad())
        {
            foreach (var (_, _, p, handle) in owners)
            {
                if (converted.ContainsKey(handle)) continue;
                bool floating = p.dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;
                var moved = floating ? convert(p) : device is null ? p.alias() : p.to(device);
                converted[handle] = new Parameter(moved.DetachFromDisposeScope(), p.requires_grad);
            }
        }
        // TorchSharp's layers first: their setters read the old tensor's handle, ours do not (the old one is disposed
        // by whichever holder is set first).
        foreach (var (module, name, _, handle) in owners.OrderBy(o => o.module is IParameterOwner ? 1 : 0))
            SetParameter(module, name, converted[handle]);
        // Buffers (BatchNorm's running statistics) are never tied: each holder's is converted and set by name.
        foreach (var m in named_modules().Select(m => m.module).Prepend(this))
        {
            foreach (var (name, buffer) in m.named_buffers(recurse: false).ToList())
            {
                bool floating = buffer.dtype is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;
                Tensor moved;
                using (no_grad()) moved = (floating ? convert(buffer) : device is null ? buffer.alias() : buffer.to(device)).DetachFromDisposeScope();
                var property = m.GetType().GetProperty(name, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);
                if (property?.SetMethod is null || !property.PropertyType.IsAssignableFrom(typeof(Tensor)))
                {
                    moved.Dispose();
                    throw new NotSupportedException($"Cannot move buffer '{name}' of {m.GetType().Name}: it has no settable property of that name.");
                }
                property.SetValue(m, moved);
            }
        }
        DropDerivedWeights();
        return this;
    }

    private static void SetParameter(nn.Module module, string name, Parameter value)
    {
        if (module is IParameterOwner owner)
        {
            owner.SetParameter(name, value);
            return;
        }
        var property = module.GetType().GetProperty(name, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance);
        if (property?.SetMethod is null)
            throw new NotSupportedException($"Cannot move parameter '{name}' of {module.GetType().Name}: it has no settable property of that name.");
        property.SetValue(module, value);
    }

    public override void train(bool train = true)
    {
        base.train(train);
        DropDerivedWeights();
    }

    private void DropDerivedWeights()
    {
        foreach (var (_, m) in named_modules())
            if (m is IDerivedWeights d) d.DropDerivedWeights();
    }

    /// <summary>Initializes every parameter as Hugging Face's _init_weights does (normal(0, initializer_range) for
    /// linear and embedding weights, zero biases and padding rows, unit LayerNorm).</summary>
    public void InitWeights()
    {
        var all = named_modules().ToList();
        foreach (var (_, m) in all) InitLayer(m, InitializerRange);
        foreach (var (_, m) in all)
            if (m is IInitWeights own) own.InitWeights(InitializerRange);
        if (this is IInitWeights self) self.InitWeights(InitializerRange);
        DropDerivedWeights();
    }

    private static void InitLayer(nn.Module m, double range)
    {
        using var _ = no_grad();
        switch (m)
        {
            case Linear l:
                nn.init.normal_(l.weight, 0, range);
                if (l.bias is { } b) nn.init.zeros_(b);
                break;
            case EmbeddingTable e:
                nn.init.normal_(e.weight, 0, range);
                e.ZeroPaddingRow();
                break;
            case LayerNorm n:
                if (n.weight is { } w) nn.init.ones_(w);
                if (n.bias is { } nb) nn.init.zeros_(nb);
                break;
        }
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

        // Shapes first, from the headers alone: nothing is copied into a model the checkpoint does not fit.
        var plan = new List<(Tensor tensor, string key)>();
        var missing = new List<string>();
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
            _ = ToScalarType(info.DType, key);
            plan.Add((tensor, key));
        }

        var loaded = new HashSet<IntPtr>();
        var nonFinite = new List<string>();
        using (no_grad())
        {
            foreach (var (tensor, key) in plan)
            {
                var info = ckpt.Get(key);
                TensorCopy.FromHost(tensor, ckpt.GetPointer(key), info.ByteLength, info.Shape, ToScalarType(info.DType, key));
                loaded.Add(tensor.Handle);
                if (tensor.is_floating_point())
                {
                    using var scope = NewDisposeScope();
                    if (!tensor.isfinite().all().item<bool>()) nonFinite.Add(key);
                }
            }
        }
        var used = plan.Select(p => p.key).ToHashSet(StringComparer.Ordinal);
        var unexpected = fileKeys.Where(k => !used.Contains(k) && !k.EndsWith(".position_ids", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();

        // Layers whose parameters the checkpoint lacked start from the family's initialization, as in Hugging Face.
        // Layers of our own (IInitWeights: padding rows, a head's bias) redo their part when anything under them was reset.
        var modules = named_modules().ToList();
        var reset = modules.Where(m => m.module.named_parameters(recurse: false).Any(p => !loaded.Contains(p.parameter.Handle))).ToList();
        foreach (var (_, m) in reset) InitLayer(m, InitializerRange);
        foreach (var (name, m) in modules)
            if (m is IInitWeights own && reset.Any(r => r.name == name || r.name.StartsWith(name + ".", StringComparison.Ordinal)))
                own.InitWeights(InitializerRange);
        DropDerivedWeights();
        LoadingInfo = new LoadingInfo(missing, unexpected, folder) { NonFiniteKeys = nonFinite };
        return LoadingInfo;
    }

    /// <summary>Every parameter and persistent buffer once, with all the names it has (tied weights have several), in state_dict order.</summary>
    private List<(Tensor tensor, List<string> names)> GroupTiedNames()
    {
        var groups = new List<(Tensor, List<string>)>();
        var index = new Dictionary<IntPtr, List<string>>();
        void Add(string name, Tensor t)
        {
            if (!index.TryGetValue(t.Handle, out var names))
            {
                names = [];
                index[t.Handle] = names;
                groups.Add((t, names));
            }
            names.Add(name);
        }
        foreach (var (name, p) in named_parameters(recurse: false)) Add(name, p);
        foreach (var (name, b) in named_buffers(recurse: false, include_nonpersistent: false)) Add(name, b);
        foreach (var (prefix, m) in named_modules())
        {
            foreach (var (name, p) in m.named_parameters(recurse: false)) Add($"{prefix}.{name}", p);
            foreach (var (name, b) in m.named_buffers(recurse: false, include_nonpersistent: false)) Add($"{prefix}.{name}", b);
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

    internal static SafeTensorDType ToSafeTensorDType(ScalarType t) => t switch
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
    /// Writes config.json and model.safetensors (parameters and persistent buffers, as state_dict) into <paramref name="folder"/> (created if needed; weights of an earlier
    /// sharded save there are removed). Tied weights are written once, under their first name, as Hugging Face does. Each
    /// tensor is streamed from libtorch's memory into the file (no managed copy). The save is all-or-nothing for the
    /// folder, even if the process is killed: loaders see the new config and weights together or the old ones.
    /// </summary>
    public void SavePretrained(string folder)
    {
        using var save = AtomicFolder.Begin(folder);
        SaveInto(save);
        save.Commit();
    }

    /// <summary>Stages config.json and model.safetensors into a folder save (see <see cref="SavePretrained"/>).</summary>
    internal void SaveInto(AtomicFolder save)
    {
        // state_dict order: parameters, then persistent buffers (BatchNorm running statistics, Swin's relative position index)
        var tensors = named_parameters().Select(p => (p.name, tensor: (Tensor)p.parameter)).Concat(named_buffers(include_nonpersistent: false).Select(b => (name: b.Item1, tensor: b.Item2)));
        var entries = tensors.Select(p => new SafeTensorStreamEntry(p.name, ToSafeTensorDType(p.tensor.dtype), p.tensor.shape,
            stream => TensorCopy.ToStream(p.tensor, stream))).ToList();
        var dtype = named_parameters().Select(p => p.parameter.dtype).FirstOrDefault(t => t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64, ScalarType.Float32);
        SafeTensorsWriter.WriteStreaming(save.PathOf(SafeTensorsWriter.SingleFileName), entries, new Dictionary<string, string> { ["format"] = "pt" });
        save.RemoveStale("model-*-of-*.safetensors");
        save.RemoveStale(SafeTensorsWriter.IndexFileName);
        Config.TorchDtype = TorchDtypes.Name(dtype);
        Config.SavePretrained(save.Staging);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            // Wait for forwards already running on other threads; new ones see _disposed and throw.
            var spin = new SpinWait();
            while (Volatile.Read(ref _active) != 0) spin.SpinOnce();
            foreach (var (_, m) in named_modules())
                if (m is IDerivedWeights d) d.DropDerivedWeights();
        }
        base.Dispose(disposing);
    }
}
