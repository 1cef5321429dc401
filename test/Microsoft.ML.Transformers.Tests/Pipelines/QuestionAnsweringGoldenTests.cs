using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>question-answering against Transformers.js goldens (top_k 1 and 3, several questions at once), both engines.
/// Transformers.js decodes the answer tokens and does not widen to words, so align_to_words=false here; the answer is
/// compared to the context substring at our character span.</summary>
[TestClass]
public class QuestionAnsweringGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine)
    {
        var pipes = new Dictionary<string, QuestionAnsweringPipeline>();
        try
        {
            foreach (var c in Cases("question-answering"))
            {
                string model = (string)c!["model"]!;
                if (!pipes.TryGetValue(model, out var pipe))
                    pipes[model] = pipe = (QuestionAnsweringPipeline)Create("question-answering", model, engine);
                int topK = (int)c["options"]!["top_k"]!;
                var p = new PipelineParameters { ["top_k"] = topK, ["align_to_words"] = false, ["batch_size"] = 2 };
                var input = c["input"]!;
                bool batched = input is JsonArray;
                var inputs = (batched ? input.AsArray().Select(x => x!) : [input])
                    .Select(x => new QuestionAnsweringInput((string)x["question"]!, (string)x["context"]!)).ToList();
                var actual = pipe.RunBatch(inputs, p);
                var output = c["output"]!;
                var expected = batched ? output.AsArray().Select(o => new JsonArray(o!.DeepClone())).ToList()
                    : topK == 1 ? [new JsonArray(output.DeepClone())] : [output.AsArray()];
                for (int i = 0; i < inputs.Count; i++)
                {
                    string where = $"{model} {inputs[i]} top_k={topK}";
                    Assert.AreEqual(expected[i].Count, actual[i].Count, where);
                    for (int j = 0; j < expected[i].Count; j++)
                    {
                        var a = actual[i][j];
                        Assert.AreEqual(((string)expected[i][j]!["answer"]!).Trim(), a.Answer, where);
                        Assert.AreEqual(inputs[i].Context[a.Start..a.End], a.Answer, where);
                        Close((double)expected[i][j]!["score"]!, a.Score, where);
                    }
                }
            }
        }
        finally { foreach (var p in pipes.Values) p.Dispose(); }
    }
}
