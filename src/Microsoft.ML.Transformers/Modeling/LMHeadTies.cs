using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// A masked-LM head with Hugging Face's ties: its own "bias" parameter is the decoder's bias (saved once, under the
/// head's name) and the decoder's weight is the input word embeddings when tie_word_embeddings.
/// </summary>
internal abstract class TiedLMHead : nn.Module<Tensor, Tensor>, IInitWeights, IParameterOwner
{
    protected TiedLMHead(string name, long vocabSize) : base(name) =>
        // Registered before the decoder, so that the shared bias is saved under the head's name, as Hugging Face does.
        register_parameter("bias", zeros(vocabSize).AsParameter());

    protected abstract Linear Decoder { get; }

    /// <summary>Makes the decoder hold the head's bias and, when given, the input embeddings as its weight.</summary>
    public void Tie(Parameter? inputEmbeddings)
    {
        var bias = named_parameters(recurse: false).Single(p => p.name == "bias").parameter;
        if (Decoder.bias?.Handle != bias.Handle) Decoder.bias = bias;
        if (inputEmbeddings is not null && Decoder.weight.Handle != inputEmbeddings.Handle) Decoder.weight = inputEmbeddings;
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        if (name != "bias") throw new ArgumentException($"{GetType().Name} has no parameter '{name}' of its own.");
        ConditionallyRegisterParameter("bias", value);
    }

    /// <summary>Hugging Face initializes the head's bias to zero.</summary>
    public void InitWeights(double initializerRange)
    {
        using var _ = no_grad();
        Decoder.bias?.zero_();
    }
}
