namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// The minimum-cost assignment of a rectangular cost matrix (the problem scipy.optimize.linear_sum_assignment solves):
/// every row of the smaller side gets a distinct column. Shortest augmenting paths with row and column potentials
/// (the Hungarian method in its O(n^2 m) form), one row at a time.
/// </summary>
public static class LinearSumAssignment
{
    /// <summary>Row indices in ascending order and the column assigned to each, min(rows, cols) pairs, as scipy returns them.</summary>
    /// <exception cref="ArgumentException">a cost is NaN or infinite.</exception>
    public static (int[] rows, int[] cols) Solve(double[,] cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int r = cost.GetLength(0), c = cost.GetLength(1);
        foreach (var x in cost)
            if (!double.IsFinite(x)) throw new ArgumentException($"The cost matrix holds {x}; every cost must be a finite number.", nameof(cost));
        if (r == 0 || c == 0) return ([], []);
        bool transposed = r > c;
        int n = transposed ? c : r, m = transposed ? r : c;
        double At(int i, int j) => transposed ? cost[j, i] : cost[i, j];

        // 1-based: column 0 is the virtual start of each augmenting path; p[j] is the row on column j (0 = free).
        var u = new double[n + 1];
        var v = new double[m + 1];
        var p = new int[m + 1];
        var way = new int[m + 1];
        var minv = new double[m + 1];
        var used = new bool[m + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            Array.Fill(minv, double.PositiveInfinity);
            Array.Fill(used, false);
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (used[j]) continue;
                    double cur = At(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= m; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        var pairs = new List<(int row, int col)>(n);
        for (int j = 1; j <= m; j++)
            if (p[j] != 0) pairs.Add(transposed ? (j - 1, p[j] - 1) : (p[j] - 1, j - 1));
        pairs.Sort((a, b) => a.row.CompareTo(b.row));
        return (pairs.Select(x => x.row).ToArray(), pairs.Select(x => x.col).ToArray());
    }
}
