using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.Swin;

// Swin Transformer v1 as Hugging Face's modeling_swin.py: patch embeddings, stages of window attention blocks (every
// other block shifted by half a window, with the -100 mask across the wrapped edges), relative position bias per
// window, 2x2 patch merging between stages. Hidden states are [B, H*W, C] with (H, W) carried alongside.

internal sealed class SwinPatchEmbeddings : nn.Module
{
    private readonly Conv2d projection;
    private readonly int _patch, _channels;

    public SwinPatchEmbeddings(SwinConfig c) : base(nameof(SwinPatchEmbeddings))
    {
        (_patch, _channels) = (c.PatchSize, c.NumChannels);
        register_module("projection", projection = nn.Conv2d(c.NumChannels, c.EmbedDim, c.PatchSize, stride: c.PatchSize));
    }

    public (Tensor tokens, long h, long w) forward(Tensor pixels)
    {
        VisionChecks.PixelValues(pixels, _channels, "swin");
        long padW = (_patch - pixels.size(3) % _patch) % _patch, padH = (_patch - pixels.size(2) % _patch) % _patch;
        if (padW > 0 || padH > 0) pixels = F.pad(pixels, [0, padW, 0, padH]);
        var x = projection.forward(pixels);
        return (x.flatten(2).transpose(1, 2), x.size(2), x.size(3));
    }
}

internal sealed class SwinEmbeddings : nn.Module, IParameterOwner
{
    private readonly SwinPatchEmbeddings patch_embeddings;
    private readonly LayerNorm norm;
    private readonly Dropout dropout;
    private Parameter? _positions;

    public SwinEmbeddings(SwinConfig c) : base(nameof(SwinEmbeddings))
    {
        register_module("patch_embeddings", patch_embeddings = new SwinPatchEmbeddings(c));
        if (c.UseAbsoluteEmbeddings)
        {
            long patches = (long)(c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize);
            register_parameter("position_embeddings", _positions = new Parameter(zeros(1, patches + 1, c.EmbedDim)));
        }
        register_module("norm", norm = nn.LayerNorm(c.EmbedDim, c.LayerNormEps));
        register_module("dropout", dropout = nn.Dropout(c.HiddenDropoutProb));
    }

    protected override void RegisterComponents() { }

    public (Tensor x, long h, long w) forward(Tensor pixels)
    {
        var (x, h, w) = patch_embeddings.forward(pixels);
        x = norm.forward(x);
        if (_positions is not null) x = x.add(_positions[TensorIndex.Colon, TensorIndex.Slice(1)]);
        return (dropout.forward(x), h, w);
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        if (name != "position_embeddings") throw new ArgumentException($"SwinEmbeddings has no parameter '{name}'.");
        _positions = (Parameter)value.DetachFromDisposeScope();
        ConditionallyRegisterParameter(name, _positions);
    }
}

/// <summary>Window self-attention with the learned relative position bias (SwinSelfAttention).</summary>
internal sealed class SwinSelfAttention : nn.Module, IParameterOwner
{
    private readonly Linear query, key, value;
    private readonly Dropout dropout;
    private Parameter _table;
    private readonly Tensor _index;
    private readonly int _heads, _window;
    private readonly long _headDim;

    public SwinSelfAttention(SwinConfig c, long dim, int heads) : base(nameof(SwinSelfAttention))
    {
        if (dim % heads != 0) throw new ConfigException(c.Source, "num_heads", $"the hidden size ({dim}) is not a multiple of the number of attention heads ({heads}).");
        (_heads, _window, _headDim) = (heads, c.WindowSize, dim / heads);
        int w = c.WindowSize;
        register_parameter("relative_position_bias_table", _table = new Parameter(zeros((2 * w - 1) * (2 * w - 1), heads)));
        _index = RelativePositionIndex(w);
        register_buffer("relative_position_index", _index);
        register_module("query", query = nn.Linear(dim, dim, hasBias: c.QkvBias));
        register_module("key", key = nn.Linear(dim, dim, hasBias: c.QkvBias));
        register_module("value", value = nn.Linear(dim, dim, hasBias: c.QkvBias));
        register_module("dropout", dropout = nn.Dropout(c.AttentionProbsDropoutProb));
    }

