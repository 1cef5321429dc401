using Microsoft.ML.Transformers.Configuration;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Pieces the vision families share.</summary>
internal static class VisionHeads
{
    /// <summary>An image classifier's output; the loss follows problem_type as the text heads'.</summary>
    public static ModelOutput Classification(Tensor logits, ModelInputs inputs, PretrainedConfig config, ModelOutput encoded) => new()
    {
        Logits = logits,
        Loss = inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, config.NumLabels, config.ProblemType),
        HiddenStates = encoded.HiddenStates,
        Attentions = encoded.Attentions,
        ReshapedHiddenStates = encoded.ReshapedHiddenStates,
    };
}

internal static class VisionChecks
{
    /// <summary>pixel_values must be [B, C, H, W] with the config's channel count.</summary>
    public static void PixelValues(Tensor pixels, int channels, string modelType)
    {
        if (pixels.dim() != 4)
            throw new ArgumentException($"pixel_values must have shape [batch, channels, height, width]; got [{string.Join(", ", pixels.shape)}].");
        if (pixels.size(1) != channels)
            throw new ArgumentException($"pixel_values has {pixels.size(1)} channels but {modelType}'s config.json num_channels is {channels}: make sure the channel dimension of the pixel values matches the configuration.");
    }
}
