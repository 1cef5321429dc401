using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>Helpers every encoder family composes: running a stack of layers and packing a head's output.</summary>
internal static class LayerStack
{
    /// <summary>
    /// Runs <paramref name="layers"/> in order. Each layer's temporaries are released as soon as it is done; the
    /// hidden states (embedding output first) and attention maps are collected when the lists are given.
    /// </summary>
    public static Tensor Run<TLayer>(IEnumerable<TLayer> layers, Tensor hidden, Tensor? mask,
        List<Tensor>? allHidden, List<Tensor>? allAttentions, Func<TLayer, Tensor, Tensor?, bool, (Tensor hidden, Tensor? probs)> forward)
    {
        allHidden?.Add(hidden);
        foreach (var layer in layers)
        {
            using var scope = NewDisposeScope();
            var (h, probs) = forward(layer, hidden, mask, allAttentions is not null);
            hidden = h.MoveToOuterDisposeScope();
            if (allAttentions is not null) allAttentions.Add(probs!.MoveToOuterDisposeScope());
            allHidden?.Add(hidden);
        }
        return hidden;
    }

    /// <summary>The output of a head that produces logits, carrying the encoder's hidden states and attentions.</summary>
    public static ModelOutput Logits(Tensor logits, Tensor? loss, ModelOutput encoded) => new()
    {
        Logits = logits,
        Loss = loss,
        HiddenStates = encoded.HiddenStates,
        Attentions = encoded.Attentions,
    };
}
