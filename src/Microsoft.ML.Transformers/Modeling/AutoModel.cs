using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Engines;
using Microsoft.ML.Transformers.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;
using Microsoft.ML.Transformers.Models.Bert;
using Microsoft.ML.Transformers.Models.DistilBert;
using Microsoft.ML.Transformers.Models.Roberta;
using Microsoft.ML.Transformers.Models.ResNet;
using Microsoft.ML.Transformers.Models.ConvNext;
using Microsoft.ML.Transformers.Models.Swin;
using Microsoft.ML.Transformers.Models.UperNet;
using Microsoft.ML.Transformers.Models.Detr;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// model_type -> factory for one kind of head (Hugging Face's MODEL_FOR_..._MAPPING). Users add their own
/// architectures with <see cref="Register"/>; nothing dispatches through a switch.
/// </summary>
public sealed class ModelRegistry(string name)
{
    private readonly Dictionary<string, Func<PretrainedConfig, PreTrainedModel>> _factories = new(StringComparer.Ordinal);

    public string Name { get; } = name;

    public IReadOnlyCollection<string> ModelTypes
    {
        get { lock (_factories) return _factories.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    public void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory)
    {
        lock (_factories) _factories[modelType] = factory;
    }

    public bool Supports(string modelType)
    {
        lock (_factories) return _factories.ContainsKey(modelType);
    }

    /// <summary>A model with freshly initialized weights for <paramref name="config"/>.</summary>
    public PreTrainedModel FromConfig(PretrainedConfig config)
    {
        var model = Create(config, config.ModelType ?? "(none)");
        model.InitWeights();
        model.eval();
        return model;
    }

    /// <summary>Loads config.json and the weights of a checkpoint folder; the model is returned in eval mode, as Hugging Face does.
    /// <see cref="ModelLoadOptions.Device"/> and <see cref="ModelLoadOptions.TorchDtype"/> place and convert the model
    /// before the weights are copied in, so the weights go straight from the memory-mapped file to their final tensors.</summary>
    public PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => FromPretrained(folder, options, null);

    /// <summary><see cref="FromPretrained(string, ModelLoadOptions?)"/> with the config adjusted before the model is built
    /// (AutoBackbone's out_features / out_indices).</summary>
    public PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options, Action<PretrainedConfig>? configure)
    {
        var config = AutoConfig.FromPretrained(folder);
        configure?.Invoke(config);
        var device = TorchDevices.Parse(options?.Device);
        var dtype = ResolveDtype(folder, config, options?.TorchDtype);
        CheckSizeAgainstCheckpoint(folder, config);
        var model = Create(config, Path.Combine(folder, "config.json"));
        try
        {
            if (dtype != ScalarType.Float32) model.to(dtype);
            if (device.type != DeviceType.CPU) model.to(device);
            var info = model.LoadWeights(folder);
            options?.Log?.Invoke(info.ToString());
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Parameters a config may describe beyond what its checkpoint holds (heads and layers the checkpoint lacks
    /// start from their initialization): a factor for estimates that are rough, plus 64M for a fresh head.</summary>
    private const double SizeFactor = 8, SizeSlack = 1 << 26;

    /// <summary>Refuses, from the safetensors headers alone and before any layer is allocated, a config describing a model
    /// far larger than its checkpoint (config sizes no checkpoint backs). The body's estimate is rough and gets the
    /// factor; the classification head's size is exact and is either in the checkpoint or fresh, so it gets only the
    /// slack (num_labels 2^20 over bert-base is an 805M-parameter head, within 8 times the body's 110M).</summary>
    private static void CheckSizeAgainstCheckpoint(string folder, PretrainedConfig config)
    {
        if (config.EstimatedParameters is not double body) return;
        double head = config.HeadParameters, estimate = body + head;
        if (estimate <= SizeSlack) return;
        long held;
        using (var ckpt = SafeTensorsCheckpoint.Open(folder)) held = ckpt.Keys.Sum(k => ckpt.Get(k).ElementCount);
        bool headTooLarge = head > held + SizeSlack;
        if (estimate <= SizeFactor * held + SizeSlack && !headTooLarge) return;
        string labels = config.LabelsKey;
        IReadOnlyList<string> keys = headTooLarge ? [labels, .. config.SizeKeys] : [.. config.SizeKeys, labels];
        var sizes = string.Join(", ", keys.Select(k => $"{k} = {DescribeSize(config, k)}"));
        throw new ConfigException(config.Source, keys[0],
            $"describes a model of about {estimate:0.###e0} parameters ({(headTooLarge ? $"{head:0.###e0} in the classification head; " : "")}{sizes}) " +
            $"but the checkpoint in '{folder}' holds {held}; refusing to allocate a model its weights cannot fill. " +
            "Check that config.json belongs to these weights.");
    }

    /// <summary>A size key's value as the file has it, "(default) value" when absent; dotted keys reach into nested configs.</summary>
    private static string DescribeSize(PretrainedConfig config, string key)
    {
        if (key == "id2label") return $"{config.NumLabels} labels";
        if (key == "num_labels") return config.NumLabels.ToString(System.Globalization.CultureInfo.InvariantCulture);
        System.Text.Json.Nodes.JsonNode? node = config.Raw;
        foreach (var part in key.Split('.')) node = (node as System.Text.Json.Nodes.JsonObject)?[part];
        if (node is not null) return node.ToJsonString();
        return key.Contains('.') ? "(default)" : "(default) " + config.Get<System.Text.Json.Nodes.JsonNode>(key)?.ToJsonString();
    }

    /// <summary>Hugging Face's torch_dtype: float32 unless asked; "auto" takes config.json's torch_dtype, else the
    /// checkpoint's first floating-point dtype.</summary>
    private static ScalarType ResolveDtype(string folder, PretrainedConfig config, string? requested)
    {
        if (requested is null) return ScalarType.Float32;
        if (!requested.Equals("auto", StringComparison.OrdinalIgnoreCase)) return TorchDtypes.Parse(requested, "ModelLoadOptions.TorchDtype");
        if (config.TorchDtype is { } fromConfig) return TorchDtypes.Parse(fromConfig, Path.Combine(folder, "config.json"));
        using var ckpt = SafeTensorsCheckpoint.Open(folder);
        foreach (var key in ckpt.Keys)
        {
            var t = ckpt.Get(key).DType;
            if (t is SafeTensorDType.F16) return ScalarType.Float16;
            if (t is SafeTensorDType.BF16) return ScalarType.BFloat16;
            if (t is SafeTensorDType.F32) return ScalarType.Float32;
            if (t is SafeTensorDType.F64) return ScalarType.Float64;
        }
        return ScalarType.Float32;
    }

    private PreTrainedModel Create(PretrainedConfig config, string source)
    {
        Func<PretrainedConfig, PreTrainedModel>? factory;
        lock (_factories) _factories.TryGetValue(config.ModelType ?? "", out factory);
        if (factory is null)
            throw new NotSupportedException(
                $"{Name} has no model for model_type \"{config.ModelType}\" ({source}). Registered: {string.Join(", ", ModelTypes)}. " +
                $"Add one with {Name}.Register(modelType, factory).");
        return factory(config);
    }
}

/// <summary>The built-in registries, filled with the architectures this library ships.</summary>
public static class ModelRegistries
{
    public static ModelRegistry Base { get; } = new("AutoModel");
    public static ModelRegistry SequenceClassification { get; } = new("AutoModelForSequenceClassification");
    public static ModelRegistry TokenClassification { get; } = new("AutoModelForTokenClassification");
    public static ModelRegistry QuestionAnswering { get; } = new("AutoModelForQuestionAnswering");
    public static ModelRegistry MaskedLM { get; } = new("AutoModelForMaskedLM");
    public static ModelRegistry ImageClassification { get; } = new("AutoModelForImageClassification");
    public static ModelRegistry Backbone { get; } = new("AutoBackbone");
    public static ModelRegistry SemanticSegmentation { get; } = new("AutoModelForSemanticSegmentation");
    public static ModelRegistry ObjectDetection { get; } = new("AutoModelForObjectDetection");

    static ModelRegistries()
    {
        Base.Register("bert", c => new BertModel(As<BertConfig>(c)));
        SequenceClassification.Register("bert", c => new BertForSequenceClassification(As<BertConfig>(c)));
        TokenClassification.Register("bert", c => new BertForTokenClassification(As<BertConfig>(c)));
        QuestionAnswering.Register("bert", c => new BertForQuestionAnswering(As<BertConfig>(c)));
        MaskedLM.Register("bert", c => new BertForMaskedLM(As<BertConfig>(c)));

        Base.Register("roberta", c => new RobertaModel(As<RobertaConfig>(c)));
        SequenceClassification.Register("roberta", c => new RobertaForSequenceClassification(As<RobertaConfig>(c)));
        TokenClassification.Register("roberta", c => new RobertaForTokenClassification(As<RobertaConfig>(c)));
        QuestionAnswering.Register("roberta", c => new RobertaForQuestionAnswering(As<RobertaConfig>(c)));
        MaskedLM.Register("roberta", c => new RobertaForMaskedLM(As<RobertaConfig>(c)));

        Base.Register("distilbert", c => new DistilBertModel(As<DistilBertConfig>(c)));
        SequenceClassification.Register("distilbert", c => new DistilBertForSequenceClassification(As<DistilBertConfig>(c)));
        TokenClassification.Register("distilbert", c => new DistilBertForTokenClassification(As<DistilBertConfig>(c)));
        QuestionAnswering.Register("distilbert", c => new DistilBertForQuestionAnswering(As<DistilBertConfig>(c)));
        MaskedLM.Register("distilbert", c => new DistilBertForMaskedLM(As<DistilBertConfig>(c)));

        Base.Register("resnet", c => new ResNetModel(As<ResNetConfig>(c)));
        ImageClassification.Register("resnet", c => new ResNetForImageClassification(As<ResNetConfig>(c)));
        Backbone.Register("resnet", c => new ResNetBackbone(As<ResNetConfig>(c)));

        Base.Register("convnext", c => new ConvNextModel(As<ConvNextConfig>(c)));
        ImageClassification.Register("convnext", c => new ConvNextForImageClassification(As<ConvNextConfig>(c)));
        Backbone.Register("convnext", c => new ConvNextBackbone(As<ConvNextConfig>(c)));

        Base.Register("swin", c => new SwinModel(As<SwinConfig>(c)));
        ImageClassification.Register("swin", c => new SwinForImageClassification(As<SwinConfig>(c)));
        Backbone.Register("swin", c => new SwinBackbone(As<SwinConfig>(c)));

        SemanticSegmentation.Register("upernet", c => new UperNetForSemanticSegmentation(As<UperNetConfig>(c)));
        Base.Register("detr", c => new DetrModel(As<DetrConfig>(c)));
        ObjectDetection.Register("detr", c => new DetrForObjectDetection(As<DetrConfig>(c)));
    }

    private static T As<T>(PretrainedConfig c) where T : PretrainedConfig =>
        c as T ?? throw new ArgumentException($"model_type \"{c.ModelType}\" needs a {typeof(T).Name}, got {c.GetType().Name}.");
}

public static class AutoModel
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.Base.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.Base.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.Base.Register(modelType, factory);
}

public static class AutoModelForSequenceClassification
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.SequenceClassification.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.SequenceClassification.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.SequenceClassification.Register(modelType, factory);
}

public static class AutoModelForTokenClassification
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.TokenClassification.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.TokenClassification.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.TokenClassification.Register(modelType, factory);
}

public static class AutoModelForQuestionAnswering
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.QuestionAnswering.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.QuestionAnswering.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.QuestionAnswering.Register(modelType, factory);
}

