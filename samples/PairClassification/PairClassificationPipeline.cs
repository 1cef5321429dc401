using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Pipelines;

namespace PairClassification;

/// <summary>The result of the guide's pipeline: the best label, its probability and the raw logits.</summary>
public sealed record PairClassificationResult(string Label, double Score, float[] Logits);

/// <summary>
/// The pair-classification pipeline of Hugging Face's "Adding a new pipeline" guide, in C#: a text plus an optional
/// second_text parameter, tokenized as a pair, one sequence-classification pass, softmax, the best label.
/// </summary>
public sealed class PairClassificationPipeline(PipelineContext context)
    : Pipeline<string, TextFeatures, NamedTensors, PairClassificationResult>(context)
{
    // _sanitize_parameters: second_text goes to preprocess; forward and postprocess take nothing
    protected override SanitizedParameters SanitizeParameters(PipelineParameters parameters) =>
        new(parameters.Pick("second_text"), PipelineParameters.Empty, PipelineParameters.Empty);

    protected override TextFeatures Preprocess(string text, PipelineParameters parameters) =>
        new(EncodeText(text, parameters.GetString("second_text", null)));

    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters parameters) =>
        RunEncodings(batch.Select(f => f.Encoding).ToList());

    protected override PairClassificationResult Postprocess(NamedTensors output, PipelineParameters parameters)
    {
        float[] logits = output["logits"].GetData<float>();
        double max = logits.Max();
        double[] exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        int best = Array.IndexOf(exp, exp.Max());
        var label = Model.Config.Id2Label.TryGetValue(best, out var l) ? l : $"LABEL_{best}";
        return new PairClassificationResult(label, exp[best] / exp.Sum(), logits);
    }
}
