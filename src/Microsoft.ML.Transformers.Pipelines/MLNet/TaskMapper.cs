using Microsoft.ML.Data;
using Microsoft.ML.Transformers.Pipelines;

namespace Microsoft.ML.Transformers.MLNet;

/// <summary>
/// A task's columns: the input columns it reads (text, or images for the vision tasks: see <see cref="RowInput"/>), the
/// columns it adds (exact types and annotations, known from the config and options alone), and how a batch of rows
/// becomes one result object per row that the added columns read.
/// </summary>
internal abstract class TaskMapper
{
    protected TaskMapper(string taskName, IReadOnlyList<string> inputColumns, IReadOnlyList<OutputColumn> outputs, RowInput? input = null)
    {
        TaskName = taskName;
        InputColumns = inputColumns;
        Outputs = outputs;
        Input = input ?? RowInput.Text;
        var dup = outputs.GroupBy(o => o.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup != null) throw new ArgumentException($"{taskName}: output column name '{dup.Key}' is used twice; give each output column its own name.");
    }

    /// <summary>The catalog method's name (TextClassification, ...), used in messages.</summary>
    public string TaskName { get; }
    public IReadOnlyList<string> InputColumns { get; }
    /// <summary>What the input columns hold and how their values are read.</summary>
    public RowInput Input { get; }
    public IReadOnlyList<OutputColumn> Outputs { get; }

    /// <summary>Runs the rows (input values in <see cref="InputColumns"/> order, as <see cref="Input"/> reads them) as one
    /// batch on <paramref name="runner"/> (the transformer's opened pipeline); one result per row.</summary>
    public abstract IReadOnlyList<object> Run(object runner, IReadOnlyList<object[]> rows);

    public void CheckInput(DataViewSchema schema)
    {
        foreach (var name in InputColumns)
        {
            var col = schema.GetColumnOrNull(name) ?? throw Missing(name);
            if (!Input.Accepts(col.Type)) throw Mismatch(name, col.Type.ToString() ?? col.Type.GetType().Name);
        }
    }

    public void CheckInput(SchemaShape shape)
    {
        foreach (var name in InputColumns)
        {
            var col = shape.FirstOrDefault(c => c.Name == name);
            if (col.Name is null) throw Missing(name);
            if (!Input.Accepts(col))
                throw Mismatch(name, col.Kind switch
                {
                    SchemaShape.Column.VectorKind.Vector => $"Vector<{col.ItemType}>",
                    SchemaShape.Column.VectorKind.VariableVector => $"VarVector<{col.ItemType}>",
                    _ => col.IsKey ? $"Key<{col.ItemType}>" : $"{col.ItemType}",
                });
        }
    }

    // Worded as ML.NET's own schema errors (Contracts.ExceptSchemaMismatch), with the task added.
    private ArgumentOutOfRangeException Missing(string name) =>
        new("inputSchema", $"Could not find input column '{name}' ({TaskName} reads {Input.What} from it).");

    private ArgumentOutOfRangeException Mismatch(string name, string found) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected {Input.Expected}, got {found} ({TaskName} reads {Input.What} from it).");

    /// <summary>The input schema with the added columns after it (an added column hides an input column of the same name).</summary>
    public DataViewSchema OutputSchema(DataViewSchema input)
    {
        var b = new DataViewSchema.Builder();
        b.AddColumns(input);
        foreach (var o in Outputs) b.AddColumn(o.Name, o.Type, o.Annotations);
        return b.ToSchema();
    }

    /// <summary>A schema of the added columns alone.</summary>
    public DataViewSchema AddedColumnsSchema()
    {
        var b = new DataViewSchema.Builder();
        foreach (var o in Outputs) b.AddColumn(o.Name, o.Type, o.Annotations);
        return b.ToSchema();
    }
}

/// <summary>A text task's mapper: rows of strings run on a <see cref="Pipeline"/>; the per-row result is a <typeparamref name="TRow"/>.</summary>
internal abstract class TaskMapper<TRow>(string taskName, IReadOnlyList<string> inputColumns, IReadOnlyList<OutputColumn> outputs)
    : TaskMapper(taskName, inputColumns, outputs) where TRow : class
{
    public sealed override IReadOnlyList<object> Run(object runner, IReadOnlyList<object[]> rows) =>
        RunRows((Pipeline)runner, rows.Select(r => Array.ConvertAll(r, v => (string)v)).ToList());

    protected abstract IReadOnlyList<TRow> RunRows(Pipeline pipeline, IReadOnlyList<string[]> rows);
}

/// <summary>One added column: its name, ML.NET type and annotations, and how its value is read from a row's result.</summary>
internal abstract class OutputColumn(string name, DataViewType type, DataViewSchema.Annotations? annotations)
{
    public string Name { get; } = name;
    public DataViewType Type { get; } = type;
    public DataViewSchema.Annotations Annotations { get; } = annotations ?? DataViewSchema.Annotations.Empty;

    /// <summary>A getter reading the column from whatever result <paramref name="current"/> returns at call time.</summary>
    public abstract ValueGetter<TValue> MakeGetter<TValue>(Func<object> current);
}

internal delegate void ValueFiller<TRow, TValue>(TRow row, ref TValue value);

