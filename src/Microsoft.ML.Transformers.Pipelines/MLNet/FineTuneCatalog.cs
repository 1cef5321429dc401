using System.Reflection;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML;

/// <summary>
/// Fine-tuning trainers on <c>mlContext.MulticlassClassification.Trainers</c>. Named FineTune* so they do not clash with
/// Microsoft.ML.TorchSharp's <c>TextClassification</c> extension on the same catalog when both packages are referenced
/// (same receiver, same name and a string first argument would make every call ambiguous), and because what they do differs:
/// they fine-tune a checkpoint folder the caller gives, not a RoBERTa downloaded at fit time.
/// </summary>
public static class FineTuneCatalog
{
    /// <summary>Fine-tunes the sequence classifier in <paramref name="modelFolder"/> on <paramref name="textColumnName"/>
    /// (+ <paramref name="pairColumnName"/>) and the key-typed <paramref name="labelColumnName"/>; the model is saved to
    /// <paramref name="outputFolder"/> and the returned transformer adds Score and PredictedLabel.</summary>
    public static FineTuneTextClassificationTrainer FineTuneTextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string modelFolder, string outputFolder, string labelColumnName = "Label", string textColumnName = "Text", string? pairColumnName = null,
        int numTrainEpochs = 3, double learningRate = 5e-5, int batchSize = 8, IDataView? validationSet = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(Environment(catalog), new()
        {
            ModelFolder = modelFolder, LabelColumnName = labelColumnName, TextColumnName = textColumnName, PairColumnName = pairColumnName,
            ValidationSet = validationSet,
            TrainingArguments = new TrainingArguments
            {
                OutputDir = outputFolder, NumTrainEpochs = numTrainEpochs, LearningRate = learningRate,
                PerDeviceTrainBatchSize = batchSize, PerDeviceEvalBatchSize = batchSize,
                EvalStrategy = validationSet is null ? IntervalStrategy.No : IntervalStrategy.Epoch,
                SaveStrategy = IntervalStrategy.No, ReportTo = ["none"],
            },
        });
    }

    public static FineTuneTextClassificationTrainer FineTuneTextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        FineTuneTextClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(Environment(catalog), options);
    }

    /// <summary>The MLContext behind a catalog: ML.NET keeps it in an internal property (CatalogUtils.GetEnvironment is internal),
    /// so messages reach the caller's mlContext.Log rather than a new context's.</summary>
    private static IHostEnvironment Environment(object catalog)
    {
        for (var t = catalog.GetType(); t is not null; t = t.BaseType)
            foreach (var p in t.GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                if (typeof(IHostEnvironment).IsAssignableFrom(p.PropertyType) && p.GetIndexParameters().Length == 0 && p.GetValue(catalog) is IHostEnvironment env)
                    return env;
        throw new InvalidOperationException($"Cannot find the MLContext behind {catalog.GetType().FullName}: this ML.NET version keeps it elsewhere.");
    }
}
