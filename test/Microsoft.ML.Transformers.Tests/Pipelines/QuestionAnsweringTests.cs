using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>Options Transformers.js lacks, checked against Hugging Face's documented behaviour: long contexts cut into
/// windows (max_seq_len, doc_stride), max_answer_len, handle_impossible_answer (score of the CLS token from the raw logits),
/// align_to_words.</summary>
[TestClass]
public class QuestionAnsweringTests
{
    private const string Question = "what is the capital";
    private const string LongContext =
        "she said the people of the city were happy and the movie was good but the team had a bad season " +
        "and then the government told the world that paris is the capital of france";

    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void LongContextRunsInWindowsAndAnswersComeFromAllOfThem(Engine engine)
    {
        using var pipe = (QuestionAnsweringPipeline)Create("question-answering", "bert-qa", engine);
        var p = new PipelineParameters { ["max_seq_len"] = 24, ["doc_stride"] = 6, ["top_k"] = 400, ["align_to_words"] = false };
        var windows = TokenWindows.Build(pipe.Tokenizer, Question, LongContext, 24, 6);
        Assert.IsTrue(windows.Count >= 3, "the context must need several windows");
        Assert.IsTrue(windows.All(w => w.Length <= 24));
        Assert.AreEqual(LongContext.Length, windows[^1].Offsets.Where((_, i) => windows[^1].SequenceIds[i] == 1).Max(o => o.End), "the windows reach the end");
        for (int k = 1; k < windows.Count; k++)
        {
            // consecutive windows share doc_stride context tokens
            var prev = windows[k - 1].Ids.Where((_, i) => windows[k - 1].SequenceIds[i] == 1).TakeLast(6);
            var next = windows[k].Ids.Where((_, i) => windows[k].SequenceIds[i] == 1).Take(6);
            CollectionAssert.AreEqual(prev.ToList(), next.ToList());
        }
        var windows0 = windows[0];
        int firstWindowEnd = windows0.Offsets.Where((_, i) => windows0.SequenceIds[i] == 1).Max(o => o.End);

        var answers = pipe.Run(new QuestionAnsweringInput(Question, LongContext), p);
        Assert.IsTrue(answers.Any(a => a.Start >= firstWindowEnd), "answers from later windows");
        Assert.IsTrue(answers.Any(a => a.Answer.Contains("france")), "answers from the last window");
        Assert.IsTrue(answers.Any(a => a.End <= firstWindowEnd), "answers from the first window");
        CollectionAssert.AreEqual(answers.OrderByDescending(a => a.Score).ToList(), answers.ToList());
        foreach (var a in answers)
        {
            Assert.AreEqual(LongContext[a.Start..a.End], a.Answer);
            Assert.IsTrue(pipe.Tokenizer.Encode(a.Answer, addSpecialTokens: false).Length <= 15, $"max_answer_len: {a}");
        }
        // an answer can appear in two overlapping windows: Hugging Face keeps both
        var oneToken = pipe.Run(new QuestionAnsweringInput(Question, LongContext), new PipelineParameters { ["max_seq_len"] = 24, ["doc_stride"] = 6, ["top_k"] = 20, ["max_answer_len"] = 1, ["align_to_words"] = false });
        foreach (var a in oneToken) Assert.AreEqual(1, pipe.Tokenizer.Encode(a.Answer, addSpecialTokens: false).Length, $"max_answer_len=1: {a}");
    }

    [TestMethod]
    public void ImpossibleAnswerScoreIsTheClsProbabilityProduct()
    {
        using var pipe = (QuestionAnsweringPipeline)Create("question-answering", "distilbert-qa", Engine.OnnxRuntime);
        const string context = "paris is the capital of france";
        var enc = pipe.Tokenizer.Encode(Question, context);
        var batch = new InferenceBatch(enc.Ids.Select(i => (long)i).ToArray(), enc.AttentionMask.Select(i => (long)i).ToArray(),
            enc.TypeIds.Select(i => (long)i).ToArray(), 1, enc.Length);
        var o = pipe.Model.Run(batch);
        double ClsProb(float[] logits)
        {
            // softmax over the CLS token and the context tokens only
            var keep = Enumerable.Range(0, enc.Length).Where(i => i == 0 || enc.SequenceIds[i] == 1).ToList();
            return Math.Exp(logits[0]) / keep.Sum(i => Math.Exp(logits[i]));
        }
        double expected = ClsProb(o["start_logits"].GetData<float>()) * ClsProb(o["end_logits"].GetData<float>());
        var answers = pipe.Run(new QuestionAnsweringInput(Question, context), new PipelineParameters { ["handle_impossible_answer"] = true, ["top_k"] = 100 });
        var none = answers.Single(a => a.Answer == "");
        Assert.AreEqual((0, 0), (none.Start, none.End));
        Close(expected, none.Score, "no-answer score", 1e-6);
        Assert.IsFalse(pipe.Run(new QuestionAnsweringInput(Question, context), new PipelineParameters { ["top_k"] = 100 }).Any(a => a.Answer == ""));
    }

