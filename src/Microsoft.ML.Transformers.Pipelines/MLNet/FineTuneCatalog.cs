using System.Reflection;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML;

/// <summary>
/// Fine-tuning trainers on <c>mlContext.MulticlassClassification.Trainers</c> and <c>mlContext.Regression.Trainers</c>.
/// Named FineTune* so they do not clash with Microsoft.ML.TorchSharp's <c>TextClassification</c> extension on the same catalog
/// when both packages are referenced (same receiver, same name and a string first argument would make every call ambiguous),
/// and because what they do differs: they fine-tune a checkpoint folder the caller gives, not a RoBERTa downloaded at fit time.
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
        return new(Environment(catalog), Simple(new FineTuneTextClassificationTrainer.Options(), modelFolder, outputFolder, labelColumnName, textColumnName,
            pairColumnName, numTrainEpochs, learningRate, batchSize, validationSet));
    }

    public static FineTuneTextClassificationTrainer FineTuneTextClassification(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        FineTuneTextClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(Environment(catalog), options);
    }

    /// <summary>Fine-tunes the sequence classifier in <paramref name="modelFolder"/> as a regressor (one output, MSE loss) on
    /// <paramref name="textColumnName"/> (+ <paramref name="pairColumnName"/>) and the Single <paramref name="labelColumnName"/>;
    /// the model is saved to <paramref name="outputFolder"/> and the returned transformer adds a scalar Score.</summary>
    public static FineTuneTextRegressionTrainer FineTuneTextRegression(this RegressionCatalog.RegressionTrainers catalog,
        string modelFolder, string outputFolder, string labelColumnName = "Label", string textColumnName = "Text", string? pairColumnName = null,
        int numTrainEpochs = 3, double learningRate = 5e-5, int batchSize = 8, IDataView? validationSet = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(Environment(catalog), Simple(new FineTuneTextRegressionTrainer.Options(), modelFolder, outputFolder, labelColumnName, textColumnName,
            pairColumnName, numTrainEpochs, learningRate, batchSize, validationSet));
    }

    public static FineTuneTextRegressionTrainer FineTuneTextRegression(this RegressionCatalog.RegressionTrainers catalog,
        FineTuneTextRegressionTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(Environment(catalog), options);
    }

    /// <summary>The options of the simple overloads: an evaluation per epoch when a validation set is given, no checkpoints, no reporting.</summary>
    private static T Simple<T>(T o, string modelFolder, string outputFolder, string labelColumnName, string textColumnName, string? pairColumnName,
        int numTrainEpochs, double learningRate, int batchSize, IDataView? validationSet) where T : FineTuneTextOptions
    {
        o.ModelFolder = modelFolder;
        o.LabelColumnName = labelColumnName;
        o.TextColumnName = textColumnName;
        o.PairColumnName = pairColumnName;
        o.ValidationSet = validationSet;
        o.TrainingArguments = new TrainingArguments
        {
            OutputDir = outputFolder, NumTrainEpochs = numTrainEpochs, LearningRate = learningRate,
            PerDeviceTrainBatchSize = batchSize, PerDeviceEvalBatchSize = batchSize,
            EvalStrategy = validationSet is null ? IntervalStrategy.No : IntervalStrategy.Epoch,
            SaveStrategy = IntervalStrategy.No, ReportTo = ["none"],
        };
        return o;
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
