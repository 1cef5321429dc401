using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;
using Factory = Microsoft.ML.Transformers.Pipelines.Pipelines;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>Bad input fails with a message that says what was wrong and what was expected.</summary>
[TestClass]
public class BadInputTests
{
    private static void Throws<T>(Action a, params string[] fragments) where T : Exception
    {
        var e = Assert.ThrowsExactly<T>(a);
        foreach (var f in fragments) StringAssert.Contains(e.Message, f);
    }

    [TestMethod]
    public void EmptyStringAndEmptyList()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => pipe.Run(""), "text is empty", "text-classification");
        Throws<ArgumentException>(() => pipe.RunBatch([]), "list of inputs is empty");
        using var qa = (QuestionAnsweringPipeline)Create("question-answering", "bert-qa", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => qa.Run(new QuestionAnsweringInput("", "paris")), "question is empty");
        Throws<ArgumentException>(() => qa.Run(new QuestionAnsweringInput("who", " ")), "context is empty");
    }

    [TestMethod]
    public void UnknownTaskListsTheKnownOnes() =>
        Throws<ArgumentException>(() => Factory.Create("text-clasification", PipelineFixtures.Model("bert-seqcls")),
            "Unknown task 'text-clasification'", "text-classification", "sentiment-analysis -> text-classification");

    [TestMethod]
    public void FillMaskWithoutMaskToken()
    {
        using var pipe = (FillMaskPipeline)Create("fill-mask", "bert-mlm", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => pipe.Run("the capital of france is paris"), "No mask token ([MASK])", "the capital of france is paris");
    }

    [TestMethod]
    public void TargetNotInVocabulary()
    {
        using var pipe = (FillMaskPipeline)Create("fill-mask", "bert-mlm", Engine.LibTorch);
        Throws<ArgumentException>(() => pipe.Run("i [MASK] this", new PipelineParameters { ["targets"] = new[] { "love", "parisian" } }),
            "Target \"parisian\" is not in the vocabulary", "paris, ##i, ##a, ##n");
    }

    [TestMethod]
    [DataRow("text-classification", "bert-mlm", "SequenceClassification", "BertForMaskedLM")]
    [DataRow("question-answering", "roberta-seqcls", "QuestionAnswering", "RobertaForSequenceClassification")]
    [DataRow("fill-mask", "distilbert-tokcls", "MaskedLM", "DistilBertForTokenClassification")]
    [DataRow("token-classification", "bert-base", "TokenClassification", "BertModel")]
    public void ModelHeadDoesNotFitTheTask(string task, string model, string head, string arch) =>
        Throws<ArgumentException>(() => Factory.Create(task, PipelineFixtures.Model(model)), $"needs a model with a {head} head", arch, "config.json");

    [TestMethod]
    public void ZeroShotWithoutCandidateLabels()
    {
        using var pipe = (ZeroShotClassificationPipeline)Create("zero-shot-classification", "bert-nli", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => pipe.Run("the movie was good"), "needs candidate_labels");
        Throws<ArgumentException>(() => pipe.Run("the movie was good", new PipelineParameters { ["candidate_labels"] = Array.Empty<string>() }), "needs candidate_labels");
        Throws<ArgumentException>(() => pipe.Run("the movie", new PipelineParameters { ["candidate_labels"] = "movie", ["hypothesis_template"] = "about" }), "has no {}");
    }

    [TestMethod]
    public void UnknownOrMistypedParameters()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => pipe.Run("good", new PipelineParameters { ["topk"] = 2 }), "Unknown parameter(s) for text-classification: topk");
        Throws<ArgumentException>(() => pipe.Run("good", new PipelineParameters { ["top_k"] = "two" }), "'top_k' must be an integer", "two");
        Throws<ArgumentException>(() => pipe.Run("good", new PipelineParameters { ["function_to_apply"] = "relu" }), "one of default, sigmoid, softmax, none");
        using var tok = (TokenClassificationPipeline)Create("token-classification", "bert-tokcls", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => tok.Run("good", new PipelineParameters { ["aggregation_strategy"] = "longest" }), "aggregation_strategy", "none, simple, first, average, max");
        using var qa = (QuestionAnsweringPipeline)Create("question-answering", "bert-qa", Engine.OnnxRuntime);
        Throws<ArgumentException>(() => qa.Run(new QuestionAnsweringInput("who", "paris"), new PipelineParameters { ["doc_stride"] = 40, ["max_seq_len"] = 32 }),
            "doc_stride (40) is larger than max_seq_len (32)");
    }

    [TestMethod]
    public void TextLongerThanTheModel()
    {
        using var pipe = (TextClassificationPipeline)Create("text-classification", "bert-seqcls", Engine.OnnxRuntime);
        var longText = string.Join(" ", Enumerable.Repeat("good", 100));
        Throws<ArgumentException>(() => pipe.Run(longText), "102 tokens long", "at most 64", "truncation=true");
        Assert.AreEqual(1, pipe.Run(longText, new PipelineParameters { ["truncation"] = true }).Count);
    }

    [TestMethod]
    public void MissingFolderAndNotAPipelineFolder()
    {
        Throws<DirectoryNotFoundException>(() => Factory.Create("fill-mask", "/nonexistent/model"), "/nonexistent/model");
        Throws<FileNotFoundException>(() => Factory.Load(PipelineFixtures.Model("bert-mlm")), "pipeline.json", "Pipeline.SavePretrained");
    }
}