    protected override void RegisterComponents() { }

    /// <summary>For each pair of positions in a w x w window, the row of the bias table for their (dy, dx).</summary>
    private static Tensor RelativePositionIndex(int w)
    {
        var idx = new long[w * w * w * w];
        for (int a = 0; a < w * w; a++)
            for (int b = 0; b < w * w; b++)
            {
                int dy = a / w - b / w + w - 1, dx = a % w - b % w + w - 1;
                idx[a * w * w + b] = dy * (2 * w - 1) + dx;
            }
        return tensor(idx, [w * w, w * w]);
    }

    private Tensor Heads(Tensor x) => x.view(x.size(0), x.size(1), _heads, _headDim).permute(0, 2, 1, 3);

    /// <summary>x: [windows*B, N, C]; mask: [windows, N, N] or null.</summary>
    public (Tensor context, Tensor? probs) forward(Tensor x, Tensor? mask, bool wantProbs)
    {
        long bw = x.size(0), n = x.size(1);
        var q = Heads(query.forward(x));
        var k = Heads(key.forward(x));
        var v = Heads(value.forward(x));
        var scores = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(_headDim));
        var bias = _table.index_select(0, _index.view(-1).to(_table.device)).view(n, n, -1).permute(2, 0, 1);
        scores = scores.add(bias.unsqueeze(0));
        if (mask is not null)
        {
            long nw = mask.size(0);
            scores = scores.view(bw / nw, nw, _heads, n, n).add(mask.unsqueeze(1).unsqueeze(0)).view(-1, _heads, n, n);
        }
        var probs = dropout.forward(F.softmax(scores, -1));
        var context = probs.matmul(v).permute(0, 2, 1, 3).reshape(bw, n, -1);
        return (context, wantProbs ? probs : null);
    }

    void IParameterOwner.SetParameter(string name, Parameter value)
    {
        if (name != "relative_position_bias_table") throw new ArgumentException($"SwinSelfAttention has no parameter '{name}'.");
        _table = (Parameter)value.DetachFromDisposeScope();
        ConditionallyRegisterParameter(name, _table);
    }
}

internal sealed class SwinSelfOutput : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Dropout dropout;

    public SwinSelfOutput(SwinConfig c, long dim) : base(nameof(SwinSelfOutput))
    {
        register_module("dense", dense = nn.Linear(dim, dim));
        register_module("dropout", dropout = nn.Dropout(c.AttentionProbsDropoutProb));
    }

    public override Tensor forward(Tensor x) => dropout.forward(dense.forward(x));
}

internal sealed class SwinAttention : nn.Module
{
    private readonly SwinSelfAttention self;
    private readonly SwinSelfOutput output;

    public SwinAttention(SwinConfig c, long dim, int heads) : base(nameof(SwinAttention))
    {
        register_module("self", self = new SwinSelfAttention(c, dim, heads));
        register_module("output", output = new SwinSelfOutput(c, dim));
    }

    public (Tensor, Tensor?) forward(Tensor x, Tensor? mask, bool wantProbs)
    {
        var (ctx, probs) = self.forward(x, mask, wantProbs);
        return (output.forward(ctx), probs);
    }
}

internal sealed class SwinIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _act;

    public SwinIntermediate(SwinConfig c, long dim) : base(nameof(SwinIntermediate))
    {
        register_module("dense", dense = nn.Linear(dim, (long)(c.MlpRatio * dim)));
        _act = Activations.Get(c.HiddenAct);
    }

    public override Tensor forward(Tensor x) => _act(dense.forward(x));
}

internal sealed class SwinOutput : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Dropout dropout;

    public SwinOutput(SwinConfig c, long dim) : base(nameof(SwinOutput))
    {
        register_module("dense", dense = nn.Linear((long)(c.MlpRatio * dim), dim));
        register_module("dropout", dropout = nn.Dropout(c.HiddenDropoutProb));
    }

    public override Tensor forward(Tensor x) => dropout.forward(dense.forward(x));
}

/// <summary>One Swin block (SwinLayer): pre-norm (shifted) window attention and a pre-norm MLP, both residual.</summary>
internal sealed class SwinLayer : nn.Module
{
    private readonly LayerNorm layernorm_before, layernorm_after;
    private readonly SwinAttention attention;
    private readonly SwinIntermediate intermediate;
    private readonly SwinOutput output;
    private readonly int _window, _shift;

