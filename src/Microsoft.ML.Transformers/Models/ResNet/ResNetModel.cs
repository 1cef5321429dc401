using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.ResNet;

// ResNet as Hugging Face's modeling_resnet.py: conv-BN-activation layers, basic (two 3x3) or bottleneck (1x1, 3x3, 1x1)
// residual layers, stride 2 in the first layer of every stage but the first.

/// <summary>Conv (no bias, padding k/2) -> BatchNorm -> activation (none for the last conv of a residual branch).</summary>
internal sealed class ResNetConvLayer : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d convolution;
    private readonly BatchNorm2d normalization;
    private readonly Func<Tensor, Tensor>? _act;

    public ResNetConvLayer(long inChannels, long outChannels, long kernelSize = 3, long stride = 1, string? activation = "relu") : base(nameof(ResNetConvLayer))
    {
        register_module("convolution", convolution = nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2, bias: false));
        register_module("normalization", normalization = nn.BatchNorm2d(outChannels));
        _act = activation is null ? null : Activations.Get(activation);
    }

    public override Tensor forward(Tensor x)
    {
        var h = BatchNorms.Forward(normalization, convolution.forward(x));
        return _act is null ? h : _act(h);
    }
}

/// <summary>1x1 conv + BatchNorm projecting the residual when the shape changes.</summary>
internal sealed class ResNetShortCut : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d convolution;
    private readonly BatchNorm2d normalization;

    public ResNetShortCut(long inChannels, long outChannels, long stride) : base(nameof(ResNetShortCut))
    {
        register_module("convolution", convolution = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false));
        register_module("normalization", normalization = nn.BatchNorm2d(outChannels));
    }

    public override Tensor forward(Tensor x) => BatchNorms.Forward(normalization, convolution.forward(x));
}

/// <summary>ResNetBasicLayer / ResNetBottleNeckLayer: residual branch "layer", optional "shortcut", activation after the sum.</summary>
internal sealed class ResNetResidualLayer : nn.Module<Tensor, Tensor>
{
    private readonly ResNetShortCut? shortcut;
    private readonly Sequential layer;
    private readonly Func<Tensor, Tensor> _act;

    public ResNetResidualLayer(ResNetConfig c, long inChannels, long outChannels, long stride) : base("ResNetLayer")
    {
        if (inChannels != outChannels || stride != 1)
            register_module("shortcut", shortcut = new ResNetShortCut(inChannels, outChannels, stride));
        if (c.LayerType == "bottleneck")
        {
            long reduced = outChannels / 4;
            layer = nn.Sequential(
                new ResNetConvLayer(inChannels, reduced, kernelSize: 1, stride: c.DownsampleInBottleneck ? stride : 1),
                new ResNetConvLayer(reduced, reduced, stride: c.DownsampleInBottleneck ? 1 : stride),
                new ResNetConvLayer(reduced, outChannels, kernelSize: 1, activation: null));
        }
        else if (c.LayerType == "basic")
        {
            layer = nn.Sequential(
                new ResNetConvLayer(inChannels, outChannels, stride: stride),
                new ResNetConvLayer(outChannels, outChannels, activation: null));
        }
        else throw new NotSupportedException($"config.json: layer_type \"{c.LayerType}\" is not supported; expected \"basic\" or \"bottleneck\".");
        register_module("layer", layer);
        _act = Activations.Get(c.HiddenAct);
    }

    public override Tensor forward(Tensor x)
    {
        var residual = shortcut is null ? x : shortcut.forward(x);
        return _act(layer.forward(x).add_(residual));
    }
}

internal sealed class ResNetStage : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public ResNetStage(ResNetConfig c, long inChannels, long outChannels, long stride, int depth) : base(nameof(ResNetStage))
    {
        var list = new List<nn.Module<Tensor, Tensor>> { new ResNetResidualLayer(c, inChannels, outChannels, stride) };
        for (int i = 1; i < depth; i++) list.Add(new ResNetResidualLayer(c, outChannels, outChannels, 1));
        register_module("layers", layers = nn.Sequential(list));
    }

    public override Tensor forward(Tensor x) => layers.forward(x);
}

