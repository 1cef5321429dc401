namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>A text, optionally with a second text (a pair: sentence-pair classification, NLI).</summary>
public sealed record TextInput(string Text, string? TextPair = null)
{
    public static implicit operator TextInput(string text) => new(text);
    public static implicit operator TextInput((string Text, string TextPair) pair) => new(pair.Text, pair.TextPair);
}

/// <summary>What the text pipelines feed the model: one tokenized sequence.</summary>
public sealed record TextFeatures(Microsoft.ML.Transformers.Tokenizers.Encoding Encoding) : ITokenSequence
{
    public int TokenCount => Encoding.Length;
}
