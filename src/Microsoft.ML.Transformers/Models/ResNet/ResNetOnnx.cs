using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Onnx;

namespace Microsoft.ML.Transformers.Models.ResNet;

/// <summary>
/// ONNX graphs of ResNet (the computation of ResNetModel.cs): BatchNormalization in inference form (running statistics),
/// fully convolutional, so height and width are dynamic. Base: last_hidden_state [B, C, h, w] and pooler_output
/// [B, C, 1, 1]; classification: logits; backbone: one map per stage of out_features.
/// </summary>
internal static class ResNetOnnx
{
    public static void Register()
    {
        OnnxExport.Register<ResNetModel>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var last = Stages(v, "", null);
            long c = Config(e).HiddenSizes[^1];
            v.FeatureMap(last, "last_hidden_state", c);
            v.Output(Pool(v, last), "pooler_output", c, 1, 1);
        });
        OnnxExport.Register<ResNetForImageClassification>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var pooled = e.Graph.Node("Flatten", [Pool(v, Stages(v, "resnet.", null))], OnnxAttr.Int("axis", 1));
            v.Logits(e.Linear(pooled, "classifier.1"), m.Config.NumLabels);
        });
        OnnxExport.Register<ResNetBackbone>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var all = new List<string>();
            Stages(v, "", all);
            v.Stages(m, all);
        });
    }

    private static ResNetConfig Config(EncoderOnnx e) => (ResNetConfig)e.Model.Config;

    private static string Pool(VisionOnnx v, string x) => v.E.Graph.Node("GlobalAveragePool", [x]);

    /// <summary>ResNetConvLayer: conv (padding k/2) -> BatchNorm -> activation (none when null).</summary>
    private static string ConvLayer(VisionOnnx v, string x, string p, long stride, string? act)
    {
        long k = v.E.Weight(p + "convolution.weight").shape[2];
        var y = v.BatchNorm(v.Conv(x, p + "convolution", stride, k / 2), p + "normalization");
        return act is null ? y : v.E.Activation(y, null, act, "hidden_act");
    }

    /// <summary>The stem and every stage; returns the last map, and adds the stem's and each stage's output to <paramref name="all"/>.</summary>
    private static string Stages(VisionOnnx v, string p, List<string>? all)
    {
        var c = Config(v.E);
        var x = v.PixelValues(c.NumChannels);
        x = v.MaxPool(ConvLayer(v, x, p + "embedder.embedder.", 2, c.HiddenAct), 3, 2, 1);
        all?.Add(x);
        for (int s = 0; s < c.Depths.Count; s++)
        {
            for (int l = 0; l < c.Depths[s]; l++)
            {
                long stride = l > 0 ? 1 : s > 0 || c.DownsampleInFirstStage ? 2 : 1;
                string lp = $"{p}encoder.stages.{s}.layers.{l}.";
                var residual = v.E.HasWeight(lp + "shortcut.convolution.weight")
                    ? v.BatchNorm(v.Conv(x, lp + "shortcut.convolution", stride), lp + "shortcut.normalization")
                    : x;
                // The branch's inner convolutions use ReLU whatever hidden_act says (ResNetConvLayer's default), as in Hugging Face.
                string h;
                if (c.LayerType == "bottleneck")
                {
                    h = ConvLayer(v, x, lp + "layer.0.", c.DownsampleInBottleneck ? stride : 1, "relu");
                    h = ConvLayer(v, h, lp + "layer.1.", c.DownsampleInBottleneck ? 1 : stride, "relu");
                    h = ConvLayer(v, h, lp + "layer.2.", 1, null);
                }
                else
                {
                    h = ConvLayer(v, x, lp + "layer.0.", stride, "relu");
                    h = ConvLayer(v, h, lp + "layer.1.", 1, null);
                }
                x = v.E.Activation(v.E.Graph.Node("Add", [h, residual]), null, c.HiddenAct, "hidden_act");
            }
            all?.Add(x);
        }
        return x;
    }
}
