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
    public void MatchesTransformersJs(Engine engine) =>
        ForEachCase<QuestionAnsweringPipeline>("question-answering", engine, (pipe, c, model) =>
        {
            int topK = (int)c["options"]!["top_k"]!;
            var p = new PipelineParameters { ["top_k"] = topK, ["align_to_words"] = false, ["batch_size"] = 2 };
            var input = c["input"]!;
            var inputs = (input is JsonArray batch ? batch.Select(x => x!) : [input])
                .Select(x => new QuestionAnsweringInput((string)x["question"]!, (string)x["context"]!)).ToList();
            var actual = pipe.RunBatch(inputs, p);
            // top_k 1 gives one answer object per input, otherwise a list
            var expected = PerInput(input, c["output"]!).Select(o => o as JsonArray ?? new JsonArray(o.DeepClone())).ToList();
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
        });
}
