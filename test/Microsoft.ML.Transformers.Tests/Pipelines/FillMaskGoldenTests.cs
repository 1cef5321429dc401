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
    public void MatchesTransformersJs(Engine engine)
    {
        var pipes = new Dictionary<string, FillMaskPipeline>();
        try
        {
            foreach (var c in Cases("fill-mask"))
            {
                string model = (string)c!["model"]!;
                if (!pipes.TryGetValue(model, out var pipe))
                    pipes[model] = pipe = (FillMaskPipeline)Create("fill-mask", model, engine);
                var p = Parameters(c["options"]);
                p["batch_size"] = 2;
                var input = c["input"]!;
                bool batched = input is JsonArray;
                var texts = batched ? input.AsArray().Select(t => (string)t!).ToList() : [(string)input!];
                var actual = pipe.RunBatch(texts, p);
                var expected = batched ? c["output"]!.AsArray().Select(o => o!.AsArray()).ToList() : [c["output"]!.AsArray()];
                for (int i = 0; i < texts.Count; i++)
                {
                    string where = $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}";
                    Assert.AreEqual(expected[i].Count, actual[i].Count, where);
                    for (int j = 0; j < expected[i].Count; j++)
                    {
                        var e = expected[i][j]!;
                        Assert.AreEqual((int)e["token"]!, actual[i][j].Token, where);
                        Assert.AreEqual((string)e["token_str"]!, actual[i][j].TokenStr, where);
                        Assert.AreEqual((string)e["sequence"]!, actual[i][j].Sequence, where);
                        Close((double)e["score"]!, actual[i][j].Score, where);
                    }
                }
            }
        }
        finally { foreach (var p in pipes.Values) p.Dispose(); }
    }
}
