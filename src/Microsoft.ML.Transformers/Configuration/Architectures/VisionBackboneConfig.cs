using System.Text.Json.Nodes;

namespace Microsoft.ML.Transformers.Configuration;

/// <summary>
/// The keys a vision config shares with Hugging Face's <c>BackboneConfigMixin</c>: <c>stage_names</c> ("stem",
/// "stage1", ...) and the aligned pair <c>out_features</c> / <c>out_indices</c> (transformers/utils/backbone_utils.py).
/// </summary>
public abstract class VisionBackboneConfig : PretrainedConfig
{
    protected VisionBackboneConfig(JsonObject? raw, string? source, JsonObject defaults) : base(raw, source, defaults)
    {
    }

    /// <summary>Largest sizes accepted: far beyond released vision backbones, well short of exhausting memory.</summary>
    public const int MaxChannels = 1024, MaxWidth = 1 << 16, MaxStages = 16, MaxTotalDepth = 1024, MaxImageSize = 1 << 16, MaxKernel = 1024;

    /// <summary>The stage depths, each at least 1, at most <see cref="MaxStages"/> stages and <see cref="MaxTotalDepth"/> blocks.</summary>
    protected List<long> CheckDepths(int? stages = null)
    {
        var depths = CheckList("depths", 1, MaxTotalDepth, stages ?? 1, stages ?? MaxStages);
        if (depths.Sum() > MaxTotalDepth)
            throw new ConfigException(Source, "depths", $"expected at most {MaxTotalDepth} blocks in all, found {depths.Sum()} ([{string.Join(", ", depths)}]).");
        return depths;
    }

    /// <summary>Number of stages after the stem.</summary>
    protected abstract int StageCount { get; }

    /// <summary>Channels of the feature map of each of <see cref="StageNames"/> (the stem first): what a head built on
    /// this backbone reads, for the size estimates (empty: not known).</summary>
    protected internal virtual IReadOnlyList<double> StageWidths => [];

    /// <summary>A classifier reads the last stage's channels.</summary>
    protected internal override double HeadParameters => StageWidths is [.., var last] ? LabelHead(last) : 0;

    /// <summary>"stem", then "stage1" .. "stageN".</summary>
    public IReadOnlyList<string> StageNames => ["stem", .. Enumerable.Range(1, StageCount).Select(i => $"stage{i}")];

    /// <summary>config.json's <c>out_features</c> aligned with <c>out_indices</c>: neither means the last stage.</summary>
    public IReadOnlyList<string> OutFeatures => Backbone.Align(Get<List<string>>("out_features"), Get<List<int>>("out_indices"), StageNames, Source).features;

    /// <summary>config.json's <c>out_indices</c> aligned with <c>out_features</c>.</summary>
    public IReadOnlyList<int> OutIndices => Backbone.Align(Get<List<string>>("out_features"), Get<List<int>>("out_indices"), StageNames, Source).indices;

    /// <summary>Sets <c>out_features</c> and the matching <c>out_indices</c> (Hugging Face's set_out_features).</summary>
    public void SetOutFeatures(IReadOnlyList<string>? outFeatures) => SetOut(outFeatures, null);

    /// <summary>Sets <c>out_indices</c> and the matching <c>out_features</c> (Hugging Face's set_out_indices).</summary>
    public void SetOutIndices(IReadOnlyList<int>? outIndices) => SetOut(null, outIndices);

    /// <summary>Sets both, checked to name the same stages.</summary>
    public void SetOut(IReadOnlyList<string>? outFeatures, IReadOnlyList<int>? outIndices)
    {
        var (f, i) = Backbone.Align(outFeatures, outIndices, StageNames, Source);
        Set("out_features", f.ToList());
        Set("out_indices", i.ToList());
    }
}

/// <summary>out_features / out_indices alignment exactly as transformers' backbone_utils (verify, align, verify).</summary>
public static class Backbone
{
    public static (IReadOnlyList<string> features, IReadOnlyList<int> indices) Align(
        IReadOnlyList<string>? outFeatures, IReadOnlyList<int>? outIndices, IReadOnlyList<string> stageNames, string? source = null)
    {
        Verify(outFeatures, outIndices, stageNames, source);
        IReadOnlyList<string> f;
        IReadOnlyList<int> i;
        if (outFeatures is null && outIndices is null)
        {
            f = [stageNames[^1]];
            i = [stageNames.Count - 1];
        }
        else if (outIndices is null)
        {
            f = outFeatures!.ToList();
            i = outFeatures!.Select(x => IndexOf(stageNames, x)).ToList();
        }
        else if (outFeatures is null)
        {
            i = outIndices.ToList();
            f = outIndices.Select(x => stageNames[Positive(x, stageNames.Count)]).ToList();
        }
        else
        {
            f = outFeatures.ToList();
            i = outIndices.ToList();
        }
        Verify(f, i, stageNames, source);
        return (f, i);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int k = 0; k < names.Count; k++) if (names[k] == name) return k;
        return -1;
    }

    private static int Positive(int idx, int n) => idx < 0 ? ((idx % n) + n) % n : idx;

    private static void Verify(IReadOnlyList<string>? outFeatures, IReadOnlyList<int>? outIndices, IReadOnlyList<string> stageNames, string? source)
    {
        string names = "[" + string.Join(", ", stageNames.Select(s => $"'{s}'")) + "]";
        ConfigException Fail(string key, string message) => new(source, key, message);
        if (outFeatures is not null)
        {
            var unknown = outFeatures.Where(x => !stageNames.Contains(x)).ToList();
            if (unknown.Count > 0)
                throw Fail("out_features", $"out_features must be a subset of stage_names: {names}; got [{string.Join(", ", outFeatures)}] ('{string.Join("', '", unknown)}' is not a stage).");
            if (outFeatures.Distinct().Count() != outFeatures.Count)
                throw Fail("out_features", $"out_features must not contain any duplicates, got [{string.Join(", ", outFeatures)}].");
            var order = outFeatures.Select(x => IndexOf(stageNames, x)).ToList();
            if (!order.SequenceEqual(order.Order()))
                throw Fail("out_features", $"out_features must be in the same order as stage_names {names}, got [{string.Join(", ", outFeatures)}].");
        }
        if (outIndices is not null)
        {
            int n = stageNames.Count;
            var bad = outIndices.Where(x => x >= n || x < -n).ToList();
            if (bad.Count > 0)
                throw Fail("out_indices", $"out_indices must be in the range [{-n}, {n}) for stage_names {names}; got [{string.Join(", ", outIndices)}].");
            var positive = outIndices.Select(x => Positive(x, n)).ToList();
            if (positive.Distinct().Count() != positive.Count)
                throw Fail("out_indices", $"out_indices must not contain any duplicates, got [{string.Join(", ", outIndices)}].");
            if (!positive.SequenceEqual(positive.Order()))
                throw Fail("out_indices", $"out_indices must be in the same order as stage_names, got [{string.Join(", ", outIndices)}].");
        }
        if (outFeatures is not null && outIndices is not null)
        {
            if (outFeatures.Count != outIndices.Count)
                throw Fail("out_features", $"out_features and out_indices should have the same length if both are set (got {outFeatures.Count} and {outIndices.Count}).");
            var named = outIndices.Select(x => stageNames[Positive(x, stageNames.Count)]).ToList();
            if (!outFeatures.SequenceEqual(named))
                throw Fail("out_features", $"out_features and out_indices should correspond to the same stages if both are set: out_features [{string.Join(", ", outFeatures)}] but out_indices [{string.Join(", ", outIndices)}] name [{string.Join(", ", named)}].");
        }
    }
}