    [TestMethod]
    public void AlignToWordsWidensSubwordSpansToWholeWords()
    {
        using var pipe = (QuestionAnsweringPipeline)Create("question-answering", "bert-qa", Engine.OnnxRuntime);
        const string context = "parisian hellos wereabouts unhappy citys";   // every word is several tokens
        var input = new QuestionAnsweringInput("who", context);
        var raw = pipe.Run(input, new PipelineParameters { ["top_k"] = 30, ["align_to_words"] = false });
        Assert.IsTrue(raw.Any(a => IsPartOfWord(context, a)), "some unaligned answer should cut a word");
        var aligned = pipe.Run(input, new PipelineParameters { ["top_k"] = 30 });
        foreach (var a in aligned)
        {
            Assert.IsFalse(IsPartOfWord(context, a), $"{a} cuts a word");
            Assert.AreEqual(context[a.Start..a.End], a.Answer);
        }
    }

    private static bool IsPartOfWord(string context, QuestionAnsweringResult a) =>
        a.Start > 0 && context[a.Start - 1] != ' ' || a.End < context.Length && context[a.End] != ' ';

    [TestMethod]
    public void SeveralQuestionsAboutOneContext()
    {
        using var pipe = (QuestionAnsweringPipeline)Create("question-answering", "roberta-qa", Engine.LibTorch);
        const string context = "paris is the capital of france and the city is good";
        var both = pipe.Run(["what is the capital", "who said hello"], context, new PipelineParameters { ["batch_size"] = 2 });
        Assert.AreEqual(2, both.Count);
        var alone = pipe.Run(new QuestionAnsweringInput("who said hello", context))[0];
        Assert.AreEqual(alone with { Score = 0 }, both[1][0] with { Score = 0 });
        Close(alone.Score, both[1][0].Score, "batched", 1e-5);
    }

    [TestMethod]
    public void MaxAnswerLenAtIntMaxIsNoLimitNotAnOverflow()
    {
        using var pipe = (QuestionAnsweringPipeline)Create("question-answering", "roberta-qa", Engine.LibTorch);
        const string context = "paris is the capital of france and the city is good";
        var limitless = pipe.Run(new QuestionAnsweringInput("what is the capital", context), new PipelineParameters { ["max_answer_len"] = int.MaxValue });
        var large = pipe.Run(new QuestionAnsweringInput("what is the capital", context), new PipelineParameters { ["max_answer_len"] = 10_000 });
        Assert.AreEqual(1, limitless.Count, "an answer is found");
        Assert.AreEqual(large[0], limitless[0]);
    }
}

/// <summary>Window edge cases.</summary>
[TestClass]
public class TokenWindowTests
{
    [TestMethod]
    public void AShortTextIsOneWindowWhateverTheStride()
    {
        var tok = Microsoft.ML.Transformers.Tokenizers.AutoTokenizer.FromPretrained(PipelineFixtures.Model("bert-qa"));
        var w = TokenWindows.Build(tok, "what is the capital of france and who said hello to the people", "paris", 24, 20);
        Assert.AreEqual(1, w.Count);
        CollectionAssert.AreEqual(tok.Encode("what is the capital of france and who said hello to the people", "paris").Ids, w[0].Ids);
        var e = Assert.ThrowsExactly<ArgumentException>(() => TokenWindows.Build(tok, "what is the capital of france and who said hello to the people", "paris is the capital of france and the city is good", 24, 8));
        StringAssert.Contains(e.Message, "must be more than the stride (8)");
    }
}
