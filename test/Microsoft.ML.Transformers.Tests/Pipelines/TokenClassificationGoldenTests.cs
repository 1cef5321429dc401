using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Pipelines;
using static Microsoft.ML.Transformers.Tests.Pipelines.PipelineFixtures;

namespace Microsoft.ML.Transformers.Tests.Pipelines;

/// <summary>token-classification against Transformers.js goldens (aggregation none and simple, ignore_labels), both engines.
/// Words: Hugging Face's word for an unaggregated token is the raw token ("Ġwas"), Transformers.js's the decoded one (" was"),
/// so for byte-level BPE models the word is compared after decoding.</summary>
[TestClass]
public class TokenClassificationGoldenTests
{
    [TestMethod]
    [DataRow(Engine.OnnxRuntime)]
    [DataRow(Engine.LibTorch)]
    public void MatchesTransformersJs(Engine engine) =>
        ForEachCase<TokenClassificationPipeline>("token-classification", engine, (pipe, c, model) =>
        {
            var p = Parameters(c["options"]);
            p["batch_size"] = 3;
            var texts = Texts(c["input"]!);
            var actual = pipe.RunBatch(texts, p);
            var expected = PerInput(c["input"]!, c["output"]!);
            bool simple = (string?)c["options"]!["aggregation_strategy"] == "simple";
            for (int i = 0; i < texts.Count; i++)
            {
                string where = $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}";
                var entities = expected[i].AsArray();
                Assert.AreEqual(entities.Count, actual[i].Count, where);
                for (int j = 0; j < entities.Count; j++)
                {
                    var e = entities[j]!;
                    var a = actual[i][j];
                    Assert.AreEqual((string)e[simple ? "entity_group" : "entity"]!, a.Entity, where);
                    Close((double)e["score"]!, a.Score, where);
                    string word = simple || !model.StartsWith("roberta") ? a.Word : pipe.Tokenizer.Decoder!.Decode([a.Word]);
                    Assert.AreEqual((string)e["word"]!, word, where);
                    if (!simple) Assert.AreEqual((int)e["index"]!, a.Index, where);
                    // our spans point into the text at the word (Transformers.js gives no offsets); a WordPiece subword is "##" + its text
                    string shown = (simple ? a.Word : word).Trim();
                    Assert.AreEqual(texts[i][a.Start..a.End], shown.StartsWith("##") ? shown[2..] : shown, where);
                }
            }
        });
}
