using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>feature-extraction against Transformers.js goldens (pooling none / mean / cls, normalize, batched), both engines.</summary>
[TestClass]
public class FeatureExtractionGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine) =>
        ForEachCase<FeatureExtractionPipeline>("feature-extraction", engine, (pipe, c, model) =>
        {
            var p = Parameters(c["options"]);
            p["batch_size"] = 4;
            var texts = Texts(c["input"]!).Select(t => (TextInput)t).ToList();
            var actual = pipe.RunBatch(texts, p);
            // Transformers.js returns one tensor: [batch, hidden] pooled, [1, tokens, hidden] unpooled
            var output = c["output"]!.AsArray();
            string pooling = (string)c["options"]!["pooling"]!;
            for (int i = 0; i < texts.Count; i++)
            {
                var rows = pooling == "none" ? output[0]!.AsArray() : new JsonArray(output[i]!.DeepClone());
                var a = actual[i];
                Assert.AreEqual(rows.Count * rows[0]!.AsArray().Count, a.Data.Length, $"{model} {pooling}");
                int k = 0;
                foreach (var row in rows)
                    foreach (var v in row!.AsArray())
                        Close((double)v!, a.Data[k++], $"{model} \"{texts[i].Text}\" {c["options"]!.ToJsonString()} [{k - 1}]");
            }
        });
}
