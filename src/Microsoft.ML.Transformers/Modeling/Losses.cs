using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>The losses Hugging Face heads compute when labels are given.</summary>
internal static class Losses
{
    /// <summary>Sequence classification: the loss follows problem_type, or is inferred from num_labels and the label dtype
    /// exactly as Hugging Face does (1 label: regression; integer labels: single-label; otherwise multi-label).</summary>
    public static Tensor SequenceClassification(Tensor logits, Tensor labels, int numLabels, string? problemType)
    {
        problemType ??= numLabels == 1 ? "regression"
            : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? "single_label_classification"
            : "multi_label_classification";
        switch (problemType)
        {
            case "regression":
                using (var scope = NewDisposeScope())
                {
                    var target = labels.to(logits.dtype);
                    var loss = numLabels == 1 ? F.mse_loss(logits.squeeze(-1), target.reshape(-1)) : F.mse_loss(logits, target);
                    return loss.MoveToOuterDisposeScope();
                }
            case "single_label_classification":
                using (var scope = NewDisposeScope())
                    return F.cross_entropy(logits.view(-1, numLabels), labels.view(-1)).MoveToOuterDisposeScope();
            case "multi_label_classification":
                using (var scope = NewDisposeScope())
                    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype)).MoveToOuterDisposeScope();
            default:
                throw new ArgumentException($"Unknown problem_type \"{problemType}\" in config.json. Expected regression, single_label_classification or multi_label_classification.");
        }
    }

    /// <summary>Token classification and masked LM: cross entropy over the flattened positions, -100 ignored.</summary>
    public static Tensor PerToken(Tensor logits, Tensor labels, long numClasses)
    {
        using var scope = NewDisposeScope();
        return F.cross_entropy(logits.view(-1, numClasses), labels.view(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>Extractive QA: mean of start and end cross entropies; positions outside the sequence are clamped to
    /// its length and ignored.</summary>
    public static Tensor QuestionAnswering(Tensor startLogits, Tensor endLogits, Tensor startPositions, Tensor endPositions)
    {
        using var scope = NewDisposeScope();
        long ignored = startLogits.size(1);
        var s = startPositions.reshape(-1).clamp(0, ignored);
        var e = endPositions.reshape(-1).clamp(0, ignored);
        var loss = F.cross_entropy(startLogits, s, ignore_index: ignored).add(F.cross_entropy(endLogits, e, ignore_index: ignored)).div(2);
        return loss.MoveToOuterDisposeScope();
    }
}
