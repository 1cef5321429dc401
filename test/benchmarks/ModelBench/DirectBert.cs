using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.SafeTensors;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

/// <summary>
/// The benchmark's anchor for our libtorch engine: BERT's base model written the plain way directly on TorchSharp
/// (weights as a dictionary of tensors, F.linear per projection, matmul + softmax attention, F.layer_norm, gelu),
/// with no_grad and a dispose scope per call. Only for timing; nothing in the library uses it.
/// </summary>
internal sealed unsafe class DirectBert : IInferenceModel
{
    private readonly Dictionary<string, Tensor> _w = new();
    private readonly int _layers, _heads;
    private readonly double _eps;

    public DirectBert(string folder)
    {
        Config = AutoConfig.FromPretrained(folder);
        _layers = Config.GetOrDefault("num_hidden_layers", 12);
        _heads = Config.GetOrDefault("num_attention_heads", 12);
        _eps = Config.GetOrDefault("layer_norm_eps", 1e-12);
        using var ckpt = SafeTensorsCheckpoint.Open(folder);
        foreach (var key in ckpt.Keys)
        {
            var info = ckpt.Get(key);
            if (info.DType != SafeTensorDType.F32) continue;
            var t = empty(info.Shape, ScalarType.Float32);
            new ReadOnlySpan<byte>(ckpt.GetPointer(key), (int)info.ByteLength).CopyTo(t.bytes);
            _w[key.StartsWith("bert.", StringComparison.Ordinal) ? key[5..] : key] = t;
        }
    }

    public PretrainedConfig Config { get; }
    public Engine Engine => Engine.LibTorch;
    public ModelHead Head => ModelHead.Base;

    private Tensor Linear(Tensor x, string name) => F.linear(x, _w[name + ".weight"], _w[name + ".bias"]);
    private Tensor Norm(Tensor x, string name) => F.layer_norm(x, [x.size(-1)], _w[name + ".weight"], _w[name + ".bias"], _eps);

    public NamedTensors Run(InferenceBatch batch)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long b = batch.BatchSize, s = batch.SequenceLength;
        var ids = tensor(batch.InputIds, [b, s]);
        var types = tensor(batch.TokenTypeIds ?? new long[b * s], [b, s]);
        var mask = tensor(batch.AttentionMask, [b, s]).unsqueeze(1).unsqueeze(2).to(ScalarType.Float32);
        var additive = (1.0 - mask).mul(float.MinValue);
        var x = _w["embeddings.word_embeddings.weight"].index_select(0, ids.view(-1)).view(b, s, -1)
            .add(_w["embeddings.position_embeddings.weight"].narrow(0, 0, s))
            .add(_w["embeddings.token_type_embeddings.weight"].index_select(0, types.view(-1)).view(b, s, -1));
        x = Norm(x, "embeddings.LayerNorm");
        long h = x.size(2), d = h / _heads;
        for (int i = 0; i < _layers; i++)
        {
            string p = $"encoder.layer.{i}.";
            Tensor Split(Tensor t) => t.view(b, s, _heads, d).transpose(1, 2);
            var q = Split(Linear(x, p + "attention.self.query"));
            var k = Split(Linear(x, p + "attention.self.key"));
            var v = Split(Linear(x, p + "attention.self.value"));
            var probs = q.matmul(k.transpose(-1, -2)).div(Math.Sqrt(d)).add(additive).softmax(-1);
            var context = probs.matmul(v).transpose(1, 2).reshape(b, s, h);
            var attended = Norm(Linear(context, p + "attention.output.dense").add(x), p + "attention.output.LayerNorm");
            var inner = F.gelu(Linear(attended, p + "intermediate.dense"));
            x = Norm(Linear(inner, p + "output.dense").add(attended), p + "output.LayerNorm");
        }
        using var host = x.contiguous();
        return new NamedTensors([new NamedTensor("last_hidden_state", TensorElementType.Float, x.shape, host.data<float>().ToArray())]);
    }

    public void Dispose()
    {
        foreach (var t in _w.Values) t.Dispose();
    }
}
