namespace Microsoft.ML.Transformers.Tests;

[TestClass]
public class SmokeTests
{
    [TestMethod]
    public void FixturesDirectoryExists() => Assert.IsTrue(Directory.Exists(TestPaths.Fixtures), TestPaths.Fixtures);
}
