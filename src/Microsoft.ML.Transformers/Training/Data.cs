using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Training;

/// <summary>One training example (a row of a Hugging Face dataset after the tokenizer's or image processor's map): the
/// input_ids of a text or the pixel_values of an image, and at most one kind of label.</summary>
public sealed record TrainingExample
{
    /// <summary>input_ids (text models); empty for an image example.</summary>
    public long[] InputIds { get; init; } = [];
    public long[]? AttentionMask { get; init; }
    public long[]? TokenTypeIds { get; init; }
    /// <summary>Class id (single-label sequence classification).</summary>
    public long? Label { get; init; }
    /// <summary>Float targets: multi-label multi-hot or regression values.</summary>
    public float[]? LabelValues { get; init; }
    /// <summary>One class id per token (token classification); -100 is ignored by the loss.</summary>
    public long[]? TokenLabels { get; init; }
    /// <summary>pixel_values of one image, [1, 3, height, width] (what an image processor returns for it); images of
    /// one batch may differ in size when the collator pads them (<see cref="ImageDataCollator"/>).</summary>
    public PixelValues? PixelValues { get; init; }
    /// <summary>Object detection (DETR): the image's class_labels and boxes, as Hugging Face passes labels.</summary>
    public ObjectDetectionLabels? DetectionLabels { get; init; }
    /// <summary>Semantic segmentation: one class id per pixel of <see cref="PixelValues"/>, [height, width] row-major;
    /// the model's loss_ignore_index (255) marks pixels without a label.</summary>
    public long[]? PixelLabels { get; init; }
}

/// <summary>One image's object-detection labels (Hugging Face's {"class_labels", "boxes"}): <paramref name="ClassLabels"/>
/// [N] and <paramref name="Boxes"/> [N * 4], each box (center x, center y, width, height) normalized by the image's
/// own height and width (what DetrImageProcessor makes of COCO annotations before padding).</summary>
public sealed record ObjectDetectionLabels(long[] ClassLabels, float[] Boxes)
{
    public int Count => ClassLabels.Length;
}

/// <summary>A collated batch: the model's inputs (tensors owned by the batch) and how many examples it holds.</summary>
public sealed class TrainingBatch(ModelInputs inputs, int size) : IDisposable
{
    public ModelInputs Inputs { get; } = inputs;
    public int Size { get; } = size;

    public void Dispose()
    {
        Inputs.InputIds?.Dispose();
        Inputs.PixelValues?.Dispose();
        Inputs.AttentionMask?.Dispose();
        Inputs.TokenTypeIds?.Dispose();
        Inputs.Labels?.Dispose();
        Inputs.PixelMask?.Dispose();
        foreach (var t in Inputs.DetectionLabels ?? [])
        {
            t.ClassLabels.Dispose();
            t.Boxes.Dispose();
        }
    }
}

/// <summary>Turns a list of examples into one batch (transformers' data_collator).</summary>
public interface IDataCollator
{
    TrainingBatch Collate(IReadOnlyList<TrainingExample> examples, Device device);
}

