using Microsoft.ML.Transformers.MLNet;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using Microsoft.ML.Transformers.Tests.Vision;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>
/// Every integer parameter of every text pipeline, at 0, negative, past the model or past int: refused before the model
/// runs, with an ArgumentException naming the parameter, the range expected and the value found. Extreme values inside the
/// range (top_k or batch_size = int.MaxValue, doc_stride 0) work. The image pipelines likewise, checked before the image
/// is even read.
/// </summary>
[TestClass]
public class ParameterRangeTests
{
    private static object Run(Pipeline pipe, PipelineParameters p) => pipe switch
    {
        TextClassificationPipeline t => t.RunBatch(["the movie was good", "hello"], p),
        TokenClassificationPipeline t => t.Stream(["the movie was good", "hello"], p).ToList(),
        FillMaskPipeline t => t.Run("the capital of france is [MASK]", p),
        QuestionAnsweringPipeline t => t.Run(new QuestionAnsweringInput("who said hello", "she said hello to the people of the city"), p),
        _ => throw new NotSupportedException(pipe.GetType().Name),
    };

    [TestMethod]
    [DataRow("text-classification", "bert-seqcls", "top_k", 0, "an integer of at least 1")]
    [DataRow("text-classification", "bert-seqcls", "top_k", -1, "an integer of at least 1")]
    [DataRow("text-classification", "bert-seqcls", "top_k", 3_000_000_000L, "an integer of at least 1")]
    [DataRow("text-classification", "bert-seqcls", "batch_size", 0, "an integer of at least 1")]
    [DataRow("token-classification", "bert-tokcls-bio", "batch_size", -2, "an integer of at least 1")]
    [DataRow("token-classification", "bert-tokcls-bio", "stride", -1, "an integer from 0 to 63")]
    [DataRow("token-classification", "bert-tokcls-bio", "stride", 64, "an integer from 0 to 63")]
    [DataRow("fill-mask", "bert-mlm", "top_k", 0, "an integer of at least 1")]
    [DataRow("fill-mask", "bert-mlm", "batch_size", -1, "an integer of at least 1")]
    [DataRow("question-answering", "bert-qa", "top_k", 0, "an integer of at least 1")]
    [DataRow("question-answering", "bert-qa", "max_answer_len", -1, "an integer of at least 1")]
    [DataRow("question-answering", "bert-qa", "max_question_len", 0, "an integer of at least 1")]
    [DataRow("question-answering", "bert-qa", "max_seq_len", 0, "an integer from 1 to 64")]
    [DataRow("question-answering", "bert-qa", "max_seq_len", 65, "an integer from 1 to 64")]
    [DataRow("question-answering", "bert-qa", "max_seq_len", int.MaxValue, "an integer from 1 to 64")]
    [DataRow("question-answering", "bert-qa", "doc_stride", -1, "an integer of at least 0")]
    [DataRow("question-answering", "bert-qa", "batch_size", 0, "an integer of at least 1")]
    public void OutOfRangeIsRefusedNamingParameterRangeAndValue(string task, string model, string name, object value, string range)
    {
        using var pipe = Create(task, model, Engine.OnnxRuntime);
        var p = new PipelineParameters { [name] = value };
        if (name == "stride") p["aggregation_strategy"] = "first";
        var e = Assert.ThrowsExactly<ArgumentException>(() => Run(pipe, p));
        StringAssert.Contains(e.Message, $"'{name}' must be {range}; found {value} ({value.GetType().Name})");
        Assert.AreEqual(name, e.ParamName);
    }

