using Microsoft.ML.Transformers.MLNet;
using AggregationStrategy = Microsoft.ML.Transformers.Pipelines.AggregationStrategy;

namespace Microsoft.ML;

/// <summary>
/// Hugging Face task pipelines on <c>mlContext.Transforms</c>: one simple overload with column names and a model folder,
/// and one taking the task's Options (engine, device, batch size, the task's parameters). Each returns an estimator
/// whose Fit opens the model (nothing is trained); the fitted transformer is lazy, batches rows, and saves into model.zip
/// with the model files inside, so <c>mlContext.Model.Load</c> needs nothing but the zip.
/// </summary>
public static class TransformersCatalog
{
    /// <summary>Adds <paramref name="scoreColumnName"/> (per-class scores, label names as slot names) and
    /// <paramref name="predictedLabelColumnName"/> (a key over the label names).</summary>
    public static TextClassificationEstimator TextClassification(this TransformsCatalog catalog, string modelFolder,
        string inputColumnName = "Text", string? pairColumnName = null,
        string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel", int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new()
        {
            ModelFolder = modelFolder, InputColumnName = inputColumnName, PairColumnName = pairColumnName,
            ScoreColumnName = scoreColumnName, PredictedLabelColumnName = predictedLabelColumnName, BatchSize = batchSize,
        });
    }

    public static TextClassificationEstimator TextClassification(this TransformsCatalog catalog, TextClassificationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds <paramref name="scoreColumnName"/>: the output of a one-output (num_labels 1, regression) sequence-classification
    /// head as a scalar float, which mlContext.Regression.Evaluate reads.</summary>
    public static TextRegressionEstimator TextRegression(this TransformsCatalog catalog, string modelFolder,
        string inputColumnName = "Text", string? pairColumnName = null, string scoreColumnName = "Score", int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, InputColumnName = inputColumnName, PairColumnName = pairColumnName, ScoreColumnName = scoreColumnName, BatchSize = batchSize });
    }

    public static TextRegressionEstimator TextRegression(this TransformsCatalog catalog, TextRegressionEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds parallel vectors Entity, Word, Score, Start, End (one entry per entity).</summary>
    public static TokenClassificationEstimator TokenClassification(this TransformsCatalog catalog, string modelFolder,
        string inputColumnName = "Text", AggregationStrategy aggregationStrategy = AggregationStrategy.None, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, InputColumnName = inputColumnName, AggregationStrategy = aggregationStrategy, BatchSize = batchSize });
    }

    public static TokenClassificationEstimator TokenClassification(this TransformsCatalog catalog, TokenClassificationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds Answer, Score, Start, End (scalars for topK 1, vectors above).</summary>
    public static QuestionAnsweringEstimator QuestionAnswering(this TransformsCatalog catalog, string modelFolder,
        string questionColumnName = "Question", string contextColumnName = "Context", int topK = 1, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, QuestionColumnName = questionColumnName, ContextColumnName = contextColumnName, TopK = topK, BatchSize = batchSize });
    }

    public static QuestionAnsweringEstimator QuestionAnswering(this TransformsCatalog catalog, QuestionAnsweringEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds parallel vectors Sequence, Token, TokenStr, Score for the <paramref name="topK"/> best fillings of the mask.</summary>
    public static FillMaskEstimator FillMask(this TransformsCatalog catalog, string modelFolder,
        string inputColumnName = "Text", int topK = 5, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, InputColumnName = inputColumnName, TopK = topK, BatchSize = batchSize });
    }

    public static FillMaskEstimator FillMask(this TransformsCatalog catalog, FillMaskEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds <paramref name="outputColumnName"/>: a fixed-size float vector per row: a sentence-transformers folder's
    /// embedding (its pooling and Normalize, as SentenceTransformer.Encode), else the model's hidden states mean pooled.</summary>
    public static FeatureExtractionEstimator FeatureExtraction(this TransformsCatalog catalog, string modelFolder,
        string outputColumnName = "Features", string inputColumnName = "Text", bool normalize = false, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, Normalize = normalize, BatchSize = batchSize });
    }

    public static FeatureExtractionEstimator FeatureExtraction(this TransformsCatalog catalog, FeatureExtractionEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds <paramref name="scoreColumnName"/> (per-class scores, label names as slot names) and
    /// <paramref name="predictedLabelColumnName"/> (a key over the label names) for the image in <paramref name="inputColumnName"/>:
    /// a path (String), encoded bytes (Vector/VarVector of Byte) or an MLImage.</summary>
    public static ImageClassificationEstimator ImageClassification(this TransformsCatalog catalog, string modelFolder,
        string inputColumnName = "Image", string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel", int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new()
        {
            ModelFolder = modelFolder, InputColumnName = inputColumnName, ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName, BatchSize = batchSize,
        });
    }

    public static ImageClassificationEstimator ImageClassification(this TransformsCatalog catalog, ImageClassificationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds <paramref name="outputColumnName"/>: the model's pooled features of the image in <paramref name="inputColumnName"/>
    /// (path, bytes or MLImage), a fixed-size float vector of its last stage's width.</summary>
    public static ImageFeatureExtractionEstimator ImageFeatureExtraction(this TransformsCatalog catalog, string modelFolder,
        string outputColumnName = "Features", string inputColumnName = "Image", int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, OutputColumnName = outputColumnName, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    public static ImageFeatureExtractionEstimator ImageFeatureExtraction(this TransformsCatalog catalog, ImageFeatureExtractionEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds the semantic segmentation of the image in <paramref name="inputColumnName"/> (path, bytes or MLImage):
    /// <c>Labels</c> (segments present), <c>SegmentationMap</c> (class id per pixel at the image's size), <c>Height</c>, <c>Width</c>.</summary>
    public static ImageSegmentationEstimator ImageSegmentation(this TransformsCatalog catalog, string modelFolder, string inputColumnName = "Image", int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, InputColumnName = inputColumnName, BatchSize = batchSize });
    }

    public static ImageSegmentationEstimator ImageSegmentation(this TransformsCatalog catalog, ImageSegmentationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds the objects detected in the image in <paramref name="inputColumnName"/> (path, bytes or MLImage) whose
    /// score is above <paramref name="threshold"/>: <c>Labels</c>, <c>Scores</c> and <c>Boxes</c> (xmin, ymin, xmax, ymax in
    /// the image's pixels, four per object), variable-length vectors in the model's query order.</summary>
    public static ObjectDetectionEstimator ObjectDetection(this TransformsCatalog catalog, string modelFolder, string inputColumnName = "Image",
        double threshold = 0.5, int batchSize = 8)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new() { ModelFolder = modelFolder, InputColumnName = inputColumnName, Threshold = threshold, BatchSize = batchSize });
    }

    public static ObjectDetectionEstimator ObjectDetection(this TransformsCatalog catalog, ObjectDetectionEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }

    /// <summary>Adds Score (one per candidate label, labels as slot names) and PredictedLabel (a key over the candidate labels).</summary>
    public static ZeroShotClassificationEstimator ZeroShotClassification(this TransformsCatalog catalog, string modelFolder,
        string[] candidateLabels, string inputColumnName = "Text", string? hypothesisTemplate = null, bool multiLabel = false, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(new()
        {
            ModelFolder = modelFolder, CandidateLabels = candidateLabels, InputColumnName = inputColumnName,
            HypothesisTemplate = hypothesisTemplate, MultiLabel = multiLabel, BatchSize = batchSize,
        });
    }

    public static ZeroShotClassificationEstimator ZeroShotClassification(this TransformsCatalog catalog, ZeroShotClassificationEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new(options);
    }
}
