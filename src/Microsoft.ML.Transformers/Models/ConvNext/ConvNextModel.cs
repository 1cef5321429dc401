using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.ConvNext;

// ConvNeXt v1 as Hugging Face's modeling_convnext.py: patchify stem, stages of depthwise 7x7 conv -> LayerNorm ->
// MLP (4x) -> layer scale, residual; LayerNorm + 2x2 stride-2 conv between stages.

/// <summary>ConvNextLayerNorm over channels_first [B, C, H, W] (normalizes dim 1) or channels_last [..., C].</summary>
internal sealed class ConvNextLayerNorm : nn.Module<Tensor, Tensor>, IParameterOwner
{
    private Parameter _weight, _bias;
    private readonly double _eps;
    private readonly bool _channelsFirst;

    public ConvNextLayerNorm(long channels, double eps = 1e-6, bool channelsFirst = false) : base("LayerNorm")
    {
        (_eps, _channelsFirst) = (eps, channelsFirst);
        register_parameter("weight", _weight = new Parameter(ones(channels)));
        register_parameter("bias", _bias = new Parameter(zeros(channels)));
    }

    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor x)
    {
        if (!_channelsFirst) return F.layer_norm(x, [_weight.shape[0]], _weight, _bias, _eps);
        // PyTorch's layer_norm over the last dim after moving channels there equals HF's explicit mean/var formula.
        return F.layer_norm(x.permute(0, 2, 3, 1), [_weight.shape[0]], _weight, _bias, _eps).permute(0, 3, 1, 2);
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        var p = (Parameter)value.DetachFromDisposeScope();
        if (name == "weight") { _weight = p; ConditionallyRegisterParameter("weight", p); }
        else if (name == "bias") { _bias = p; ConditionallyRegisterParameter("bias", p); }
        else throw new ArgumentException($"ConvNextLayerNorm has no parameter '{name}'.");
    }
}

internal sealed class ConvNextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d patch_embeddings;
    private readonly ConvNextLayerNorm layernorm;
    private readonly int _channels;

    public ConvNextEmbeddings(ConvNextConfig c) : base(nameof(ConvNextEmbeddings))
    {
        register_module("patch_embeddings", patch_embeddings = nn.Conv2d(c.NumChannels, c.HiddenSizes[0], c.PatchSize, stride: c.PatchSize));
        register_module("layernorm", layernorm = new ConvNextLayerNorm(c.HiddenSizes[0], 1e-6, channelsFirst: true));
        _channels = c.NumChannels;
    }

    public override Tensor forward(Tensor pixels)
    {
        VisionChecks.PixelValues(pixels, _channels, "convnext");
        return layernorm.forward(patch_embeddings.forward(pixels));
    }
}

/// <summary>ConvNextLayer: dwconv -> (channels last) layernorm -> pwconv1 -> act -> pwconv2 -> layer scale, plus the input.</summary>
internal sealed class ConvNextLayer : nn.Module<Tensor, Tensor>, IParameterOwner
{
    private readonly Conv2d dwconv;
    private readonly ConvNextLayerNorm layernorm;
    private readonly Linear pwconv1, pwconv2;
    private Parameter? _layerScale;
    private readonly Func<Tensor, Tensor> _act;

    public ConvNextLayer(ConvNextConfig c, long dim) : base(nameof(ConvNextLayer))
    {
        register_module("dwconv", dwconv = nn.Conv2d(dim, dim, 7, padding: 3, groups: dim));
        register_module("layernorm", layernorm = new ConvNextLayerNorm(dim, 1e-6));
        register_module("pwconv1", pwconv1 = nn.Linear(dim, 4 * dim));
        register_module("pwconv2", pwconv2 = nn.Linear(4 * dim, dim));
        _act = Activations.Get(c.HiddenAct);
        if (c.LayerScaleInitValue > 0)
            register_parameter("layer_scale_parameter", _layerScale = new Parameter(full(dim, c.LayerScaleInitValue)));
    }

    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor input)
    {
        var x = dwconv.forward(input).permute(0, 2, 3, 1);
        x = pwconv2.forward(_act(pwconv1.forward(layernorm.forward(x))));
        if (_layerScale is not null) x = x.mul(_layerScale);
        return input.add(x.permute(0, 3, 1, 2));
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        if (name != "layer_scale_parameter") throw new ArgumentException($"ConvNextLayer has no parameter '{name}'.");
        _layerScale = (Parameter)value.DetachFromDisposeScope();
        ConditionallyRegisterParameter(name, _layerScale);
    }
}

internal sealed class ConvNextStage : nn.Module<Tensor, Tensor>
{
    private readonly Sequential? downsampling_layer;
    private readonly Sequential layers;

    public ConvNextStage(ConvNextConfig c, long inChannels, long outChannels, long stride, int depth) : base(nameof(ConvNextStage))
    {
        if (inChannels != outChannels || stride > 1)
            register_module("downsampling_layer", downsampling_layer = nn.Sequential(
                new ConvNextLayerNorm(inChannels, 1e-6, channelsFirst: true),
                nn.Conv2d(inChannels, outChannels, 2, stride: stride)));
        register_module("layers", layers = nn.Sequential(Enumerable.Range(0, depth).Select(_ => (nn.Module<Tensor, Tensor>)new ConvNextLayer(c, outChannels)).ToArray()));
    }

