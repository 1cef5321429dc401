using Microsoft.ML.Data;
using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Tests.Pipelines;
using static Microsoft.ML.Transformers.Tests.MLNet.MLNetFixtures;

namespace Microsoft.ML.Transformers.Tests.MLNet;

/// <summary>Every task through the public ML.NET API (MLContext, Fit, Transform): the columns equal the pipeline called
/// directly, and the schema an estimator announces before reading data is the one its transformer produces.</summary>
[TestClass]
public class MLNetTaskTests
{
    public static IEnumerable<object[]> Cases => MLNetTaskCase.All.Select(c => new object[] { c.Name });

    private static MLNetTaskCase Case(string name) => MLNetTaskCase.All.Single(c => c.Name == name);

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void ColumnsEqualThePipelineCalledDirectly_Onnx(string name)
    {
        var c = Case(name);
        var ml = new MLContext(seed: 1);
        var data = c.Data(ml);
        var estimator = WithEngine(c.Estimator(ml, PipelineFixtures.Model(c.Model)), Engine.OnnxRuntime);
        using var model = (PipelineTransformer)estimator.Fit(data);
        c.Check(model.Transform(data), Engine.OnnxRuntime);
    }

    [TestMethod]
    [DataRow("text-classification")]
    [DataRow("feature-extraction")]
    public void ColumnsEqualThePipelineCalledDirectly_LibTorch(string name)
    {
        var c = Case(name);
        var ml = new MLContext(seed: 1);
        var data = c.Data(ml);
        using var model = (PipelineTransformer)WithEngine(c.Estimator(ml, PipelineFixtures.Model(c.Model)), Engine.LibTorch).Fit(data);
        Assert.AreEqual(Engine.LibTorch, model.Pipeline.Model.Engine);
        c.Check(model.Transform(data), Engine.LibTorch);
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void EstimatorSchemaIsExactBeforeAnyDataIsRead(string name)
    {
        var c = Case(name);
        var ml = new MLContext(seed: 1);
        var data = c.Data(ml);
        var estimator = WithEngine(c.Estimator(ml, PipelineFixtures.Model(c.Model)), Engine.OnnxRuntime);
        var announced = estimator.GetOutputSchema(MLNetPersistence.ShapeOf(data.Schema));
        using var model = (PipelineTransformer)estimator.Fit(data);
        var fromTransformer = model.GetOutputSchema(data.Schema);
        var transformed = model.Transform(data);
        Assert.AreEqual(Describe(fromTransformer), Describe(transformed.Schema));
        Assert.AreEqual(Describe(MLNetPersistence.ShapeOf(transformed.Schema)), Describe(announced));
    }

    [TestMethod]
    public void ClassificationColumnsAreMLNetNative()
    {
        var ml = new MLContext(seed: 1);
        var data = TextData(ml);
        var estimator = ml.Transforms.TextClassification(new TextClassificationEstimator.Options { ModelFolder = PipelineFixtures.Model("bert-nli"), Engine = Engine.OnnxRuntime });
        using var model = estimator.Fit(data);
        var schema = model.Transform(data).Schema;
        var score = schema["Score"];
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), score.Type);
        CollectionAssert.AreEqual(new[] { "contradiction", "neutral", "entailment" }, SlotNames(score));
        var predicted = schema["PredictedLabel"];
        Assert.IsInstanceOfType<KeyDataViewType>(predicted.Type);
        Assert.AreEqual(3UL, ((KeyDataViewType)predicted.Type).Count);
        CollectionAssert.AreEqual(new[] { "contradiction", "neutral", "entailment" }, KeyValues(predicted));
        CollectionAssert.AreEqual(new[] { "contradiction", "neutral", "entailment" }, model.Labels.ToArray());

        // MapKeyToValue turns the key into the label name
        var named = ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel").Fit(model.Transform(data)).Transform(model.Transform(data));
        var keys = named.GetColumn<uint>("PredictedLabel").ToArray();
        var names = named.GetColumn<string>("PredictedName").ToArray();
        for (int i = 0; i < keys.Length; i++) Assert.AreEqual(model.Labels[(int)keys[i] - 1], names[i]);
    }

    [TestMethod]
    public void FeatureExtractionGivesAFixedSizeVectorOfTheHiddenSize()
    {
        var ml = new MLContext(seed: 1);
        var data = TextData(ml);
        using var model = ml.Transforms.FeatureExtraction(PipelineFixtures.Model("distilbert-base"), normalize: true).Fit(data);
        var type = (VectorDataViewType)model.Transform(data).Schema["Features"].Type;
        Assert.AreEqual(32, type.Size);
        Assert.AreEqual(32, model.HiddenSize);
        foreach (var v in model.Transform(data).GetColumn<float[]>("Features"))
            Assert.AreEqual(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 1e-5);
    }

    private static IEstimator<ITransformer> WithEngine(IEstimator<ITransformer> estimator, Engine engine) => estimator switch
    {
        TextClassificationEstimator e => new TextClassificationEstimator(With(e.GetOptions(), engine)),
        ZeroShotClassificationEstimator e => new ZeroShotClassificationEstimator(With(e.GetOptions(), engine)),
        TokenClassificationEstimator e => new TokenClassificationEstimator(With(e.GetOptions(), engine)),
        QuestionAnsweringEstimator e => new QuestionAnsweringEstimator(With(e.GetOptions(), engine)),
        FillMaskEstimator e => new FillMaskEstimator(With(e.GetOptions(), engine)),
        FeatureExtractionEstimator e => new FeatureExtractionEstimator(With(e.GetOptions(), engine)),
        _ => throw new NotSupportedException(estimator.GetType().Name),
    };

    private static T With<T>(T options, Engine engine) where T : PipelineTransformerOptions
    {
        options.Engine = engine;
        return options;
    }

    internal static string Describe(DataViewSchema schema) => string.Join("\n", schema.Where(c => !c.IsHidden).Select(c =>
        $"{c.Name}: {c.Type} [{string.Join(", ", c.Annotations.Schema.Select(a => $"{a.Name}: {a.Type}"))}]"));

    internal static string Describe(SchemaShape shape) => string.Join("\n", shape.Select(c =>
        $"{c.Name}: {c.Kind} {c.ItemType} key={c.IsKey} [{string.Join(", ", (c.Annotations ?? new SchemaShape([])).Select(a => $"{a.Name}: {a.Kind} {a.ItemType}"))}]"));
}
