using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Models.Bert;
using static Microsoft.ML.Transformers.Torch.torch;

namespace Microsoft.ML.Transformers.Models.Roberta;

// Task heads over RobertaModel, as in modeling_roberta.py. The base model lives under "roberta", without a pooler.

/// <summary>First token -> dropout -> dense -> tanh -> dropout -> out_proj (RobertaClassificationHead).</summary>
public sealed class RobertaForSequenceClassification : PreTrainedModel
{
    private readonly RobertaModel _roberta;
    private readonly RobertaClassificationHead _classifier;

    public RobertaForSequenceClassification(RobertaConfig config) : base(config)
    {
        _roberta = RegisterModule("roberta", new RobertaModel(config, addPoolingLayer: false));
        _classifier = RegisterModule("classifier", new RobertaClassificationHead(config));
    }

    public override string BaseModelPrefix => "roberta";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _roberta.Forward(inputs);
        var logits = _classifier.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.SequenceClassification(logits, inputs.Labels, Config.NumLabels, Config.ProblemType), o);
    }
}

internal sealed class RobertaClassificationHead : nn.Module
{
    private readonly nn.Linear _dense, _outProj;
    private readonly nn.Dropout _dropout;

    public RobertaClassificationHead(RobertaConfig c)
    {
        _dense = RegisterModule("dense", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _dropout = RegisterModule("dropout", new nn.Dropout(c.ClassifierDropout ?? c.HiddenDropoutProb));
        _outProj = RegisterModule("out_proj", new nn.Linear(c.HiddenSize, c.NumLabels));
    }

    public Tensor forward(Tensor features)
    {
        var x = _dropout.forward(features.select(1, 0));
        x = _dropout.forward(_dense.forward(x).tanh());
        return _outProj.forward(x);
    }
}

public sealed class RobertaForTokenClassification : PreTrainedModel
{
    private readonly RobertaModel _roberta;
    private readonly nn.Dropout _dropout;
    private readonly nn.Linear _classifier;

    public RobertaForTokenClassification(RobertaConfig config) : base(config)
    {
        _roberta = RegisterModule("roberta", new RobertaModel(config, addPoolingLayer: false));
        _dropout = RegisterModule("dropout", new nn.Dropout(config.ClassifierDropout ?? config.HiddenDropoutProb));
        _classifier = RegisterModule("classifier", new nn.Linear(config.HiddenSize, config.NumLabels));
    }

    public override string BaseModelPrefix => "roberta";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _roberta.Forward(inputs);
        var logits = _classifier.forward(_dropout.forward(o.LastHiddenState!));
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, Config.NumLabels), o);
    }
}

public sealed class RobertaForQuestionAnswering : PreTrainedModel
{
    private readonly RobertaModel _roberta;
    private readonly nn.Linear _qaOutputs;

    public RobertaForQuestionAnswering(RobertaConfig config) : base(config)
    {
        _roberta = RegisterModule("roberta", new RobertaModel(config, addPoolingLayer: false));
        _qaOutputs = RegisterModule("qa_outputs", new nn.Linear(config.HiddenSize, 2));
    }

    public override string BaseModelPrefix => "roberta";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _roberta.Forward(inputs);
        return QaHead.Output(_qaOutputs.forward(o.LastHiddenState!), inputs, o);
    }
}

/// <summary>lm_head: dense -> gelu -> layer_norm -> decoder (tied to the word embeddings) + bias.</summary>
public sealed class RobertaForMaskedLM : PreTrainedModel
{
    private readonly RobertaModel _roberta;
    private readonly RobertaLMHead _lmHead;

    public RobertaForMaskedLM(RobertaConfig config) : base(config)
    {
        _roberta = RegisterModule("roberta", new RobertaModel(config, addPoolingLayer: false));
        _lmHead = RegisterModule("lm_head", new RobertaLMHead(config, config.TieWordEmbeddings ? _roberta.WordEmbeddings : null));
    }

    public override string BaseModelPrefix => "roberta";

    public override ModelOutput Forward(ModelInputs inputs)
    {
        var o = _roberta.Forward(inputs);
        var logits = _lmHead.forward(o.LastHiddenState!);
        return LayerStack.Logits(logits, inputs.Labels is null ? null : Losses.PerToken(logits, inputs.Labels, ((RobertaConfig)Config).VocabSize), o);
    }
}

internal sealed class RobertaLMHead : nn.Module
{
    private readonly nn.Linear _dense, _decoder;
    private readonly nn.LayerNorm _norm;

    public RobertaLMHead(RobertaConfig c, Tensor? tiedWeight)
    {
        var bias = RegisterParameter("bias", empty([c.VocabSize]));
        _dense = RegisterModule("dense", new nn.Linear(c.HiddenSize, c.HiddenSize));
        _norm = RegisterModule("layer_norm", new nn.LayerNorm(c.HiddenSize, c.LayerNormEps));
        _decoder = RegisterModule("decoder", tiedWeight is null
            ? new nn.Linear(c.HiddenSize, c.VocabSize, hasBias: false)
            : new nn.Linear(tiedWeight, hasBias: false));
        _decoder.TieBias(bias);
    }

    // RobertaLMHead applies the exact (erf) gelu whatever hidden_act says.
    public Tensor forward(Tensor x) => _decoder.forward(_norm.forward(_dense.forward(x).gelu()));

    protected internal override void ResetParameters(double initializerRange)
    {
        using var _ = no_grad();
        foreach (var p in OwnParameterTensors()) p.zero_();
    }
}