public static class AutoModelForMaskedLM
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.MaskedLM.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.MaskedLM.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.MaskedLM.Register(modelType, factory);
}

public static class AutoModelForSemanticSegmentation
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.SemanticSegmentation.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.SemanticSegmentation.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.SemanticSegmentation.Register(modelType, factory);
}

public static class AutoModelForImageClassification
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.ImageClassification.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.ImageClassification.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.ImageClassification.Register(modelType, factory);
}

public static class AutoModelForObjectDetection
{
    public static PreTrainedModel FromPretrained(string folder, ModelLoadOptions? options = null) => ModelRegistries.ObjectDetection.FromPretrained(folder, options);
    public static PreTrainedModel FromConfig(PretrainedConfig config) => ModelRegistries.ObjectDetection.FromConfig(config);
    public static void Register(string modelType, Func<PretrainedConfig, PreTrainedModel> factory) => ModelRegistries.ObjectDetection.Register(modelType, factory);
}

/// <summary>
/// Hugging Face's AutoBackbone: a backbone for the checkpoint's model_type returning the feature maps of the stages
/// named by <c>outFeatures</c> and/or <c>outIndices</c> (aligned and checked as transformers' backbone_utils does; neither
/// means config.json's values, else the last stage). Users add architectures with <see cref="Register"/>.
/// </summary>
public static class AutoBackbone
{
    public static BackboneModel FromPretrained(string folder, IReadOnlyList<string>? outFeatures = null, IReadOnlyList<int>? outIndices = null, ModelLoadOptions? options = null) =>
        (BackboneModel)ModelRegistries.Backbone.FromPretrained(folder, options, c => Configure(c, outFeatures, outIndices));

