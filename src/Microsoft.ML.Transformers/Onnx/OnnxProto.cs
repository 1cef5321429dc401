using Google.Protobuf;

namespace Microsoft.ML.Transformers.Onnx;

/// <summary>
/// A protobuf message under construction, written with Google.Protobuf's <see cref="CodedOutputStream"/>. Field numbers
/// are onnx.proto's (ONNX IR version 8); only the fields an exporter writes are covered, so no generated classes are
/// needed. Nested messages are sized before they are written, which lets a tensor's bytes stream from libtorch's memory
/// into the file (<see cref="Blob"/>) instead of being copied into a managed buffer first.
/// </summary>
internal sealed class ProtoMessage
{
    private abstract record Field(int Number);
    private sealed record VarintField(int Number, long Value) : Field(Number);
    private sealed record Fixed32Field(int Number, float Value) : Field(Number);
    private sealed record BytesField(int Number, ByteString Value) : Field(Number);
    private sealed record MessageField(int Number, ProtoMessage Value) : Field(Number);
    private sealed record BlobField(int Number, long Length, Action<Stream> Write) : Field(Number);

    private readonly List<Field> _fields = [];
    private long _size = -1;

    public ProtoMessage Int(int number, long value) => Add(new VarintField(number, value));
    public ProtoMessage Float(int number, float value) => Add(new Fixed32Field(number, value));
    public ProtoMessage String(int number, string value) => Add(new BytesField(number, ByteString.CopyFromUtf8(value)));
    public ProtoMessage Bytes(int number, byte[] value) => Add(new BytesField(number, ByteString.CopyFrom(value)));
    public ProtoMessage Message(int number, ProtoMessage value) => Add(new MessageField(number, value));

    /// <summary>A length-delimited field of <paramref name="length"/> bytes that <paramref name="write"/> puts on the stream when the message is written.</summary>
    public ProtoMessage Blob(int number, long length, Action<Stream> write) => Add(new BlobField(number, length, write));

    public ProtoMessage Ints(int number, IEnumerable<long> values)
    {
        foreach (var v in values) Int(number, v);
        return this;
    }

    public ProtoMessage Floats(int number, IEnumerable<float> values)
    {
        foreach (var v in values) Float(number, v);
        return this;
    }

    private ProtoMessage Add(Field f)
    {
        _fields.Add(f);
        _size = -1;
        return this;
    }

    /// <summary>Serialized size in bytes.</summary>
    public long Size
    {
        get
        {
            if (_size >= 0) return _size;
            long size = 0;
            foreach (var f in _fields)
            {
                size += CodedOutputStream.ComputeTagSize(f.Number);
                size += f switch
                {
                    VarintField v => CodedOutputStream.ComputeInt64Size(v.Value),
                    Fixed32Field => 4,
                    BytesField b => CodedOutputStream.ComputeBytesSize(b.Value),
                    MessageField m => LengthPrefixed(m.Value.Size),
                    BlobField b => LengthPrefixed(b.Length),
                    _ => throw new InvalidOperationException(),
                };
            }
            return _size = size;
        }
    }

    private static long LengthPrefixed(long length) => CodedOutputStream.ComputeUInt64Size((ulong)length) + length;

    /// <summary>Writes the message (without a length prefix) to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output, stream);
        output.Flush();
    }

    private void WriteTo(CodedOutputStream output, Stream stream)
    {
        foreach (var f in _fields)
        {
            switch (f)
            {
                case VarintField v:
                    output.WriteTag(f.Number, WireFormat.WireType.Varint);
                    output.WriteInt64(v.Value);
                    break;
                case Fixed32Field x:
                    output.WriteTag(f.Number, WireFormat.WireType.Fixed32);
                    output.WriteFloat(x.Value);
                    break;
                case BytesField b:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(b.Value);
                    break;
                case MessageField m:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteUInt64((ulong)m.Value.Size);
                    m.Value.WriteTo(output, stream);
                    break;
                case BlobField b:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteUInt64((ulong)b.Length);
                    output.Flush();
                    long before = stream.CanSeek ? stream.Position : -1;
                    b.Write(stream);
                    if (before >= 0 && stream.Position - before != b.Length)
                        throw new InvalidOperationException($"Field {f.Number}: wrote {stream.Position - before} bytes, declared {b.Length}.");
                    break;
            }
        }
    }
}

/// <summary>onnx.proto field numbers and enum values used by the exporter.</summary>
internal static class OnnxFields
{
    public const long IrVersion = 8; // ONNX 1.12 (opset 17)

    public static class Model { public const int IrVersion = 1, ProducerName = 2, ProducerVersion = 3, Graph = 7, OpsetImport = 8, MetadataProps = 14; }
    public static class OpsetId { public const int Domain = 1, Version = 2; }
    public static class Graph { public const int Node = 1, Name = 2, Initializer = 5, Input = 11, Output = 12; }
    public static class Node { public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5, Domain = 7; }
    public static class Attribute
    {
        public const int Name = 1, F = 2, I = 3, S = 4, T = 5, Floats = 7, Ints = 8, Type = 20;
        public const int TypeFloat = 1, TypeInt = 2, TypeString = 3, TypeTensor = 4, TypeFloats = 6, TypeInts = 7;
    }
    public static class Tensor { public const int Dims = 1, DataType = 2, Name = 8, RawData = 9, ExternalData = 13, DataLocation = 14; }
    public static class StringEntry { public const int Key = 1, Value = 2; }
    public static class ValueInfo { public const int Name = 1, Type = 2; }
    public static class TypeProto { public const int TensorType = 1; }
    public static class TensorType { public const int ElemType = 1, Shape = 2; }
    public static class Shape { public const int Dim = 1; }
    public static class Dim { public const int Value = 1, Param = 2; }

    /// <summary>TensorProto.DataType.</summary>
    public enum DataType { Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9 }
}