/// <summary>
/// Pads each batch to its longest example (or a multiple of <paramref name="padToMultipleOf"/>): input_ids with the pad
/// id, attention_mask with 0 (1 where the example gave none), token_type_ids with 0, token labels with -100
/// (transformers' DataCollatorWithPadding and DataCollatorForTokenClassification).
/// </summary>
public sealed class DataCollatorWithPadding(long padTokenId = 0, int? padToMultipleOf = null, long labelPadTokenId = -100) : IDataCollator
{
    public TrainingBatch Collate(IReadOnlyList<TrainingExample> examples, Device device)
    {
        if (examples.Count == 0) throw new ArgumentException("Cannot collate an empty batch.", nameof(examples));
        if (examples.Any(e => e.PixelValues is not null))
            throw new ArgumentException($"{nameof(DataCollatorWithPadding)} pads input_ids; these examples hold pixel_values: use {nameof(ImageDataCollator)}.", nameof(examples));
        int b = examples.Count;
        int s = examples.Max(e => e.InputIds.Length);
        if (padToMultipleOf is int m && m > 0 && s % m != 0) s += m - s % m;
        var ids = new long[b * s];
        var mask = new long[b * s];
        bool hasTypes = examples.Any(e => e.TokenTypeIds is not null);
        var types = hasTypes ? new long[b * s] : null;
        Array.Fill(ids, padTokenId);
        for (int i = 0; i < b; i++)
        {
            var e = examples[i];
            int n = e.InputIds.Length;
            if (e.AttentionMask is { } am && am.Length != n) throw new ArgumentException($"Example {i}: attention_mask has {am.Length} values, input_ids {n}.");
            if (e.TokenTypeIds is { } tt && tt.Length != n) throw new ArgumentException($"Example {i}: token_type_ids has {tt.Length} values, input_ids {n}.");
            e.InputIds.CopyTo(ids, i * s);
            if (e.AttentionMask is { } a) a.CopyTo(mask, i * s);
            else Array.Fill(mask, 1L, i * s, n);
            e.TokenTypeIds?.CopyTo(types!, i * s);
        }
        long[] shape = [b, s];
        Tensor? labels = null;
        var first = examples[0];
        if (first.Label is not null)
            labels = tensor(examples.Select((e, i) => e.Label ?? throw new ArgumentException($"Example {i} has no label while example 0 has one.")).ToArray(), device: device);
        else if (first.LabelValues is { } lv)
        {
            var data = new float[b * lv.Length];
            for (int i = 0; i < b; i++)
            {
                var v = examples[i].LabelValues ?? throw new ArgumentException($"Example {i} has no label_values while example 0 has them.");
                if (v.Length != lv.Length) throw new ArgumentException($"Example {i} has {v.Length} label values, example 0 has {lv.Length}.");
                v.CopyTo(data, i * lv.Length);
            }
            labels = tensor(data, [b, lv.Length], device: device);
        }
        else if (first.TokenLabels is not null)
        {
            var data = new long[b * s];
            Array.Fill(data, labelPadTokenId);
            for (int i = 0; i < b; i++)
            {
                var t = examples[i].TokenLabels ?? throw new ArgumentException($"Example {i} has no token labels while example 0 has them.");
                if (t.Length != examples[i].InputIds.Length) throw new ArgumentException($"Example {i}: {t.Length} token labels for {examples[i].InputIds.Length} input ids.");
                t.CopyTo(data, i * s);
            }
            labels = tensor(data, shape, device: device);
        }
        return new TrainingBatch(new ModelInputs
        {
            InputIds = tensor(ids, shape, device: device),
            AttentionMask = tensor(mask, shape, device: device),
            TokenTypeIds = types is null ? null : tensor(types, shape, device: device),
            Labels = labels,
        }, b);
    }
}

/// <summary>
/// Batches of a dataset in a given order (the Trainer's DataLoader): <see cref="Count"/> batches of batch_size (the last
/// one smaller unless drop_last).
/// </summary>
public sealed class TrainerDataLoader(IReadOnlyList<TrainingExample> dataset, int batchSize, bool dropLast, IDataCollator collator, Device device)
{
    public IReadOnlyList<TrainingExample> Dataset { get; } = dataset;
    public int BatchSize { get; } = batchSize;
    public bool DropLast { get; } = dropLast;
    public IDataCollator Collator { get; } = collator;

    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The batch at <paramref name="index"/> of an epoch whose example order is <paramref name="order"/> (null: dataset order).</summary>
    public TrainingBatch Batch(int index, IReadOnlyList<int>? order)
    {
        int start = index * BatchSize;
        int end = Math.Min(start + BatchSize, Dataset.Count);
        var rows = new TrainingExample[end - start];
        for (int i = start; i < end; i++) rows[i - start] = Dataset[order is null ? i : order[i]];
        return Collator.Collate(rows, device);
    }

    private readonly Device device = device;
}
