namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// JSON numbers read as Hugging Face's Rust tokenizers reads them: serde_json's default float parsing (without its
/// float_roundtrip feature), which keeps up to 19 significant digits in a u64 and then multiplies or divides by a power
/// of ten. That is not correctly rounded: about a quarter of t5-small's Unigram scores come out one ulp away from the
/// nearest double, and Viterbi ties are decided by those ulps. (serde_json de.rs: parse_integer, parse_decimal,
/// parse_exponent, f64_from_parts.)
/// </summary>
internal static class SerdeJsonFloat
{
    private static readonly double[] s_pow10 = BuildPow10();

    private static double[] BuildPow10()
    {
        // serde_json's POW10 table holds the literals 1e0 ... 1e308: each the correctly rounded double.
        var t = new double[309];
        for (int i = 0; i < t.Length; i++) t[i] = double.Parse("1e" + i, System.Globalization.CultureInfo.InvariantCulture);
        return t;
    }

    /// <summary>Parses the text of a JSON number; false when it is not one or is out of range (serde_json's errors).</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out double value)
    {
        value = 0;
        int i = 0;
        bool positive = true;
        if (i < s.Length && s[i] == '-') { positive = false; i++; }
        if (i >= s.Length || !char.IsAsciiDigit(s[i])) return false;
        ulong significand = 0;
        int exponent = 0;
        if (s[i] == '0')
        {
            i++;
            if (i < s.Length && char.IsAsciiDigit(s[i])) return false; // a single leading zero only
        }
        else
        {
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                ulong digit = (ulong)(s[i] - '0');
                if (Overflows(significand, digit))
                {
                    // parse_long_integer: further integer digits only scale the value
                    while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; exponent++; }
                    break;
                }
                significand = significand * 10 + digit;
                i++;
            }
            if (i == s.Length && exponent == 0)
            {
                // an integer: serde hands it over as u64 / i64 (or f64 below i64's range), converted with `as f64`
                value = positive ? significand : -(double)significand;
                return true;
            }
        }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            int start = i;
            bool overflowed = false;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                ulong digit = (ulong)(s[i] - '0');
                if (!overflowed && Overflows(significand, digit)) overflowed = true; // parse_decimal_overflow: the rest is ignored
                if (!overflowed) { significand = significand * 10 + digit; exponent--; }
                i++;
            }
            if (i == start) return false;
        }
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            i++;
            bool positiveExp = true;
            if (i < s.Length && (s[i] == '+' || s[i] == '-')) { positiveExp = s[i] == '+'; i++; }
            if (i >= s.Length || !char.IsAsciiDigit(s[i])) return false;
            int exp = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                int digit = s[i] - '0';
                if (exp >= int.MaxValue / 10 && (exp > int.MaxValue / 10 || digit > int.MaxValue % 10))
                {
                    // parse_exponent_overflow: zero, or out of range for a positive exponent of a non-zero significand
                    while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
                    if (i != s.Length || (significand != 0 && positiveExp)) return false;
                    value = positive ? 0.0 : -0.0;
                    return true;
                }
                exp = exp * 10 + digit;
                i++;
            }
            exponent = positiveExp ? SaturatingAdd(exponent, exp) : SaturatingAdd(exponent, -exp);
        }
        if (i != s.Length) return false;
        return FromParts(positive, significand, exponent, out value);
    }

    private static bool Overflows(ulong significand, ulong digit) =>
        significand >= ulong.MaxValue / 10 && (significand > ulong.MaxValue / 10 || digit > ulong.MaxValue % 10);

    private static int SaturatingAdd(int a, int b)
    {
        long r = (long)a + b;
        return r > int.MaxValue ? int.MaxValue : r < int.MinValue ? int.MinValue : (int)r;
    }

    private static bool FromParts(bool positive, ulong significand, int exponent, out double value)
    {
        double f = significand;
        while (true)
        {
            int index = exponent == int.MinValue ? int.MinValue : Math.Abs(exponent);
            if (index >= 0 && index < s_pow10.Length)
            {
                if (exponent >= 0)
                {
                    f *= s_pow10[index];
                    if (double.IsInfinity(f)) { value = 0; return false; }
                }
                else f /= s_pow10[index];
                break;
            }
            if (f == 0.0) break;
            if (exponent >= 0) { value = 0; return false; }
            f /= 1e308;
            exponent += 308;
        }
        value = positive ? f : -f;
        return true;
    }
}
