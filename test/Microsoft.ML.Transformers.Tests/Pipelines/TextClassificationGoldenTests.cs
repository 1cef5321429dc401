using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>text-classification against Transformers.js goldens (top_k 1 / 2 / all, single and batched, multi-label sigmoid,
/// text pairs), on the ONNX folder and on the libtorch checkpoint of the same model.</summary>
[TestClass]
public class TextClassificationGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine)
    {
        int checkedCases = ForEachCase<TextClassificationPipeline>("text-classification", engine, (pipe, c, model) =>
        {
            int topK = (int)c["options"]!["top_k"]!;
            var p = new PipelineParameters { ["top_k"] = topK, ["batch_size"] = 2 };
            var input = c["input"]!;
            List<IReadOnlyList<TextClassificationResult>> actual;
            if (input is JsonArray texts)
                actual = pipe.RunBatch(texts.Select(t => (TextInput)(string)t!).ToList(), p).ToList();
            else
            {
                TextInput ti = input is JsonObject pair ? new TextInput((string)pair["text"]!, (string)pair["text_pair"]!) : (string)input!;
                actual = [pipe.Run(ti, p)];
            }
            // batched with top_k 1: one label object per input; otherwise a list per input
            var expected = PerInput(input, c["output"]!).Select(o => o as JsonArray ?? new JsonArray(o.DeepClone())).ToList();
            Assert.AreEqual(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                string where = $"{model} {input.ToJsonString()} top_k={topK} [{i}]";
                Assert.AreEqual(expected[i].Count, actual[i].Count, where);
                for (int j = 0; j < expected[i].Count; j++)
                {
                    Assert.AreEqual((string)expected[i][j]!["label"]!, actual[i][j].Label, where);
                    Close((double)expected[i][j]!["score"]!, actual[i][j].Score, where);
                }
            }
        });
        Assert.AreEqual(Cases("text-classification").Count, checkedCases);
    }
}