    public SwinLayer(SwinConfig c, long dim, int heads, int shift) : base(nameof(SwinLayer))
    {
        (_window, _shift) = (c.WindowSize, shift);
        register_module("layernorm_before", layernorm_before = nn.LayerNorm(dim, c.LayerNormEps));
        register_module("attention", attention = new SwinAttention(c, dim, heads));
        register_module("layernorm_after", layernorm_after = nn.LayerNorm(dim, c.LayerNormEps));
        register_module("intermediate", intermediate = new SwinIntermediate(c, dim));
        register_module("output", output = new SwinOutput(c, dim));
    }

    private static Tensor Partition(Tensor x, int w)
    {
        long b = x.size(0), h = x.size(1), wd = x.size(2), c = x.size(3);
        return x.view(b, h / w, w, wd / w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w, w, c);
    }

    private static Tensor Reverse(Tensor windows, int w, long h, long wd)
    {
        long c = windows.size(-1);
        return windows.view(-1, h / w, wd / w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, h, wd, c);
    }

    /// <summary>The shifted-window mask [windows, N, N]: -100 between tokens that came from different regions of the rolled map.</summary>
    internal static Tensor ShiftMask(long h, long wd, int window, int shift, Device device, ScalarType dtype)
    {
        var img = new float[h * wd];
        long[] Edges(long size) => [0, size - window, size - shift, size];
        var hs = Edges(h);
        var ws = Edges(wd);
        int count = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++, count++)
                for (long y = hs[i]; y < hs[i + 1]; y++)
                    for (long x = ws[j]; x < ws[j + 1]; x++) img[y * wd + x] = count;
        var windows = Partition(tensor(img, [1, h, wd, 1]), window).view(-1, (long)window * window);
        var diff = windows.unsqueeze(1).sub(windows.unsqueeze(2));
        return zeros_like(diff).masked_fill(diff.ne(0), -100.0).to(dtype, device);
    }

    public (Tensor hidden, Tensor? probs) forward(Tensor hidden, long h, long wd, bool wantProbs)
    {
        int window = _window, shift = _shift;
        if (Math.Min(h, wd) <= window)
        {
            // The window covers the whole map: no partition and no shift (set_shift_and_window_size).
            shift = 0;
            window = (int)Math.Min(h, wd);
        }
        long b = hidden.size(0), c = hidden.size(2);
        var shortcut = hidden;
        var x = layernorm_before.forward(hidden).view(b, h, wd, c);
        long padR = (window - wd % window) % window, padB = (window - h % window) % window;
        if (padR > 0 || padB > 0) x = F.pad(x, [0, 0, 0, padR, 0, padB]);
        long hp = h + padB, wp = wd + padR;
        if (shift > 0) x = x.roll([-shift, -shift], [1, 2]);
        var windows = Partition(x, window).view(-1, (long)window * window, c);
        var mask = shift > 0 ? ShiftMask(hp, wp, window, shift, x.device, x.dtype) : null;
        var (attn, probs) = attention.forward(windows, mask, wantProbs);
        x = Reverse(attn.view(-1, window, window, c), window, hp, wp);
        if (shift > 0) x = x.roll([shift, shift], [1, 2]);
        if (padR > 0 || padB > 0) x = x[TensorIndex.Colon, TensorIndex.Slice(0, h), TensorIndex.Slice(0, wd), TensorIndex.Colon].contiguous();
        hidden = shortcut.add(x.reshape(b, h * wd, c));
        var y = output.forward(intermediate.forward(layernorm_after.forward(hidden)));
        return (hidden.add(y), probs);
    }
}

/// <summary>2x2 patch merging: concatenates the four neighbours (4C), LayerNorm, linear to 2C.</summary>
internal sealed class SwinPatchMerging : nn.Module
{
    private readonly Linear reduction;
    private readonly LayerNorm norm;

    public SwinPatchMerging(SwinConfig c, long dim) : base(nameof(SwinPatchMerging))
    {
        register_module("reduction", reduction = nn.Linear(4 * dim, 2 * dim, hasBias: false));
        register_module("norm", norm = nn.LayerNorm(4 * dim, c.LayerNormEps));
    }

