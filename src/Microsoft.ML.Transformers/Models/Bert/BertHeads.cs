using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Bert;

// Task heads over BertModel, as in modeling_bert.py. Each keeps the base model under "bert".

/// <summary>Pooled output -> dropout -> classifier. Loss by problem_type (single-label, multi-label, regression).</summary>
public sealed class BertForSequenceClassification : PreTrainedModel
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public BertForSequenceClassification(BertConfig config) : base(config)
    {
        register_module("bert", bert = new BertModel(config));
        register_module("dropout", dropout = nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        register_module("classifier", classifier = nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "bert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = bert.forward(inputs);
        var logits = classifier.forward(dropout.forward(o.PoolerOutput!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

/// <summary>Per-token classifier over the last hidden state (no pooler).</summary>
public sealed class BertForTokenClassification : PreTrainedModel
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public BertForTokenClassification(BertConfig config) : base(config)
    {
        register_module("bert", bert = new BertModel(config, addPoolingLayer: false));
        register_module("dropout", dropout = nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        register_module("classifier", classifier = nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "bert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = bert.forward(inputs);
        var logits = classifier.forward(dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

/// <summary>Span start/end logits from qa_outputs (2 outputs per token).</summary>
public sealed class BertForQuestionAnswering : PreTrainedModel
{
    private readonly BertModel bert;
    private readonly Linear qa_outputs;

    public BertForQuestionAnswering(BertConfig config) : base(config)
    {
        register_module("bert", bert = new BertModel(config, addPoolingLayer: false));
        register_module("qa_outputs", qa_outputs = nn.Linear(config.HiddenSize, 2));
    }

    public override string BaseModelPrefix => "bert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = bert.forward(inputs);
        return QaHead.Output(qa_outputs.forward(o.LastHiddenState!), inputs, o);
    }
}

/// <summary>Masked LM: transform (dense, activation, LayerNorm) then the decoder tied to the word embeddings, plus a bias.</summary>
public sealed class BertForMaskedLM : PreTrainedModel
{
    private readonly BertModel bert;
    private readonly BertOnlyMLMHead cls;

    public BertForMaskedLM(BertConfig config) : base(config)
    {
        register_module("bert", bert = new BertModel(config, addPoolingLayer: false));
        register_module("cls", cls = new BertOnlyMLMHead(config));
        TieWeights();
    }

    public override string BaseModelPrefix => "bert";

    protected override void TieWeights() => cls.Predictions.Tie(((BertConfig)Config).TieWordEmbeddings ? bert.WordEmbeddings.weight : null);

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = bert.forward(inputs);
        var logits = cls.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((BertConfig)Config).VocabSize), o);
    }
}

internal sealed class BertOnlyMLMHead : nn.Module<Tensor, Tensor>
{
    private readonly BertLMPredictionHead predictions;

    public BertOnlyMLMHead(BertConfig c) : base(nameof(BertOnlyMLMHead)) => register_module("predictions", predictions = new BertLMPredictionHead(c));

    public BertLMPredictionHead Predictions => predictions;

    public override Tensor forward(Tensor hidden) => predictions.forward(hidden);
}

internal sealed class BertLMPredictionHead : TiedLMHead
{
    private readonly BertPredictionHeadTransform transform;
    private readonly Linear decoder;

    public BertLMPredictionHead(BertConfig c) : base(nameof(BertLMPredictionHead), c.VocabSize)
    {
        register_module("transform", transform = new BertPredictionHeadTransform(c));
        register_module("decoder", decoder = nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false));
    }

    protected override Linear Decoder => decoder;

    public override Tensor forward(Tensor hidden) => decoder.forward(transform.forward(hidden));
}

internal sealed class BertPredictionHeadTransform : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Func<Tensor, Tensor> _act;

    public BertPredictionHeadTransform(BertConfig c) : base(nameof(BertPredictionHeadTransform))
    {
        register_module("dense", dense = nn.Linear(c.HiddenSize, c.HiddenSize));
        _act = Activations.Get(c.HiddenAct);
        register_module("LayerNorm", LayerNorm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
    }

    public override Tensor forward(Tensor x) => LayerNorm.forward(_act(dense.forward(x)));
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
