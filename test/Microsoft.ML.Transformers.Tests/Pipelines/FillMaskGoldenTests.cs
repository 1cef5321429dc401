using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>fill-mask against Transformers.js goldens (top_k 5 and 3, batched), both engines: token, token_str, sequence, score.</summary>
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
                string where = $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}";
                var e = expected[i].AsArray();
                Assert.AreEqual(e.Count, actual[i].Count, where);
                for (int j = 0; j < e.Count; j++)
                {
                    Assert.AreEqual((int)e[j]!["token"]!, actual[i][j].Token, where);
                    Assert.AreEqual((string)e[j]!["token_str"]!, actual[i][j].TokenStr, where);
                    Assert.AreEqual((string)e[j]!["sequence"]!, actual[i][j].Sequence, where);
                    Close((double)e[j]!["score"]!, actual[i][j].Score, where);
                }
            }
        });
}
