using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// The keyword arguments of a Hugging Face model's forward: int64 tensors of shape [batch, sequence] for text models,
/// float pixel_values [batch, channels, height, width] for vision models (labels per head). The caller owns the tensors.
/// </summary>
public sealed record ModelInputs
{
    /// <summary>input_ids; text models require it.</summary>
    public Tensor? InputIds { get; init; }
    /// <summary>pixel_values [B, C, H, W] (what an image processor returns); vision models require it.</summary>
    public Tensor? PixelValues { get; init; }
    public Tensor? AttentionMask { get; init; }
    public Tensor? TokenTypeIds { get; init; }
    public Tensor? PositionIds { get; init; }
    /// <summary>Class ids [B] (single label), floats [B, num_labels] (multi-label, regression), token labels [B, S] (-100 ignored).</summary>
    public Tensor? Labels { get; init; }
    public Tensor? StartPositions { get; init; }
    public Tensor? EndPositions { get; init; }
    public bool OutputHiddenStates { get; init; }
    public bool OutputAttentions { get; init; }
    /// <summary>pixel_mask [B, H, W]: 1 for real pixels, 0 for padding (what DetrImageProcessor returns for a batch of
    /// differently sized images); null means every pixel is real.</summary>
    public Tensor? PixelMask { get; init; }
    /// <summary>Object-detection targets, one per image (DETR's labels).</summary>
    public IReadOnlyList<DetectionTarget>? DetectionLabels { get; init; }

    internal Tensor RequireInputIds() => InputIds ?? throw new ArgumentException("This model needs input_ids (ModelInputs.InputIds).");

    internal Tensor RequirePixelValues() => PixelValues ?? throw new ArgumentException("This model needs pixel_values (ModelInputs.PixelValues) of shape [batch, channels, height, width].");

    /// <summary>Builds inputs from row-major [batch, sequence] arrays (e.g. a tokenizer's padded batch).</summary>
    public static ModelInputs FromArrays(long[] inputIds, long[]? attentionMask, long[]? tokenTypeIds, int batch, int sequence, Device? device = null)
    {
        long[] shape = [batch, sequence];
        return new ModelInputs
        {
            InputIds = tensor(inputIds, shape, device: device),
            AttentionMask = attentionMask is null ? null : tensor(attentionMask, shape, device: device),
            TokenTypeIds = tokenTypeIds is null ? null : tensor(tokenTypeIds, shape, device: device),
        };
    }
}

/// <summary>One image's object-detection targets: class_labels [N] (int64) and boxes [N, 4] as normalized
/// (center x, center y, width, height), as Hugging Face's DETR labels.</summary>
public sealed record DetectionTarget(Tensor ClassLabels, Tensor Boxes);

/// <summary>
/// What a model's forward returns (Hugging Face's ModelOutput dataclasses folded into one type): only the members the
/// head produces are set. Tensors follow the dispose scope they were created in.
/// </summary>
public sealed class ModelOutput
{
    public Tensor? Loss { get; init; }
    /// <summary>[B, num_labels] (sequence classification), [B, S, num_labels] (token classification), [B, S, vocab] (masked LM).</summary>
    public Tensor? Logits { get; init; }
    public Tensor? StartLogits { get; init; }
    public Tensor? EndLogits { get; init; }
    public Tensor? LastHiddenState { get; init; }
    public Tensor? PoolerOutput { get; init; }
    /// <summary>Embedding output followed by each layer's output, when asked for.</summary>
    public IReadOnlyList<Tensor>? HiddenStates { get; init; }
    /// <summary>Each layer's attention probabilities [B, heads, S, S], when asked for.</summary>
    public IReadOnlyList<Tensor>? Attentions { get; init; }
    /// <summary>Vision models with token outputs (Swin): the hidden states reshaped to [B, C, H, W].</summary>
    public IReadOnlyList<Tensor>? ReshapedHiddenStates { get; init; }
    /// <summary>Backbones: the feature map [B, C, H, W] of each stage in out_features, in stage order.</summary>
    public IReadOnlyList<Tensor>? FeatureMaps { get; init; }
    /// <summary>Object detection: boxes [B, num_queries, 4] as normalized (center x, center y, width, height).</summary>
    public Tensor? PredBoxes { get; init; }
    /// <summary>Encoder-decoder models: the encoder's last hidden state.</summary>
    public Tensor? EncoderLastHiddenState { get; init; }
    /// <summary>The unweighted parts of <see cref="Loss"/> by name (DETR: loss_ce, loss_bbox, loss_giou, loss_cardinality).</summary>
    public IReadOnlyDictionary<string, Tensor>? LossDict { get; init; }
}
