using Microsoft.ML.Transformers.Configuration;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>What a backbone returns (Hugging Face's BackboneOutput): a [B, C, H, W] map per requested stage.</summary>
public sealed record BackboneOutput(IReadOnlyList<Tensor> FeatureMaps, IReadOnlyList<Tensor>? HiddenStates, IReadOnlyList<Tensor>? Attentions);

/// <summary>
/// A model that returns the feature maps of chosen stages (Hugging Face's BackboneMixin): <see cref="StageNames"/>
/// ("stem", "stage1", ...), <see cref="OutFeatures"/> / <see cref="OutIndices"/> aligned as backbone_utils does,
/// <see cref="Channels"/> of the returned maps and <see cref="NumFeatures"/> of every stage.
/// </summary>
public abstract class BackboneModel : PreTrainedModel
{
    protected BackboneModel(VisionBackboneConfig config) : base(config)
    {
        StageNames = config.StageNames;
        (OutFeatures, OutIndices) = (config.OutFeatures, config.OutIndices);
    }

    public IReadOnlyList<string> StageNames { get; }
    public IReadOnlyList<string> OutFeatures { get; }
    public IReadOnlyList<int> OutIndices { get; }
    /// <summary>Channels of every stage, stem first.</summary>
    public abstract IReadOnlyList<int> NumFeatures { get; }
    /// <summary>Channels of each returned feature map.</summary>
    public IReadOnlyList<int> Channels => OutFeatures.Select(f => NumFeatures[StageNames.ToList().IndexOf(f)]).ToList();

    /// <summary>Runs the backbone on pixel_values [B, C, H, W].</summary>
    public BackboneOutput ForwardBackbone(Tensor pixelValues, bool outputHiddenStates = false, bool outputAttentions = false)
    {
        var o = forward(new ModelInputs { PixelValues = pixelValues, OutputHiddenStates = outputHiddenStates, OutputAttentions = outputAttentions });
        return new BackboneOutput(o.FeatureMaps!, o.HiddenStates, o.Attentions);
    }

    /// <summary>The stage outputs whose names are in out_features (hidden states are stem first, one per stage).</summary>
    protected List<Tensor> Select(IReadOnlyList<Tensor> stageOutputs, Func<string, Tensor, Tensor>? perStage = null)
    {
        var maps = new List<Tensor>();
        for (int i = 0; i < StageNames.Count; i++)
            if (OutFeatures.Contains(StageNames[i])) maps.Add(perStage is null ? stageOutputs[i] : perStage(StageNames[i], stageOutputs[i]));
        return maps;
    }
}
