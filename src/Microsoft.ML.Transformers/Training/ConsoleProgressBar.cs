using Microsoft.ML.Transformers.Training;

namespace Microsoft.ML.Transformers;

/// <summary>
/// A terminal progress bar for any long loop, the one the Trainer draws ("Embedding  42%|████▏     | 4200/10000
/// [00:30&lt;00:41, 140.00texts/s]"): pass it as the <see cref="IProgress{T}"/> of e.g. SentenceTransformer.Encode or
/// EmbeddingFile.Write. When the output is redirected it prints a plain line per 10% instead of redrawing.
/// Dispose ends the bar's line.
/// </summary>
public sealed class ConsoleProgressBar : IProgress<int>, IProgress<long>, IDisposable
{
    private readonly ProgressBar _bar;
    private readonly object _lock = new();
    private bool _closed;

    /// <param name="total">The count the bar fills at.</param>
    /// <param name="label">Text before the bar.</param>
    /// <param name="unit">Unit of the rate ("it/s" by default).</param>
    /// <param name="output">Where to draw (the console by default).</param>
    /// <param name="interactive">Redraw in place; by default, when drawing to a console that is not redirected.</param>
    public ConsoleProgressBar(long total, string label = "", string unit = "it", TextWriter? output = null, bool? interactive = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(total, int.MaxValue);
        _bar = new ProgressBar(output ?? Console.Out, interactive ?? (output is null && !Console.IsOutputRedirected), (int)total, unit, label);
        _bar.Update(0);
    }

    public void Report(int value) => Report((long)value);

    public void Report(long value)
    {
        lock (_lock) if (!_closed) _bar.Update((int)Math.Clamp(value, 0, int.MaxValue));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            _bar.Close();
        }
    }
}
