using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Models.Roberta;
using Microsoft.ML.Transformers.Onnx;
using static TorchSharp.torch;
using DataType = Microsoft.ML.Transformers.Onnx.OnnxFields.DataType;

namespace Microsoft.ML.Transformers.Models.Bert;

/// <summary>
/// ONNX graphs of BERT and RoBERTa and their heads, written from the config and the checkpoint keys (the same
/// computation as BertModel.cs / RobertaModel.cs). Inputs as Optimum exports them: BERT takes input_ids,
/// attention_mask, token_type_ids; RoBERTa input_ids, attention_mask (its single token type is added as a constant).
/// </summary>
internal static class BertOnnx
{
    public static void Register()
    {
        OnnxExport.Register<BertModel>((m, e) => e.LastHiddenState(Encoder(e, "", roberta: false), Hidden(e)));
        OnnxExport.Register<BertForSequenceClassification>((m, e) =>
        {
            var pooled = e.Graph.Node("Tanh", [e.Linear(e.FirstToken(Encoder(e, "bert.", roberta: false)), "bert.pooler.dense")]);
            e.SequenceLogits(e.Linear(pooled, "classifier"), m.Config.NumLabels);
        });
        OnnxExport.Register<BertForTokenClassification>((m, e) => e.TokenLogits(e.Linear(Encoder(e, "bert.", roberta: false), "classifier"), m.Config.NumLabels));
        OnnxExport.Register<BertForQuestionAnswering>((m, e) => e.SpanLogits(e.Linear(Encoder(e, "bert.", roberta: false), "qa_outputs")));
        OnnxExport.Register<BertForMaskedLM>((m, e) =>
        {
            var c = (BertLikeConfig)m.Config;
            var h = e.LinearActivation(Encoder(e, "bert.", roberta: false), "cls.predictions.transform.dense", c.HiddenAct, "hidden_act");
            h = e.LayerNorm(h, "cls.predictions.transform.LayerNorm", c.LayerNormEps);
            e.TokenLogits(Decoder(e, h, "cls.predictions", "bert.embeddings.word_embeddings.weight"), c.VocabSize);
        });

        OnnxExport.Register<RobertaModel>((m, e) => e.LastHiddenState(Encoder(e, "", roberta: true), Hidden(e)));
        OnnxExport.Register<RobertaForSequenceClassification>((m, e) =>
        {
            var x = e.Graph.Node("Tanh", [e.Linear(e.FirstToken(Encoder(e, "roberta.", roberta: true)), "classifier.dense")]);
            e.SequenceLogits(e.Linear(x, "classifier.out_proj"), m.Config.NumLabels);
        });
        OnnxExport.Register<RobertaForTokenClassification>((m, e) => e.TokenLogits(e.Linear(Encoder(e, "roberta.", roberta: true), "classifier"), m.Config.NumLabels));
        OnnxExport.Register<RobertaForQuestionAnswering>((m, e) => e.SpanLogits(e.Linear(Encoder(e, "roberta.", roberta: true), "qa_outputs")));
        OnnxExport.Register<RobertaForMaskedLM>((m, e) =>
        {
            var c = (BertLikeConfig)m.Config;
            // RobertaLMHead applies the exact (erf) gelu whatever hidden_act says.
            var h = e.LinearActivation(Encoder(e, "roberta.", roberta: true), "lm_head.dense", "gelu", "lm_head");
            h = e.LayerNorm(h, "lm_head.layer_norm", c.LayerNormEps);
            e.TokenLogits(Decoder(e, h, "lm_head", "roberta.embeddings.word_embeddings.weight"), c.VocabSize);
        });
    }

    private static long Hidden(EncoderOnnx e) => ((BertLikeConfig)e.Model.Config).HiddenSize;

    /// <summary>The tied MLM decoder: hidden x W^T + the head's own bias; W is the decoder's weight, or the word embeddings when tied.</summary>
    internal static string Decoder(EncoderOnnx e, string hidden, string head, string wordEmbeddings)
    {
        string key = e.HasWeight(head + ".decoder.weight") ? head + ".decoder.weight" : wordEmbeddings;
        var (y, _) = e.LinearNoBias(hidden, head + ".decoder", weightKey: key);
        return e.Graph.Node("Add", [y, e.Init(e.HasWeight(head + ".bias") ? head + ".bias" : head + ".decoder.bias")]);
    }

