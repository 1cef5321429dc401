using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Engines;

/// <summary>Device names as Hugging Face takes them ("cpu", "cuda", "cuda:1"), checked against the libtorch in use.</summary>
public static class TorchDevices
{
    /// <summary>Parses <paramref name="name"/> (null: CPU) and fails clearly when CUDA is asked for but unavailable.</summary>
    public static Device Parse(string? name)
    {
        TorchSharpRuntime.EnsureLoaded();
        if (string.IsNullOrWhiteSpace(name) || name.Equals("cpu", StringComparison.OrdinalIgnoreCase)) return CPU;
        var s = name.Trim().ToLowerInvariant();
        if (s == "cuda" || s.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (s.Length > 5 && !int.TryParse(s.AsSpan(5), out index))
                throw new ArgumentException($"Device \"{name}\": expected \"cpu\", \"cuda\" or \"cuda:N\".", nameof(name));
            var device = new Device(DeviceType.CUDA, index);
            EnsureAvailable(device);
            return device;
        }
        throw new ArgumentException($"Device \"{name}\" is not supported: expected \"cpu\", \"cuda\" or \"cuda:N\".", nameof(name));
    }

    /// <summary>Throws when <paramref name="device"/> is a CUDA device and the libtorch in use has no CUDA.</summary>
    public static void EnsureAvailable(Device device)
    {
        if (device.type != DeviceType.CUDA) return;
        TorchSharpRuntime.EnsureLoaded();
        if (!torch.cuda.is_available())
            throw new NotSupportedException(
                $"Device {device} was requested but CUDA is not available: the libtorch this application references has no CUDA " +
                "(libtorch-cpu / libtorch-cpu-linux-x64), or no CUDA GPU and driver were found. Reference a CUDA build of libtorch " +
                "(e.g. libtorch-cuda-12.8-linux-x64) on a machine with an NVIDIA GPU, or run on \"cpu\".");
        if (device.index >= torch.cuda.device_count())
            throw new ArgumentException($"Device {device} was requested but only {torch.cuda.device_count()} CUDA device(s) are present.");
    }
}