/// <summary>The stem: 7x7 stride-2 conv layer, then 3x3 stride-2 max pool.</summary>
internal sealed class ResNetEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly ResNetConvLayer embedder;
    private readonly MaxPool2d pooler;
    private readonly int _channels;

    public ResNetEmbeddings(ResNetConfig c) : base(nameof(ResNetEmbeddings))
    {
        register_module("embedder", embedder = new ResNetConvLayer(c.NumChannels, c.EmbeddingSize, kernelSize: 7, stride: 2, activation: c.HiddenAct));
        register_module("pooler", pooler = nn.MaxPool2d(3, stride: 2, padding: 1));
        _channels = c.NumChannels;
    }

    public override Tensor forward(Tensor pixels)
    {
        VisionChecks.PixelValues(pixels, _channels, "resnet");
        return pooler.forward(embedder.forward(pixels));
    }
}

internal sealed class ResNetEncoder : nn.Module
{
    private readonly ModuleList<ResNetStage> stages;

    public ResNetEncoder(ResNetConfig c) : base(nameof(ResNetEncoder))
    {
        var h = c.HiddenSizes;
        if (h.Count != c.Depths.Count) throw new ConfigException(c.Source, "hidden_sizes", $"has {h.Count} entries but depths has {c.Depths.Count}; expected one per stage.");
        var list = new List<ResNetStage> { new(c, c.EmbeddingSize, h[0], c.DownsampleInFirstStage ? 2 : 1, c.Depths[0]) };
        for (int i = 1; i < h.Count; i++) list.Add(new ResNetStage(c, h[i - 1], h[i], 2, c.Depths[i]));
        register_module("stages", stages = nn.ModuleList(list.ToArray()));
    }

    /// <summary>The last stage's output and, when <paramref name="all"/> is given, the input followed by every stage's output.</summary>
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

/// <summary>The bare ResNet: last_hidden_state [B, C, H, W], pooler_output [B, C, 1, 1], hidden_states (stem then each stage).</summary>
public sealed class ResNetModel : PreTrainedModel
{
    private readonly ResNetEmbeddings embedder;
    private readonly ResNetEncoder encoder;

    public ResNetModel(ResNetConfig config) : base(config)
    {
        register_module("embedder", embedder = new ResNetEmbeddings(config));
        register_module("encoder", encoder = new ResNetEncoder(config));
    }

    public override string BaseModelPrefix => "resnet";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var all = inputs.OutputHiddenStates || Config.OutputHiddenStates ? new List<Tensor>() : null;
        var last = encoder.forward(embedder.forward(inputs.RequirePixelValues()), all);
        return new ModelOutput { LastHiddenState = last, PoolerOutput = F.adaptive_avg_pool2d(last, [1, 1]), HiddenStates = all };
    }
}

/// <summary>ResNet + flatten + linear "classifier.1" over the pooled features; loss by problem_type.</summary>
public sealed class ResNetForImageClassification : PreTrainedModel
{
    private readonly ResNetModel resnet;
    private readonly Sequential classifier;

    public ResNetForImageClassification(ResNetConfig config) : base(config)
    {
        register_module("resnet", resnet = new ResNetModel(config));
        register_module("classifier", classifier = nn.Sequential(nn.Flatten(),
            config.NumLabels > 0 ? nn.Linear(config.HiddenSizes[^1], config.NumLabels) : nn.Identity()));
    }

    public override string BaseModelPrefix => "resnet";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = resnet.forward(inputs);
        var logits = classifier.forward(o.PoolerOutput!);
        return VisionHeads.Classification(logits, inputs, Config, o);
    }
}

/// <summary>ResNet feature maps of the stages in out_features ("stem" is the embedder's output).</summary>
public sealed class ResNetBackbone : BackboneModel
{
    private readonly ResNetEmbeddings embedder;
    private readonly ResNetEncoder encoder;

    public ResNetBackbone(ResNetConfig config) : base(config)
    {
        register_module("embedder", embedder = new ResNetEmbeddings(config));
        register_module("encoder", encoder = new ResNetEncoder(config));
        NumFeatures = [config.EmbeddingSize, .. config.HiddenSizes];
    }

    public override string BaseModelPrefix => "resnet";

    public override string MainInputName => "pixel_values";

    public override IReadOnlyList<int> NumFeatures { get; }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var all = new List<Tensor>();
        encoder.forward(embedder.forward(inputs.RequirePixelValues()), all);
        return new ModelOutput { FeatureMaps = Select(all), HiddenStates = inputs.OutputHiddenStates || Config.OutputHiddenStates ? all : null };
    }
}