internal sealed class OutputColumn<TRow, T>(string name, DataViewType type, DataViewSchema.Annotations? annotations, ValueFiller<TRow, T> fill)
    : OutputColumn(name, type, annotations)
{
    public override ValueGetter<TValue> MakeGetter<TValue>(Func<object> current)
    {
        if (typeof(TValue) != typeof(T))
            throw new InvalidOperationException($"Invalid TValue in GetGetter for column '{Name}': '{typeof(TValue)}', expected type: '{typeof(T)}'.");
        ValueGetter<T> getter = (ref T value) => fill((TRow)current(), ref value);
        return (ValueGetter<TValue>)(Delegate)getter;
    }
}

/// <summary>Builders for the column kinds the tasks add.</summary>
internal static class Columns
{
    public static OutputColumn Scalar<TRow, T>(string name, PrimitiveDataViewType type, Func<TRow, T> value, DataViewSchema.Annotations? annotations = null) =>
        new OutputColumn<TRow, T>(name, type, annotations, (TRow r, ref T v) => v = value(r));

    public static OutputColumn Text<TRow>(string name, Func<TRow, string> value) =>
        new OutputColumn<TRow, ReadOnlyMemory<char>>(name, TextDataViewType.Instance, null, (TRow r, ref ReadOnlyMemory<char> v) => v = value(r).AsMemory());

    /// <summary>A vector column; <paramref name="size"/> 0 makes it variable-length. Fixed-size values are checked against it.</summary>
    public static OutputColumn Vector<TRow, T>(string name, PrimitiveDataViewType itemType, int size, Func<TRow, IReadOnlyList<T>> value,
        DataViewSchema.Annotations? annotations = null) =>
        new OutputColumn<TRow, VBuffer<T>>(name, new VectorDataViewType(itemType, size), annotations, (TRow r, ref VBuffer<T> v) =>
        {
            var src = value(r);
            if (size > 0 && src.Count != size)
                throw new InvalidOperationException($"Column '{name}' is a vector of {size} values, but the model gave {src.Count} for this row.");
            var editor = VBufferEditor.Create(ref v, src.Count);
            for (int i = 0; i < src.Count; i++) editor.Values[i] = src[i];
            v = editor.Commit();
        });

    public static OutputColumn TextVector<TRow>(string name, int size, Func<TRow, IReadOnlyList<string>> value, DataViewSchema.Annotations? annotations = null) =>
        Vector<TRow, ReadOnlyMemory<char>>(name, TextDataViewType.Instance, size, r => value(r).Select(s => s.AsMemory()).ToArray(), annotations);

    /// <summary>A key column over <paramref name="labels"/> (key k is label k-1; 0 is missing), with the labels as its key values,
    /// so MapKeyToValue and the multiclass evaluator see the names.</summary>
    public static OutputColumn Key<TRow>(string name, IReadOnlyList<string> labels, Func<TRow, int> index)
    {
        var b = new DataViewSchema.Annotations.Builder();
        b.Add("KeyValues", new VectorDataViewType(TextDataViewType.Instance, labels.Count), TextValues(labels));
        return new OutputColumn<TRow, uint>(name, new KeyDataViewType(typeof(uint), labels.Count), b.ToAnnotations(), (TRow r, ref uint v) => v = (uint)(index(r) + 1));
    }

    /// <summary>Annotations of a multiclass score vector: slot names, and the score kinds ML.NET's scorers add.</summary>
    public static DataViewSchema.Annotations ScoreAnnotations(IReadOnlyList<string> labels)
    {
        var b = new DataViewSchema.Annotations.Builder();
        b.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, labels.Count), TextValues(labels));
        AddScoreKind(b, "MulticlassClassification");
        return b.ToAnnotations();
    }

    /// <summary>Annotations of a score column of <paramref name="kind"/> (Regression, ...), as ML.NET's scorers add them.</summary>
    public static DataViewSchema.Annotations ScoreKind(string kind)
    {
        var b = new DataViewSchema.Annotations.Builder();
        AddScoreKind(b, kind);
        return b.ToAnnotations();
    }

    private static void AddScoreKind(DataViewSchema.Annotations.Builder b, string kind)
    {
        b.Add("ScoreColumnKind", TextDataViewType.Instance, Constant(kind));
        b.Add("ScoreValueKind", TextDataViewType.Instance, Constant("Score"));
    }

    public static DataViewSchema.Annotations SlotNames(IReadOnlyList<string> names)
    {
        var b = new DataViewSchema.Annotations.Builder();
        b.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, names.Count), TextValues(names));
        return b.ToAnnotations();
    }

    private static ValueGetter<VBuffer<ReadOnlyMemory<char>>> TextValues(IReadOnlyList<string> values)
    {
        var memory = values.Select(s => s.AsMemory()).ToArray();
        return (ref VBuffer<ReadOnlyMemory<char>> v) =>
        {
            var editor = VBufferEditor.Create(ref v, memory.Length);
            memory.CopyTo(editor.Values);
            v = editor.Commit();
        };
    }

    private static ValueGetter<ReadOnlyMemory<char>> Constant(string s) => (ref ReadOnlyMemory<char> v) => v = s.AsMemory();
}
