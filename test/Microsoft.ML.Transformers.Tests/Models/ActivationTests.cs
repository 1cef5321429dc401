using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Tests.Models;

/// <summary>The GELU activations config.json names (hidden_act / activation) against the formulas of Hugging Face's
/// activations.py, computed in float64 by scripts/make_activation_goldens.py (cross-checked there with PyTorch's gelu).</summary>
[TestClass]
public class ActivationTests
{
    [TestMethod]
    [DataRow("gelu", "gelu")]
    [DataRow("gelu_new", "gelu_tanh")]
    [DataRow("gelu_pytorch_tanh", "gelu_tanh")]
    [DataRow("gelu_fast", "gelu_fast")]
    public void GeluMatchesTheFormula(string name, string golden)
    {
        var json = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("activations", "gelu.json")))!;
        var x = json["x"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var expected = json[golden]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            var y = Activations.Get(name)(tensor(x).to(dtype)).to(ScalarType.Float64).data<double>().ToArray();
            // gelu_fast's constant 0.7978845608 is sqrt(2/pi) to 10 digits: 1e-9 covers it in float64
            double tolerance = dtype == ScalarType.Float64 ? 1e-9 : 1e-6;
            for (int i = 0; i < x.Length; i++)
                Assert.AreEqual(expected[i], y[i], tolerance, $"{name} ({dtype}) at x = {x[i]}");
        }
    }

    [TestMethod]
    public void TanhGeluIsNotTheErfGelu()
    {
        // The approximation differs from the exact GELU by ~4.4e-4 at |x| = 2.5: a swapped mapping would show here.
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -2.5, 2.5 });
        var erf = Activations.Get("gelu")(x);
        foreach (var name in new[] { "gelu_new", "gelu_pytorch_tanh", "gelu_fast" })
            Assert.IsTrue(Activations.Get(name)(x).sub(erf).abs().max().item<double>() > 1e-4, name);
    }
}
