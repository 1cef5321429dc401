using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

// Task heads over BertModel, as in modeling_bert.py. Each keeps the base model under "bert".

/// <summary>Pooled output -> dropout -> classifier. Loss by problem_type (single-label, multi-label, regression).</summary>
public sealed class BertForSequenceClassification : PreTrainedModel
{
    private readonly BertModel _bert;
    private readonly nn.Dropout _dropout;
    private readonly nn.Linear _classifier;

    public BertForSequenceClassification(BertConfig config) : base(config)
    {
        _bert = RegisterModule("bert", new BertModel(config));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        _classifier = RegisterModule("classifier", new nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "bert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _bert.Forward(inputs);
        var logits = _classifier.forward(_dropout.forward(o.PoolerOutput!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

/// <summary>Per-token classifier over the last hidden state (no pooler).</summary>
public sealed class BertForTokenClassification : PreTrainedModel
{
    private readonly BertModel _bert;
    private readonly nn.Dropout _dropout;
    private readonly nn.Linear _classifier;

    public BertForTokenClassification(BertConfig config) : base(config)
    {
        _bert = RegisterModule("bert", new BertModel(config, addPoolingLayer: false));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        _classifier = RegisterModule("classifier", new nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "bert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _bert.Forward(inputs);
        var logits = _classifier.forward(_dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

/// <summary>Span start/end logits from qa_outputs (2 outputs per token).</summary>
public sealed class BertForQuestionAnswering : PreTrainedModel
{
    private readonly BertModel _bert;
    private readonly nn.Linear _qaOutputs;

    public BertForQuestionAnswering(BertConfig config) : base(config)
    {
        _bert = RegisterModule("bert", new BertModel(config, addPoolingLayer: false));
        _qaOutputs = RegisterModule("qa_outputs", new nn.Linear(config.HiddenSize, 2));
    }

    public override string BaseModelPrefix => "bert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _bert.Forward(inputs);
        return QaHead.Output(_qaOutputs.forward(o.LastHiddenState!), inputs, o);
    }
}

/// <summary>Masked LM: transform (dense, activation, LayerNorm) then the decoder tied to the word embeddings, plus a bias.</summary>
public sealed class BertForMaskedLM : PreTrainedModel
{
    private readonly BertModel _bert;
    private readonly BertOnlyMLMHead _cls;

    public BertForMaskedLM(BertConfig config) : base(config)
    {
        _bert = RegisterModule("bert", new BertModel(config, addPoolingLayer: false));
        _cls = RegisterModule("cls", new BertOnlyMLMHead(config, config.TieWordEmbeddings ? _bert.WordEmbeddings : null));
    }

    public override string BaseModelPrefix => "bert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _bert.Forward(inputs);
        var logits = _cls.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((BertConfig)Config).VocabSize), o);
    }
}

internal sealed class BertOnlyMLMHead : nn.Module
{
    private readonly BertLMPredictionHead _predictions;

    public BertOnlyMLMHead(BertConfig c, Tensor? tiedWeight) => _predictions = RegisterModule("predictions", new BertLMPredictionHead(c, tiedWeight));

    public Tensor forward(Tensor hidden) => _predictions.forward(hidden);
}

internal sealed class BertLMPredictionHead : nn.Module
{
    private readonly BertPredictionHeadTransform _transform;
    private readonly nn.Linear _decoder;

    public BertLMPredictionHead(BertConfig c, Tensor? tiedWeight)
    {
        // "bias" is registered before "decoder" so that the shared bias is saved as cls.predictions.bias, as Hugging Face does.
        var bias = RegisterParameter("bias", empty([c.VocabSize]));
        _transform = RegisterModule("transform", new BertPredictionHeadTransform(c));
        _decoder = RegisterModule("decoder", tiedWeight is null
            ? new nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false)
            : new nn.Linear(tiedWeight, hasBias: false));
        _decoder.TieBias(bias);
    }

    public Tensor forward(Tensor hidden) => _decoder.forward(_transform.forward(hidden));

    protected internal override void ResetParameters(double initializerRange)
    {
        using var _ = no_grad();
        foreach (var p in OwnParameterTensors()) p.zero_();
    }
}

internal sealed class BertPredictionHeadTransform : nn.Module
{
    private readonly nn.Linear _dense;
    private readonly nn.LayerNorm _norm;
    private readonly Func<Tensor, Tensor> _act;

    public BertPredictionHeadTransform(BertConfig c)
    {
        _dense = RegisterModule("dense", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _act = Activations.Get(c.HiddenAct);
        _norm = RegisterModule("LayerNorm", new nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
    }

    public Tensor forward(Tensor x) => _norm.forward(_act(_dense.forward(x)));
}

/// <summary>Splits [B, S, 2] into start/end logits and adds the QA loss when positions are given (shared by the families).</summary>
internal static class QaHead
{
    public static ModelOutput Output(Tensor logits, ModelInputs inputs, ModelOutput baseOutput)
    {
        var start = logits.select(-1, 0).contiguous();
        var end = logits.select(-1, 1).contiguous();
        Tensor? loss = inputs.StartPositions is not null && inputs.EndPositions is not null
            ? Losses.QuestionAnswering(start, end, inputs.StartPositions, inputs.EndPositions)
            : null;
        return new ModelOutput
        {
            StartLogits = start,
            EndLogits = end,
            Loss = loss,
            HiddenStates = baseOutput.HiddenStates,
            Attentions = baseOutput.Attentions,
        };
    }
}
