using Microsoft.ML.Data;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// What <see cref="PipelineTransformer.Transform"/> returns: the input's columns followed by the task's. Nothing runs until
/// a cursor moves; a cursor then reads <c>BatchSize</c> rows ahead from its own input cursor (keeping the values of the
/// input columns asked for), runs them as one batch, and serves them in order. Each cursor has its own state, so cursors
/// may run concurrently; the whole input is never held.
/// </summary>
internal sealed class PipelineDataView : IDataView
{
    private readonly PipelineTransformer _parent;
    private readonly IDataView _input;

    public PipelineDataView(PipelineTransformer parent, IDataView input)
    {
        _parent = parent;
        _input = input;
        Schema = parent.Mapper.OutputSchema(input.Schema);
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        int inputCount = _input.Schema.Count;
        var outputActive = new bool[_parent.Mapper.Outputs.Count];
        var inputActive = new HashSet<int>();
        foreach (var c in columnsNeeded)
        {
            if (c.Index < inputCount) inputActive.Add(c.Index);
            else outputActive[c.Index - inputCount] = true;
        }
        bool anyOutput = outputActive.Any(a => a);
        var taskColumns = _parent.Mapper.InputColumns.Select(n => _input.Schema[n]).ToArray();
        var needed = inputActive.Select(i => _input.Schema[i]).Concat(anyOutput ? taskColumns : []).Distinct();
        // our rows come out in input order, so the input is read in order too
        var cursor = _input.GetRowCursor(needed, rand: null);
        return new Cursor(this, cursor, inputActive, outputActive, anyOutput ? taskColumns : null);
    }

    /// <summary>One cursor: batching is where the parallelism is, and a single cursor keeps the row order.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly PipelineDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly bool[] _outputActive;
        private readonly Func<object>[]? _values;
        private readonly Dictionary<int, ColumnCache> _caches = new();
        private readonly ValueGetter<DataViewRowId> _inputIds;
        private readonly DataViewRowId[] _ids;
        private readonly long[] _inputPositions;
        private readonly object[][] _rows;
        private readonly int _batchSize;
        private IReadOnlyList<object>? _results;
        private int _count, _slot = -1;
        private long _position = -1;
        private bool _done;

        public Cursor(PipelineDataView view, DataViewRowCursor input, HashSet<int> inputActive, bool[] outputActive, DataViewSchema.Column[]? taskColumns)
        {
            _view = view;
            _input = input;
            _outputActive = outputActive;
            _batchSize = view._parent.BaseOptions.BatchSize;
            _values = taskColumns?.Select(c => view._parent.Mapper.Input.Reader(input, c)).ToArray();
            foreach (var i in inputActive) _caches[i] = ColumnCache.Create(input, input.Schema[i], _batchSize);
            _inputIds = input.GetIdGetter();
            _ids = new DataViewRowId[_batchSize];
            _inputPositions = new long[_batchSize];
            _rows = new object[_batchSize][];
        }

        public override DataViewSchema Schema => _view.Schema;
        public override long Position => _position;
        public override long Batch => _input.Batch;

        public override bool MoveNext()
        {
            if (_done) return false;
            if (_slot + 1 < _count)
            {
                _slot++;
                _position++;
                return true;
            }
            if (!Fill())
            {
                _done = true;
                _slot = -1;
                return false;
            }
            _slot = 0;
            _position++;
            return true;
        }

        /// <summary>Reads up to BatchSize rows ahead and runs them.</summary>
        private bool Fill()
        {
            _count = 0;
            _results = null;
            while (_count < _batchSize && _input.MoveNext())
            {
                int s = _count++;
                foreach (var c in _caches.Values) c.Fill(s);
                _inputIds(ref _ids[s]);
                _inputPositions[s] = _input.Position;
                if (_values != null) _rows[s] = Array.ConvertAll(_values, read => read());
            }
            if (_count == 0) return false;
            if (_values != null) _results = RowErrors.Run(_view._parent, _rows.AsSpan(0, _count).ToArray(), _inputPositions);
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId v) =>
        {
            if (_slot < 0) throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");
            v = _ids[_slot];
        };

        public override bool IsColumnActive(DataViewSchema.Column column)
        {
            int inputCount = _input.Schema.Count;
            return column.Index < inputCount ? _caches.ContainsKey(column.Index) : _outputActive[column.Index - inputCount];
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _input.Schema.Count;
            if (column.Index < inputCount)
            {
                if (!_caches.TryGetValue(column.Index, out var cache))
                    throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was opened.");
                return cache.Getter<TValue>(() => CurrentSlot);
            }
            int j = column.Index - inputCount;
            if (j >= _outputActive.Length || !_outputActive[j])
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was opened.");
            return _view._parent.Mapper.Outputs[j].MakeGetter<TValue>(() => _results![CurrentSlot]);
        }

        private int CurrentSlot => _slot >= 0 ? _slot : throw new InvalidOperationException("The cursor is not on a row: call MoveNext first.");

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>The values of one input column for the rows of a batch, read ahead of serving them.</summary>
internal abstract class ColumnCache
{
    public abstract void Fill(int slot);
    public abstract ValueGetter<TValue> Getter<TValue>(Func<int> slot);

