using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.UperNet;

// The heads of Hugging Face's modeling_upernet.py (after OpenMMLab's mmsegmentation UPerHead / FCNHead): a pyramid
// pooling module on the last feature map, an FPN that fuses every map top-down, and an FCN on one map for the
// auxiliary loss. Every resize is bilinear with align_corners = false.

/// <summary>Conv (no bias) -> BatchNorm -> ReLU (UperNetConvModule).</summary>
internal sealed class UperNetConvModule : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d batch_norm;

    public UperNetConvModule(long inChannels, long outChannels, long kernelSize, long padding = 0, long dilation = 1) : base(nameof(UperNetConvModule))
    {
        register_module("conv", conv = nn.Conv2d(inChannels, outChannels, kernelSize, padding: padding, dilation: dilation, bias: false));
        register_module("batch_norm", batch_norm = nn.BatchNorm2d(outChannels));
    }

    public override Tensor forward(Tensor x) => BatchNorms.Forward(batch_norm, conv.forward(x)).relu();
}

internal static class UperNetLayers
{
    /// <summary>Hugging Face's UperNet _init_weights for a head: every convolution normal(0, initializer_range), zero bias
    /// (batch norms keep ones and zeros).</summary>
    public static void InitConvs(nn.Module head, double initializerRange)
    {
        using var _ = no_grad();
        foreach (var (_, m) in head.named_modules())
        {
            if (m is not Conv2d conv) continue;
            nn.init.normal_(conv.weight, 0, initializerRange);
            if (conv.bias is { } b) nn.init.zeros_(b);
        }
    }

    /// <summary>Bilinear resize of [B, C, H, W] to (height, width), align_corners = false, as every UperNet resize.</summary>
    public static Tensor Bilinear(Tensor x, long height, long width) =>
        x.size(2) == height && x.size(3) == width ? x : F.interpolate(x, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}

/// <summary>The PSP module (UperNetPyramidPoolingModule): per scale, adaptive average pooling to scale x scale and a 1x1
/// conv module (keys "{i}.1.*", the pooling being "{i}.0"), each upsampled back to the input's size.</summary>
internal sealed class UperNetPyramidPooling : nn.Module
{
    private readonly ModuleList<Sequential> _blocks;

    public UperNetPyramidPooling(IReadOnlyList<int> poolScales, long inChannels, long channels) : base(nameof(UperNetPyramidPooling))
    {
        _blocks = nn.ModuleList(poolScales.Select(s => nn.Sequential(
            ("0", (nn.Module<Tensor, Tensor>)nn.AdaptiveAvgPool2d(s)),
            ("1", new UperNetConvModule(inChannels, channels, 1)))).ToArray());
        // the blocks are this module's direct children, as in Hugging Face (psp_modules.0.1.conv.weight)
        for (int i = 0; i < _blocks.Count; i++) register_module(i.ToString(System.Globalization.CultureInfo.InvariantCulture), _blocks[i]);
    }

    protected override void RegisterComponents() { }

    public IEnumerable<Tensor> forward(Tensor x) => _blocks.Select(b => UperNetLayers.Bilinear(b.forward(x), x.size(2), x.size(3)));
}

/// <summary>UperNetHead: PSP on the last map -> bottleneck; 1x1 laterals on the others; top-down sums; 3x3 FPN convs;
/// every level resized to the first one's size, concatenated, fused by fpn_bottleneck and classified (1x1 conv).</summary>
internal sealed class UperNetHead : nn.Module<IReadOnlyList<Tensor>, Tensor>, IInitWeights
{
    private readonly Conv2d classifier;
    private readonly UperNetPyramidPooling psp_modules;
    private readonly UperNetConvModule bottleneck, fpn_bottleneck;
    private readonly ModuleList<UperNetConvModule> lateral_convs, fpn_convs;

    public UperNetHead(IReadOnlyList<int> inChannels, int channels, IReadOnlyList<int> poolScales, int numLabels) : base(nameof(UperNetHead))
    {
        register_module("classifier", classifier = nn.Conv2d(channels, numLabels, 1));
        register_module("psp_modules", psp_modules = new UperNetPyramidPooling(poolScales, inChannels[^1], channels));
        register_module("bottleneck", bottleneck = new UperNetConvModule(inChannels[^1] + poolScales.Count * channels, channels, 3, padding: 1));
        register_module("lateral_convs", lateral_convs = nn.ModuleList(inChannels.SkipLast(1).Select(c => new UperNetConvModule(c, channels, 1)).ToArray()));
        register_module("fpn_convs", fpn_convs = nn.ModuleList(inChannels.SkipLast(1).Select(_ => new UperNetConvModule(channels, channels, 3, padding: 1)).ToArray()));
        register_module("fpn_bottleneck", fpn_bottleneck = new UperNetConvModule(inChannels.Count * channels, channels, 3, padding: 1));
    }

    void IInitWeights.InitWeights(double initializerRange) => UperNetLayers.InitConvs(this, initializerRange);

    public override Tensor forward(IReadOnlyList<Tensor> features)
    {
        var top = features[^1];
        var laterals = lateral_convs.Select((conv, i) => conv.forward(features[i])).ToList();
        laterals.Add(bottleneck.forward(cat([top, .. psp_modules.forward(top)], 1)));
        for (int i = laterals.Count - 1; i > 0; i--)
            laterals[i - 1] = laterals[i - 1].add(UperNetLayers.Bilinear(laterals[i], laterals[i - 1].size(2), laterals[i - 1].size(3)));
        var outs = fpn_convs.Select((conv, i) => conv.forward(laterals[i])).Append(laterals[^1]).ToList();
        long h = outs[0].size(2), w = outs[0].size(3);
        return classifier.forward(fpn_bottleneck.forward(cat(outs.Select(o => UperNetLayers.Bilinear(o, h, w)).ToList(), 1)));
    }
}

/// <summary>UperNetFCNHead: num_convs 3x3 conv modules on feature map in_index (2), optionally concatenated with
/// their input (conv_cat), then a 1x1 classifier.</summary>
internal sealed class UperNetFcnHead : nn.Module<IReadOnlyList<Tensor>, Tensor>, IInitWeights
{
    private readonly nn.Module<Tensor, Tensor> convs;
    private readonly UperNetConvModule? conv_cat;
    private readonly Conv2d classifier;
    private readonly int _inIndex;

    public UperNetFcnHead(long inChannels, int channels, int numConvs, bool concatInput, int numLabels, int inIndex = 2, int kernelSize = 3, int dilation = 1)
        : base(nameof(UperNetFcnHead))
    {
        _inIndex = inIndex;
        long padding = kernelSize / 2 * dilation;
        register_module("convs", convs = numConvs == 0 ? nn.Identity() : nn.Sequential(Enumerable.Range(0, numConvs)
            .Select(i => (nn.Module<Tensor, Tensor>)new UperNetConvModule(i == 0 ? inChannels : channels, channels, kernelSize, padding, dilation)).ToArray()));
        if (concatInput) register_module("conv_cat", conv_cat = new UperNetConvModule(inChannels + channels, channels, kernelSize, kernelSize / 2));
        register_module("classifier", classifier = nn.Conv2d(channels, numLabels, 1));
    }

    void IInitWeights.InitWeights(double initializerRange) => UperNetLayers.InitConvs(this, initializerRange);

    public override Tensor forward(IReadOnlyList<Tensor> features)
    {
        var x = features[_inIndex];
        var h = convs.forward(x);
        if (conv_cat is not null) h = conv_cat.forward(cat([x, h], 1));
        return classifier.forward(h);
    }
}
