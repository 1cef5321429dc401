namespace Microsoft.ML.Transformers.Tokenizers;

/// <summary>
/// NFD / NFKD / NFC / NFKC over <see cref="UnicodeTables"/>, written as the unicode-normalization-alignments crate that
/// Hugging Face's tokenizers uses: each output character carries a change (0 replaces the next input character, +1 is
/// inserted, -n also consumes n more), and those changes, applied in output order, give the alignments. Characters
/// without data (noncharacters, unassigned ones) are starters that map to themselves.
/// </summary>
internal static class UnicodeNormalization
{
    /// <summary>True when the form leaves every character of <paramref name="s"/> as it is (Unicode's quick check).</summary>
    public static bool IsStable(ReadOnlySpan<char> s, bool compat, bool compose)
    {
        uint unstable = compose ? (compat ? UnicodeTables.NfkcUnstable : UnicodeTables.NfcUnstable)
            : (compat ? UnicodeTables.NfkdUnstable : UnicodeTables.NfdUnstable);
        int i = 0;
        while (i < s.Length)
        {
            if (s[i] < 0x80) { i++; continue; }
            int cp = NormalizedText.RuneAt(s, i, out int w);
            i += w;
            if ((UnicodeTables.Info(cp) & unstable) != 0) return false;
        }
        return true;
    }

    [ThreadStatic] private static List<(int Rank, int Cp, int Change)>? t_buffer;
    [ThreadStatic] private static List<(int Cp, int Change)>? t_decomposed, t_pending;

    /// <summary>Writes the (code point, change) sequence of the form applied to <paramref name="s"/> into <paramref name="output"/>.</summary>
    public static void Normalize(ReadOnlySpan<char> s, bool compat, bool compose, List<(int Cp, int Change)> output)
    {
        output.Clear();
        if (!compose) { Decompose(s, compat, output); return; }
        var decomposed = t_decomposed ??= new List<(int, int)>(s.Length + 16);
        Decompose(s, compat, decomposed);
        Recompose(decomposed, output);
    }

    /// <summary>The crate's Decompositions: full decompositions, marks sorted by class (stably) between starters.</summary>
    private static void Decompose(ReadOnlySpan<char> s, bool compat, List<(int Cp, int Change)> output)
    {
        output.Clear();
        var buffer = t_buffer ??= new List<(int, int, int)>(16);
        buffer.Clear();
        static void Push(List<(int Rank, int Cp, int Change)> buf, List<(int Cp, int Change)> o, int cp, int change)
        {
            int rank = UnicodeTables.CombiningRank(UnicodeTables.Info(cp));
            if (rank == 0)
            {
                // a starter: the marks since the previous one are sorted, and everything before it is final
                SortPending(buf);
                foreach (var (_, c, ch) in buf) o.Add((c, ch));
                buf.Clear();
            }
            buf.Add((rank, cp, change));
        }
        int i = 0;
        while (i < s.Length)
        {
            int cp = NormalizedText.RuneAt(s, i, out int w);
            i += w;
            if (cp >= UnicodeTables.HangulSBase && cp < UnicodeTables.HangulSBase + UnicodeTables.HangulSCount)
            {
                int si = cp - UnicodeTables.HangulSBase;
                Push(buffer, output, UnicodeTables.HangulLBase + si / UnicodeTables.HangulNCount, 0);
                Push(buffer, output, UnicodeTables.HangulVBase + si % UnicodeTables.HangulNCount / UnicodeTables.HangulTCount, 1);
                if (si % UnicodeTables.HangulTCount != 0) Push(buffer, output, UnicodeTables.HangulTBase + si % UnicodeTables.HangulTCount, 1);
                continue;
            }
            var d = cp < 0xA0 ? null : UnicodeTables.Decomposition(cp, UnicodeTables.Info(cp), compat);
            if (d == null) { Push(buffer, output, cp, 0); continue; }
            for (int k = 0; k < d.Length; k++) Push(buffer, output, d[k], k == 0 ? 0 : 1);
        }
        SortPending(buffer);
        foreach (var (_, c, ch) in buffer) output.Add((c, ch));
        buffer.Clear();
    }

    /// <summary>Stable sort by class (a leading starter, class 0, stays first; insertion sort: runs of marks are short).</summary>
    private static void SortPending(List<(int Rank, int Cp, int Change)> buf)
    {
        for (int k = 1; k < buf.Count; k++)
        {
            var x = buf[k];
            int j = k - 1;
            while (j >= 0 && buf[j].Rank > x.Rank) { buf[j + 1] = buf[j]; j--; }
            buf[j + 1] = x;
        }
    }

    /// <summary>The crate's Recompositions: compose each starter with the following unblocked marks.</summary>
    private static void Recompose(List<(int Cp, int Change)> input, List<(int Cp, int Change)> output)
    {
        var pending = t_pending ??= new List<(int, int)>(8);
        pending.Clear();
        bool haveComposee = false;
        int composee = 0, composeeChange = 0, lastRank = -1; // -1: nothing buffered since the composee
        foreach (var (ch, change) in input)
        {
            int rank = UnicodeTables.CombiningRank(UnicodeTables.Info(ch));
            if (!haveComposee)
            {
                if (rank != 0) output.Add((ch, change));
                else { composee = ch; composeeChange = change; haveComposee = true; }
                continue;
            }
            if (lastRank < 0)
            {
                int r = UnicodeTables.Compose(composee, ch);
                if (r >= 0) { composee = r; composeeChange += change - 1; continue; }
                if (rank == 0) { output.Add((composee, composeeChange)); composee = ch; composeeChange = change; continue; }
                pending.Add((ch, change));
                lastRank = rank;
                continue;
            }
            if (lastRank >= rank)
            {
                // blocked from the composee
                if (rank == 0)
                {
                    output.Add((composee, composeeChange));
                    output.AddRange(pending);
                    pending.Clear();
                    composee = ch; composeeChange = change; lastRank = -1;
                    continue;
                }
                pending.Add((ch, change));
                lastRank = rank;
                continue;
            }
            int c2 = UnicodeTables.Compose(composee, ch);
            if (c2 >= 0) { composee = c2; composeeChange += change - 1; continue; }
            pending.Add((ch, change));
            lastRank = rank;
        }
        if (haveComposee) output.Add((composee, composeeChange));
        output.AddRange(pending);
        pending.Clear();
    }
}
