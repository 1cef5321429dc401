using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.Detr;

// DETR as Hugging Face's modeling_detr.py: a backbone from backbone_config, or timm's ResNet (TimmResNetBackbone) with
// use_timm_backbone, with frozen batch
// norm, a 2-D position embedding of the backbone's last map, a post-norm transformer encoder over the projected map and
// a decoder over object queries, then a class head (num_labels + "no object") and a 3-layer box MLP.

/// <summary>The backbone's feature maps (module "model", HF's DetrConvEncoder). Batch norm is frozen: its affine
/// parameters take no gradient and it stays in eval mode (running statistics), which computes what
/// DetrFrozenBatchNorm2d computes. For a ResNet, the stem and first stage are frozen as well (DETR trains stages 2-4).</summary>
internal sealed class DetrConvEncoder : nn.Module
{
    private readonly BackboneModel model;

    public DetrConvEncoder(DetrConfig config) : base(nameof(DetrConvEncoder))
    {
        bool timm = config.UseTimmBackbone;
        model = timm ? TimmResNetBackbone.Create(config, config.Get<bool?>("dilation") ?? false) : AutoBackbone.LoadBackbone(config);
        register_module("model", model);
        bool resnet = (config.Backbone ?? config.BackboneConfig?.ModelType ?? "").Contains("resnet", StringComparison.Ordinal);
        string[] trained = timm ? ["layer2", "layer3", "layer4"] : ["stages.1.", "stages.2.", "stages.3."];
        foreach (var (name, p) in model.named_parameters())
        {
            bool trainedStage = trained.Any(t => name.Contains(t, StringComparison.Ordinal));
            if ((resnet && !trainedStage) || IsNorm(model, name)) p.requires_grad = false;
        }
        FreezeNorms();
    }

    public IReadOnlyList<int> Channels => model.Channels;

    private static bool IsNorm(nn.Module root, string parameterName)
    {
        var owner = parameterName[..parameterName.LastIndexOf('.')];
        return root.named_modules().Any(m => m.name == owner && m.module is BatchNorm2d);
    }

    public void FreezeNorms()
    {
        foreach (var (_, m) in model.named_modules())
            if (m is BatchNorm2d bn) bn.eval();
    }

    public IReadOnlyList<Tensor> forward(Tensor pixels) => model.ForwardBackbone(pixels).FeatureMaps;
}

/// <summary>HF's DetrLearnedPositionEmbedding: a row and a column table of 50 positions, d_model/2 wide each.</summary>
internal sealed class DetrLearnedPositionEmbedding : nn.Module
{
    private readonly EmbeddingTable row_embeddings;
    private readonly EmbeddingTable column_embeddings;

    public DetrLearnedPositionEmbedding(long dim) : base(nameof(DetrLearnedPositionEmbedding))
    {
        register_module("row_embeddings", row_embeddings = new EmbeddingTable(50, dim));
        register_module("column_embeddings", column_embeddings = new EmbeddingTable(50, dim));
    }

    /// <summary>[B, d_model, H, W]: column embedding then row embedding on the channel axis.</summary>
    public Tensor forward(Tensor featureMap)
    {
        long b = featureMap.size(0), h = featureMap.size(2), w = featureMap.size(3);
        if (h > 50 || w > 50)
            throw new ArgumentException($"detr: the learned position embedding has 50 rows and columns, but the feature map is {h}x{w}; use smaller images.");
        var x = column_embeddings.forward(arange(w, device: featureMap.device));
        var y = row_embeddings.forward(arange(h, device: featureMap.device));
        var pos = cat([x.unsqueeze(0).expand(h, -1, -1), y.unsqueeze(1).expand(-1, w, -1)], -1);
        return pos.permute(2, 0, 1).unsqueeze(0).expand(b, -1, -1, -1);
    }
}

/// <summary>HF's DetrConvModel ("backbone"): the conv encoder and the position embedding of its last map.</summary>
internal sealed class DetrConvModel : nn.Module
{
    private readonly DetrConvEncoder conv_encoder;
    private readonly DetrLearnedPositionEmbedding? position_embedding;
    private readonly long _dim;

