using Microsoft.ML.Transformers.Modeling;
using DataType = Microsoft.ML.Transformers.Onnx.OnnxFields.DataType;

namespace Microsoft.ML.Transformers.Onnx;

/// <summary>
/// The convolutional layers and outputs of the vision models (ResNet, ConvNeXt, Swin) over an <see cref="EncoderOnnx"/>,
/// which supplies the weights by checkpoint key and the layers they share with the text encoders (nn.Linear, LayerNorm,
/// activations, attention). Input pixel_values float32 [batch_size, num_channels, height, width], as Optimum names it;
/// outputs last_hidden_state and pooler_output (base models), logits (image classification), or one feature map per
/// stage of out_features named by its stage (backbones, what <see cref="InferenceBackbone"/> reads).
/// </summary>
internal sealed class VisionOnnx(EncoderOnnx e)
{
    public EncoderOnnx E { get; } = e;
    private OnnxGraph G => E.Graph;

    /// <summary>pixel_values with a dynamic batch and, unless the model fixes them, dynamic height and width.</summary>
    public string PixelValues(long channels, long? height = null, long? width = null) =>
        G.Input(OnnxRuntime.OnnxModel.PixelValues, DataType.Float, "batch_size", channels,
            height is long h ? h : "height", width is long w ? w : "width");

    /// <summary>The nn.Conv2d under <paramref name="prefix"/> (kernel from its weight, bias when it has one).</summary>
    public string Conv(string x, string prefix, long stride = 1, long padding = 0, long groups = 1)
    {
        var shape = E.Weight(prefix + ".weight").shape;
        string? bias = E.HasWeight(prefix + ".bias") ? E.Init(prefix + ".bias") : null;
        return G.Node("Conv", [x, E.Init(prefix + ".weight"), bias],
            OnnxAttr.Ints("kernel_shape", shape[2], shape[3]), OnnxAttr.Ints("strides", stride, stride),
            OnnxAttr.Ints("pads", padding, padding, padding, padding), OnnxAttr.Ints("dilations", 1, 1), OnnxAttr.Int("group", groups));
    }

    /// <summary>nn.BatchNorm2d in eval mode (running statistics) under <paramref name="prefix"/>.</summary>
    public string BatchNorm(string x, string prefix, double eps = 1e-5) =>
        G.Node("BatchNormalization", [x, E.Init(prefix + ".weight"), E.Init(prefix + ".bias"), E.Init(prefix + ".running_mean"), E.Init(prefix + ".running_var")],
            OnnxAttr.Float("epsilon", (float)eps));

    public string MaxPool(string x, long kernel, long stride, long padding) =>
        G.Node("MaxPool", [x], OnnxAttr.Ints("kernel_shape", kernel, kernel), OnnxAttr.Ints("strides", stride, stride),
            OnnxAttr.Ints("pads", padding, padding, padding, padding));

    public string Transpose(string x, params long[] perm) => G.Node("Transpose", [x], OnnxAttr.Ints("perm", perm));

    /// <summary>Reshape to <paramref name="shape"/> (ONNX semantics: 0 keeps the input's dimension, -1 is inferred).</summary>
    public string Reshape(string x, params long[] shape) => G.Node("Reshape", [x, G.Ints(shape)]);

    /// <summary>LayerNorm over the channels of [B, C, H, W] (ConvNeXt's channels_first LayerNorm).</summary>
    public string ChannelsFirstLayerNorm(string x, string prefix, double eps) =>
        Transpose(E.LayerNorm(Transpose(x, 0, 2, 3, 1), prefix, eps), 0, 3, 1, 2);

    /// <summary>Mean over <paramref name="axes"/> (ReduceMean takes its axes as an attribute in opset 17).</summary>
    public string Mean(string x, bool keepDims, params long[] axes) =>
        G.Node("ReduceMean", [x], OnnxAttr.Ints("axes", axes), OnnxAttr.Int("keepdims", keepDims ? 1 : 0));

    /// <summary>x[..., start::step, ...] on <paramref name="axis"/>.</summary>
    public string Slice(string x, long axis, long start, long end, long step = 1) =>
        G.Node("Slice", [x, G.Ints([start]), G.Ints([end]), G.Ints([axis]), G.Ints([step])]);

    /// <summary>torch.roll(x, shift, axis) of an axis of known <paramref name="size"/>: the last shift entries move to the front.</summary>
    public string Roll(string x, long shift, long axis, long size)
    {
        long s = ((shift % size) + size) % size;
        if (s == 0) return x;
        return G.Node("Concat", [Slice(x, axis, size - s, size), Slice(x, axis, 0, size - s)], OnnxAttr.Int("axis", axis));
    }

    /// <summary>Zero padding at the end of each axis by <paramref name="after"/> (one entry per axis of x).</summary>
    public string PadEnd(string x, params long[] after) =>
        after.All(p => p == 0) ? x : G.Node("Pad", [x, G.Ints([.. after.Select(_ => 0L), .. after])]);

    // ---- outputs ----

    /// <summary>A [B, C, H, W] map whose spatial size the graph computes.</summary>
    public void FeatureMap(string x, string name, long channels) =>
        G.Output(x, name, DataType.Float, "batch_size", channels, OnnxDim.Unknown, OnnxDim.Unknown);

    public void Output(string x, string name, params OnnxDim[] dims) => G.Output(x, name, DataType.Float, ["batch_size", .. dims]);

    public void Logits(string x, long labels) => E.SequenceLogits(x, labels);

    /// <summary>
    /// A backbone's outputs: for each stage of out_features, in stage order, <paramref name="stageOutputs"/>[stage index]
    /// through <paramref name="perStage"/> (the stage's norm, a reshape), named by the stage.
    /// </summary>
    public void Stages(BackboneModel model, IReadOnlyList<string> stageOutputs, Func<string, string, string>? perStage = null)
    {
        for (int i = 0; i < model.StageNames.Count; i++)
        {
            string stage = model.StageNames[i];
            if (!model.OutFeatures.Contains(stage)) continue;
            FeatureMap(perStage is null ? stageOutputs[i] : perStage(stage, stageOutputs[i]), stage, model.NumFeatures[i]);
        }
    }
}
