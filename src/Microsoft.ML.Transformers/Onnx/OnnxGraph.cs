using Microsoft.ML.Transformers.Modeling;
using static TorchSharp.torch;
using DataType = Microsoft.ML.Transformers.Onnx.OnnxFields.DataType;
using F = Microsoft.ML.Transformers.Onnx.OnnxFields;

namespace Microsoft.ML.Transformers.Onnx;

/// <summary>An ONNX node attribute.</summary>
internal readonly record struct OnnxAttr(string Name, object Value)
{
    public static OnnxAttr Int(string name, long v) => new(name, v);
    public static OnnxAttr Float(string name, float v) => new(name, v);
    public static OnnxAttr Ints(string name, params long[] v) => new(name, v);
    public static OnnxAttr String(string name, string v) => new(name, v);

    public ProtoMessage ToProto()
    {
        var a = new ProtoMessage().String(F.Attribute.Name, Name);
        return Value switch
        {
            long i => a.Int(F.Attribute.I, i).Int(F.Attribute.Type, F.Attribute.TypeInt),
            float f => a.Float(F.Attribute.F, f).Int(F.Attribute.Type, F.Attribute.TypeFloat),
            long[] ints => a.Ints(F.Attribute.Ints, ints).Int(F.Attribute.Type, F.Attribute.TypeInts),
            string s => a.String(F.Attribute.S, s).Int(F.Attribute.Type, F.Attribute.TypeString),
            _ => throw new ArgumentException($"Unsupported attribute value {Value.GetType().Name}."),
        };
    }
}

/// <summary>A dimension of a graph input or output: a fixed size, a named dynamic axis, or <see cref="Unknown"/>.</summary>
internal readonly record struct OnnxDim(long Value, string? Param)
{
    /// <summary>A size the graph computes (a feature map's height): neither a value nor a name.</summary>
    public static readonly OnnxDim Unknown = new(-1, null);

    public static implicit operator OnnxDim(long v) => new(v, null);
    public static implicit operator OnnxDim(string p) => new(0, p);
}

/// <summary>
/// Builds one ONNX graph: nodes in topological order (each node is added after its inputs), initializers held as
/// host tensors until the model is written, inputs and outputs with dynamic axes. Value names are generated
/// ("{op}_{n}") unless given.
/// </summary>
internal sealed class OnnxGraph : IDisposable
{
    private readonly List<ProtoMessage> _nodes = [];
    private readonly List<(string name, Tensor tensor, DataType type)> _initializers = [];
    private readonly List<ProtoMessage> _inputs = [], _outputs = [];
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public bool UsesMicrosoftDomain { get; private set; }
    public const string MicrosoftDomain = "com.microsoft";

    public IReadOnlyList<string> OutputNames => _outputNameList;
    private readonly List<string> _outputNameList = [];
    public IReadOnlyList<string> InputNames => _inputNameList;
    private readonly List<string> _inputNameList = [];

    public string Fresh(string hint)
    {
        string name;
        do name = $"{hint}_{_counter++}"; while (!_names.Add(name));
        return name;
    }

    /// <summary>Adds a node with one output and returns its name.</summary>
    public string Node(string op, string?[] inputs, params OnnxAttr[] attrs) => NodeN(op, inputs, 1, null, attrs)[0];

