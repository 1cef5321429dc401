using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.SentenceTransformers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>Features of one input, row-major: [tokens, hidden] without pooling, [hidden] with it.</summary>
public sealed record FeatureExtractionResult(float[] Data, int[] Shape)
{
    /// <summary>Row <paramref name="i"/> of a [tokens, hidden] result.</summary>
    public ReadOnlySpan<float> Row(int i) => Data.AsSpan(i * Shape[^1], Shape[^1]);
}

/// <summary>How token features become one vector: none keeps every token; mean averages the attended tokens; cls takes the first.</summary>
public enum Pooling { None, Mean, Cls }

/// <summary>
/// feature-extraction: the base model's last_hidden_state, as Transformers.js's <c>FeatureExtractionPipeline</c>.
/// Parameters: <c>pooling</c> (none/mean/cls, default none), <c>normalize</c> (L2 over the last dimension, default false), <c>truncation</c>.
/// A sentence-transformers folder (modules.json) pools as its Pooling module says and normalizes when it has a Normalize
/// module, unless <c>pooling</c> / <c>normalize</c> are given.
/// </summary>
public sealed class FeatureExtractionPipeline(PipelineContext context)
    : Pipeline<TextInput, TextFeatures, FeatureExtractionPipeline.Output, FeatureExtractionResult>(context)
{
    public const string PoolingParameter = "pooling", Normalize = "normalize", Truncation = "truncation";

    public sealed record Output(TextFeatures Features, NamedTensors Tensors);

    private readonly SentenceTransformerConfig? _sentenceTransformer =
        SentenceTransformerConfig.IsSentenceTransformerFolder(context.ModelFolder) ? SentenceTransformerConfig.FromPretrained(context.ModelFolder) : null;

    /// <summary>The folder's sentence-transformers modules, when it has a modules.json.</summary>
    public SentenceTransformerConfig? SentenceTransformer => _sentenceTransformer;

    protected override SanitizedParameters SanitizeParameters(PipelineParameters p)
    {
        p.GetEnum<Pooling>(PoolingParameter); // fail early on an unknown name
        return new(p.Pick(Truncation), PipelineParameters.Empty, p.Pick(PoolingParameter, Normalize));
    }

    protected override TextFeatures Preprocess(TextInput input, PipelineParameters p)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new(EncodeText(input.Text, input.TextPair, p.GetBool(Truncation, false)));
    }

    protected override IReadOnlyList<Output> Forward(IReadOnlyList<TextFeatures> batch, PipelineParameters p)
    {
        var rows = RunEncodings(batch.Select(f => f.Encoding).ToList());
        return batch.Select((f, i) => new Output(f, rows[i])).ToList();
    }

    protected override FeatureExtractionResult Postprocess(Output output, PipelineParameters p)
    {
        // a head checkpoint on libtorch gives last_hidden_state too; an ONNX export of a head only has logits (Transformers.js falls back the same way)
        var t = output.Tensors.TryGet("last_hidden_state") ?? output.Tensors["logits"];
        var data = t.GetData<float>();
        int tokens = (int)t.Shape[0], hidden = (int)t.Shape[^1];
        var chosen = p.GetEnum<Pooling>(PoolingParameter);
        if (chosen is null && _sentenceTransformer is { } st)
        {
            var pooled = Pooler.Pool(data, output.Features.Encoding.AttentionMask, hidden, st.Pooling.Modes);
            if (p.GetBool(Normalize, st.Normalize)) Pooler.Normalize(pooled);
            return new FeatureExtractionResult(pooled, [pooled.Length]);
        }
        var pooling = chosen ?? Pooling.None;
        float[] result;
        int[] shape;
        switch (pooling)
        {
            case Pooling.Mean:
                var mask = output.Features.Encoding.AttentionMask;
                var sum = new double[hidden];
                double count = 0;
                for (int i = 0; i < tokens; i++)
                {
                    if (mask[i] == 0) continue;
                    count++;
                    for (int j = 0; j < hidden; j++) sum[j] += data[i * hidden + j];
                }
                result = sum.Select(s => (float)(s / Math.Max(count, 1e-9))).ToArray();
                shape = [hidden];
                break;
            case Pooling.Cls:
                result = data.AsSpan(0, hidden).ToArray();
                shape = [hidden];
                break;
            default:
                result = data.ToArray();
                shape = [tokens, hidden];
                break;
        }
        if (p.GetBool(Normalize, false))
        {
            for (int r = 0; r < result.Length / hidden; r++)
            {
                var row = result.AsSpan(r * hidden, hidden);
                double norm = 0;
                foreach (var x in row) norm += (double)x * x;
                norm = Math.Max(Math.Sqrt(norm), 1e-12);
                for (int j = 0; j < hidden; j++) row[j] = (float)(row[j] / norm);
            }
        }
        return new FeatureExtractionResult(result, shape);
    }
}