    public Tensor forward(Tensor x, long h, long w)
    {
        long b = x.size(0), c = x.size(2);
        var m = x.view(b, h, w, c);
        if (h % 2 == 1 || w % 2 == 1) m = F.pad(m, [0, 0, 0, w % 2, 0, h % 2]);
        var x0 = m[TensorIndex.Colon, TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2), TensorIndex.Colon];
        var x1 = m[TensorIndex.Colon, TensorIndex.Slice(1, null, 2), TensorIndex.Slice(0, null, 2), TensorIndex.Colon];
        var x2 = m[TensorIndex.Colon, TensorIndex.Slice(0, null, 2), TensorIndex.Slice(1, null, 2), TensorIndex.Colon];
        var x3 = m[TensorIndex.Colon, TensorIndex.Slice(1, null, 2), TensorIndex.Slice(1, null, 2), TensorIndex.Colon];
        var merged = cat([x0, x1, x2, x3], -1).view(b, -1, 4 * c);
        return reduction.forward(norm.forward(merged));
    }
}

internal sealed class SwinStage : nn.Module
{
    private readonly ModuleList<SwinLayer> blocks;
    private readonly SwinPatchMerging? downsample;

    public SwinStage(SwinConfig c, long dim, int depth, int heads, bool merge) : base(nameof(SwinStage))
    {
        register_module("blocks", blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(i => new SwinLayer(c, dim, heads, i % 2 == 0 ? 0 : c.WindowSize / 2)).ToArray()));
        if (merge) register_module("downsample", downsample = new SwinPatchMerging(c, dim));
    }

    /// <summary>Returns the output after merging, the output before it, and the new (H, W).</summary>
    public (Tensor after, Tensor before, long h, long w) forward(Tensor x, long h, long w, List<Tensor>? attentions)
    {
        foreach (var block in blocks)
        {
            var (y, probs) = block.forward(x, h, w, attentions is not null);
            x = y;
            if (probs is not null) attentions!.Add(probs);
        }
        if (downsample is null) return (x, x, h, w);
        return (downsample.forward(x, h, w), x, (h + 1) / 2, (w + 1) / 2);
    }
}

internal sealed class SwinEncoder : nn.Module
{
    private readonly ModuleList<SwinStage> layers;

    public SwinEncoder(SwinConfig c) : base(nameof(SwinEncoder))
    {
        if (c.NumHeads.Count != c.Depths.Count)
            throw new ConfigException(c.Source, "num_heads", $"has {c.NumHeads.Count} entries but depths has {c.Depths.Count}; expected one per stage.");
        int n = c.Depths.Count;
        register_module("layers", layers = nn.ModuleList(Enumerable.Range(0, n)
            .Select(i => new SwinStage(c, (long)c.EmbedDim << i, c.Depths[i], c.NumHeads[i], i < n - 1)).ToArray()));
    }

    /// <summary>Runs every stage. <paramref name="hidden"/> / <paramref name="reshaped"/> get the embeddings then each stage's
    /// output, after merging unless <paramref name="beforeDownsampling"/> (what the backbone uses).</summary>
    public Tensor forward(Tensor x, long h, long w, List<Tensor>? hidden, List<Tensor>? reshaped, List<Tensor>? attentions, bool beforeDownsampling)
    {
        void Keep(Tensor t, long th, long tw)
        {
            hidden?.Add(t);
            reshaped?.Add(t.view(t.size(0), th, tw, t.size(2)).permute(0, 3, 1, 2));
        }
        Keep(x, h, w);
        foreach (var stage in layers)
        {
            var (after, before, nh, nw) = stage.forward(x, h, w, attentions);
            if (beforeDownsampling) Keep(before, h, w);
            else Keep(after, nh, nw);
            (x, h, w) = (after, nh, nw);
        }
        return x;
    }
}

/// <summary>The bare Swin: last_hidden_state [B, L, C] (final LayerNorm), pooler_output [B, C] (token mean),
/// hidden_states [B, L, C] and reshaped_hidden_states [B, C, H, W] (embeddings, then each stage after merging).</summary>
public sealed class SwinModel : PreTrainedModel
{
    private readonly SwinEmbeddings embeddings;
    private readonly SwinEncoder encoder;
    private readonly LayerNorm layernorm;
    private readonly bool _pool;

