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
        var pipes = new Dictionary<string, TextClassificationPipeline>();
        int checkedCases = 0;
        try
        {
            foreach (var c in Cases("text-classification"))
            {
                string model = (string)c!["model"]!;
                if (!pipes.TryGetValue(model, out var pipe))
                    pipes[model] = pipe = (TextClassificationPipeline)Create("text-classification", model, engine);
                int topK = (int)c["options"]!["top_k"]!;
                var p = new PipelineParameters { ["top_k"] = topK, ["batch_size"] = 2 };
                var input = c["input"]!;
                List<IReadOnlyList<TextClassificationResult>> actual;
                List<JsonArray> expected;
                if (input is JsonArray texts)
                {
                    actual = pipe.RunBatch(texts.Select(t => (TextInput)(string)t!).ToList(), p).ToList();
                    var output = c["output"]!.AsArray();
                    expected = topK == 1 ? output.Select(o => new JsonArray(o!.DeepClone())).ToList() : output.Select(o => o!.AsArray()).ToList();
                }
                else
                {
                    TextInput ti = input is JsonObject pair ? new TextInput((string)pair["text"]!, (string)pair["text_pair"]!) : (string)input!;
                    actual = [pipe.Run(ti, p)];
                    expected = [c["output"]!.AsArray()];
                }
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
                checkedCases++;
            }
        }
        finally { foreach (var p in pipes.Values) p.Dispose(); }
        Assert.AreEqual(Cases("text-classification").Count, checkedCases);
    }
}