    public override Tensor forward(Tensor x) => layers.forward(downsampling_layer is null ? x : downsampling_layer.forward(x));
}

internal sealed class ConvNextEncoder : nn.Module
{
    private readonly ModuleList<ConvNextStage> stages;

    public ConvNextEncoder(ConvNextConfig c) : base(nameof(ConvNextEncoder))
    {
        if (c.HiddenSizes.Count != c.NumStages || c.Depths.Count != c.NumStages)
            throw new ConfigException(c.Source, "num_stages", $"is {c.NumStages} but hidden_sizes has {c.HiddenSizes.Count} and depths {c.Depths.Count} entries; expected one per stage.");
        var list = new List<ConvNextStage>();
        long prev = c.HiddenSizes[0];
        for (int i = 0; i < c.NumStages; i++)
        {
            list.Add(new ConvNextStage(c, prev, c.HiddenSizes[i], i > 0 ? 2 : 1, c.Depths[i]));
            prev = c.HiddenSizes[i];
        }
        register_module("stages", stages = nn.ModuleList(list.ToArray()));
    }

    public Tensor forward(Tensor x, List<Tensor>? all)
    {
        all?.Add(x);
        foreach (var stage in stages)
        {
            x = stage.forward(x);
            all?.Add(x);
        }
        return x;
    }
}

/// <summary>The bare ConvNeXt: last_hidden_state [B, C, H, W], pooler_output = LayerNorm(mean over H, W) [B, C].</summary>
public sealed class ConvNextModel : PreTrainedModel
{
    private readonly ConvNextEmbeddings embeddings;
    private readonly ConvNextEncoder encoder;
    private readonly LayerNorm layernorm;

    public ConvNextModel(ConvNextConfig config) : base(config)
    {
        register_module("embeddings", embeddings = new ConvNextEmbeddings(config));
        register_module("encoder", encoder = new ConvNextEncoder(config));
        register_module("layernorm", layernorm = nn.LayerNorm(config.HiddenSizes[^1], config.LayerNormEps));
    }

    public override string BaseModelPrefix => "convnext";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var all = inputs.OutputHiddenStates || Config.OutputHiddenStates ? new List<Tensor>() : null;
        var last = encoder.forward(embeddings.forward(inputs.RequirePixelValues()), all);
        return new ModelOutput { LastHiddenState = last, PoolerOutput = layernorm.forward(last.mean([-2, -1])), HiddenStates = all };
    }
}

/// <summary>ConvNeXt + linear classifier over the pooled output; loss by problem_type.</summary>
public sealed class ConvNextForImageClassification : PreTrainedModel
{
    private readonly ConvNextModel convnext;
    private readonly nn.Module<Tensor, Tensor> classifier;

    public ConvNextForImageClassification(ConvNextConfig config) : base(config)
    {
        register_module("convnext", convnext = new ConvNextModel(config));
        register_module("classifier", classifier = config.NumLabels > 0 ? nn.Linear(config.HiddenSizes[^1], config.NumLabels) : nn.Identity());
    }

    public override string BaseModelPrefix => "convnext";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = convnext.forward(inputs);
        return VisionHeads.Classification(classifier.forward(o.PoolerOutput!), inputs, Config, o);
    }
}

/// <summary>ConvNeXt feature maps, each through its own channels-first LayerNorm (hidden_states_norms.{stage}).</summary>
public sealed class ConvNextBackbone : BackboneModel
{
    private readonly ConvNextEmbeddings embeddings;
    private readonly ConvNextEncoder encoder;
    private readonly ModuleDict<ConvNextLayerNorm> hidden_states_norms;

    public ConvNextBackbone(ConvNextConfig config) : base(config)
    {
        register_module("embeddings", embeddings = new ConvNextEmbeddings(config));
        register_module("encoder", encoder = new ConvNextEncoder(config));
        NumFeatures = [config.HiddenSizes[0], .. config.HiddenSizes];
        hidden_states_norms = nn.ModuleDict<ConvNextLayerNorm>();
        foreach (var (stage, channels) in OutFeatures.Zip(Channels)) hidden_states_norms.Add((stage, new ConvNextLayerNorm(channels, 1e-6, channelsFirst: true)));
        register_module("hidden_states_norms", hidden_states_norms);
    }

    public override string BaseModelPrefix => "convnext";

    public override string MainInputName => "pixel_values";

    public override IReadOnlyList<int> NumFeatures { get; }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var all = new List<Tensor>();
        encoder.forward(embeddings.forward(inputs.RequirePixelValues()), all);
        return new ModelOutput
        {
            FeatureMaps = Select(all, (stage, h) => hidden_states_norms[stage].forward(h)),
            HiddenStates = inputs.OutputHiddenStates || Config.OutputHiddenStates ? all : null,
        };
    }
}