    /// <summary>A com.microsoft contrib operator with one output.</summary>
    public string MsNode(string op, string?[] inputs, params OnnxAttr[] attrs) => NodeN(op, inputs, 1, MicrosoftDomain, attrs)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs (a null input is an omitted optional input).</summary>
    public string[] NodeN(string op, string?[] inputs, int outputs, string? domain, params OnnxAttr[] attrs)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => Fresh(op)).ToArray();
        var node = new ProtoMessage();
        // Trailing omitted inputs are dropped; inner ones stay as "" (ONNX's marker for an absent optional input).
        int count = inputs.Length;
        while (count > 0 && inputs[count - 1] is null) count--;
        for (int i = 0; i < count; i++) node.String(F.Node.Input, inputs[i] ?? "");
        foreach (var n in names) node.String(F.Node.Output, n);
        node.String(F.Node.Name, names[0] + "_node").String(F.Node.OpType, op);
        foreach (var a in attrs) node.Message(F.Node.Attribute, a.ToProto());
        if (domain is not null)
        {
            node.String(F.Node.Domain, domain);
            UsesMicrosoftDomain |= domain == MicrosoftDomain;
        }
        _nodes.Add(node);
        return names;
    }

    /// <summary>Renames a value to a graph output name by an Identity node, and declares the output.</summary>
    public void Output(string value, string name, DataType type, params OnnxDim[] dims)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"Graph value name '{name}' is used twice.");
        var node = new ProtoMessage().String(F.Node.Input, value).String(F.Node.Output, name)
            .String(F.Node.Name, name + "_identity").String(F.Node.OpType, "Identity");
        _nodes.Add(node);
        _outputs.Add(ValueInfo(name, type, dims));
        _outputNameList.Add(name);
    }

    public string Input(string name, DataType type, params OnnxDim[] dims)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"Graph value name '{name}' is used twice.");
        _inputs.Add(ValueInfo(name, type, dims));
        _inputNameList.Add(name);
        return name;
    }

    private static ProtoMessage ValueInfo(string name, DataType type, OnnxDim[] dims)
    {
        var shape = new ProtoMessage();
        foreach (var d in dims)
            shape.Message(F.Shape.Dim, d.Param is not null ? new ProtoMessage().String(F.Dim.Param, d.Param)
                : d.Value >= 0 ? new ProtoMessage().Int(F.Dim.Value, d.Value) : new ProtoMessage());
        var tensorType = new ProtoMessage().Int(F.TensorType.ElemType, (int)type).Message(F.TensorType.Shape, shape);
        return new ProtoMessage().String(F.ValueInfo.Name, name).Message(F.ValueInfo.Type, new ProtoMessage().Message(F.TypeProto.TensorType, tensorType));
    }

    /// <summary>Adds an initializer holding a host copy of <paramref name="tensor"/> (float tensors as float32); the graph owns the copy.</summary>
    public string Initializer(string name, Tensor tensor)
    {
        var type = tensor.dtype switch
        {
            ScalarType.Int64 => DataType.Int64,
            ScalarType.Int32 => DataType.Int32,
            ScalarType.Int8 => DataType.Int8,
            ScalarType.Byte => DataType.UInt8,
            ScalarType.Bool => DataType.Bool,
            _ => DataType.Float,
        };
        Tensor host;
        using (var scope = NewDisposeScope())
        using (no_grad())
            host = (type == DataType.Float ? tensor.detach().to(ScalarType.Float32) : tensor.detach()).cpu().contiguous().clone().DetachFromDisposeScope();
        if (!_names.Add(name)) name = Fresh(name);
        _initializers.Add((name, host, type));
        return name;
    }

    /// <summary>A constant int64 tensor of <paramref name="values"/> (1-D, or a scalar when <paramref name="scalar"/>), shared by value.</summary>
    public string Ints(long[] values, bool scalar = false)
    {
        string key = $"i{(scalar ? "s" : "")}:{string.Join(",", values)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        using var t = scalar ? tensor(values[0]) : tensor(values);
        return _constants[key] = Initializer(Fresh("const"), t);
    }

    /// <summary>A constant float32 scalar, shared by value.</summary>
    public string Float(float value)
    {
        string key = $"f:{BitConverter.SingleToInt32Bits(value)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        using var t = tensor(value);
        return _constants[key] = Initializer(Fresh("const"), t);
    }

    public long InitializerBytes => _initializers.Sum(i => i.tensor.NumberOfElements * i.tensor.ElementSize);

    /// <summary>
    /// Writes the model to <paramref name="path"/>. When the initializers exceed <paramref name="externalThreshold"/>
    /// bytes, every initializer of 1 KiB or more goes to <c>{file}_data</c> beside it (ONNX external data, 64-byte
    /// aligned offsets) and the .onnx file keeps only the graph; protobuf cannot hold a message over 2 GiB.
    /// Both files are written under temporary names and moved into place, data first.
    /// </summary>
    public void Save(string path, long externalThreshold, IReadOnlyDictionary<string, string>? metadata = null)
    {
        bool external = InitializerBytes > externalThreshold;
        string dataName = Path.GetFileName(path) + "_data";
        string dataPath = Path.Combine(Path.GetDirectoryName(path)!, dataName);
        var temps = new List<(string temp, string final)>();
        try
        {
            var placed = new Dictionary<string, (long offset, long length)>(StringComparer.Ordinal);
            if (external)
            {
                string tmp = dataPath + $".tmp-{Guid.NewGuid():N}";
                temps.Add((tmp, dataPath));
                using var data = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                foreach (var (name, t, _) in _initializers)
                {
                    long length = t.NumberOfElements * t.ElementSize;
                    if (length < 1024) continue;
                    long pad = (64 - data.Position % 64) % 64;
                    for (long i = 0; i < pad; i++) data.WriteByte(0);
                    placed[name] = (data.Position, length);
                    TensorCopy.ToStream(t, data);
                }
            }
            var graph = new ProtoMessage();
            foreach (var n in _nodes) graph.Message(F.Graph.Node, n);
            graph.String(F.Graph.Name, "main_graph");
            foreach (var (name, t, type) in _initializers)
            {
                var proto = new ProtoMessage().Ints(F.Tensor.Dims, t.shape).Int(F.Tensor.DataType, (int)type).String(F.Tensor.Name, name);
                if (placed.TryGetValue(name, out var where))
                {
                    proto.Message(F.Tensor.ExternalData, Entry("location", dataName))
                        .Message(F.Tensor.ExternalData, Entry("offset", where.offset.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                        .Message(F.Tensor.ExternalData, Entry("length", where.length.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                        .Int(F.Tensor.DataLocation, 1);
                }
                else
                {
                    var tensor = t;
                    proto.Blob(F.Tensor.RawData, t.NumberOfElements * t.ElementSize, s => TensorCopy.ToStream(tensor, s));
                }
                graph.Message(F.Graph.Initializer, proto);
            }
            foreach (var i in _inputs) graph.Message(F.Graph.Input, i);
            foreach (var o in _outputs) graph.Message(F.Graph.Output, o);

            var model = new ProtoMessage().Int(F.Model.IrVersion, F.IrVersion)
                .String(F.Model.ProducerName, "Microsoft.ML.Transformers")
                .String(F.Model.ProducerVersion, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0")
                .Message(F.Model.Graph, graph)
                .Message(F.Model.OpsetImport, new ProtoMessage().String(F.OpsetId.Domain, "").Int(F.OpsetId.Version, OnnxExport.Opset));
            if (UsesMicrosoftDomain)
                model.Message(F.Model.OpsetImport, new ProtoMessage().String(F.OpsetId.Domain, MicrosoftDomain).Int(F.OpsetId.Version, 1));
            foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) model.Message(F.Model.MetadataProps, Entry(k, v));
            if (model.Size >= int.MaxValue)
                throw new InvalidOperationException($"The ONNX graph for '{path}' is {model.Size} bytes, over protobuf's 2 GiB limit; lower OnnxExportOptions.ExternalDataThreshold.");

            string modelTmp = path + $".tmp-{Guid.NewGuid():N}";
            temps.Add((modelTmp, path));
            using (var file = new FileStream(modelTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                model.WriteTo(file);
            foreach (var (temp, final) in temps) File.Move(temp, final, overwrite: true);
            if (!external && File.Exists(dataPath)) File.Delete(dataPath); // a stale data file of an earlier, larger export
            temps.Clear();
        }
        finally
        {
            foreach (var (temp, _) in temps)
                if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static ProtoMessage Entry(string key, string value) =>
        new ProtoMessage().String(F.StringEntry.Key, key).String(F.StringEntry.Value, value);

    public void Dispose()
    {
        foreach (var (_, t, _) in _initializers) t.Dispose();
        _initializers.Clear();
    }
}
