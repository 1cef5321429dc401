using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.UperNet;

/// <summary>
/// UperNetForSemanticSegmentation (Hugging Face's modeling_upernet.py): any registered backbone built from the config's
/// backbone_config (<see cref="AutoBackbone.LoadBackbone"/>), the UperNet decode head on its feature maps and, when
/// use_auxiliary_head, the FCN auxiliary head on the third map. Logits [B, num_labels, H, W] are upsampled to the input's
/// size. With labels [B, H, W]: cross entropy ignoring loss_ignore_index, plus auxiliary_loss_weight times the auxiliary
/// head's. Weight names are the checkpoint's: backbone.*, decode_head.*, auxiliary_head.*.
/// </summary>
public sealed class UperNetForSemanticSegmentation : PreTrainedModel
{
    private readonly BackboneModel backbone;
    private readonly UperNetHead decode_head;
    private readonly UperNetFcnHead? auxiliary_head;
    private readonly UperNetConfig _config;

    public UperNetForSemanticSegmentation(UperNetConfig config) : base(config)
    {
        _config = config;
        register_module("backbone", backbone = AutoBackbone.LoadBackbone(config));
        var channels = backbone.Channels;
        if (channels.Count == 0)
            throw new ConfigException(config.Source, "backbone_config.out_features", "the backbone returns no feature map; UperNet needs at least one.");
        register_module("decode_head", decode_head = new UperNetHead(channels, config.HiddenSize, config.PoolScales, config.NumLabels));
        if (config.UseAuxiliaryHead)
        {
            if (channels.Count < 3)
                throw new ConfigException(config.Source, "use_auxiliary_head",
                    $"the auxiliary head reads the third feature map but the backbone returns {channels.Count} ([{string.Join(", ", backbone.OutFeatures)}]); add stages to backbone_config.out_features or set use_auxiliary_head to false.");
            register_module("auxiliary_head", auxiliary_head = new UperNetFcnHead(config.AuxiliaryInChannels ?? channels[2], config.AuxiliaryChannels,
                config.AuxiliaryNumConvs, config.AuxiliaryConcatInput, config.NumLabels));
        }
    }

    /// <summary>The backbone's module name: a checkpoint of the backbone alone (keys without "backbone.") loads into it.</summary>
    public override string BaseModelPrefix => "backbone";

    public override string MainInputName => "pixel_values";

    /// <summary>The backbone the heads read.</summary>
    public BackboneModel Backbone => backbone;

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var pixels = inputs.RequirePixelValues();
        var encoded = backbone.forward(new ModelInputs
        {
            PixelValues = pixels,
            OutputHiddenStates = inputs.OutputHiddenStates || Config.OutputHiddenStates,
            OutputAttentions = inputs.OutputAttentions || Config.OutputAttentions,
        });
        var features = encoded.FeatureMaps!;
        long h = pixels.size(2), w = pixels.size(3);
        var logits = UperNetLayers.Bilinear(decode_head.forward(features), h, w);
        Tensor? loss = null;
        if (inputs.Labels is { } labels)
        {
            // the auxiliary logits only feed the loss (Hugging Face does not return them)
            var auxiliary = auxiliary_head is null ? null : UperNetLayers.Bilinear(auxiliary_head.forward(features), h, w);
            loss = Loss(logits, auxiliary, labels);
        }
        return new ModelOutput { Logits = logits, Loss = loss, HiddenStates = encoded.HiddenStates, Attentions = encoded.Attentions };
    }

    private Tensor Loss(Tensor logits, Tensor? auxiliary, Tensor labels)
    {
        int n = Config.NumLabels, ignore = _config.LossIgnoreIndex;
        if (n == 1) throw new ArgumentException("The number of labels should be greater than one (config.json num_labels is 1): UperNet's loss is a cross entropy over classes.");
        long[] expected = [logits.size(0), logits.size(2), logits.size(3)];
        if (!labels.shape.SequenceEqual(expected) || labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Byte))
            throw new ArgumentException($"labels must be an integer tensor [batch, height, width] = [{string.Join(", ", expected)}] (one class id per pixel); found {labels.dtype} [{string.Join(", ", labels.shape)}].");
        using var scope = NewDisposeScope();
        var target = labels.to(ScalarType.Int64).to(logits.device);
        // checked here: an out-of-range target inside libtorch's cross entropy is not a catchable error on every build
        var bad = target.ne(ignore).logical_and(target.lt(0).logical_or(target.ge(n)));
        if (bad.any().item<bool>())
            throw new ArgumentException($"labels hold class ids outside [0, {n}) that are not loss_ignore_index ({ignore}), e.g. {target.masked_select(bad)[0].item<long>()}.");
        var loss = F.cross_entropy(logits, target, ignore_index: ignore);
        if (auxiliary is not null) loss = loss.add(F.cross_entropy(auxiliary, target, ignore_index: ignore).mul(_config.AuxiliaryLossWeight));
        return loss.MoveToOuterDisposeScope();
    }
}
