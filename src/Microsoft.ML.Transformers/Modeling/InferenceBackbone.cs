using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.OnnxRuntime;
using Microsoft.ML.Transformers.Vision;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Modeling;

/// <summary>
/// A backbone on either engine: the feature maps of the stages in <see cref="OutFeatures"/>, [batch, channels, height,
/// width] each, named by stage and in stage order, as host copies. Safe to call from several threads at once.
/// </summary>
public interface IInferenceBackbone : IDisposable
{
    VisionBackboneConfig Config { get; }
    Engine Engine { get; }
    /// <summary>"stem", "stage1", ...</summary>
    IReadOnlyList<string> StageNames { get; }
    IReadOnlyList<string> OutFeatures { get; }
    IReadOnlyList<int> OutIndices { get; }
    /// <summary>Runs pixel_values without gradients.</summary>
    NamedTensors Run(PixelValues pixels);
}

/// <summary>
/// Opens a backbone checkpoint on libtorch (<see cref="AutoBackbone"/>) or ONNX Runtime. An ONNX backbone export takes
/// pixel_values and has one output per stage named by its stage name ("stem", "stage1", ...); only the requested stages
/// are fetched. out_features / out_indices are aligned and checked against config.json's stages on both engines.
/// </summary>
public static class InferenceBackbone
{
    public static IInferenceBackbone Load(string folder, IReadOnlyList<string>? outFeatures = null, IReadOnlyList<int>? outIndices = null,
        InferenceModelOptions? options = null)
    {
        options ??= new InferenceModelOptions();
        return (options.Engine ?? InferenceModel.DetectEngine(folder)) switch
        {
            Engine.LibTorch => new TorchInferenceBackbone(AutoBackbone.FromPretrained(folder, outFeatures, outIndices,
                new ModelLoadOptions { Device = options.Device, TorchDtype = options.TorchDtype })),
            Engine.OnnxRuntime => OnnxInferenceBackbone.Open(folder, outFeatures, outIndices, options.Onnx),
            var e => throw new ArgumentOutOfRangeException(nameof(options), e, "unknown engine"),
        };
    }
}

/// <summary>A <see cref="BackboneModel"/> behind <see cref="IInferenceBackbone"/>.</summary>
public sealed class TorchInferenceBackbone : IInferenceBackbone
{
    public TorchInferenceBackbone(BackboneModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        model.eval();
    }

    public BackboneModel Model { get; }
    public VisionBackboneConfig Config => (VisionBackboneConfig)Model.Config;
    public Engine Engine => Engine.LibTorch;
    public IReadOnlyList<string> StageNames => Model.StageNames;
    public IReadOnlyList<string> OutFeatures => Model.OutFeatures;
    public IReadOnlyList<int> OutIndices => Model.OutIndices;

    public NamedTensors Run(PixelValues pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        using var lease = Model.Use();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var maps = Model.ForwardBackbone(pixels.ToTensor(Model.Device)).FeatureMaps;
        return new NamedTensors(maps.Select((m, i) => TorchInferenceModel.ToHost(OutFeatures[i], m)).ToList());
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>An ONNX backbone export (outputs named by stage) behind <see cref="IInferenceBackbone"/>.</summary>
public sealed class OnnxInferenceBackbone : IInferenceBackbone
{
    private OnnxInferenceBackbone(OnnxModel model, VisionBackboneConfig config)
    {
        (Model, Config) = (model, config);
        (OutFeatures, OutIndices) = (config.OutFeatures, config.OutIndices);
    }

    public OnnxModel Model { get; }
    public VisionBackboneConfig Config { get; }
    public Engine Engine => Engine.OnnxRuntime;
    public IReadOnlyList<string> StageNames => Config.StageNames;
    public IReadOnlyList<string> OutFeatures { get; }
    public IReadOnlyList<int> OutIndices { get; }

    public static OnnxInferenceBackbone Open(string folder, IReadOnlyList<string>? outFeatures = null, IReadOnlyList<int>? outIndices = null,
        OnnxModelOptions? options = null)
    {
        var loaded = AutoConfig.FromPretrained(folder);
        var config = loaded as VisionBackboneConfig ?? throw new NotSupportedException(
            $"'{Path.Combine(folder, PretrainedConfig.ConfigFileName)}' is not a vision backbone config: model_type \"{loaded.ModelType}\" has no stages.");
        if (outFeatures is not null || outIndices is not null) config.SetOut(outFeatures, outIndices);
        var model = OnnxModel.FromPretrained(folder, options);
        try
        {
            if (!model.TakesPixelValues)
                throw new OnnxModelException(model.ModelPath, $"ONNX model '{model.ModelPath}' takes no pixel_values (its inputs: {string.Join(", ", model.InputNames)}); a backbone export must.");
            var missing = config.OutFeatures.Where(f => !model.OutputNames.Contains(f)).ToList();
            if (missing.Count > 0)
                throw new OnnxModelException(model.ModelPath,
                    $"ONNX model '{model.ModelPath}' has no output for stage(s) {string.Join(", ", missing)}: a backbone export names one output per " +
                    $"stage ({string.Join(", ", config.StageNames)}); its outputs are: {string.Join(", ", model.OutputNames)}.");
            return new OnnxInferenceBackbone(model, config);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public NamedTensors Run(PixelValues pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        return Model.RunPixels(pixels.Data, pixels.Shape, OutFeatures);
    }

    public void Dispose() => Model.Dispose();
}
