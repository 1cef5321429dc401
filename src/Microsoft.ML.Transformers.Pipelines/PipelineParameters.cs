using System.Collections;
using System.Globalization;

namespace Microsoft.ML.Transformers.Pipelines;

/// <summary>
/// A pipeline's parameters by their Hugging Face names (<c>top_k</c>, <c>aggregation_strategy</c>, ...), as the keyword
/// arguments of <c>pipeline(...)</c> and of a call. Parameters given at construction and at call time merge; call time wins.
/// A key present with a null value is kept: Hugging Face uses <c>top_k=None</c> to mean "all".
/// </summary>
public sealed class PipelineParameters : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);

    public PipelineParameters() { }

    public PipelineParameters(IEnumerable<KeyValuePair<string, object?>> values)
    {
        foreach (var (k, v) in values) _values[k] = v;
    }

    public static PipelineParameters Empty { get; } = new();

    public object? this[string name]
    {
        get => _values.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"No pipeline parameter '{name}'.");
        set => _values[name] = value;
    }

    public int Count => _values.Count;
    public IEnumerable<string> Names => _values.Keys;
    public bool Contains(string name) => _values.ContainsKey(name);
    public void Add(string name, object? value) => _values[name] = value;

    /// <summary>This set overlaid by <paramref name="overrides"/> (its values win).</summary>
    public PipelineParameters Merge(PipelineParameters? overrides)
    {
        var r = new PipelineParameters(_values);
        if (overrides != null) foreach (var (k, v) in overrides._values) r._values[k] = v;
        return r;
    }

    /// <summary>Only the named parameters that are present.</summary>
    public PipelineParameters Pick(params string[] names)
    {
        var r = new PipelineParameters();
        foreach (var n in names) if (_values.TryGetValue(n, out var v)) r._values[n] = v;
        return r;
    }

    public bool TryGet(string name, out object? value) => _values.TryGetValue(name, out value);

    public int GetInt(string name, int defaultValue) => GetNullableInt(name, defaultValue) ?? throw Wrong(name, "an integer", null);

    /// <summary>Absent: <paramref name="defaultValue"/>; present and null: null.</summary>
    public int? GetNullableInt(string name, int? defaultValue)
    {
        if (!_values.TryGetValue(name, out var v)) return defaultValue;
        return v switch
        {
            null => null,
            int i => i,
            long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
            double d when d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
            string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) => p,
            _ => throw Wrong(name, "an integer", v),
        };
    }

    /// <summary>An integer that must lie in [<paramref name="min"/>, <paramref name="max"/>]; absent: <paramref name="defaultValue"/>.</summary>
    public int GetInt(string name, int defaultValue, int min, int max = int.MaxValue) =>
        GetNullableInt(name, defaultValue, min, max) ?? throw Wrong(name, "an integer", null);

    /// <summary>As <see cref="GetNullableInt(string, int?)"/>, and a present value must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int? GetNullableInt(string name, int? defaultValue, int min, int max = int.MaxValue)
    {
        string range = max == int.MaxValue ? $"an integer of at least {min}" : $"an integer from {min} to {max}";
        _values.TryGetValue(name, out var v);
        // a number beyond int is out of range (not "not an integer")
        if (v is long or double && !(v is long l && l is >= int.MinValue and <= int.MaxValue || v is double d && Math.Abs(d) < int.MaxValue))
            throw Wrong(name, range, v);
        int? value;
        try { value = GetNullableInt(name, defaultValue); }
        catch (ArgumentException) { throw Wrong(name, range, v); } // not an integer: say which are accepted
        return value is int i && (i < min || i > max) ? throw Wrong(name, range, v) : value;
    }

    public double GetDouble(string name, double defaultValue)
    {
        if (!_values.TryGetValue(name, out var v)) return defaultValue;
        return v switch
        {
            double d when double.IsFinite(d) => d,
            float f when float.IsFinite(f) => f,
            int i => i,
            long l => l,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && double.IsFinite(p) => p,
            _ => throw Wrong(name, "a finite number", v),
        };
    }

    /// <summary>A finite number that must lie in [<paramref name="min"/>, <paramref name="max"/>]; absent: <paramref name="defaultValue"/>.</summary>
    public double GetDouble(string name, double defaultValue, double min, double max)
    {
        string range = FormattableString.Invariant($"a number from {min} to {max}");
        _values.TryGetValue(name, out var v);
        double d;
        try { d = GetDouble(name, defaultValue); }
        catch (ArgumentException) { throw Wrong(name, range, v); }
        return d >= min && d <= max ? d : throw Wrong(name, range, v);
    }

    public bool GetBool(string name, bool defaultValue)
    {
        if (!_values.TryGetValue(name, out var v) || v is null) return defaultValue;
        return v switch
        {
            bool b => b,
            string s when bool.TryParse(s, out bool p) => p,
            _ => throw Wrong(name, "true or false", v),
        };
    }

    public string? GetString(string name, string? defaultValue)
    {
        if (!_values.TryGetValue(name, out var v) || v is null) return defaultValue;
        return v is string s ? s : v is Enum e ? e.ToString() : throw Wrong(name, "a string", v);
    }

    /// <summary>A list of strings; a single string counts as a list of one (as Hugging Face accepts).</summary>
    public IReadOnlyList<string>? GetStrings(string name)
    {
        if (!_values.TryGetValue(name, out var v) || v is null) return null;
        return v switch
        {
            string s => [s],
            IEnumerable<string> e => e.ToArray(),
            _ => throw Wrong(name, "a string or a list of strings", v),
        };
    }

    /// <summary>An enum parameter given as the enum itself or as Hugging Face's lower-case name ("first", "softmax").</summary>
    public T? GetEnum<T>(string name) where T : struct, Enum
    {
        if (!_values.TryGetValue(name, out var v) || v is null) return null;
        if (v is T t) return t;
        if (v is string s && Enum.TryParse<T>(s.Replace("_", ""), ignoreCase: true, out var p) && !int.TryParse(s, out _)) return p;
        throw Wrong(name, "one of " + string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant())), v);
    }

    private static ArgumentException Wrong(string name, string expected, object? found) =>
        new($"Pipeline parameter '{name}' must be {expected}; found {(found is null ? "null" : $"{found} ({found.GetType().Name})")}.", name);

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _values.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
