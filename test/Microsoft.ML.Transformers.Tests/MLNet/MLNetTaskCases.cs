using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>
/// One case per task (and variant): how to build the estimator over a model folder, the input rows, and a check that
/// the transformed columns equal what the same pipeline, called directly with the same parameters, returns.
/// Batch size 3 over 3..7 rows, so rows cross batch boundaries.
/// </summary>
internal sealed record MLNetTaskCase(string Name, string Model, Func<MLContext, string, IEstimator<ITransformer>> Estimator,
    Func<MLContext, IDataView> Data, Action<IDataView, Engine> Check)
{
    public override string ToString() => Name;

    public static readonly string[] ZeroShotLabels = ["politics", "cooking", "travel"];

    public static IReadOnlyList<MLNetTaskCase> All { get; } =
    [
        new("text-classification", "bert-seqcls",
            (ml, folder) => ml.Transforms.TextClassification(new TextClassificationEstimator.Options { ModelFolder = folder, BatchSize = 3 }),
            ml => TextData(ml),
            (view, engine) => CheckClasses(view, "bert-seqcls", engine, Texts.Select(t => new TextInput(t)).ToList(), null)),

        new("text-classification pair", "distilbert-seqcls",
            (ml, folder) => ml.Transforms.TextClassification(folder, "Text", pairColumnName: "Pair", batchSize: 3),
            ml => ml.Data.LoadFromEnumerable(Texts.Zip(Pairs, (t, p) => new PairRow { Text = t, Pair = p }).ToList()),
            (view, engine) => CheckClasses(view, "distilbert-seqcls", engine, Texts.Zip(Pairs, (t, p) => new TextInput(t, p)).ToList(), null)),

        new("zero-shot-classification", "bert-nli",
            (ml, folder) => ml.Transforms.ZeroShotClassification(folder, ZeroShotLabels, batchSize: 3),
            ml => TextData(ml),
            (view, engine) => CheckClasses(view, "bert-nli", engine, Texts.Select(t => new TextInput(t)).ToList(), ZeroShotLabels)),

        new("token-classification", "bert-tokcls-bio",
            (ml, folder) => ml.Transforms.TokenClassification(new TokenClassificationEstimator.Options
                { ModelFolder = folder, AggregationStrategy = AggregationStrategy.Simple, BatchSize = 3 }),
            ml => TextData(ml),
            (view, engine) =>
            {
                using var pipe = Direct<TokenClassificationPipeline>("token-classification", "bert-tokcls-bio", engine);
                var expected = pipe.RunBatch(Texts, new TokenClassificationOptions { AggregationStrategy = AggregationStrategy.Simple, Truncation = true });
                var entity = view.GetColumn<string[]>("Entity").ToList();
                var word = view.GetColumn<string[]>("Word").ToList();
                var score = view.GetColumn<float[]>("Score").ToList();
                var start = view.GetColumn<int[]>("Start").ToList();
                var end = view.GetColumn<int[]>("End").ToList();
                Assert.AreEqual(Texts.Length, entity.Count);
                for (int i = 0; i < Texts.Length; i++)
                {
                    CollectionAssert.AreEqual(expected[i].Select(e => e.Entity).ToArray(), entity[i], $"row {i} Entity");
                    CollectionAssert.AreEqual(expected[i].Select(e => e.Word).ToArray(), word[i], $"row {i} Word");
                    AssertClose(expected[i].Select(e => (float)e.Score).ToArray(), score[i], $"row {i} Score");
                    CollectionAssert.AreEqual(expected[i].Select(e => e.Start).ToArray(), start[i], $"row {i} Start");
                    CollectionAssert.AreEqual(expected[i].Select(e => e.End).ToArray(), end[i], $"row {i} End");
                }
            }),

        new("question-answering top 2", "bert-qa",
            (ml, folder) => ml.Transforms.QuestionAnswering(folder, topK: 2, batchSize: 3),
            ml => ml.Data.LoadFromEnumerable(Questions.Select(q => new QaRow { Question = q.Question, Context = q.Context }).ToList()),
            (view, engine) =>
            {
                using var pipe = Direct<QuestionAnsweringPipeline>("question-answering", "bert-qa", engine);
                var expected = pipe.RunBatch(Questions.Select(q => new QuestionAnsweringInput(q.Question, q.Context)).ToList(), new QuestionAnsweringOptions { TopK = 2 });
                var answer = view.GetColumn<string[]>("Answer").ToList();
                var score = view.GetColumn<float[]>("Score").ToList();
                var start = view.GetColumn<int[]>("Start").ToList();
                var end = view.GetColumn<int[]>("End").ToList();
                for (int i = 0; i < Questions.Length; i++)
                {
                    CollectionAssert.AreEqual(expected[i].Select(a => a.Answer).ToArray(), answer[i], $"row {i} Answer");
                    AssertClose(expected[i].Select(a => (float)a.Score).ToArray(), score[i], $"row {i} Score");
                    CollectionAssert.AreEqual(expected[i].Select(a => a.Start).ToArray(), start[i], $"row {i} Start");
                    CollectionAssert.AreEqual(expected[i].Select(a => a.End).ToArray(), end[i], $"row {i} End");
                }
            }),

        new("question-answering top 1", "distilbert-qa",
            (ml, folder) => ml.Transforms.QuestionAnswering(folder, batchSize: 2),
            ml => ml.Data.LoadFromEnumerable(Questions.Select(q => new QaRow { Question = q.Question, Context = q.Context }).ToList()),
            (view, engine) =>
            {
                using var pipe = Direct<QuestionAnsweringPipeline>("question-answering", "distilbert-qa", engine);
                var expected = pipe.RunBatch(Questions.Select(q => new QuestionAnsweringInput(q.Question, q.Context)).ToList());
                CollectionAssert.AreEqual(expected.Select(a => a[0].Answer).ToArray(), view.GetColumn<string>("Answer").ToArray());
                AssertClose(expected.Select(a => (float)a[0].Score).ToArray(), view.GetColumn<float>("Score").ToArray(), "Score");
                CollectionAssert.AreEqual(expected.Select(a => a[0].Start).ToArray(), view.GetColumn<int>("Start").ToArray());
                CollectionAssert.AreEqual(expected.Select(a => a[0].End).ToArray(), view.GetColumn<int>("End").ToArray());
            }),

        new("fill-mask", "bert-mlm",
            (ml, folder) => ml.Transforms.FillMask(folder, topK: 3, batchSize: 3),
            ml => TextData(ml, MaskTexts),
            (view, engine) =>
            {
                using var pipe = Direct<FillMaskPipeline>("fill-mask", "bert-mlm", engine);
                var expected = pipe.RunBatch(MaskTexts, new FillMaskOptions { TopK = 3, Truncation = true });
                var seq = view.GetColumn<string[]>("Sequence").ToList();
                var token = view.GetColumn<int[]>("Token").ToList();
                var tokenStr = view.GetColumn<string[]>("TokenStr").ToList();
                var score = view.GetColumn<float[]>("Score").ToList();
                for (int i = 0; i < MaskTexts.Length; i++)
                {
                    CollectionAssert.AreEqual(expected[i].Select(c => c.Sequence).ToArray(), seq[i], $"row {i} Sequence");
                    CollectionAssert.AreEqual(expected[i].Select(c => c.Token).ToArray(), token[i], $"row {i} Token");
                    CollectionAssert.AreEqual(expected[i].Select(c => c.TokenStr).ToArray(), tokenStr[i], $"row {i} TokenStr");
                    AssertClose(expected[i].Select(c => (float)c.Score).ToArray(), score[i], $"row {i} Score");
                }
            }),

        new("feature-extraction", "bert-base",
            (ml, folder) => ml.Transforms.FeatureExtraction(folder, batchSize: 3),
            ml => TextData(ml),
            (view, engine) =>
            {
                using var pipe = Direct<FeatureExtractionPipeline>("feature-extraction", "bert-base", engine);
                var expected = pipe.RunBatch(Texts.Select(t => new TextInput(t)).ToList(), new FeatureExtractionOptions { Pooling = Pooling.Mean, Truncation = true });
                var actual = view.GetColumn<float[]>("Features").ToList();
                for (int i = 0; i < Texts.Length; i++) AssertClose(expected[i].Data, actual[i], $"row {i} Features", 1e-5);
            }),
    ];

    /// <summary>Score (label order, slot names) and PredictedLabel (key over the labels) against the pipeline's by-score lists.</summary>
    private static void CheckClasses(IDataView view, string model, Engine engine, List<TextInput> inputs, string[]? candidateLabels)
    {
        List<(string Label, double Score)[]> expected;
        if (candidateLabels is null)
        {
            using var pipe = Direct<TextClassificationPipeline>("text-classification", model, engine);
            expected = pipe.RunBatch(inputs, new TextClassificationOptions { TopK = TextClassificationOptions.All, Truncation = true })
                .Select(r => r.Select(x => (x.Label, x.Score)).ToArray()).ToList();
        }
        else
        {
            using var pipe = Direct<ZeroShotClassificationPipeline>("zero-shot-classification", model, engine);
            expected = pipe.RunBatch(inputs.Select(i => i.Text).ToList(), new ZeroShotClassificationOptions { CandidateLabels = candidateLabels, Truncation = true })
                .Select(r => r.Labels.Zip(r.Scores).ToArray()).ToList();
        }
        var labels = SlotNames(view.Schema["Score"]);
        CollectionAssert.AreEqual(candidateLabels ?? expected[0].Select(e => e.Label).Order(StringComparer.Ordinal).ToArray(), labels, "slot names");
        CollectionAssert.AreEqual(labels, KeyValues(view.Schema["PredictedLabel"]), "key values");
        var scores = view.GetColumn<float[]>("Score").ToList();
        var predicted = view.GetColumn<uint>("PredictedLabel").ToList();
        Assert.AreEqual(inputs.Count, scores.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            var byLabel = expected[i].ToDictionary(e => e.Label, e => (float)e.Score);
            AssertClose(labels.Select(l => byLabel[l]).ToArray(), scores[i], $"row {i} Score");
            Assert.AreEqual(expected[i][0].Label, labels[predicted[i] - 1], $"row {i} PredictedLabel");
        }
    }
}
