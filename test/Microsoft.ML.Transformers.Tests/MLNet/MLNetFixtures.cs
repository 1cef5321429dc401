using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Pipelines;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>Inputs, models and helpers shared by the ML.NET tests: rows as plain classes, the same pipeline called directly.</summary>
internal static class MLNetFixtures
{
    public static readonly string[] Texts =
    [
        "the movie was good", "i hate this city", "she said the capital of france is paris", "hello world",
        "the soup was cold and the waiter was slow", "paris is a city in france", "what a wonderful day",
    ];

    public static readonly string[] Pairs = ["it was fine", "i love it", "paris is in france", "hi", "service was bad", "so is lyon", "it rained"];

    public static readonly string[] MaskTexts =
        ["the capital of france is [MASK].", "i [MASK] this city", "hello [MASK]", "the movie was [MASK]", "she said [MASK] is paris"];

    public static readonly (string Question, string Context)[] Questions =
    [
        ("what is the capital of france?", "the capital of france is paris. it is a big city."),
        ("who said it?", "she said the capital of france is paris"),
        ("where is lyon?", "lyon is a city in france, south of paris"),
    ];

    public static string TsvPath => TestPaths.Fixture("mlnet", "sentences.tsv");

    public sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    public sealed class PairRow
    {
        public string Text { get; set; } = "";
        public string Pair { get; set; } = "";
    }

    public sealed class QaRow
    {
        public string Question { get; set; } = "";
        public string Context { get; set; } = "";
    }

    /// <summary>A TSV row as ML.NET's TextLoader reads it.</summary>
    public sealed class LabelledRow
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1)] public string Text { get; set; } = "";
    }

    public static IDataView TextData(MLContext ml, IEnumerable<string>? texts = null) =>
        ml.Data.LoadFromEnumerable((texts ?? Texts).Select(t => new TextRow { Text = t }).ToList());

    public static T Direct<T>(string task, string model, Engine engine = Engine.OnnxRuntime) where T : Pipeline =>
        (T)PipelineFixtures.Create(task, model, engine);

    /// <summary>A private copy of a fixture model folder (deleted by the caller), for tests that remove the folder a zip came from.</summary>
    public static string CopyModel(string model)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlt-mlnet-test-" + Guid.NewGuid().ToString("N"));
        PipelineFixtures.CopyDirectory(PipelineFixtures.Model(model), dir);
        return dir;
    }

    public static string TempZip() => Path.Combine(Path.GetTempPath(), "mlt-mlnet-test-" + Guid.NewGuid().ToString("N") + ".zip");

    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, string what, double tolerance = 1e-6)
    {
        Assert.AreEqual(expected.Count, actual.Count, $"{what}: length");
        for (int i = 0; i < expected.Count; i++)
            if (Math.Abs(expected[i] - actual[i]) > tolerance)
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    public static string[] KeyValues(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetKeyValues(ref names);
        return names.DenseValues().Select(m => m.ToString()).ToArray();
    }

    public static string[] SlotNames(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.GetSlotNames(ref names);
        return names.DenseValues().Select(m => m.ToString()).ToArray();
    }
}