    /// <summary>Embeddings and the encoder stack; returns the last hidden state [B, S, H].</summary>
    private static string Encoder(EncoderOnnx e, string p, bool roberta)
    {
        var c = (BertLikeConfig)e.Model.Config;
        if (c.PositionEmbeddingType != "absolute")
            throw new NotSupportedException($"config.json: position_embedding_type \"{c.PositionEmbeddingType}\" has no ONNX export; expected \"absolute\".");
        var ids = e.InputIds();
        var mask = e.AttentionMaskInput();
        string emb = p + "embeddings.";
        string x;
        if (!roberta)
        {
            var types = e.TokenTypeIdsInput();
            if (e.Fuse)
            {
                // com.microsoft EmbedLayerNormalization: LayerNorm(word[ids] + position[0..S-1] + segment[types]), exactly
                // BERT's absolute embeddings; it takes int32 ids. Its mask_index output (a count of 1s per row) is not
                // used: attention gets the full [B, S] mask, so left padding stays exact too.
                string Int32(string v) => e.Graph.Node("Cast", [v], OnnxAttr.Int("to", (long)DataType.Int32));
                x = e.Graph.NodeN("EmbedLayerNormalization",
                    [Int32(ids), Int32(types), e.Init(emb + "word_embeddings.weight"), e.Init(emb + "position_embeddings.weight"),
                     e.Init(emb + "token_type_embeddings.weight"), e.Init(emb + "LayerNorm.weight"), e.Init(emb + "LayerNorm.bias")],
                    2, OnnxGraph.MicrosoftDomain, OnnxAttr.Float("epsilon", (float)c.LayerNormEps))[0];
            }
            else
            {
                x = e.Graph.Node("Add", [e.Embed(emb + "word_embeddings.weight", ids), e.Embed(emb + "position_embeddings.weight", e.Positions(ids))]);
                x = e.LayerNorm(e.Graph.Node("Add", [x, e.Embed(emb + "token_type_embeddings.weight", types)]), emb + "LayerNorm", c.LayerNormEps);
            }
        }
        else
        {
            // RoBERTa's positions count real tokens from padding_idx + 1: cumsum(ids != pad) * (ids != pad) + pad. They are
            // not 0..S-1, so EmbedLayerNormalization (which numbers positions 0..S-1) does not apply.
            long pad = c.PadTokenId ?? 1;
            var notPad = e.Graph.Node("Cast", [e.Graph.Node("Not", [e.Graph.Node("Equal", [ids, e.Graph.Ints([pad], scalar: true)])])],
                OnnxAttr.Int("to", (long)DataType.Int64));
            var cumsum = e.Graph.Node("CumSum", [notPad, e.Graph.Ints([1], scalar: true)]);
            var positions = e.Graph.Node("Add", [e.Graph.Node("Mul", [cumsum, notPad]), e.Graph.Ints([pad], scalar: true)]);
            x = e.Graph.Node("Add", [e.Embed(emb + "word_embeddings.weight", ids), e.Embed(emb + "position_embeddings.weight", positions)]);
            var type0 = e.Init(emb + "token_type_embeddings.weight", "row0", t => t[0]);
            x = e.LayerNorm(e.Graph.Node("Add", [x, type0]), emb + "LayerNorm", c.LayerNormEps);
        }

        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"{p}encoder.layer.{i}.";
            var context = e.SelfAttention(x, [l + "attention.self.query", l + "attention.self.key", l + "attention.self.value"],
                c.NumAttentionHeads, c.HiddenSize, mask);
            var (attnOut, attnBias) = e.LinearNoBias(context, l + "attention.output.dense");
            x = e.AddLayerNorm(attnOut, attnBias, x, l + "attention.output.LayerNorm", c.LayerNormEps);
            var inter = e.LinearActivation(x, l + "intermediate.dense", c.HiddenAct, "hidden_act");
            var (ffnOut, ffnBias) = e.LinearNoBias(inter, l + "output.dense");
            x = e.AddLayerNorm(ffnOut, ffnBias, x, l + "output.LayerNorm", c.LayerNormEps);
        }
        return x;
    }
}