    public DetrConvModel(DetrConfig config) : base(nameof(DetrConvModel))
    {
        register_module("conv_encoder", conv_encoder = new DetrConvEncoder(config));
        _dim = config.DModel / 2;
        if (config.PositionEmbeddingType == "learned")
            register_module("position_embedding", position_embedding = new DetrLearnedPositionEmbedding(_dim));
    }

    public DetrConvEncoder Encoder => conv_encoder;

    /// <summary>The last feature map, its mask (true = a real pixel) and its position embedding [B, d_model, h, w].</summary>
    public (Tensor map, Tensor mask, Tensor pos) forward(Tensor pixels, Tensor pixelMask)
    {
        var map = conv_encoder.forward(pixels)[^1];
        var mask = F.interpolate(pixelMask.unsqueeze(0).to(ScalarType.Float32), size: [map.size(2), map.size(3)], mode: InterpolationMode.Nearest)[0].to(ScalarType.Bool);
        var pos = position_embedding is null ? Sine(mask, _dim) : position_embedding.forward(map);
        return (map, mask, pos.to(map.dtype));
    }

    /// <summary>DetrSinePositionEmbedding (temperature 10000, normalized to 2π): y then x halves of sin/cos pairs over
    /// the cumulative count of real pixels, so padding does not shift the positions of the image.</summary>
    public static Tensor Sine(Tensor mask, long dim)
    {
        var m = mask.to(ScalarType.Float32);
        var y = m.cumsum(1);
        var x = m.cumsum(2);
        const double eps = 1e-6, scale = 2 * Math.PI;
        y = y.div(y[TensorIndex.Colon, TensorIndex.Slice(-1), TensorIndex.Colon].add(eps)).mul(scale);
        x = x.div(x[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(-1)].add(eps)).mul(scale);
        var i = arange(dim, dtype: ScalarType.Float32, device: mask.device);
        var freq = pow(10000.0, i.div(2, rounding_mode: RoundingMode.floor).mul(2.0 / dim));
        Tensor Interleave(Tensor p) => stack([p[TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 2)].sin(), p[TensorIndex.Ellipsis, TensorIndex.Slice(1, null, 2)].cos()], 4).flatten(3);
        var px = Interleave(x.unsqueeze(-1).div(freq));
        var py = Interleave(y.unsqueeze(-1).div(freq));
        return cat([py, px], 3).permute(0, 3, 1, 2);
    }
}

/// <summary>HF's DetrAttention: the position embedding is added to queries and keys, not to values.</summary>
internal sealed class DetrAttention : nn.Module
{
    private readonly Linear k_proj, v_proj, q_proj, out_proj;
    private readonly Dropout _dropout;
    private readonly long _heads, _headDim;

    public DetrAttention(long dim, long heads, double dropout) : base(nameof(DetrAttention))
    {
        register_module("k_proj", k_proj = nn.Linear(dim, dim));
        register_module("v_proj", v_proj = nn.Linear(dim, dim));
        register_module("q_proj", q_proj = nn.Linear(dim, dim));
        register_module("out_proj", out_proj = nn.Linear(dim, dim));
        _dropout = nn.Dropout(dropout);
        (_heads, _headDim) = (heads, dim / heads);
    }

    /// <summary>Self-attention when <paramref name="keyValue"/> is null, else cross-attention over it (with
    /// <paramref name="keyPos"/> added to its keys). <paramref name="mask"/> is additive, [B, 1, 1, S].</summary>
    public (Tensor output, Tensor? probs) forward(Tensor hidden, Tensor? pos, Tensor? keyValue, Tensor? keyPos, Tensor? mask, bool needProbs)
    {
        var queryIn = pos is null ? hidden : hidden.add(pos);
        var values = keyValue ?? hidden;
        var keyIn = keyValue is null ? queryIn : keyPos is null ? keyValue : keyValue.add(keyPos);
        Tensor Split(Tensor t) => t.view(t.size(0), t.size(1), _heads, _headDim).transpose(1, 2);
        var (context, probs) = Attention.Compute(Split(q_proj.forward(queryIn)), Split(k_proj.forward(keyIn)), Split(v_proj.forward(values)),
            mask, _dropout, training, needProbs);
        return (out_proj.forward(context), probs);
    }
}

