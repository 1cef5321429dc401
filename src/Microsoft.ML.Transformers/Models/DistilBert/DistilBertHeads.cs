using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.DistilBert;

/// <summary>First token -> pre_classifier -> ReLU -> dropout(seq_classif_dropout) -> classifier.</summary>
public sealed class DistilBertForSequenceClassification : PreTrainedModel
{
    private readonly DistilBertModel distilbert;
    private readonly Linear pre_classifier, classifier;
    private readonly Dropout dropout;

    public DistilBertForSequenceClassification(DistilBertConfig config) : base(config)
    {
        register_module("distilbert", distilbert = new DistilBertModel(config));
        register_module("pre_classifier", pre_classifier = nn.Linear(config.Dim, config.Dim));
        register_module("classifier", classifier = nn.Linear(config.Dim, config.NumLabels));
        register_module("dropout", dropout = nn.Dropout(config.SeqClassifDropout));
    }

    public override string BaseModelPrefix => "distilbert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = distilbert.forward(inputs with { TokenTypeIds = null });
        var pooled = dropout.forward(pre_classifier.forward(o.LastHiddenState!.select(1, 0)).relu());
        var logits = classifier.forward(pooled);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

public sealed class DistilBertForTokenClassification : PreTrainedModel
{
    private readonly DistilBertModel distilbert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public DistilBertForTokenClassification(DistilBertConfig config) : base(config)
    {
        register_module("distilbert", distilbert = new DistilBertModel(config));
        register_module("dropout", dropout = nn.Dropout(config.Dropout));
        register_module("classifier", classifier = nn.Linear(config.Dim, config.NumLabels));
    }

    public override string BaseModelPrefix => "distilbert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = distilbert.forward(inputs);
        var logits = classifier.forward(dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

public sealed class DistilBertForQuestionAnswering : PreTrainedModel
{
    private readonly DistilBertModel distilbert;
    private readonly Linear qa_outputs;
    private readonly Dropout dropout;

    public DistilBertForQuestionAnswering(DistilBertConfig config) : base(config)
    {
        register_module("distilbert", distilbert = new DistilBertModel(config));
        register_module("qa_outputs", qa_outputs = nn.Linear(config.Dim, 2));
        register_module("dropout", dropout = nn.Dropout(config.QaDropout));
    }

    public override string BaseModelPrefix => "distilbert";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = distilbert.forward(inputs);
        return QaHead.Output(qa_outputs.forward(dropout.forward(o.LastHiddenState!)), inputs, o);
    }
}

/// <summary>vocab_transform -> activation -> vocab_layer_norm -> vocab_projector (tied to the word embeddings).</summary>
public sealed class DistilBertForMaskedLM : PreTrainedModel
{
    private readonly DistilBertModel distilbert;
    private readonly Linear vocab_transform, vocab_projector;
    private readonly LayerNorm vocab_layer_norm;
    private readonly Func<Tensor, Tensor> _act;

    public DistilBertForMaskedLM(DistilBertConfig config) : base(config)
    {
        _act = Activations.Get(config.Activation);
        register_module("distilbert", distilbert = new DistilBertModel(config));
        register_module("vocab_transform", vocab_transform = nn.Linear(config.Dim, config.Dim));
        register_module("vocab_layer_norm", vocab_layer_norm = nn.LayerNorm(config.Dim, 1e-12));
        register_module("vocab_projector", vocab_projector = nn.Linear(config.Dim, config.VocabSize));
        TieWeights();
    }

    public override string BaseModelPrefix => "distilbert";

    protected override void TieWeights()
    {
        if (((DistilBertConfig)Config).TieWordEmbeddings && vocab_projector.weight.Handle != distilbert.WordEmbeddings.weight.Handle)
            vocab_projector.weight = distilbert.WordEmbeddings.weight;
    }

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = distilbert.forward(inputs);
        var logits = vocab_projector.forward(vocab_layer_norm.forward(_act(vocab_transform.forward(o.LastHiddenState!))));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((DistilBertConfig)Config).VocabSize), o);
    }
}