    public static BackboneModel FromConfig(PretrainedConfig config, IReadOnlyList<string>? outFeatures = null, IReadOnlyList<int>? outIndices = null)
    {
        Configure(config, outFeatures, outIndices);
        return (BackboneModel)ModelRegistries.Backbone.FromConfig(config);
    }

    public static void Register(string modelType, Func<PretrainedConfig, BackboneModel> factory) => ModelRegistries.Backbone.Register(modelType, factory);

    /// <summary>
    /// The backbone of a head (transformers' <c>load_backbone</c>): with <c>use_pretrained_backbone</c>, the weights of the
    /// checkpoint folder named by <c>backbone</c>; otherwise a freshly initialized backbone built from
    /// <c>backbone_config</c> (or from the config.json of the <c>backbone</c> folder). <c>backbone_kwargs</c> are set on a
    /// config read from the folder. Any model type registered with <see cref="Register"/> (and its config with
    /// <see cref="AutoConfig.Register"/>) can serve.
    /// </summary>
    /// <exception cref="ConfigException">the keys contradict each other, as Hugging Face words it, or <c>backbone</c> is
    /// not a folder.</exception>
    /// <exception cref="NotSupportedException">use_timm_backbone is true, or the model type has no registered backbone.</exception>
    public static BackboneModel LoadBackbone(BackboneHeadConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var kwargs = config.BackboneKwargs;
        bool hasConfig = config.Raw["backbone_config"] is not null;
        var folder = config.Backbone;
        var usePretrained = config.UsePretrainedBackbone;
        if (kwargs is { Count: > 0 } && hasConfig)
            throw new ConfigException(config.Source, "backbone_kwargs", "You can't specify both `backbone_kwargs` and `backbone_config`.");
        // With both a backbone_config and a checkpoint, which one should define the backbone is ill-defined.
        if (hasConfig && folder is not null && usePretrained is not null)
            throw new ConfigException(config.Source, "backbone", "Cannot specify both config.backbone_config and config.backbone");
        if (config.UseTimmBackbone)
            throw new NotSupportedException($"Config '{config.Source}', key 'use_timm_backbone': a {config.ModelType} head cannot take a timm backbone " +
                $"(timm has no .NET port; DETR builds timm's {string.Join(", ", Models.Detr.TimmResNetBackbone.SupportedNames)} itself). Set use_timm_backbone " +
                "to false and describe the backbone with backbone_config (e.g. a \"resnet\" config), as Hugging Face's no-timm checkpoints do.");
        if (usePretrained == true)
        {
            if (folder is null)
                throw new ConfigException(config.Source, "backbone", "config.backbone must be set if use_pretrained_backbone is True");
            return (BackboneModel)ModelRegistries.Backbone.FromPretrained(BackboneFolder(config, folder), null, c => ApplyKwargs(c, kwargs, config));
        }
        var backboneConfig = config.BackboneConfig;
        if (backboneConfig is null)
        {
            if (folder is null)
                throw new ConfigException(config.Source, "backbone_config", "Either config.backbone_config or config.backbone must be set");
            backboneConfig = AutoConfig.FromPretrained(BackboneFolder(config, folder));
            ApplyKwargs(backboneConfig, kwargs, config);
        }
        return ModelRegistries.Backbone.FromConfig(backboneConfig) as BackboneModel
            ?? throw new NotSupportedException($"The factory registered in AutoBackbone for model_type \"{backboneConfig.ModelType}\" does not build a BackboneModel.");
    }