/// <summary>Feed-forward block shared by both layer kinds: fc1, activation, fc2, residual, final_layer_norm.</summary>
internal sealed class DetrFeedForward
{
    private readonly Func<Tensor, Tensor> _act;
    private readonly Dropout _dropout, _activationDropout;

    public DetrFeedForward(DetrConfig c)
    {
        _act = Activations.Get(c.ActivationFunction);
        _dropout = nn.Dropout(c.Dropout);
        _activationDropout = nn.Dropout(c.ActivationDropout);
    }

    public Tensor Residual(Tensor residual, Tensor update, LayerNorm norm, bool training) =>
        norm.forward(residual.add(training ? _dropout.forward(update) : update));

    public Tensor forward(Tensor x, Linear fc1, Linear fc2, LayerNorm norm, bool training)
    {
        var h = _act(fc1.forward(x));
        if (training) h = _activationDropout.forward(h);
        return Residual(x, fc2.forward(h), norm, training);
    }
}

internal sealed class DetrEncoderLayer : nn.Module
{
    private readonly DetrAttention self_attn;
    private readonly LayerNorm self_attn_layer_norm;
    private readonly Linear fc1, fc2;
    private readonly LayerNorm final_layer_norm;
    private readonly DetrFeedForward _ffn;

    public DetrEncoderLayer(DetrConfig c) : base(nameof(DetrEncoderLayer))
    {
        register_module("self_attn", self_attn = new DetrAttention(c.DModel, c.EncoderAttentionHeads, c.AttentionDropout));
        register_module("self_attn_layer_norm", self_attn_layer_norm = nn.LayerNorm(c.DModel));
        register_module("fc1", fc1 = nn.Linear(c.DModel, c.EncoderFfnDim));
        register_module("fc2", fc2 = nn.Linear(c.EncoderFfnDim, c.DModel));
        register_module("final_layer_norm", final_layer_norm = nn.LayerNorm(c.DModel));
        _ffn = new DetrFeedForward(c);
    }

    public (Tensor, Tensor?) forward(Tensor x, Tensor? mask, Tensor pos, bool needProbs)
    {
        var (a, probs) = self_attn.forward(x, pos, null, null, mask, needProbs);
        x = _ffn.Residual(x, a, self_attn_layer_norm, training);
        return (_ffn.forward(x, fc1, fc2, final_layer_norm, training), probs);
    }
}

internal sealed class DetrDecoderLayer : nn.Module
{
    private readonly DetrAttention self_attn;
    private readonly LayerNorm self_attn_layer_norm;
    private readonly DetrAttention encoder_attn;
    private readonly LayerNorm encoder_attn_layer_norm;
    private readonly Linear fc1, fc2;
    private readonly LayerNorm final_layer_norm;
    private readonly DetrFeedForward _ffn;

    public DetrDecoderLayer(DetrConfig c) : base(nameof(DetrDecoderLayer))
    {
        register_module("self_attn", self_attn = new DetrAttention(c.DModel, c.DecoderAttentionHeads, c.AttentionDropout));
        register_module("self_attn_layer_norm", self_attn_layer_norm = nn.LayerNorm(c.DModel));
        register_module("encoder_attn", encoder_attn = new DetrAttention(c.DModel, c.DecoderAttentionHeads, c.AttentionDropout));
        register_module("encoder_attn_layer_norm", encoder_attn_layer_norm = nn.LayerNorm(c.DModel));
        register_module("fc1", fc1 = nn.Linear(c.DModel, c.DecoderFfnDim));
        register_module("fc2", fc2 = nn.Linear(c.DecoderFfnDim, c.DModel));
        register_module("final_layer_norm", final_layer_norm = nn.LayerNorm(c.DModel));
        _ffn = new DetrFeedForward(c);
    }

    public Tensor forward(Tensor x, Tensor queryPos, Tensor memory, Tensor memoryPos, Tensor? memoryMask)
    {
        var (a, _) = self_attn.forward(x, queryPos, null, null, null, false);
        x = _ffn.Residual(x, a, self_attn_layer_norm, training);
        var (c, _) = encoder_attn.forward(x, queryPos, memory, memoryPos, memoryMask, false);
        x = _ffn.Residual(x, c, encoder_attn_layer_norm, training);
        return _ffn.forward(x, fc1, fc2, final_layer_norm, training);
    }
}

