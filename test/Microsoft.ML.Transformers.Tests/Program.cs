namespace Microsoft.ML.Transformers.Tests;

/// <summary>
/// The test assembly's entry point, in place of Microsoft.NET.Test.Sdk's empty one (the test host does not call it):
/// <c>dotnet Microsoft.ML.Transformers.Tests.dll torchsharp-smoke</c> runs <see cref="Engines.TorchSharpSmoke"/> in a
/// process of its own.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["torchsharp-smoke"])
        {
            float sum = Engines.TorchSharpSmoke.OnesSum();
            Console.WriteLine($"torch.ones(2,2).sum() = {sum}");
            return sum == 4f ? 0 : 1;
        }
        return 0;
    }
}
