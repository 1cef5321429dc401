namespace Microsoft.ML.Transformers; internal static class Assembly_ {}