    public static ColumnCache Create(DataViewRow row, DataViewSchema.Column column, int size)
    {
        var raw = column.Type.RawType;
        var type = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? typeof(VBufferCache<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueCache<>).MakeGenericType(raw);
        return (ColumnCache)Activator.CreateInstance(type, row, column, size)!;
    }

    private sealed class ValueCache<T>(DataViewRow row, DataViewSchema.Column column, int size) : ColumnCache
    {
        private readonly ValueGetter<T> _source = row.GetGetter<T>(column);
        private readonly T[] _values = new T[size];

        public override void Fill(int slot) => _source(ref _values[slot]);

        public override ValueGetter<TValue> Getter<TValue>(Func<int> slot)
        {
            if (typeof(TValue) != typeof(T))
                throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{typeof(T)}'.");
            ValueGetter<T> g = (ref T v) => v = _values[slot()];
            return (ValueGetter<TValue>)(Delegate)g;
        }
    }

    /// <summary>Vectors are copied out, so a caller's buffer never aliases a batch slot that is refilled later.</summary>
    private sealed class VBufferCache<TItem>(DataViewRow row, DataViewSchema.Column column, int size) : ColumnCache
    {
        private readonly ValueGetter<VBuffer<TItem>> _source = row.GetGetter<VBuffer<TItem>>(column);
        private readonly VBuffer<TItem>[] _values = new VBuffer<TItem>[size];

        public override void Fill(int slot) => _source(ref _values[slot]);

        public override ValueGetter<TValue> Getter<TValue>(Func<int> slot)
        {
            if (typeof(TValue) != typeof(VBuffer<TItem>))
                throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{column.Name}': '{typeof(TValue)}', expected type: '{typeof(VBuffer<TItem>)}'.");
            ValueGetter<VBuffer<TItem>> g = (ref VBuffer<TItem> v) => _values[slot()].CopyTo(ref v);
            return (ValueGetter<TValue>)(Delegate)g;
        }
    }
}

/// <summary>Runs a batch; when it fails, finds the row that fails alone so the error names it.</summary>
internal static class RowErrors
{
    public static IReadOnlyList<object> Run(PipelineTransformer parent, object[][] rows, long[] positions)
    {
        try
        {
            return parent.RunRows(rows);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException && rows.Length > 1)
        {
            for (int i = 0; i < rows.Length; i++)
            {
                try { parent.RunRows([rows[i]]); }
                catch (Exception inner) { throw Wrap(parent, rows[i], positions[i], inner); }
            }
            throw;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            throw Wrap(parent, rows[0], positions[0], e);
        }
    }

    private static InvalidOperationException Wrap(PipelineTransformer parent, object[] row, long position, Exception e)
    {
        var values = string.Join(", ", parent.Mapper.InputColumns.Select((c, k) => $"{c} = {RowInput.Describe(row[k])}"));
        return new InvalidOperationException($"{parent.Mapper.TaskName} failed on input row {position} ({values}): {e.Message}", e);
    }
}

/// <summary>
/// Per-row mapping for PredictionEngine and ML.NET's row-to-row composition: the input row's columns pass through, and
/// the task's columns are computed (a batch of one) the first time one is read for a given input.
/// </summary>
internal sealed class PipelineRowMapper : IRowToRowMapper
{
    private readonly PipelineTransformer _parent;

    public PipelineRowMapper(PipelineTransformer parent, DataViewSchema inputSchema)
    {
        _parent = parent;
        InputSchema = inputSchema;
        OutputSchema = parent.Mapper.OutputSchema(inputSchema);
    }

    public DataViewSchema InputSchema { get; }
    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var result = new List<DataViewSchema.Column>();
        bool anyOutput = false;
        foreach (var c in dependingColumns)
        {
            if (c.Index < InputSchema.Count) result.Add(InputSchema[c.Index]);
            else anyOutput = true;
        }
        if (anyOutput) result.AddRange(_parent.Mapper.InputColumns.Select(n => InputSchema[n]));
        return result.Distinct();
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new Row(this, input, activeColumns.Select(c => c.Index).ToHashSet());
    }

    private sealed class Row(PipelineRowMapper mapper, DataViewRow input, HashSet<int> active) : DataViewRow
    {
        private Func<object>[]? _values;
        private object[]? _lastRow;
        private object? _lastResult;

        public override DataViewSchema Schema => mapper.OutputSchema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = mapper.InputSchema.Count;
            if (column.Index < inputCount) return input.GetGetter<TValue>(input.Schema[column.Index]);
            if (!active.Contains(column.Index))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the row was made.");
            return mapper._parent.Mapper.Outputs[column.Index - inputCount].MakeGetter<TValue>(Current);
        }

        /// <summary>The result for the input's current values; recomputed only when they change (the input row object is reused
        /// between predictions, so its values, not its position, tell rows apart).</summary>
        private object Current()
        {
            var task = mapper._parent.Mapper;
            _values ??= task.InputColumns.Select(n => task.Input.Reader(input, input.Schema[n])).ToArray();
            var row = Array.ConvertAll(_values, read => read());
            if (_lastRow is null || !_lastRow.Zip(row).All(p => RowInput.Same(p.First, p.Second)))
            {
                _lastResult = RowErrors.Run(mapper._parent, [row], [input.Position])[0];
                _lastRow = row;
            }
            return _lastResult!;
        }
    }
}