    private static string BackboneFolder(BackboneHeadConfig config, string folder)
    {
        var full = Path.GetFullPath(folder);
        if (!File.Exists(Path.Combine(full, PretrainedConfig.ConfigFileName)))
            throw new ConfigException(config.Source, "backbone",
                $"expected a local checkpoint folder holding {PretrainedConfig.ConfigFileName} (no model hub is reachable), found \"{folder}\" ('{full}' has no {PretrainedConfig.ConfigFileName}).");
        return full;
    }

    /// <summary>backbone_kwargs onto a backbone config read from a folder: out_features / out_indices aligned together, other keys set as given.</summary>
    private static void ApplyKwargs(PretrainedConfig backbone, System.Text.Json.Nodes.JsonObject? kwargs, BackboneHeadConfig head)
    {
        if (kwargs is null || kwargs.Count == 0) return;
        foreach (var (key, value) in kwargs)
            if (key is not ("out_features" or "out_indices")) backbone.Raw[key] = value?.DeepClone();
        // Read through a config over the kwargs so a value of the wrong type is reported with the head's file.
        var given = new PretrainedConfig(kwargs, $"{head.Source} (backbone_kwargs)");
        var features = given.Get<List<string>>("out_features");
        var indices = given.Get<List<int>>("out_indices");
        if (features is not null || indices is not null) Configure(backbone, features, indices);
        backbone.Validate();
    }

    private static void Configure(PretrainedConfig config, IReadOnlyList<string>? outFeatures, IReadOnlyList<int>? outIndices)
    {
        if (outFeatures is null && outIndices is null) return;
        if (config is not VisionBackboneConfig b)
            throw new NotSupportedException($"model_type \"{config.ModelType}\" ({config.Source}) has no backbone stages: its config is a {config.GetType().Name}.");
        b.SetOut(outFeatures, outIndices);
    }
}
