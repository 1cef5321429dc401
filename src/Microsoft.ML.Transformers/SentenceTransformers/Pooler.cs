namespace Microsoft.ML.Transformers.SentenceTransformers;

/// <summary>sentence-transformers' <c>models.Pooling.forward</c> and <c>models.Normalize</c> over one text's token vectors.</summary>
public static class Pooler
{
    /// <summary>
    /// Pools <paramref name="tokens"/> ([mask.Length, hidden], row-major) into one vector per mode, concatenated in
    /// <see cref="PoolingMode"/> order. Tokens whose mask is 0 are left out (and, when the config's include_prompt is false,
    /// the first <paramref name="promptLength"/> tokens too, except for cls).
    /// </summary>
    public static float[] Pool(ReadOnlySpan<float> tokens, ReadOnlySpan<int> mask, int hidden, PoolingMode modes, int promptLength = 0)
    {
        int n = mask.Length;
        if (tokens.Length != n * hidden)
            throw new ArgumentException($"Pooling: {tokens.Length} values for {n} tokens × {hidden}; expected {n * hidden}.", nameof(tokens));
        if (modes == PoolingMode.None) throw new ArgumentException("Pooling: no mode given.", nameof(modes));
        var use = new bool[n];
        for (int t = 0; t < n; t++) use[t] = t >= promptLength && mask[t] != 0;
        var result = new List<float>(hidden * 2);
        var acc = new double[hidden];
        if (modes.HasFlag(PoolingMode.Cls)) result.AddRange(tokens[..hidden].ToArray());
        if (modes.HasFlag(PoolingMode.Max))
        {
            // masked tokens count as -1e9, as upstream sets them
            Array.Fill(acc, double.NegativeInfinity);
            for (int t = 0; t < n; t++)
                for (int j = 0; j < hidden; j++) acc[j] = Math.Max(acc[j], use[t] ? tokens[t * hidden + j] : -1e9);
            result.AddRange(acc.Select(x => (float)x));
        }
        if (modes.HasFlag(PoolingMode.Mean) || modes.HasFlag(PoolingMode.MeanSqrtLen))
        {
            Array.Clear(acc);
            double count = 0;
            for (int t = 0; t < n; t++)
            {
                if (!use[t]) continue;
                count++;
                for (int j = 0; j < hidden; j++) acc[j] += tokens[t * hidden + j];
            }
            count = Math.Max(count, 1e-9);
            if (modes.HasFlag(PoolingMode.Mean)) result.AddRange(acc.Select(x => (float)(x / count)));
            if (modes.HasFlag(PoolingMode.MeanSqrtLen)) result.AddRange(acc.Select(x => (float)(x / Math.Sqrt(count))));
        }
        if (modes.HasFlag(PoolingMode.WeightedMean))
        {
            // position weights 1..n (upstream: arange(1, seq + 1))
            Array.Clear(acc);
            double total = 0;
            for (int t = 0; t < n; t++)
            {
                if (!use[t]) continue;
                total += t + 1;
                for (int j = 0; j < hidden; j++) acc[j] += (t + 1) * (double)tokens[t * hidden + j];
            }
            total = Math.Max(total, 1e-9);
            result.AddRange(acc.Select(x => (float)(x / total)));
        }
        if (modes.HasFlag(PoolingMode.LastToken))
        {
            int last = 0;
            for (int t = n - 1; t >= 0; t--) if (mask[t] != 0) { last = t; break; }
            result.AddRange(tokens.Slice(last * hidden, hidden).ToArray());
        }
        return result.ToArray();
    }

    /// <summary>L2-normalizes <paramref name="v"/> in place (norm clamped at 1e-12, as torch.nn.functional.normalize).</summary>
    public static void Normalize(Span<float> v)
    {
        double s = 0;
        foreach (var x in v) s += (double)x * x;
        double norm = Math.Max(Math.Sqrt(s), 1e-12);
        for (int i = 0; i < v.Length; i++) v[i] = (float)(v[i] / norm);
    }
}
