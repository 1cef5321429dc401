using Microsoft.ML.Transformers.OnnxRuntime;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>One label and its score.</summary>
public sealed record TextClassificationResult(string Label, double Score);

/// <summary>How logits become scores (Hugging Face's <c>ClassificationFunction</c>); Default chooses from the config.</summary>
public enum ClassificationFunction { Default, Sigmoid, Softmax, None }

/// <summary>
/// text-classification (alias sentiment-analysis), as Hugging Face's <c>TextClassificationPipeline</c>.
/// Parameters: <c>top_k</c> (default 1; n; null for all labels), <c>function_to_apply</c> (default/sigmoid/softmax/none),
/// <c>truncation</c> (default false). Inputs are texts or text pairs. The result lists labels by descending score.
/// </summary>
public sealed class TextClassificationPipeline(PipelineContext context)
    : Pipeline<TextInput, TextFeatures, NamedTensors, IReadOnlyList<TextClassificationResult>>(context)
{
    public const string TopK = "top_k", FunctionToApply = "function_to_apply", Truncation = "truncation";

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        p.GetNullableInt(TopK, 1, min: 1);   // null: every label
        p.GetEnum<ClassificationFunction>(FunctionToApply);
        return new(p.Pick(Truncation), PipelineParameters.Empty, p.Pick(TopK, FunctionToApply));
    }

    protected override TextFeatures Preprocess(TextInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new(EncodeText(input.Text, input.TextPair, p.GetBool(Truncation, false)));
    }

    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters p) =>
        RunEncodings(batch.Select(f => f.Encoding).ToList());

    protected override IReadOnlyList<TextClassificationResult> Postprocess(NamedTensors output, PipelineParameters p)
    {
        var logits = output["logits"].GetData<float>();
        var fn = p.GetEnum<ClassificationFunction>(FunctionToApply) ?? ClassificationFunction.Default;
        if (fn == ClassificationFunction.Default) fn = _defaultFunction ??= DefaultFunction();
        double[] scores = fn switch
        {
            ClassificationFunction.Sigmoid => logits.Select(x => Maths.Sigmoid(x)).ToArray(),
            ClassificationFunction.Softmax => Maths.Softmax(logits),
            _ => logits.Select(x => (double)x).ToArray(),
        };
        int k = p.GetNullableInt(TopK, 1, min: 1) ?? scores.Length;
        return Maths.TopK(scores, k).Select(i => new TextClassificationResult(Label(i), scores[i])).ToList();
    }

    private ClassificationFunction? _defaultFunction;

    /// <summary>Hugging Face's choice: multi-label or a single output -> sigmoid; single-label or several outputs -> softmax.</summary>
    private ClassificationFunction DefaultFunction()
    {
        var c = Model.Config;
        if (c.ProblemType == "multi_label_classification" || c.NumLabels == 1) return ClassificationFunction.Sigmoid;
        if (c.ProblemType == "single_label_classification" || c.NumLabels > 1) return ClassificationFunction.Softmax;
        return ClassificationFunction.None;
    }
}
