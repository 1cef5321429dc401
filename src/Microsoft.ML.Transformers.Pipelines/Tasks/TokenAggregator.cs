using Microsoft.ML.Transformers.Tokenizers;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>Hugging Face's token-classification aggregation (<c>aggregate</c>, <c>aggregate_words</c>, <c>group_entities</c>).</summary>
internal sealed class TokenAggregator(Func<int, string> label, Tokenizer tokenizer)
{
    private string Label(int i) => label(i);

    public List<TokenClassificationResult> Aggregate(List<PreEntity> pre, AggregationStrategy strategy)
    {
        List<TokenClassificationResult> entities;
        if (strategy is AggregationStrategy.None or AggregationStrategy.Simple)
        {
            entities = pre.Select(e =>
            {
                int k = ArgMax(e.Scores);
                return new TokenClassificationResult(Label(k), e.Scores[k], e.Word, e.Start, e.End, e.Index);
            }).ToList();
        }
        else entities = AggregateWords(pre, strategy);
        return strategy == AggregationStrategy.None ? entities : GroupEntities(entities);
    }

    /// <summary>Tokens of one word (a first token and the subword tokens after it) become one entity.</summary>
    private List<TokenClassificationResult> AggregateWords(List<PreEntity> pre, AggregationStrategy strategy)
    {
        var words = new List<TokenClassificationResult>();
        var group = new List<PreEntity>();
        foreach (var e in pre)
        {
            if (group.Count > 0 && !e.IsSubword) { words.Add(AggregateWord(group, strategy)); group = []; }
            group.Add(e);
        }
        if (group.Count > 0) words.Add(AggregateWord(group, strategy));
        return words;
    }

    private TokenClassificationResult AggregateWord(List<PreEntity> tokens, AggregationStrategy strategy)
    {
        double[] scores = strategy switch
        {
            AggregationStrategy.First => tokens[0].Scores,
            // the token whose best score is highest decides
            AggregationStrategy.Max => tokens.MaxBy(t => t.Scores.Max())!.Scores,
            AggregationStrategy.Average => Enumerable.Range(0, tokens[0].Scores.Length).Select(j => tokens.Average(t => t.Scores[j])).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null),
        };
        int k = ArgMax(scores);
        return new TokenClassificationResult(Label(k), scores[k], TokensToString(tokens.Select(t => t.Word)), tokens[0].Start, tokens[^1].End);
    }

    /// <summary>Adjacent entities with the same tag join unless the next one begins (B-) a new entity.</summary>
    private List<TokenClassificationResult> GroupEntities(List<TokenClassificationResult> entities)
    {
        var groups = new List<TokenClassificationResult>();
        var current = new List<TokenClassificationResult>();
        foreach (var e in entities)
        {
            if (current.Count > 0)
            {
                var (bi, tag) = GetTag(e.Entity);
                var (_, lastTag) = GetTag(current[^1].Entity);
                if (tag != lastTag || bi == 'B') { groups.Add(GroupSubEntities(current)); current = []; }
            }
            current.Add(e);
        }
        if (current.Count > 0) groups.Add(GroupSubEntities(current));
        return groups;
    }

    private TokenClassificationResult GroupSubEntities(List<TokenClassificationResult> entities)
    {
        var first = entities[0].Entity;
        int dash = first.IndexOf('-');
        string group = dash >= 0 ? first[(dash + 1)..] : first;
        return new TokenClassificationResult(group, entities.Average(e => e.Score), TokensToString(entities.Select(e => e.Word)),
            entities[0].Start, entities[^1].End);
    }

    private static (char Bi, string Tag) GetTag(string entity) =>
        entity.StartsWith("B-", StringComparison.Ordinal) ? ('B', entity[2..])
        : entity.StartsWith("I-", StringComparison.Ordinal) ? ('I', entity[2..])
        : ('I', entity); // not in B-/I- form: treated as a continuation, as Hugging Face does

    /// <summary>Hugging Face's <c>convert_tokens_to_string</c>: the tokenizer's decoder over the token strings.</summary>
    private string TokensToString(IEnumerable<string> tokens) =>
        tokenizer.Decoder is { } d ? d.Decode(tokens) : string.Join(" ", tokens);

    /// <summary>Hugging Face's <c>aggregate_overlapping_entities</c>: of entities (from overlapping windows) whose spans overlap,
    /// keep the longer, and of equally long ones the higher-scoring.</summary>
    public static List<TokenClassificationResult> MergeOverlapping(List<TokenClassificationResult> entities)
    {
        if (entities.Count == 0) return entities;
        var sorted = entities.OrderBy(e => e.Start).ToList();   // stable, as Python's sorted
        var result = new List<TokenClassificationResult>();
        var previous = sorted[0];
        foreach (var e in sorted)
        {
            if (previous.Start <= e.Start && e.Start < previous.End)
            {
                int length = e.End - e.Start, previousLength = previous.End - previous.Start;
                if (length > previousLength || length == previousLength && e.Score > previous.Score) previous = e;
            }
            else
            {
                result.Add(previous);
                previous = e;
            }
        }
        result.Add(previous);
        return result;
    }

    private static int ArgMax(double[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
