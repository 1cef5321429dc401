namespace Microsoft.ML.Transformers.Pipelines;

internal static class PipelinesAssembly { }