    [TestMethod]
    public void ExtremesInsideTheRangeWork()
    {
        using var tc = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var all = tc.RunBatch(["the movie was good", "hello"], new PipelineParameters { ["top_k"] = int.MaxValue, ["batch_size"] = int.MaxValue });
        Assert.AreEqual(3, all[1].Count, "top_k past the labels gives every label");
        Assert.AreEqual(2, tc.Stream(["the movie was good", "hello"], new PipelineParameters { ["batch_size"] = int.MaxValue }).Count());
        using var fm = (FillMaskPipeline)Create("fill-mask", "bert-mlm", Engine.OnnxRuntime);
        Assert.AreEqual(fm.Tokenizer.VocabSize, fm.Run("i [MASK] this", new PipelineParameters { ["top_k"] = int.MaxValue }).Count);
        using var qa = (QuestionAnsweringPipeline)Create("question-answering", "bert-qa", Engine.OnnxRuntime);
        var answers = qa.Run(new QuestionAnsweringInput("who", string.Join(" ", Enumerable.Repeat("she said hello to the people", 12))),
            new PipelineParameters { ["doc_stride"] = 0, ["max_seq_len"] = 64, ["max_answer_len"] = int.MaxValue });
        Assert.AreEqual(1, answers.Count);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(int.MaxValue)]
    public void MLNetBatchSizeIsBounded(int batchSize)
    {
        // every cursor holds buffers of BatchSize rows: int.MaxValue would allocate gigabytes before reading a row
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FillMaskEstimator(new FillMaskEstimator.Options
        {
            ModelFolder = PipelineFixtures.Model("bert-mlm"), BatchSize = batchSize,
        }));
        StringAssert.Contains(e.Message, $"BatchSize must be from 1 to {PipelineTransformerOptions.MaxBatchSize}; found {batchSize}.");
    }

    private static Pipeline CreateImage(string task, string model) =>
        Microsoft.ML.Transformers.Pipelines.Pipelines.Create(task, TestPaths.Fixture("vision", "models", model), new PipelineOptions { Engine = Engine.OnnxRuntime });

    private static object RunImage(Pipeline pipe, ImageInput image, PipelineParameters p) => pipe switch
    {
        ImageClassificationPipeline t => t.Run(image, p),
        ImageFeatureExtractionPipeline t => t.Run(image, p),
        ObjectDetectionPipeline t => t.Run(image, p),
        ImageSegmentationPipeline t => t.Run(image, p),
        _ => throw new NotSupportedException(pipe.GetType().Name),
    };

    [TestMethod]
    [DataRow("image-classification", "resnet-basic", "top_k", 0, "an integer of at least 1")]
    [DataRow("image-classification", "resnet-basic", "top_k", -1, "an integer of at least 1")]
    [DataRow("image-classification", "resnet-basic", "top_k", 3_000_000_000L, "an integer of at least 1")]
    [DataRow("image-classification", "resnet-basic", "top_k", "five", "an integer of at least 1")]
    [DataRow("image-classification", "resnet-basic", "function_to_apply", "tanh", "one of default, sigmoid, softmax, none")]
    [DataRow("image-classification", "resnet-basic", "batch_size", 0, "an integer of at least 1")]
    [DataRow("image-feature-extraction", "resnet-bottleneck", "batch_size", -1, "an integer of at least 1")]
    [DataRow("image-feature-extraction", "resnet-bottleneck", "pool", "maybe", "true or false")]
    [DataRow("object-detection", "detr", "batch_size", 0, "an integer of at least 1")]
    [DataRow("object-detection", "detr", "threshold", double.NaN, "a finite number")]
    [DataRow("object-detection", "detr", "threshold", "high", "a finite number")]
    [DataRow("image-segmentation", "upernet-convnext", "batch_size", int.MinValue, "an integer of at least 1")]
    [DataRow("image-segmentation", "upernet-convnext", "threshold", 2.0, "a number from 0 to 1")]
    [DataRow("image-segmentation", "upernet-convnext", "mask_threshold", -0.5, "a number from 0 to 1")]
    [DataRow("image-segmentation", "upernet-convnext", "overlap_mask_area_threshold", 1.5, "a number from 0 to 1")]
    public void ImageParametersAreRefusedBeforeTheImageIsRead(string task, string model, string name, object value, string range)
    {
        using var pipe = CreateImage(task, model);
        // a file that does not exist: a check made after decoding or running would fail on the file instead
        var missing = ImageInput.FromFile(Path.Combine(Path.GetTempPath(), "mlt-no-such-image", "never-read.png"));
        var e = Assert.ThrowsExactly<ArgumentException>(() => RunImage(pipe, missing, new PipelineParameters { [name] = value }));
        StringAssert.Contains(e.Message, $"'{name}' must be {range}; found {value} ({value.GetType().Name})");
        Assert.AreEqual(name, e.ParamName);
    }

    [TestMethod]
    public void ImageExtremesInsideTheRangeWork()
    {
        using var ic = (ImageClassificationPipeline)CreateImage("image-classification", "resnet-basic");
        var image = ImageProcessorTests.Image("photo-61x47.jpg");
        var all = ic.Run(image, new PipelineParameters { ["top_k"] = int.MaxValue, ["batch_size"] = int.MaxValue });
        Assert.AreEqual(ic.Config.NumLabels, all.Count, "top_k past the labels gives every label");
        Assert.AreEqual(2, ic.RunBatch([image, image], new PipelineParameters { ["batch_size"] = int.MaxValue }).Count);
        using var od = (ObjectDetectionPipeline)CreateImage("object-detection", "detr");
        Assert.IsEmpty(od.Run(image, new PipelineParameters { ["threshold"] = 1.0 }), "no score is above 1");
        using var seg = (ImageSegmentationPipeline)CreateImage("image-segmentation", "upernet-convnext");
        Assert.IsNotEmpty(seg.Run(image, new PipelineParameters { ["threshold"] = 0, ["mask_threshold"] = 1, ["overlap_mask_area_threshold"] = null }));
    }
}
