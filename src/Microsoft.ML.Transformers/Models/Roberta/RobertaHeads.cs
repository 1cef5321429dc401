using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Models.Roberta;

// Task heads over RobertaModel, as in modeling_roberta.py. The base model lives under "roberta", without a pooler.

/// <summary>First token -> dropout -> dense -> tanh -> dropout -> out_proj (RobertaClassificationHead).</summary>
public sealed class RobertaForSequenceClassification : PreTrainedModel
{
    private readonly RobertaModel roberta;
    private readonly RobertaClassificationHead classifier;

    public RobertaForSequenceClassification(RobertaConfig config) : base(config)
    {
        register_module("roberta", roberta = new RobertaModel(config, addPoolingLayer: false));
        register_module("classifier", classifier = new RobertaClassificationHead(config));
    }

    public override string BaseModelPrefix => "roberta";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = roberta.forward(inputs);
        var logits = classifier.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

internal sealed class RobertaClassificationHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense, out_proj;
    private readonly Dropout dropout;

    public RobertaClassificationHead(RobertaConfig c) : base(nameof(RobertaClassificationHead))
    {
        register_module("dense", dense = nn.Linear(c.HiddenSize, c.HiddenSize));
        register_module("dropout", dropout = nn.Dropout(c.ClassifierDropout ?? c.HiddenDropoutProb));
        register_module("out_proj", out_proj = nn.Linear(c.HiddenSize, c.NumLabels));
    }

    public override Tensor forward(Tensor features)
    {
        var x = dropout.forward(features.select(1, 0));
        x = dropout.forward(dense.forward(x).tanh());
        return out_proj.forward(x);
    }
}

public sealed class RobertaForTokenClassification : PreTrainedModel
{
    private readonly RobertaModel roberta;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public RobertaForTokenClassification(RobertaConfig config) : base(config)
    {
        register_module("roberta", roberta = new RobertaModel(config, addPoolingLayer: false));
        register_module("dropout", dropout = nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        register_module("classifier", classifier = nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "roberta";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = roberta.forward(inputs);
        var logits = classifier.forward(dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

public sealed class RobertaForQuestionAnswering : PreTrainedModel
{
    private readonly RobertaModel roberta;
    private readonly Linear qa_outputs;

    public RobertaForQuestionAnswering(RobertaConfig config) : base(config)
    {
        register_module("roberta", roberta = new RobertaModel(config, addPoolingLayer: false));
        register_module("qa_outputs", qa_outputs = nn.Linear(config.HiddenSize, 2));
    }

    public override string BaseModelPrefix => "roberta";

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = roberta.forward(inputs);
        return QaHead.Output(qa_outputs.forward(o.LastHiddenState!), inputs, o);
    }
}

/// <summary>lm_head: dense -> gelu -> layer_norm -> decoder (tied to the word embeddings) + bias.</summary>
public sealed class RobertaForMaskedLM : PreTrainedModel
{
    private readonly RobertaModel roberta;
    private readonly RobertaLMHead lm_head;

    public RobertaForMaskedLM(RobertaConfig config) : base(config)
    {
        register_module("roberta", roberta = new RobertaModel(config, addPoolingLayer: false));
        register_module("lm_head", lm_head = new RobertaLMHead(config));
        TieWeights();
    }

    public override string BaseModelPrefix => "roberta";

    protected override void TieWeights() => lm_head.Tie(((RobertaConfig)Config).TieWordEmbeddings ? roberta.WordEmbeddings.weight : null);

    protected override ModelOutput Run(ModelInputs inputs)
    {
        var o = roberta.forward(inputs);
        var logits = lm_head.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((RobertaConfig)Config).VocabSize), o);
    }
}

internal sealed class RobertaLMHead : TiedLMHead
{
    private readonly Linear dense, decoder;
    private readonly LayerNorm layer_norm;

    public RobertaLMHead(RobertaConfig c) : base(nameof(RobertaLMHead), c.VocabSize)
    {
        register_module("dense", dense = nn.Linear(c.HiddenSize, c.HiddenSize));
        register_module("layer_norm", layer_norm = nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        register_module("decoder", decoder = nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false));
    }

    protected override Linear Decoder => decoder;

    // RobertaLMHead applies the exact (erf) gelu whatever hidden_act says.
    public override Tensor forward(Tensor x) => decoder.forward(layer_norm.forward(dense.forward(x).gelu()));
}
