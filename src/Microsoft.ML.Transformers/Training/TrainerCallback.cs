using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tokenizers;
using TorchSharp;
using static TorchSharp.torch.optim.lr_scheduler;

namespace Microsoft.ML.Transformers.Training;

/// <summary>The events of transformers' TrainerCallback (trainer_callback.py).</summary>
public enum TrainerEvent
{
    InitEnd, TrainBegin, TrainEnd, EpochBegin, EpochEnd, StepBegin, SubstepEnd, PreOptimizerStep, OptimizerStep, StepEnd,
    Evaluate, Predict, Save, Log, PredictionStep,
}

/// <summary>
/// What an event sees besides args/state/control (Hugging Face's **kwargs, typed): the model, tokenizer, optimizer,
/// scheduler and data loaders always; <see cref="Metrics"/> in on_evaluate/on_predict; <see cref="Logs"/> in on_log.
/// </summary>
public sealed class TrainerEventContext
{
    public required PreTrainedModel Model { get; init; }
    public Tokenizer? Tokenizer { get; init; }
    public torch.optim.Optimizer? Optimizer { get; init; }
    public LRScheduler? LrScheduler { get; init; }
    public TrainerDataLoader? TrainDataLoader { get; init; }
    public TrainerDataLoader? EvalDataLoader { get; init; }
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
    public IReadOnlyDictionary<string, double>? Logs { get; init; }
    /// <summary>on_step_end only (an addition to Hugging Face's kwargs): the loss of the step just taken, averaged over its
    /// accumulated batches, before any rounding.</summary>
    public double? StepLoss { get; init; }
}

/// <summary>
/// Inspects the training loop at Hugging Face's events and steers it through <see cref="TrainerControl"/> (the only
/// argument a callback changes). Every method does nothing by default.
/// </summary>
public abstract class TrainerCallback
{
    public virtual void OnInitEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnTrainBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnTrainEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnEpochBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnEpochEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnStepBegin(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnSubstepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnPreOptimizerStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnOptimizerStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnStepEnd(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnEvaluate(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnPredict(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnSave(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnLog(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
    public virtual void OnPredictionStep(TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e) { }
}

/// <summary>
/// Calls the callbacks in order (transformers' CallbackHandler), resetting the control flags first as it does:
/// should_training_stop on train begin, should_epoch_stop on epoch begin, log/evaluate/save on step begin,
/// should_evaluate after on_evaluate is decided and should_save after on_save.
/// </summary>
public sealed class CallbackHandler
{
    private readonly List<TrainerCallback> _callbacks = [];

    public IReadOnlyList<TrainerCallback> Callbacks => _callbacks;

    /// <summary>Warnings (a second callback of one type, a missing DefaultFlowCallback), as Hugging Face logs them.</summary>
    public Action<string>? Warn { get; set; }

    public void Add(TrainerCallback callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (_callbacks.Any(c => c.GetType() == callback.GetType()))
            Warn?.Invoke($"You are adding a {callback.GetType().Name} to the callbacks of this Trainer, but there is already one. The current list of callbacks is:\n{CallbackList}");
        _callbacks.Add(callback);
    }

    public TrainerCallback? Pop(Type type)
    {
        var cb = _callbacks.FirstOrDefault(type.IsInstanceOfType);
        if (cb is not null) _callbacks.Remove(cb);
        return cb;
    }

    public TrainerCallback? Pop(TrainerCallback callback) => _callbacks.Remove(callback) ? callback : null;

    public void Remove(Type type) => Pop(type);

    public void Remove(TrainerCallback callback) => _callbacks.Remove(callback);

    public string CallbackList => string.Join("\n", _callbacks.Select(c => c.GetType().Name));

    public void Fire(TrainerEvent ev, TrainingArguments args, TrainerState state, TrainerControl control, TrainerEventContext e)
    {
        switch (ev)
        {
            case TrainerEvent.TrainBegin: control.ShouldTrainingStop = false; break;
            case TrainerEvent.EpochBegin: control.ShouldEpochStop = false; break;
            case TrainerEvent.StepBegin: control.ShouldLog = control.ShouldEvaluate = control.ShouldSave = false; break;
            case TrainerEvent.Evaluate: control.ShouldEvaluate = false; break;
            case TrainerEvent.Save: control.ShouldSave = false; break;
            case TrainerEvent.Log: control.ShouldLog = false; break;
        }
        foreach (var cb in _callbacks.ToArray())
        {
            switch (ev)
            {
                case TrainerEvent.InitEnd: cb.OnInitEnd(args, state, control, e); break;
                case TrainerEvent.TrainBegin: cb.OnTrainBegin(args, state, control, e); break;
                case TrainerEvent.TrainEnd: cb.OnTrainEnd(args, state, control, e); break;
                case TrainerEvent.EpochBegin: cb.OnEpochBegin(args, state, control, e); break;
                case TrainerEvent.EpochEnd: cb.OnEpochEnd(args, state, control, e); break;
                case TrainerEvent.StepBegin: cb.OnStepBegin(args, state, control, e); break;
                case TrainerEvent.SubstepEnd: cb.OnSubstepEnd(args, state, control, e); break;
                case TrainerEvent.PreOptimizerStep: cb.OnPreOptimizerStep(args, state, control, e); break;
                case TrainerEvent.OptimizerStep: cb.OnOptimizerStep(args, state, control, e); break;
                case TrainerEvent.StepEnd: cb.OnStepEnd(args, state, control, e); break;
                case TrainerEvent.Evaluate: cb.OnEvaluate(args, state, control, e); break;
                case TrainerEvent.Predict: cb.OnPredict(args, state, control, e); break;
                case TrainerEvent.Save: cb.OnSave(args, state, control, e); break;
                case TrainerEvent.Log: cb.OnLog(args, state, control, e); break;
                case TrainerEvent.PredictionStep: cb.OnPredictionStep(args, state, control, e); break;
            }
        }
    }
}
