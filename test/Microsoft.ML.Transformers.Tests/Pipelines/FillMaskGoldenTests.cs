using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>fill-mask against Transformers.js goldens (top_k 5 and 3, batched), both engines: token, token_str, sequence, score;
/// and inputs with several masks (one candidate list per mask) against Hugging Face's postprocessing applied to
/// Transformers.js's logits (fill-mask-multi.json).</summary>
[TestClass]
public class FillMaskGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine) =>
        ForEachCase<FillMaskPipeline>("fill-mask", engine, (pipe, c, model) =>
        {
            var p = Parameters(c["options"]);
            p["batch_size"] = 2;
            var texts = Texts(c["input"]!);
            var actual = pipe.RunBatch(texts, p);
            var expected = PerInput(c["input"]!, c["output"]!);
            for (int i = 0; i < texts.Count; i++)
            {
                Assert.AreEqual(1, actual[i].Masks.Count);
                AssertCandidates(expected[i].AsArray(), actual[i], $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}");
            }
        });

    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void SeveralMasksGiveOneListPerMaskAsHuggingFace(Engine engine)
    {
        int cases = ForEachCase<FillMaskPipeline>("fill-mask", engine, (pipe, c, model) =>
        {
            var text = (string)c["input"]!;
            var actual = pipe.Run(text, Parameters(c["options"]));
            var expected = c["output"]!.AsArray();
            string where = $"{model} \"{text}\" {c["options"]!.ToJsonString()}";
            Assert.AreEqual(expected.Count, actual.Masks.Count, where);
            for (int m = 0; m < expected.Count; m++) AssertCandidates(expected[m]!.AsArray(), actual.Masks[m], $"{where} mask {m}");
            var e = Assert.ThrowsExactly<InvalidOperationException>(() => actual.Count);
            StringAssert.Contains(e.Message, $"has {expected.Count} mask tokens: read Masks");
        }, goldens: "fill-mask-multi");
        Assert.AreEqual(9, cases);
    }

    private static void AssertCandidates(JsonArray expected, IReadOnlyList<FillMaskResult> actual, string where)
    {
        Assert.AreEqual(expected.Count, actual.Count, where);
        for (int j = 0; j < expected.Count; j++)
        {
            Assert.AreEqual((int)expected[j]!["token"]!, actual[j].Token, where);
            Assert.AreEqual((string)expected[j]!["token_str"]!, actual[j].TokenStr, where);
            Assert.AreEqual((string)expected[j]!["sequence"]!, actual[j].Sequence, where);
            Close((double)expected[j]!["score"]!, actual[j].Score, where);
        }
    }
}
