using System.Reflection;

namespace Microsoft.ML.Transformers.Tests;

/// <summary>Locations of the committed fixtures and of the repository, baked in at build time.</summary>
internal static class TestPaths
{
    private static string Meta(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    public static string Fixtures => Meta("FixturesDir");
    public static string RepoRoot => Meta("RepoRoot");
    /// <summary>The restored TorchSharp package folder (read only).</summary>
    public static string TorchSharpPackageDir => Meta("TorchSharpPackageDir");
    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);
}