internal sealed class DetrEncoder : nn.Module
{
    private readonly ModuleList<DetrEncoderLayer> layers;
    private readonly Dropout _dropout;

    public DetrEncoder(DetrConfig c) : base(nameof(DetrEncoder))
    {
        register_module("layers", layers = nn.ModuleList(Enumerable.Range(0, c.EncoderLayers).Select(_ => new DetrEncoderLayer(c)).ToArray()));
        _dropout = nn.Dropout(c.Dropout);
    }

    public Tensor forward(Tensor x, Tensor? mask, Tensor pos, List<Tensor>? hidden, List<Tensor>? attentions)
    {
        if (training) x = _dropout.forward(x);
        return LayerStack.Run(layers, x, mask, hidden, attentions, (l, h, m, need) => l.forward(h, m, pos, need));
    }
}

internal sealed class DetrDecoder : nn.Module
{
    private readonly ModuleList<DetrDecoderLayer> layers;
    private readonly LayerNorm layernorm;

    public DetrDecoder(DetrConfig c) : base(nameof(DetrDecoder))
    {
        register_module("layers", layers = nn.ModuleList(Enumerable.Range(0, c.DecoderLayers).Select(_ => new DetrDecoderLayer(c)).ToArray()));
        register_module("layernorm", layernorm = nn.LayerNorm(c.DModel));
    }

    /// <summary>The last layer's output through layernorm, and, when <paramref name="intermediate"/> is given, every
    /// layer's output through it (the auxiliary losses' inputs).</summary>
    public Tensor forward(Tensor queryPos, Tensor memory, Tensor memoryPos, Tensor? memoryMask, List<Tensor>? intermediate)
    {
        var x = zeros_like(queryPos);
        foreach (var layer in layers)
        {
            x = layer.forward(x, queryPos, memory, memoryPos, memoryMask);
            intermediate?.Add(layernorm.forward(x));
        }
        return layernorm.forward(x);
    }
}

/// <summary>The bare DETR (HF's DetrModel): last_hidden_state is the decoder's output [B, num_queries, d_model].</summary>
public sealed class DetrModel : PreTrainedModel
{
    private readonly DetrConvModel backbone;
    private readonly Conv2d input_projection;
    private readonly EmbeddingTable query_position_embeddings;
    private readonly DetrEncoder encoder;
    private readonly DetrDecoder decoder;

    public DetrModel(DetrConfig config) : base(config)
    {
        register_module("backbone", backbone = new DetrConvModel(config));
        register_module("input_projection", input_projection = nn.Conv2d(backbone.Encoder.Channels[^1], config.DModel, 1));
        register_module("query_position_embeddings", query_position_embeddings = new EmbeddingTable(config.NumQueries, config.DModel));
        register_module("encoder", encoder = new DetrEncoder(config));
        register_module("decoder", decoder = new DetrDecoder(config));
    }

    public override string BaseModelPrefix => "model";

    public override string MainInputName => "pixel_values";

    public override void train(bool train = true)
    {
        base.train(train);
        backbone.Encoder.FreezeNorms();
    }

    protected override ModelOutput Run(ModelInputs inputs) => Encode(inputs, null);

    /// <summary>The forward, with the decoder's per-layer outputs collected when <paramref name="intermediate"/> is given.</summary>
    internal ModelOutput Encode(ModelInputs inputs, List<Tensor>? intermediate)
    {
        var c = (DetrConfig)Config;
        var pixels = inputs.RequirePixelValues();
        VisionChecks.PixelValues(pixels, c.NumChannels, "detr");
        long b = pixels.size(0), h = pixels.size(2), w = pixels.size(3);
        var pixelMask = inputs.PixelMask ?? ones(b, h, w, dtype: ScalarType.Int64, device: pixels.device);
        if (!pixelMask.shape.SequenceEqual(new[] { b, h, w }))
            throw new ArgumentException($"pixel_mask has shape [{string.Join(", ", pixelMask.shape)}]; expected [batch, height, width] = [{b}, {h}, {w}] to match pixel_values.", nameof(inputs));

        var (map, mask, pos) = backbone.forward(pixels, pixelMask);
        var source = input_projection.forward(map).flatten(2).permute(0, 2, 1);
        var memoryPos = pos.flatten(2).permute(0, 2, 1);
        var additive = Attention.ExtendedMask(mask.flatten(1), source.dtype);
        bool wantHidden = inputs.OutputHiddenStates || Config.OutputHiddenStates, wantAttn = inputs.OutputAttentions || Config.OutputAttentions;
        var hidden = wantHidden ? new List<Tensor>() : null;
        var attentions = wantAttn ? new List<Tensor>() : null;
        var memory = encoder.forward(source, additive, memoryPos, hidden, attentions);
        var queryPos = query_position_embeddings.weight.unsqueeze(0).expand(b, -1, -1);
        var decoded = decoder.forward(queryPos, memory, memoryPos, additive, intermediate);
        return new ModelOutput { LastHiddenState = decoded, EncoderLastHiddenState = memory, HiddenStates = hidden, Attentions = attentions };
    }
}

