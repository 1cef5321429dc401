using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// torch.nn.Embedding as a managed TorchSharp module. TorchSharp's own Embedding keeps its weight inside libtorch
/// and hands out a new tensor handle on every access, so a tied output layer could not share the very parameter
/// object (which is what keeps ties through <c>to()</c>, optimizers and saving). As in PyTorch, the padding row
/// gets no gradient.
/// </summary>
public sealed class EmbeddingTable : nn.Module<Tensor, Tensor>, IParameterOwner
{
    private Parameter _weight;

    public EmbeddingTable(long numEmbeddings, long embeddingDim, long? paddingIdx = null) : base("Embedding")
    {
        if (paddingIdx is { } p && (p < -numEmbeddings || p >= numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"padding_idx {p} is outside the table of {numEmbeddings} rows.");
        PaddingIdx = paddingIdx is { } q && q < 0 ? q + numEmbeddings : paddingIdx;
        _weight = new Parameter(empty(numEmbeddings, embeddingDim));
        using (no_grad()) nn.init.normal_(_weight);
        register_parameter("weight", _weight);
        ZeroPaddingRow();
    }

    public long? PaddingIdx { get; }

    // The weight is registered by name in the constructor; TorchSharp's field scan would add "_weight" too.
    protected override void RegisterComponents() { }

    public Parameter weight
    {
        get => _weight;
        set
        {
            if (ReferenceEquals(value, _weight)) return;
            _weight.Dispose(); // may be disposed already by another holder of a tied weight (Dispose is idempotent)
            _weight = (Parameter)value.DetachFromDisposeScope();
            ConditionallyRegisterParameter("weight", _weight);
        }
    }

    public override Tensor forward(Tensor ids)
    {
        var rows = _weight.index_select(0, ids.reshape(-1)).view([.. ids.shape, _weight.shape[1]]);
        if (PaddingIdx is { } pad && is_grad_enabled() && _weight.requires_grad)
            rows = where(ids.eq(pad).unsqueeze(-1), rows.detach(), rows);
        return rows;
    }

    /// <summary>Hugging Face zeroes the padding row when it initializes weights.</summary>
    public void ZeroPaddingRow()
    {
        if (PaddingIdx is not { } idx) return;
        using var _ = no_grad();
        using var row = _weight.select(0, idx);
        row.zero_();
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        if (name != "weight") throw new ArgumentException($"Embedding has no parameter '{name}'.");
        weight = value;
    }
}

/// <summary>A module of ours whose own parameters <see cref="PreTrainedModel"/> can replace (device / dtype moves).</summary>
internal interface IParameterOwner
{
    void SetParameter(string name, Parameter value);
}
