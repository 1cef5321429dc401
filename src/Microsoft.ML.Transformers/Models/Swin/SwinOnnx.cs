using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Onnx;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Swin;

/// <summary>
/// ONNX graphs of Swin (the computation of SwinModel.cs). The batch is dynamic; height and width are fixed to config
/// image_size: which blocks shift their windows, the window size of the small late stages, the padding to whole
/// windows and the shifted-window mask all follow from the map size, as Hugging Face fixes them from image_size when
/// it builds the layers. Per window, the relative position bias and the shift mask are one constant added to the
/// scores of a portable attention (no fused ONNX Runtime operator takes a per-window bias). Base: last_hidden_state
/// [B, L, C] and pooler_output [B, C]; classification: logits; backbone: one map per stage of out_features.
/// </summary>
internal static class SwinOnnx
{
    public static void Register()
    {
        OnnxExport.Register<SwinModel>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var (x, h, w) = Encoder(v, "", null);
            var last = e.LayerNorm(x, "layernorm", Config(e).LayerNormEps);
            long c = Config(e).HiddenSize;
            v.Output(last, "last_hidden_state", h * w, c);
            v.Output(v.Mean(last, false, 1), "pooler_output", c);
        });
        OnnxExport.Register<SwinForImageClassification>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var last = e.LayerNorm(Encoder(v, "swin.", null).x, "swin.layernorm", Config(e).LayerNormEps);
            v.Logits(e.Linear(v.Mean(last, false, 1), "classifier"), m.Config.NumLabels);
        });
        OnnxExport.Register<SwinBackbone>((m, e) =>
        {
            var v = new VisionOnnx(e);
            var all = new List<(string x, long h, long w)>();
            Encoder(v, "", all);
            v.Stages(m, all.Select(s => s.x).ToList(), (stage, x) =>
            {
                var (_, h, w) = all[m.StageNames.ToList().IndexOf(stage)];
                long c = m.NumFeatures[m.StageNames.ToList().IndexOf(stage)];
                var normed = e.LayerNorm(x, $"hidden_states_norms.{stage}", 1e-5); // nn.LayerNorm's default eps
                return v.Transpose(v.Reshape(normed, -1, h, w, c), 0, 3, 1, 2);
            });
        });
    }

    private static SwinConfig Config(EncoderOnnx e) => (SwinConfig)e.Model.Config;

    /// <summary>Embeddings and every stage; returns the last stage's tokens [B, h*w, C] and adds the embeddings' and each
    /// stage's output before merging (with their sizes) to <paramref name="beforeMerging"/>.</summary>
    private static (string x, long h, long w) Encoder(VisionOnnx v, string p, List<(string, long, long)>? beforeMerging)
    {
        var c = Config(v.E);
        long size = c.ImageSize, patch = c.PatchSize, pad = (patch - size % patch) % patch;
        var pixels = v.PadEnd(v.PixelValues(c.NumChannels, size, size), 0, 0, pad, pad);
        long h = (size + pad) / patch, w = h;
        var x = v.Transpose(v.Reshape(v.Conv(pixels, p + "embeddings.patch_embeddings.projection", patch), 0, c.EmbedDim, h * w), 0, 2, 1);
        x = v.E.LayerNorm(x, p + "embeddings.norm", c.LayerNormEps);
        if (v.E.HasWeight(p + "embeddings.position_embeddings"))
            x = v.E.Graph.Node("Add", [x, v.E.Init(p + "embeddings.position_embeddings", "patches", t => t[TensorIndex.Colon, TensorIndex.Slice(1)])]);
        beforeMerging?.Add((x, h, w));
        int stages = c.Depths.Count;
        for (int s = 0; s < stages; s++)
        {
            long dim = (long)c.EmbedDim << s;
            for (int b = 0; b < c.Depths[s]; b++)
            {
                long window = c.WindowSize, shift = b % 2 == 0 ? 0 : c.WindowSize / 2;
                if (Math.Min(h, w) <= window) (shift, window) = (0, Math.Min(h, w)); // the window covers the map
                x = Block(v, x, $"{p}encoder.layers.{s}.blocks.{b}.", h, w, dim, c.NumHeads[s], window, shift);
            }
            if (s == stages - 1) break;
            beforeMerging?.Add((x, h, w));
            (x, h, w) = (Merge(v, x, $"{p}encoder.layers.{s}.downsample.", h, w, dim), (h + 1) / 2, (w + 1) / 2);
        }
        beforeMerging?.Add((x, h, w));
        return (x, h, w);
    }

    /// <summary>SwinLayer: x + attention over (shifted) windows of LayerNorm(x), then x + MLP(LayerNorm(x)).</summary>
    private static string Block(VisionOnnx v, string x, string p, long h, long w, long dim, long heads, long window, long shift)
    {
        var c = Config(v.E);
        var g = v.E.Graph;
        var y = v.Reshape(v.E.LayerNorm(x, p + "layernorm_before", c.LayerNormEps), -1, h, w, dim);
        long padR = (window - w % window) % window, padB = (window - h % window) % window, hp = h + padB, wp = w + padR;
        y = v.PadEnd(y, 0, padB, padR, 0);
        y = v.Roll(v.Roll(y, -shift, 1, hp), -shift, 2, wp);
        long n = window * window, windows = hp / window * (wp / window);
        y = v.Reshape(v.Transpose(v.Reshape(y, -1, hp / window, window, wp / window, window, dim), 0, 1, 3, 2, 4, 5), -1, n, dim);

        // The relative position bias [heads, N, N] (+ the shift mask [windows, 1, N, N]) as one constant per block.
        string sp = p + "attention.self.";
        var bias = v.E.Init(sp + "relative_position_bias_table", $"bias_{hp}x{wp}_w{window}_s{shift}", table =>
        {
            var index = v.E.Weight(sp + "relative_position_index").view(-1).to(table.device);
            var relative = table.index_select(0, index).view(n, n, -1).permute(2, 0, 1).unsqueeze(0);
            return shift > 0
                ? relative.add(SwinLayer.ShiftMask(hp, wp, (int)window, (int)shift, table.device, table.dtype).unsqueeze(1))
                : relative;
        });
        var context = v.E.BiasedSelfAttention(y, [sp + "query", sp + "key", sp + "value"], heads, dim, scores => shift > 0
            ? v.Reshape(g.Node("Add", [v.Reshape(scores, -1, windows, heads, n, n), bias]), -1, heads, n, n)
            : g.Node("Add", [scores, bias]));
        var attn = v.E.Linear(context, p + "attention.output.dense");

        y = v.Reshape(v.Transpose(v.Reshape(attn, -1, hp / window, wp / window, window, window, dim), 0, 1, 3, 2, 4, 5), -1, hp, wp, dim);
        y = v.Roll(v.Roll(y, shift, 1, hp), shift, 2, wp);
        if (padR > 0 || padB > 0) y = v.Slice(v.Slice(y, 1, 0, h), 2, 0, w);
        x = g.Node("Add", [x, v.Reshape(y, -1, h * w, dim)]);
        var mlp = v.E.LinearActivation(v.E.LayerNorm(x, p + "layernorm_after", c.LayerNormEps), p + "intermediate.dense", c.HiddenAct, "hidden_act");
        return g.Node("Add", [x, v.E.Linear(mlp, p + "output.dense")]);
    }

    /// <summary>SwinPatchMerging: the four 2x2 neighbours side by side (4C), LayerNorm, linear to 2C.</summary>
    private static string Merge(VisionOnnx v, string x, string p, long h, long w, long dim)
    {
        var m = v.PadEnd(v.Reshape(x, -1, h, w, dim), 0, h % 2, w % 2, 0);
        long hp = h + h % 2, wp = w + w % 2;
        string Quarter(long row, long col) => v.Slice(v.Slice(m, 1, row, hp, 2), 2, col, wp, 2);
        var merged = v.E.Graph.Node("Concat", [Quarter(0, 0), Quarter(1, 0), Quarter(0, 1), Quarter(1, 1)], OnnxAttr.Int("axis", -1));
        merged = v.Reshape(merged, -1, hp / 2 * (wp / 2), 4 * dim);
        return v.E.Linear(v.E.LayerNorm(merged, p + "norm", Config(v.E).LayerNormEps), p + "reduction");
    }
}
