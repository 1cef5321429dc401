using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Models.Bert;
using Microsoft.ML.Transformers.Onnx;

namespace Microsoft.ML.Transformers.Models.DistilBert;

/// <summary>ONNX graphs of DistilBERT and its heads (the computation of DistilBertModel.cs); inputs input_ids and
/// attention_mask, as Optimum exports them. LayerNorm eps is 1e-12, as in modeling_distilbert.py.</summary>
internal static class DistilBertOnnx
{
    private const double Eps = 1e-12;

    public static void Register()
    {
        OnnxExport.Register<DistilBertModel>((m, e) => e.LastHiddenState(Encoder(e, ""), ((DistilBertConfig)m.Config).Dim));
        OnnxExport.Register<DistilBertForSequenceClassification>((m, e) =>
        {
            var pooled = e.LinearActivation(e.FirstToken(Encoder(e, "distilbert.")), "pre_classifier", "relu", "pre_classifier");
            e.SequenceLogits(e.Linear(pooled, "classifier"), m.Config.NumLabels);
        });
        OnnxExport.Register<DistilBertForTokenClassification>((m, e) => e.TokenLogits(e.Linear(Encoder(e, "distilbert."), "classifier"), m.Config.NumLabels));
        OnnxExport.Register<DistilBertForQuestionAnswering>((m, e) => e.SpanLogits(e.Linear(Encoder(e, "distilbert."), "qa_outputs")));
        OnnxExport.Register<DistilBertForMaskedLM>((m, e) =>
        {
            var c = (DistilBertConfig)m.Config;
            var h = e.LinearActivation(Encoder(e, "distilbert."), "vocab_transform", c.Activation, "activation");
            h = e.LayerNorm(h, "vocab_layer_norm", Eps);
            string key = e.HasWeight("vocab_projector.weight") ? "vocab_projector.weight" : "distilbert.embeddings.word_embeddings.weight";
            var (y, bias) = e.LinearNoBias(h, "vocab_projector", weightKey: key);
            e.TokenLogits(bias is null ? y : e.Graph.Node("Add", [y, bias]), c.VocabSize);
        });
    }

    private static string Encoder(EncoderOnnx e, string p)
    {
        var c = (DistilBertConfig)e.Model.Config;
        var ids = e.InputIds();
        var mask = e.AttentionMaskInput();
        string emb = p + "embeddings.";
        var x = e.Graph.Node("Add", [e.Embed(emb + "word_embeddings.weight", ids), e.Embed(emb + "position_embeddings.weight", e.Positions(ids))]);
        x = e.LayerNorm(x, emb + "LayerNorm", Eps);
        for (int i = 0; i < c.NLayers; i++)
        {
            string l = $"{p}transformer.layer.{i}.";
            var context = e.SelfAttention(x, [l + "attention.q_lin", l + "attention.k_lin", l + "attention.v_lin"], c.NHeads, c.Dim, mask);
            var (attnOut, attnBias) = e.LinearNoBias(context, l + "attention.out_lin");
            x = e.AddLayerNorm(attnOut, attnBias, x, l + "sa_layer_norm", Eps);
            var inter = e.LinearActivation(x, l + "ffn.lin1", c.Activation, "activation");
            var (ffnOut, ffnBias) = e.LinearNoBias(inter, l + "ffn.lin2");
            x = e.AddLayerNorm(ffnOut, ffnBias, x, l + "output_layer_norm", Eps);
        }
        return x;
    }
}
