using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>
/// fp32 parity of every architecture x head against the PyTorch reference goldens (built from torch.nn modules by
/// test/fixtures/scripts/make_model_fixtures.py): padded batches, token_type_ids, every hidden state and attention map,
/// the loss and the gradients of one backward step.
/// </summary>
[TestClass]
public class ModelParityTests
{
    internal static ModelRegistry RegistryFor(string caseName)
    {
        var head = caseName[(caseName.IndexOf('-') + 1)..];
        return head switch
        {
            "base" => ModelRegistries.Base,
            "seqcls" or "seqcls-multi" or "seqcls-regression" => ModelRegistries.SequenceClassification,
            "tokcls" => ModelRegistries.TokenClassification,
            "qa" => ModelRegistries.QuestionAnswering,
            "mlm" => ModelRegistries.MaskedLM,
            _ => throw new ArgumentException(caseName),
        };
    }

    public static IEnumerable<object[]> Cases =>
        from arch in new[] { "bert", "roberta", "distilbert" }
        from head in new[] { "base", "seqcls", "seqcls-multi", "seqcls-regression", "tokcls", "qa", "mlm" }
        select new object[] { $"{arch}-{head}" };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MatchesPyTorchReference(string caseName)
    {
        using var model = RegistryFor(caseName).FromPretrained(TestPaths.Fixture("models", caseName));
        Assert.AreEqual(0, model.LoadingInfo!.MissingKeys.Count, model.LoadingInfo.ToString());
        Assert.AreEqual(0, model.LoadingInfo.UnexpectedKeys.Count, model.LoadingInfo.ToString());
        Assert.IsFalse(model.training, "FromPretrained returns the model in eval mode");

        using var g = new Goldens(caseName);
        using var scope = NewDisposeScope();
        var inputs = new ModelInputs
        {
            InputIds = g.Tensor("input_ids"),
            AttentionMask = g.Tensor("attention_mask"),
            TokenTypeIds = g.TryTensor("token_type_ids"),
            Labels = g.TryTensor("labels"),
            StartPositions = g.TryTensor("start_positions"),
            EndPositions = g.TryTensor("end_positions"),
            OutputHiddenStates = true,
            OutputAttentions = true,
        };
        Assert.IsTrue(inputs.AttentionMask!.eq(0).sum().item<long>() > 0, "the golden batch has padding");

        // Inference path (no_grad: fused q/k/v, the chosen GEMM backend) against the same goldens.
        using (no_grad())
        {
            var inference = model.Forward(inputs);
            foreach (var key in new[] { "logits", "start_logits", "last_hidden_state" }.Where(g.Contains))
            {
                var actual = key switch { "logits" => inference.Logits, "start_logits" => inference.StartLogits, _ => inference.LastHiddenState };
                Goldens.AssertClose(actual!, g.Tensor(key), 1e-5, $"{caseName} {key} (no_grad path)");
            }
            for (int i = 0; i < inference.HiddenStates!.Count; i++)
                Goldens.AssertClose(inference.HiddenStates[i], g.Tensor($"hidden_states.{i}"), 1e-5, $"{caseName} hidden_states.{i} (no_grad path)");
        }

        var output = model.Forward(inputs);
        var produced = new Dictionary<string, Tensor?>
        {
            ["logits"] = output.Logits,
            ["start_logits"] = output.StartLogits,
            ["end_logits"] = output.EndLogits,
            ["last_hidden_state"] = output.LastHiddenState,
            ["pooler_output"] = output.PoolerOutput,
        };
        int compared = 0;
        foreach (var (key, actual) in produced)
        {
            if (!g.Contains(key)) continue;
            Assert.IsNotNull(actual, $"{caseName}: model did not produce {key}");
            Goldens.AssertClose(actual, g.Tensor(key), 1e-5, $"{caseName} {key}");
            compared++;
        }
        Assert.IsTrue(compared > 0, "no output compared");
        int layers = g.Keys.Count(k => k.StartsWith("hidden_states.", StringComparison.Ordinal));
        Assert.IsTrue(layers > 1, "goldens carry hidden states");
        Assert.AreEqual(layers, output.HiddenStates!.Count);
        for (int i = 0; i < layers; i++)
            Goldens.AssertClose(output.HiddenStates[i], g.Tensor($"hidden_states.{i}"), 1e-5, $"{caseName} hidden_states.{i}");
        for (int i = 0; i < output.Attentions!.Count; i++)
            Goldens.AssertClose(output.Attentions[i], g.Tensor($"attentions.{i}"), 1e-5, $"{caseName} attentions.{i}");

        if (!g.Contains("loss")) return;
        Assert.IsNotNull(output.Loss, $"{caseName}: labels were given but no loss was computed");
        Assert.AreEqual(g.Tensor("loss").item<float>(), output.Loss.item<float>(), 1e-4, $"{caseName} loss");
        output.Loss.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        int grads = 0;
        foreach (var key in g.Keys.Where(k => k.StartsWith("grad.", StringComparison.Ordinal)))
        {
            var name = key["grad.".Length..];
            Assert.IsTrue(parameters.TryGetValue(name, out var p), $"{caseName}: no parameter {name}");
            Assert.IsNotNull(p.grad, $"{caseName}: {name} has no gradient");
            Goldens.AssertClose(p.grad, g.Tensor(key), 1e-4, $"{caseName} {key}");
            grads++;
        }
        Assert.IsTrue(grads >= 4, "gradients compared");
    }
}
