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
    public void MatchesTransformersJs(Engine engine)
    {
        var pipes = new Dictionary<string, TokenClassificationPipeline>();
        try
        {
            foreach (var c in Cases("token-classification"))
            {
                string model = (string)c!["model"]!;
                if (!pipes.TryGetValue(model, out var pipe))
                    pipes[model] = pipe = (TokenClassificationPipeline)Create("token-classification", model, engine);
                var p = Parameters(c["options"]);
                p["batch_size"] = 3;
                var input = c["input"]!;
                bool batched = input is System.Text.Json.Nodes.JsonArray;
                var texts = batched ? input.AsArray().Select(t => (string)t!).ToList() : [(string)input!];
                var actual = pipe.RunBatch(texts, p);
                var expected = batched ? c["output"]!.AsArray().Select(o => o!.AsArray()).ToList() : [c["output"]!.AsArray()];
                bool simple = (string?)c["options"]!["aggregation_strategy"] == "simple";
                for (int i = 0; i < texts.Count; i++)
                {
                    string where = $"{model} \"{texts[i]}\" {c["options"]!.ToJsonString()}";
                    Assert.AreEqual(expected[i].Count, actual[i].Count, where);
                    for (int j = 0; j < expected[i].Count; j++)
                    {
                        var e = expected[i][j]!;
                        var a = actual[i][j];
                        Assert.AreEqual((string)e[simple ? "entity_group" : "entity"]!, a.Entity, where);
                        Close((double)e["score"]!, a.Score, where);
                        string word = simple || !model.StartsWith("roberta") ? a.Word : pipe.Tokenizer.Decoder!.Decode([a.Word]);
                        Assert.AreEqual((string)e["word"]!, word, where);
                        if (!simple) Assert.AreEqual((int)e["index"]!, a.Index, where);
                        // our spans point into the text at the word (Transformers.js gives no offsets)
                        Assert.AreEqual(texts[i][a.Start..a.End], simple ? a.Word.Trim() : word.Trim(), where);
                    }
                }
            }
        }
        finally { foreach (var p in pipes.Values) p.Dispose(); }
    }
}
