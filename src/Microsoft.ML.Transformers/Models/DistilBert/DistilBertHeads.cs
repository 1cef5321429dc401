using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.DistilBert;

/// <summary>First token -> pre_classifier -> ReLU -> dropout(seq_classif_dropout) -> classifier.</summary>
public sealed class DistilBertForSequenceClassification : PreTrainedModel
{
    private readonly DistilBertModel _distilbert;
    private readonly nn.Linear _preClassifier, _classifier;
    private readonly nn.Dropout _dropout;

    public DistilBertForSequenceClassification(DistilBertConfig config) : base(config)
    {
        _distilbert = RegisterModule("distilbert", new DistilBertModel(config));
        _preClassifier = RegisterModule("pre_classifier", new nn.Linear(config.Dim, config.Dim));
        _classifier = RegisterModule("classifier", new nn.Linear(config.Dim, config.NumLabels));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.SeqClassifDropout));
    }

    public override string BaseModelPrefix => "distilbert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _distilbert.Forward(inputs with { TokenTypeIds = null });
        var pooled = _dropout.forward(_preClassifier.forward(o.LastHiddenState!.select(1, 0)).relu());
        var logits = _classifier.forward(pooled);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

public sealed class DistilBertForTokenClassification : PreTrainedModel
{
    private readonly DistilBertModel _distilbert;
    private readonly nn.Dropout _dropout;
    private readonly nn.Linear _classifier;

    public DistilBertForTokenClassification(DistilBertConfig config) : base(config)
    {
        _distilbert = RegisterModule("distilbert", new DistilBertModel(config));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.Dropout));
        _classifier = RegisterModule("classifier", new nn.Linear(config.Dim, config.NumLabels));
    }

    public override string BaseModelPrefix => "distilbert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _distilbert.Forward(inputs);
        var logits = _classifier.forward(_dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

public sealed class DistilBertForQuestionAnswering : PreTrainedModel
{
    private readonly DistilBertModel _distilbert;
    private readonly nn.Linear _qaOutputs;
    private readonly nn.Dropout _dropout;

    public DistilBertForQuestionAnswering(DistilBertConfig config) : base(config)
    {
        _distilbert = RegisterModule("distilbert", new DistilBertModel(config));
        _qaOutputs = RegisterModule("qa_outputs", new nn.Linear(config.Dim, 2));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.QaDropout));
    }

    public override string BaseModelPrefix => "distilbert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _distilbert.Forward(inputs);
        return QaHead.Output(_qaOutputs.forward(_dropout.forward(o.LastHiddenState!)), inputs, o);
    }
}

/// <summary>vocab_transform -> activation -> vocab_layer_norm -> vocab_projector (tied to the word embeddings).</summary>
public sealed class DistilBertForMaskedLM : PreTrainedModel
{
    private readonly DistilBertModel _distilbert;
    private readonly nn.Linear _transform, _projector;
    private readonly nn.LayerNorm _norm;
    private readonly Func<Tensor, Tensor> _act;

    public DistilBertForMaskedLM(DistilBertConfig config) : base(config)
    {
        _act = Activations.Get(config.Activation);
        _distilbert = RegisterModule("distilbert", new DistilBertModel(config));
        _transform = RegisterModule("vocab_transform", new nn.Linear(config.Dim, config.Dim));
        _norm = RegisterModule("vocab_layer_norm", new nn.LayerNorm(config.Dim, 1e-12));
        _projector = RegisterModule("vocab_projector", config.TieWordEmbeddings
            ? new nn.Linear(_distilbert.WordEmbeddings, hasBias: true)
            : new nn.Linear(config.Dim, config.VocabSize));
    }

    public override string BaseModelPrefix => "distilbert";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _distilbert.Forward(inputs);
        var logits = _projector.forward(_norm.forward(_act(_transform.forward(o.LastHiddenState!))));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((DistilBertConfig)Config).VocabSize), o);
    }
}