/// <summary>HF's DetrMLPPredictionHead: Linear-ReLU, Linear-ReLU, Linear (to the 4 box numbers).</summary>
internal sealed class DetrMlpPredictionHead : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<Linear> layers;

    public DetrMlpPredictionHead(long dim, long hidden, long output, int count) : base(nameof(DetrMlpPredictionHead))
    {
        var sizes = new List<long> { dim };
        for (int i = 1; i < count; i++) sizes.Add(hidden);
        sizes.Add(output);
        register_module("layers", layers = nn.ModuleList(Enumerable.Range(0, count).Select(i => nn.Linear(sizes[i], sizes[i + 1])).ToArray()));
    }

    public override Tensor forward(Tensor x)
    {
        for (int i = 0; i < layers.Count; i++)
            x = i < layers.Count - 1 ? layers[i].forward(x).relu() : layers[i].forward(x);
        return x;
    }
}

/// <summary>
/// DETR with its detection heads: logits [B, num_queries, num_labels + 1] (the last class is "no object") and
/// pred_boxes [B, num_queries, 4] as normalized (center x, center y, width, height). With
/// <see cref="ModelInputs.DetectionLabels"/>, the Hungarian-matching loss (class, L1, GIoU) as Hugging Face's DetrLoss.
/// </summary>
public sealed class DetrForObjectDetection : PreTrainedModel
{
    private readonly DetrModel model;
    private readonly Linear class_labels_classifier;
    private readonly DetrMlpPredictionHead bbox_predictor;

    public DetrForObjectDetection(DetrConfig config) : base(config)
    {
        register_module("model", model = new DetrModel(config));
        register_module("class_labels_classifier", class_labels_classifier = nn.Linear(config.DModel, config.NumLabels + 1));
        register_module("bbox_predictor", bbox_predictor = new DetrMlpPredictionHead(config.DModel, config.DModel, 4, 3));
    }

    public override string BaseModelPrefix => "model";

    public override string MainInputName => "pixel_values";

    public override void train(bool train = true)
    {
        base.train(train);
        model.train(train);
    }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var c = (DetrConfig)Config;
        var intermediate = inputs.DetectionLabels is not null && c.AuxiliaryLoss ? new List<Tensor>() : null;
        var o = model.Encode(inputs, intermediate);
        var logits = class_labels_classifier.forward(o.LastHiddenState!);
        var boxes = bbox_predictor.forward(o.LastHiddenState!).sigmoid();
        Tensor? loss = null;
        IReadOnlyDictionary<string, Tensor>? parts = null;
        if (inputs.DetectionLabels is { } labels)
        {
            var aux = intermediate?.Take(intermediate.Count - 1)
                .Select(h => (class_labels_classifier.forward(h), bbox_predictor.forward(h).sigmoid())).ToList();
            (loss, parts) = DetrLoss.Compute(logits, boxes, labels, c, aux);
        }
        return new ModelOutput
        {
            Loss = loss,
            LossDict = parts,
            Logits = logits,
            PredBoxes = boxes,
            LastHiddenState = o.LastHiddenState,
            EncoderLastHiddenState = o.EncoderLastHiddenState,
            HiddenStates = o.HiddenStates,
            Attentions = o.Attentions,
        };
    }
}
