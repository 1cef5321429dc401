using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Detr;

// timm's ResNet as DETR builds it with use_timm_backbone (timm.create_model(backbone, features_only=True, out_indices,
// in_chans, **backbone_kwargs), output_stride 16 with dilation): the default 7x7 stem and conv-bn-act blocks with the
// stride in the 3x3 conv (torchvision's layout, which timm keeps for weight compatibility), under timm's module names
// (conv1, bn1, layer1.0.conv1, ..., layer2.0.downsample.0 / .1), so a Hugging Face DETR checkpoint's
// model.backbone.conv_encoder.model.* keys load as they are.

/// <summary>A BasicBlock (two 3x3 convs) or Bottleneck (1x1, 3x3, 1x1) of timm's ResNet.</summary>
internal sealed class TimmResNetBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly Conv2d? conv3;
    private readonly BatchNorm2d bn1, bn2;
    private readonly BatchNorm2d? bn3;
    private readonly Sequential? downsample;

    public TimmResNetBlock(bool bottleneck, long inplanes, long planes, long stride, long dilation, long firstDilation) : base(nameof(TimmResNetBlock))
    {
        long outplanes = planes * (bottleneck ? 4 : 1);
        if (bottleneck)
        {
            conv1 = nn.Conv2d(inplanes, planes, 1, bias: false);
            conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: firstDilation, dilation: firstDilation, bias: false);
            conv3 = nn.Conv2d(planes, outplanes, 1, bias: false);
            (bn1, bn2, bn3) = (nn.BatchNorm2d(planes), nn.BatchNorm2d(planes), nn.BatchNorm2d(outplanes));
        }
        else
        {
            conv1 = nn.Conv2d(inplanes, planes, 3, stride: stride, padding: firstDilation, dilation: firstDilation, bias: false);
            conv2 = nn.Conv2d(planes, outplanes, 3, padding: dilation, dilation: dilation, bias: false);
            (bn1, bn2) = (nn.BatchNorm2d(planes), nn.BatchNorm2d(outplanes));
        }
        // timm's downsample_conv with the default kernel size 1: a 1x1 conv (no padding, no dilation) and a batch norm
        if (stride != 1 || inplanes != outplanes)
            downsample = nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride: stride, bias: false), nn.BatchNorm2d(outplanes));
        register_module("conv1", conv1);
        register_module("bn1", bn1);
        register_module("conv2", conv2);
        register_module("bn2", bn2);
        if (conv3 is not null)
        {
            register_module("conv3", conv3);
            register_module("bn3", bn3!);
        }
        if (downsample is not null) register_module("downsample", downsample);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
        y = bn2.forward(conv2.forward(y));
        if (conv3 is not null) y = bn3!.forward(conv3.forward(nn.functional.relu(y)));
        var shortcut = downsample is null ? x : downsample.forward(x);
        return nn.functional.relu(y.add_(shortcut)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// timm's ResNet as a features_only backbone for DETR's <c>use_timm_backbone</c>: <c>backbone</c> names resnet18, resnet34,
/// resnet50 or resnet101; <c>backbone_kwargs</c> may give timm's <c>out_indices</c> (default 1, 2, 3, 4 as DETR's),
/// <c>in_chans</c>, <c>output_stride</c> (8, 16, 32), <c>layers</c>, <c>channels</c> and <c>stem_width</c>; DETR's
/// <c>dilation</c> sets output_stride 16 (the last stage dilated instead of strided). Feature 0 is timm's: the stem after
/// its activation, before the max pool. Stage names are ResNet's (stem, stage1..stage4).
/// </summary>
public sealed class TimmResNetBackbone : BackboneModel
{
    /// <summary>The timm ResNets DETR names: (bottleneck blocks, blocks per stage).</summary>
    private static readonly Dictionary<string, (bool bottleneck, int[] layers)> Variants = new(StringComparer.Ordinal)
    {
        ["resnet18"] = (false, [2, 2, 2, 2]),
        ["resnet34"] = (false, [3, 4, 6, 3]),
        ["resnet50"] = (true, [3, 4, 6, 3]),
        ["resnet101"] = (true, [3, 4, 23, 3]),
    };

    private static readonly string[] KnownKwargs = ["out_indices", "in_chans", "output_stride", "layers", "channels", "stem_width"];

    /// <summary>The timm model names this library builds for use_timm_backbone.</summary>
    public static IReadOnlyCollection<string> SupportedNames => Variants.Keys;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;

    private TimmResNetBackbone(ResNetConfig config, bool bottleneck, int[] layers, int[] channels, int stem, int inChans, int outputStride) : base(config)
    {
        register_module("conv1", conv1 = nn.Conv2d(inChans, stem, 7, stride: 2, padding: 3, bias: false));
        register_module("bn1", bn1 = nn.BatchNorm2d(stem));
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        // timm's make_blocks: once the network's stride reaches output_stride, a stage dilates instead of striding;
        // a stage's first block keeps the previous dilation in its first 3x3 conv.
        var stages = new Sequential[4];
        long inplanes = stem, netStride = 4, dilation = 1, previousDilation = 1;
        for (int s = 0; s < 4; s++)
        {
            long stride = s == 0 ? 1 : 2;
            if (netStride >= outputStride) { dilation *= stride; stride = 1; }
            else netStride *= stride;
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < layers[s]; b++)
            {
                blocks.Add(new TimmResNetBlock(bottleneck, inplanes, channels[s], b == 0 ? stride : 1, dilation, previousDilation));
                previousDilation = dilation;
                inplanes = channels[s] * (bottleneck ? 4 : 1);
            }
            stages[s] = nn.Sequential(blocks);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        register_module("layer1", layer1);
        register_module("layer2", layer2);
        register_module("layer3", layer3);
        register_module("layer4", layer4);
        NumFeatures = [stem, .. config.HiddenSizes];
    }

    /// <summary>Builds the backbone <paramref name="head"/> names with <c>use_timm_backbone</c> (random weights: a DETR
    /// checkpoint carries its backbone's, under model.backbone.conv_encoder.model.*).</summary>
    /// <exception cref="NotSupportedException">another timm model, or a backbone_kwargs key this builder does not take.</exception>
    public static TimmResNetBackbone Create(BackboneHeadConfig head, bool dilation = false)
    {
        ArgumentNullException.ThrowIfNull(head);
        string name = head.Backbone ?? throw new ConfigException(head.Source, "backbone", "use_timm_backbone is true, so backbone must name the timm model (e.g. \"resnet50\").");
        string variant = name.Split('.')[0]; // "resnet50.a1_in1k": timm's pretrained tag does not change the layout
        if (!Variants.TryGetValue(variant, out var spec))
            throw new NotSupportedException($"Config '{head.Source}', key 'backbone': the timm model \"{name}\" cannot be built here; with use_timm_backbone " +
                $"this library builds {string.Join(", ", Variants.Keys)} (timm's ResNet). For another backbone, set use_timm_backbone to false and describe " +
                "it with backbone_config (e.g. a \"resnet\", \"convnext\" or \"swin\" config), as Hugging Face's no-timm DETR checkpoints do.");
        var kwargs = head.BackboneKwargs ?? [];
        foreach (var (key, _) in kwargs)
            if (!KnownKwargs.Contains(key))
                throw new NotSupportedException($"Config '{head.Source}', key 'backbone_kwargs.{key}': this timm ResNet builder takes only " +
                    $"{string.Join(", ", KnownKwargs)}.");
        var given = new PretrainedConfig(kwargs, $"{head.Source} (backbone_kwargs)");
        bool bottleneck = spec.bottleneck;
        int[] layers = given.Get<List<int>>("layers")?.ToArray() ?? spec.layers;
        int[] channels = given.Get<List<int>>("channels")?.ToArray() ?? [64, 128, 256, 512];
        int stem = given.Get<int?>("stem_width") ?? 64;
        int inChans = given.Get<int?>("in_chans") ?? head.Get<int?>("num_channels") ?? 3;
        int outputStride = given.Get<int?>("output_stride") ?? (dilation ? 16 : 32);
        int[] outIndices = given.Get<List<int>>("out_indices")?.ToArray() ?? [1, 2, 3, 4];
        if (layers.Length != 4 || layers.Any(d => d is < 1 or > 1024))
            throw new ConfigException(head.Source, "backbone_kwargs.layers", $"expected 4 block counts from 1 to 1024, found [{string.Join(", ", layers)}].");
        if (channels.Length != 4 || channels.Any(c => c is < 1 or > 1 << 16))
            throw new ConfigException(head.Source, "backbone_kwargs.channels", $"expected 4 widths from 1 to 65536, found [{string.Join(", ", channels)}].");
        if (stem is < 1 or > 1 << 16)
            throw new ConfigException(head.Source, "backbone_kwargs.stem_width", $"expected 1 to 65536, found {stem}.");
        if (inChans is < 1 or > 64)
            throw new ConfigException(head.Source, "backbone_kwargs.in_chans", $"expected 1 to 64, found {inChans}.");
        if (outputStride is not (8 or 16 or 32))
            throw new ConfigException(head.Source, "backbone_kwargs.output_stride", $"expected 8, 16 or 32 (timm's ResNet), found {outputStride}.");
        var config = new ResNetConfig(new JsonObject
        {
            ["num_channels"] = inChans,
            ["embedding_size"] = stem,
            ["hidden_sizes"] = new JsonArray(channels.Select(c => (JsonNode)(c * (bottleneck ? 4 : 1))).ToArray()),
            ["depths"] = new JsonArray(layers.Select(d => (JsonNode)d).ToArray()),
            ["layer_type"] = bottleneck ? "bottleneck" : "basic",
            ["out_indices"] = new JsonArray(outIndices.Select(i => (JsonNode)i).ToArray()),
        }, $"{head.Source} (timm {name})");
        config.Validate();
        return new TimmResNetBackbone(config, bottleneck, layers, channels, stem, inChans, outputStride);
    }

    public override string BaseModelPrefix => "model";

    public override string MainInputName => "pixel_values";

    public override IReadOnlyList<int> NumFeatures { get; }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var stem = nn.functional.relu(bn1.forward(conv1.forward(inputs.RequirePixelValues())));
        var all = new List<Tensor> { stem };
        var x = maxpool.forward(stem);
        foreach (var layer in new[] { layer1, layer2, layer3, layer4 })
            all.Add(x = layer.forward(x));
        return new ModelOutput { FeatureMaps = Select(all), HiddenStates = inputs.OutputHiddenStates || Config.OutputHiddenStates ? all : null };
    }
}
