using System.Buffers;
using Microsoft.ML.Transformers.Tokenizers;
using MLTokenizer = Microsoft.ML.Tokenizers.Tokenizer;

namespace Microsoft.ML.Transformers.Tests.Tokenizers;

/// <summary>Our tokenizer.json tokenizer behind ML.NET's Microsoft.ML.Tokenizers.Tokenizer: the abstraction's calls give what
/// our tokenizer gives (WordPiece and byte-level BPE fixtures), and token budgets cut only at word ends.</summary>
[TestClass]
public class MLNetTokenizerTests
{
    private static readonly string[] s_texts = ["the movie was good", "Hello, World! unbelievable things", "paris is in france", ""];

    public static IEnumerable<object[]> Models => [["bert-seqcls"], ["roberta-seqcls"], ["distilbert-seqcls"]];

    private static string Folder(string model) => TestPaths.Fixture("models", model);

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void AbstractionCallsGiveOurEncoding(string model)
    {
        var ours = AutoTokenizer.FromPretrained(Folder(model));
        MLTokenizer ml = MLNetTokenizer.FromPretrained(Folder(model));
        foreach (var text in s_texts)
        {
            var enc = ours.Encode(text, addSpecialTokens: false);
            CollectionAssert.AreEqual(enc.Ids, ml.EncodeToIds(text).ToArray(), text);
            CollectionAssert.AreEqual(enc.Ids, ml.EncodeToIds(text.AsSpan()).ToArray(), text);
            var tokens = ml.EncodeToTokens(text, out var normalized);
            Assert.IsNull(normalized);
            CollectionAssert.AreEqual(enc.Tokens, tokens.Select(t => t.Value).ToArray(), text);
            CollectionAssert.AreEqual(enc.Offsets.Select(o => (o.Start, o.End)).ToArray(),
                tokens.Select(t => (t.Offset.Start.Value, t.Offset.End.Value)).ToArray(), text);
            Assert.AreEqual(enc.Length, ml.CountTokens(text), text);
            Assert.AreEqual(ours.Decode(enc.Ids), ml.Decode(enc.Ids), text);
        }
    }

    [TestMethod]
    public void SpecialTokensWhenAskedFor()
    {
        var ours = AutoTokenizer.FromPretrained(Folder("bert-seqcls"));
        var ml = MLNetTokenizer.FromPretrained(Folder("bert-seqcls"), addSpecialTokens: true);
        CollectionAssert.AreEqual(ours.Encode("the movie was good").Ids, ml.EncodeToIds("the movie was good").ToArray());
        Assert.AreEqual(ours.ClsTokenId, ml.EncodeToIds("hi")[0]);
        Assert.AreEqual("the movie was good", ml.Decode(ml.EncodeToIds("the movie was good"), skipSpecialTokens: true));
    }

    [TestMethod]
    public void TokenBudgetsCutAtWordEnds()
    {
        var ours = AutoTokenizer.FromPretrained(Folder("bert-seqcls"));
        MLTokenizer ml = MLNetTokenizer.FromPretrained(Folder("bert-seqcls"));
        const string text = "unbelievable things happened in paris";
        var enc = ours.Encode(text, addSpecialTokens: false);
        for (int max = 0; max <= enc.Length + 1; max++)
        {
            var ids = ml.EncodeToIds(text, max, out _, out int consumed);
            Assert.IsTrue(ids.Count <= max, $"max {max}");
            // the kept prefix re-encodes to exactly the kept ids
            CollectionAssert.AreEqual(ids.ToArray(), ours.Encode(text[..consumed], addSpecialTokens: false).Ids, $"max {max}: \"{text[..consumed]}\"");
            int index = ml.GetIndexByTokenCount(text, max, out _, out int count);
            Assert.AreEqual(ids.Count, count);
            Assert.AreEqual(consumed, index);
            int fromEnd = ml.GetIndexByTokenCountFromEnd(text, max, out _, out int endCount);
            Assert.IsTrue(endCount <= max);
            CollectionAssert.AreEqual(enc.Ids[(enc.Length - endCount)..], ours.Encode(text[fromEnd..], addSpecialTokens: false).Ids, $"from end, max {max}");
        }
    }

    [TestMethod]
    public void DecodeIntoASpan()
    {
        var ml = MLNetTokenizer.FromPretrained(Folder("roberta-seqcls"));
        var ids = ml.EncodeToIds("paris is in france").ToArray();
        var small = new char[3];
        Assert.AreEqual(OperationStatus.DestinationTooSmall, ml.Decode(ids, small, out _, out _));
        var big = new char[100];
        Assert.AreEqual(OperationStatus.Done, ml.Decode(ids, big, out int consumed, out int written));
        Assert.AreEqual(ids.Length, consumed);
        Assert.AreEqual(ml.Decode(ids), new string(big, 0, written));
    }
}
