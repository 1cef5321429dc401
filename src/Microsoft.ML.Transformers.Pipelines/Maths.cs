namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>Score functions computed in double, as Hugging Face's numpy postprocessing does.</summary>
internal static class Maths
{
    public static double[] Softmax(ReadOnlySpan<float> logits)
    {
        var r = new double[logits.Length];
        if (r.Length == 0) return r;
        double max = double.NegativeInfinity;
        foreach (var x in logits) max = Math.Max(max, x);
        double sum = 0;
        for (int i = 0; i < r.Length; i++) sum += r[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < r.Length; i++) r[i] /= sum;
        return r;
    }

    public static double[] Softmax(ReadOnlySpan<double> logits)
    {
        var r = new double[logits.Length];
        if (r.Length == 0) return r;
        double max = double.NegativeInfinity;
        foreach (var x in logits) max = Math.Max(max, x);
        double sum = 0;
        for (int i = 0; i < r.Length; i++) sum += r[i] = Math.Exp(logits[i] - max);
        for (int i = 0; i < r.Length; i++) r[i] /= sum;
        return r;
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /// <summary>Indices of the <paramref name="k"/> largest values, largest first; ties keep the lower index first.</summary>
    public static int[] TopK(IReadOnlyList<double> values, int k) =>
        Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).ThenBy(i => i).Take(Math.Max(0, k)).ToArray();
}
