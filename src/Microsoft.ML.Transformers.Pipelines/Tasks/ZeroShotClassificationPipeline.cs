using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>The candidate labels of one sequence, by descending score.</summary>
public sealed record ZeroShotClassificationResult(string Sequence, IReadOnlyList<string> Labels, IReadOnlyList<double> Scores);

/// <summary>
/// zero-shot-classification over an NLI sequence-classification model, as Hugging Face's <c>ZeroShotClassificationPipeline</c>:
/// each candidate label becomes one premise/hypothesis pair (one chunk). The entailment class is the config label starting with
/// "entail" (case-insensitive; the last class if none does, as Hugging Face); contradiction is class 0 (the last if entailment is 0).
/// Parameters: <c>candidate_labels</c> (required), <c>hypothesis_template</c> (default "This example is {}."), <c>multi_label</c>,
/// <c>truncation</c> (default true, as Hugging Face's only_first: a sequence too long for the model is cut, the hypothesis kept).
/// </summary>
public sealed class ZeroShotClassificationPipeline(PipelineContext context)
    : ChunkPipeline<string, ZeroShotClassificationPipeline.Chunk, NamedTensors, ZeroShotClassificationResult>(context)
{
    public const string CandidateLabels = "candidate_labels", HypothesisTemplate = "hypothesis_template", MultiLabel = "multi_label",
        Truncation = "truncation";
    public const string DefaultHypothesisTemplate = "This example is {}.";

    public sealed record Chunk(string Label, TextFeatures Features) : ITokenSequence
    {
        public int TokenCount => Features.Encoding.Length;
    }

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        var labels = Labels(p);
        if (labels is null || labels.Count == 0 || labels.Any(string.IsNullOrEmpty))
            throw new ArgumentException("zero-shot-classification needs candidate_labels: one or more non-empty label strings.", CandidateLabels);
        var template = p.GetString(HypothesisTemplate, DefaultHypothesisTemplate)!;
        if (!template.Contains("{}", StringComparison.Ordinal))
            throw new ArgumentException($"hypothesis_template \"{template}\" has no {{}} for the label.", HypothesisTemplate);
        return new(p.Pick(CandidateLabels, HypothesisTemplate, Truncation), PipelineParameters.Empty, p.Pick(CandidateLabels, MultiLabel));
    }

    protected override IEnumerable<Chunk> Preprocess(string input, PipelineParameters p)
    {
        var template = p.GetString(HypothesisTemplate, DefaultHypothesisTemplate)!;
        bool truncation = p.GetBool(Truncation, true);
        foreach (var label in Labels(p)!)
        {
            // Hugging Face formats with str.format: the first {} takes the label
            int at = template.IndexOf("{}", StringComparison.Ordinal);
            var hypothesis = string.Concat(template.AsSpan(0, at), label, template.AsSpan(at + 2));
            yield return new Chunk(label, new TextFeatures(EncodeText(input, hypothesis, truncation, "sequence", TruncationStrategy.OnlyFirst)));
        }
    }

    protected override IReadOnlyList<NamedTensors> Forward(IReadOnlyList<Chunk> batch, PipelineParameters p) =>
        RunEncodings(batch.Select(c => c.Features.Encoding).ToList());

    protected override ZeroShotClassificationResult Postprocess(string input, IReadOnlyList<NamedTensors> outputs, PipelineParameters p)
    {
        var labels = Labels(p)!;
        int n = (int)outputs[0]["logits"].Shape[^1];
        int entail = _entailment ??= EntailmentId(n), contradiction = entail == 0 ? n - 1 : 0;
        double[] scores;
        if (p.GetBool(MultiLabel, false) || labels.Count == 1)
        {
            scores = outputs.Select(o =>
            {
                var l = o["logits"].GetData<float>();
                return Maths.Softmax([l[contradiction], l[entail]])[1];
            }).ToArray();
        }
        else scores = Maths.Softmax(outputs.Select(o => (double)o["logits"].GetData<float>()[entail]).ToArray());
        var order = Maths.TopK(scores, scores.Length);
        return new ZeroShotClassificationResult(input, order.Select(i => labels[i]).ToList(), order.Select(i => scores[i]).ToList());
    }

    /// <summary>candidate_labels as a list, or as one comma-separated string (as Hugging Face's _parse_labels).</summary>
    private static IReadOnlyList<string>? Labels(PipelineParameters p) =>
        p.TryGet(CandidateLabels, out var v) && v is string s
            ? s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : p.GetStrings(CandidateLabels);

    private int? _entailment;

    private int EntailmentId(int classes)
    {
        foreach (var (label, id) in Model.Config.Label2Id)
            if (label.StartsWith("entail", StringComparison.OrdinalIgnoreCase)) return id;
        return classes - 1;
    }
}
