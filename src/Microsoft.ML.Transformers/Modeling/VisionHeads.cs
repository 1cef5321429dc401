using Microsoft.ML.Transformers.Configuration;
using TorchSharp.Modules;
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

/// <summary>Batch norm with PyTorch's training-mode guard, which TorchSharp's BatchNorm2d lacks.</summary>
internal static class BatchNorms
{
    /// <summary>
    /// <paramref name="norm"/>.forward(<paramref name="x"/>), refusing in training mode an input with one value per
    /// channel (batch 1 on a 1x1 map: UperNet's pyramid pooling at scale 1 with a batch of one image) as
    /// torch.nn.functional.batch_norm does: libtorch would update running_var with a variance divided by n - 1 = 0, so
    /// running_var turns NaN and every forward in eval mode afterwards gives NaN (Hugging Face raises the same error).
    /// </summary>
    public static Tensor Forward(BatchNorm2d norm, Tensor x)
    {
        if (norm.training && x.dim() == 4 && x.size(0) * x.size(2) * x.size(3) == 1)
            throw new ArgumentException(
                $"Expected more than 1 value per channel when training, got input size [{string.Join(", ", x.shape)}]: batch norm cannot " +
                "estimate a variance from one value (its running_var would become NaN). Train with batches of 2 or more images " +
                "(set dataloader_drop_last when the last batch would hold one), or call eval() to use the running statistics.");
        return norm.forward(x);
    }
}
