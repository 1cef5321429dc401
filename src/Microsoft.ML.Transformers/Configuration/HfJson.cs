using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// Writes JSON byte-for-byte like Python's <c>json.dumps(obj, indent=2, sort_keys=True)</c>, the format Hugging Face
/// uses for config.json (<c>PretrainedConfig.to_json_string</c>) and for model.safetensors.index.json: keys sorted by
/// code point, ", "-free separators with newlines, ": " after keys, non-ASCII escaped as \uXXXX (ensure_ascii), floats
/// in Python's repr (1e-12, 0.1, 1e-05, 2.0) and integers as written.
/// </summary>
internal static class HfJson
{
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0);
        return sb.Append('\n').ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in obj.OrderBy(p => p.Key, CodePointComparer.Instance))
                {
                    sb.Append(first ? "\n" : ",\n").Append(' ', 2 * (depth + 1));
                    first = false;
                    WriteString(sb, key);
                    sb.Append(": ");
                    Write(sb, value, depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append('}');
                break;
            case JsonArray arr:
                if (arr.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }
                sb.Append('[');
                for (var i = 0; i < arr.Count; i++)
                {
                    sb.Append(i == 0 ? "\n" : ",\n").Append(' ', 2 * (depth + 1));
                    Write(sb, arr[i], depth + 1);
                }
                sb.Append('\n').Append(' ', 2 * depth).Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                sb.Append(FormatNumber(value.ToJsonString()));
                break;
            default:
                throw new InvalidOperationException($"Cannot serialize a JSON value of kind {value.GetValueKind()}.");
        }
    }

    /// <summary>A JSON number node for <paramref name="d"/> that keeps it a float when saved (2.0, not 2).</summary>
    public static JsonNode Float(double d)
    {
        if (!double.IsFinite(d))
        {
            throw new ArgumentOutOfRangeException(nameof(d), d, "JSON config values must be finite numbers.");
        }
        return JsonNode.Parse(PythonFloatRepr(d))!;
    }

    /// <summary>JSON number text -> what Python prints after json.load: ints stay ints, anything with a fraction or
    /// exponent becomes a float printed by repr().</summary>
    internal static string FormatNumber(string token)
    {
        if (token.AsSpan().IndexOfAny('.', 'e', 'E') < 0)
        {
            return token == "-0" ? "0" : token;
        }
        var d = double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture);
        return PythonFloatRepr(d);
    }

    /// <summary>Python's float.__repr__: shortest round-trip digits; exponent form when the decimal point position
    /// is &lt;= -4 or &gt; 16, with a sign and at least two exponent digits.</summary>
    internal static string PythonFloatRepr(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r.StartsWith('-');
        if (negative)
        {
            r = r[1..];
        }
        var exp = 0;
        var ePos = r.IndexOf('E');
        if (ePos >= 0)
        {
            exp = int.Parse(r[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..ePos];
        }
        var dot = r.IndexOf('.');
        var intLen = dot < 0 ? r.Length : dot;
        var digits = r.Replace(".", "");
        var leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
        {
            leading++;
        }
        digits = digits[leading..].TrimEnd('0');
        var sign = negative ? "-" : "";
        if (digits.Length == 0)
        {
            return sign + "0.0";
        }
        // value = 0.DIGITS x 10^decpt
        var decpt = intLen - leading + exp;
        if (decpt <= -4 || decpt > 16)
        {
            var e = decpt - 1;
            var mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return $"{sign}{mantissa}e{(e < 0 ? '-' : '+')}{Math.Abs(e):00}";
        }
        if (decpt <= 0)
        {
            return sign + "0." + new string('0', -decpt) + digits;
        }
        if (decpt < digits.Length)
        {
            return sign + digits[..decpt] + "." + digits[decpt..];
        }
        return sign + digits + new string('0', decpt - digits.Length) + ".0";
    }

    /// <summary>A JSON string with Python's ensure_ascii escaping, or (asciiOnly false) serde_json's: quote, backslash
    /// and control characters escaped, everything else raw (the safetensors header).</summary>
    internal static void WriteString(StringBuilder sb, string s, bool asciiOnly = true)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < ' ' || (asciiOnly && c > '~'))
                    {
                        // UTF-16 code units are exactly what Python emits (surrogate pairs for astral characters).
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Orders strings by Unicode code point, as Python's sorted() does (ordinal UTF-16 order differs
    /// for astral characters).</summary>
    internal sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : -1) : 1;
            }
            var ex = x.EnumerateRunes();
            var ey = y.EnumerateRunes();
            while (true)
            {
                var hx = ex.MoveNext();
                var hy = ey.MoveNext();
                if (!hx || !hy)
                {
                    return hx == hy ? 0 : (hx ? 1 : -1);
                }
                var c = ex.Current.Value.CompareTo(ey.Current.Value);
                if (c != 0)
                {
                    return c;
                }
            }
        }
    }
}