    public SwinModel(SwinConfig config, bool addPoolingLayer = true) : base(config)
    {
        register_module("embeddings", embeddings = new SwinEmbeddings(config));
        register_module("encoder", encoder = new SwinEncoder(config));
        register_module("layernorm", layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps));
        _pool = addPoolingLayer;
    }

    public override string BaseModelPrefix => "swin";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        bool wantHidden = inputs.OutputHiddenStates || Config.OutputHiddenStates;
        var hidden = wantHidden ? new List<Tensor>() : null;
        var reshaped = wantHidden ? new List<Tensor>() : null;
        var attentions = inputs.OutputAttentions || Config.OutputAttentions ? new List<Tensor>() : null;
        var (x, h, w) = embeddings.forward(inputs.RequirePixelValues());
        var last = layernorm.forward(encoder.forward(x, h, w, hidden, reshaped, attentions, beforeDownsampling: false));
        return new ModelOutput
        {
            LastHiddenState = last,
            PoolerOutput = _pool ? last.mean([1]) : null,
            HiddenStates = hidden,
            ReshapedHiddenStates = reshaped,
            Attentions = attentions,
        };
    }
}

/// <summary>Swin + linear classifier over the pooled output; loss by problem_type.</summary>
public sealed class SwinForImageClassification : PreTrainedModel
{
    private readonly SwinModel swin;
    private readonly nn.Module<Tensor, Tensor> classifier;

    public SwinForImageClassification(SwinConfig config) : base(config)
    {
        register_module("swin", swin = new SwinModel(config));
        register_module("classifier", classifier = config.NumLabels > 0 ? nn.Linear(config.HiddenSize, config.NumLabels) : nn.Identity());
    }

    public override string BaseModelPrefix => "swin";

    public override string MainInputName => "pixel_values";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = swin.forward(inputs);
        return VisionHeads.Classification(classifier.forward(o.PoolerOutput!), inputs, Config, o);
    }
}

/// <summary>Swin feature maps: each stage's output before merging, through its LayerNorm (hidden_states_norms.{stage}),
/// reshaped to [B, C, H, W]; "stem" is the patch embeddings.</summary>
public sealed class SwinBackbone : BackboneModel
{
    private readonly SwinEmbeddings embeddings;
    private readonly SwinEncoder encoder;
    private readonly ModuleDict<LayerNorm> hidden_states_norms;

    public SwinBackbone(SwinConfig config) : base(config)
    {
        register_module("embeddings", embeddings = new SwinEmbeddings(config));
        register_module("encoder", encoder = new SwinEncoder(config));
        NumFeatures = [config.EmbedDim, .. Enumerable.Range(0, config.Depths.Count).Select(i => config.EmbedDim << i)];
        hidden_states_norms = nn.ModuleDict<LayerNorm>();
        foreach (var (stage, channels) in OutFeatures.Zip(Channels)) hidden_states_norms.Add((stage, nn.LayerNorm(channels)));
        register_module("hidden_states_norms", hidden_states_norms);
    }

    public override string BaseModelPrefix => "swin";

    public override string MainInputName => "pixel_values";

    public override IReadOnlyList<int> NumFeatures { get; }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var reshaped = new List<Tensor>();
        var hidden = new List<Tensor>();
        var attentions = inputs.OutputAttentions || Config.OutputAttentions ? new List<Tensor>() : null;
        var (x, h, w) = embeddings.forward(inputs.RequirePixelValues());
        encoder.forward(x, h, w, hidden, reshaped, attentions, beforeDownsampling: true);
        var maps = Select(reshaped, (stage, map) =>
        {
            long b = map.size(0), c = map.size(1), mh = map.size(2), mw = map.size(3);
            var tokens = hidden_states_norms[stage].forward(map.permute(0, 2, 3, 1).reshape(b, mh * mw, c));
            return tokens.view(b, mh, mw, c).permute(0, 3, 1, 2).contiguous();
        });
        return new ModelOutput
        {
            FeatureMaps = maps,
            HiddenStates = inputs.OutputHiddenStates || Config.OutputHiddenStates ? hidden : null,
            Attentions = attentions,
        };
    }
}
