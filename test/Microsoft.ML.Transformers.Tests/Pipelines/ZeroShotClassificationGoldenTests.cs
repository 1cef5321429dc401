using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>zero-shot-classification against Transformers.js goldens (multi_label, hypothesis_template, one label, batched),
/// on NLI models whose config names the entailment class, both engines.</summary>
[TestClass]
public class ZeroShotClassificationGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine) =>
        ForEachCase<ZeroShotClassificationPipeline>("zero-shot-classification", engine, (pipe, c, model) =>
        {
            var p = Parameters(c["options"]);
            p["batch_size"] = 2;
            var texts = Texts(c["input"]!);
            var actual = pipe.RunBatch(texts, p);
            var expected = PerInput(c["input"]!, c["output"]!);
            for (int i = 0; i < texts.Count; i++)
            {
                string where = $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}";
                Assert.AreEqual((string)expected[i]["sequence"]!, actual[i].Sequence, where);
                CollectionAssert.AreEqual(expected[i]["labels"]!.AsArray().Select(l => (string)l!).ToList(), actual[i].Labels.ToList(), where);
                var scores = expected[i]["scores"]!.AsArray();
                for (int j = 0; j < scores.Count; j++) Close((double)scores[j]!, actual[i].Scores[j], where);
            }
        });
}
