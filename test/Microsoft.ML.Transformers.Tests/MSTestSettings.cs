[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 2)]

namespace Microsoft.ML.Transformers.Tests
{
    /// <summary>Starts libtorch through the library before any test touches TorchSharp directly, so every test runs with
    /// the process settings the library applies before libtorch starts: OMP_WAIT_POLICY, and ONEDNN_MAX_CPU_ISA=SSE41
    /// (unless set outside), because the tiny test models' small channel counts meet oneDNN's wrong AVX2 / AVX-512
    /// convolutions (see EngineConvolutionTests).</summary>
    [TestClass]
    public static class AssemblySetup
    {
        [AssemblyInitialize]
        public static void Init(TestContext _)
        {
            Microsoft.ML.Transformers.Engines.TorchThreads.DefaultOneDnnMaxCpuIsa = "SSE41";
            Microsoft.ML.Transformers.Engines.TorchSharpRuntime.EnsureLoaded();
        }
    }
}
