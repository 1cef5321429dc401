namespace Microsoft.ML.Transformers.SafeTensors;

/// <summary>Write-only pass-through that refuses to let a tensor's callback write more or fewer bytes than its
/// header promised (either would corrupt every offset after it).</summary>
internal sealed class ExactLengthStream(Stream inner, long expected, string name) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_written + buffer.Length > expected)
        {
            throw new InvalidOperationException(
                $"Tensor '{name}': the data callback wrote more than the {expected} bytes its shape and dtype need.");
        }
        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void WriteByte(byte value) => Write([value]);

    public void CheckComplete()
    {
        if (_written != expected)
        {
            throw new InvalidOperationException(
                $"Tensor '{name}': the data callback wrote {_written} bytes; its shape and dtype need {expected}.");
        }
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
