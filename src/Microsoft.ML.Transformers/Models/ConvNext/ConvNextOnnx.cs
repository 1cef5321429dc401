using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Onnx;

namespace Microsoft.ML.Transformers.Models.ConvNext;

/// <summary>
/// ONNX graphs of ConvNeXt (the computation of ConvNextModel.cs), fully convolutional, so height and width are dynamic.
/// Channels-first LayerNorms are LayerNormalization between two Transposes; pwconv1/pwconv2 are nn.Linear layers (and
/// dynamic int8 when quantized). Base: last_hidden_state [B, C, h, w] and pooler_output [B, C]; classification: logits;
/// backbone: one map per stage of out_features, each through its hidden_states_norms LayerNorm.
/// </summary>
internal static class ConvNextOnnx
{
    public static void Register()
    {
        OnnxExport.Register<ConvNextModel>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var last = Stages(v, "", null);
            long c = Config(e).HiddenSizes[^1];
            v.FeatureMap(last, "last_hidden_state", c);
            v.Output(Pool(v, last, ""), "pooler_output", c);
        });
        OnnxExport.Register<ConvNextForImageClassification>((m, e) =>
        {
            var v = new VisionOnnx(e);
            v.Logits(e.Linear(Pool(v, Stages(v, "convnext.", null), "convnext."), "classifier"), m.Config.NumLabels);
        });
        OnnxExport.Register<ConvNextBackbone>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var all = new List<string>();
            Stages(v, "", all);
            v.Stages(m, all, (stage, x) => v.ChannelsFirstLayerNorm(x, $"hidden_states_norms.{stage}", 1e-6));
        });
    }

    private static ConvNextConfig Config(EncoderOnnx e) => (ConvNextConfig)e.Model.Config;

    /// <summary>layernorm(mean over height and width).</summary>
    private static string Pool(VisionOnnx v, string x, string p) => v.E.LayerNorm(v.Mean(x, false, 2, 3), p + "layernorm", Config(v.E).LayerNormEps);

    /// <summary>Patchify stem and every stage; returns the last map and adds the stem's and each stage's output to <paramref name="all"/>.</summary>
    private static string Stages(VisionOnnx v, string p, List<string>? all)
    {
        var c = Config(v.E);
        var x = v.PixelValues(c.NumChannels);
        x = v.ChannelsFirstLayerNorm(v.Conv(x, p + "embeddings.patch_embeddings", c.PatchSize), p + "embeddings.layernorm", 1e-6);
        all?.Add(x);
        for (int s = 0; s < c.NumStages; s++)
        {
            string sp = $"{p}encoder.stages.{s}.";
            if (v.E.HasWeight(sp + "downsampling_layer.1.weight"))
                x = v.Conv(v.ChannelsFirstLayerNorm(x, sp + "downsampling_layer.0", 1e-6), sp + "downsampling_layer.1", s > 0 ? 2 : 1);
            for (int l = 0; l < c.Depths[s]; l++)
            {
                string lp = $"{sp}layers.{l}.";
                long dim = c.HiddenSizes[s];
                var h = v.Transpose(v.Conv(x, lp + "dwconv", 1, 3, dim), 0, 2, 3, 1);
                h = v.E.LinearActivation(v.E.LayerNorm(h, lp + "layernorm", 1e-6), lp + "pwconv1", c.HiddenAct, "hidden_act");
                h = v.E.Linear(h, lp + "pwconv2");
                if (v.E.HasWeight(lp + "layer_scale_parameter")) h = v.E.Graph.Node("Mul", [h, v.E.Init(lp + "layer_scale_parameter")]);
                x = v.E.Graph.Node("Add", [x, v.Transpose(h, 0, 3, 1, 2)]);
            }
            all?.Add(x);
        }
        return x;
    }
}
