using System.Text.Json.Nodes;
using Microsoft.ML.Transformers.Modeling;
using Microsoft.ML.Transformers.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Transformers.Training;

/// <summary>
/// Collates image examples (the collate_fn of Hugging Face's vision fine-tuning guides): pixel_values stacked into
/// [B, 3, H, W], and the labels of the kind the examples hold: class ids [B] (<see cref="TrainingExample.Label"/>),
/// per-pixel class ids [B, H, W] (<see cref="TrainingExample.PixelLabels"/>) or one {class_labels, boxes} per image
/// (<see cref="TrainingExample.DetectionLabels"/>). Object-detection batches are padded bottom and right to their
/// largest image with a pixel_mask, as DetrImageProcessor.pad does, so their images may differ in size; other
/// batches need one size. With <paramref name="updateBoxes"/> (pad's update_bboxes, what DetrImageProcessor does to
/// annotations when it pads a batch), a box normalized by its image's size is re-normalized by the padded size.
/// </summary>
public sealed class ImageDataCollator(DetrImageProcessor? padder = null, bool updateBoxes = true) : IDataCollator
{
    private readonly DetrImageProcessor _padder = padder ?? new DetrImageProcessor(new JsonObject());

    public bool UpdateBoxes { get; } = updateBoxes;

    public TrainingBatch Collate(IReadOnlyList<TrainingExample> examples, Device device)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("Cannot collate an empty batch.", nameof(examples));
        int b = examples.Count;
        var images = new PixelValues[b];
        for (int i = 0; i < b; i++)
        {
            images[i] = examples[i].PixelValues ?? throw new ArgumentException($"Example {i} has no pixel_values; {nameof(ImageDataCollator)} collates image examples.", nameof(examples));
            if (images[i].Batch != 1) throw new ArgumentException($"Example {i}: pixel_values hold {images[i].Batch} images; an example holds one ([1, 3, height, width]).", nameof(examples));
        }
        var first = examples[0];
        bool detection = first.DetectionLabels is not null;
        PixelValues pixels;
        Tensor? mask = null;
        if (detection)
        {
            var padded = _padder.Pad(images);
            pixels = padded.Pixels;
            mask = padded.MaskTensor(device);
        }
        else pixels = PixelValues.Concat(images);

        Tensor? labels = null;
        List<DetectionTarget>? targets = null;
        if (first.Label is not null)
            labels = tensor(examples.Select((e, i) => e.Label ?? throw new ArgumentException($"Example {i} has no label while example 0 has one.", nameof(examples))).ToArray(), device: device);
        else if (first.PixelLabels is not null)
        {
            var maps = Each(examples, e => e.PixelLabels, "pixel labels");
            var data = new long[(long)b * pixels.Height * pixels.Width];
            for (int i = 0; i < b; i++)
            {
                long n = (long)images[i].Height * images[i].Width;
                if (maps[i].Length != n)
                    throw new ArgumentException($"Example {i}: {maps[i].Length} pixel labels for pixel_values of {images[i].Height}x{images[i].Width} ({n} pixels).", nameof(examples));
                maps[i].CopyTo(data, i * n);
            }
            labels = tensor(data, [b, pixels.Height, pixels.Width], device: device);
        }
        else if (detection)
        {
            var sets = Each(examples, e => e.DetectionLabels, "detection labels");
            targets = new List<DetectionTarget>(b);
            for (int i = 0; i < b; i++)
            {
                var (classes, boxes) = (sets[i].ClassLabels, sets[i].Boxes);
                if (boxes.Length != 4L * classes.Length)
                    throw new ArgumentException($"Example {i}: {classes.Length} class_labels need {4L * classes.Length} box values (center x, center y, width, height each); found {boxes.Length}.", nameof(examples));
                var scaled = boxes;
                if (UpdateBoxes && (images[i].Height != pixels.Height || images[i].Width != pixels.Width))
                {
                    scaled = new float[boxes.Length];
                    double sx = (double)images[i].Width / pixels.Width, sy = (double)images[i].Height / pixels.Height;
                    for (int k = 0; k < boxes.Length; k++) scaled[k] = (float)(boxes[k] * (k % 2 == 0 ? sx : sy));
                }
                targets.Add(new DetectionTarget(tensor(classes, device: device), tensor(scaled, [classes.Length, 4], device: device)));
            }
        }
        return new TrainingBatch(new ModelInputs
        {
            PixelValues = tensor(pixels.Data, pixels.Shape, device: device),
            PixelMask = mask,
            Labels = labels,
            DetectionLabels = targets,
        }, b);
    }

    /// <summary>Each example's label of the kind example 0 holds; a missing one is an error naming the example.</summary>
    private static T[] Each<T>(IReadOnlyList<TrainingExample> examples, Func<TrainingExample, T?> get, string what) where T : class =>
        examples.Select((e, i) => get(e) ?? throw new ArgumentException($"Example {i} has no {what} while example 0 has them.", nameof(examples))).ToArray();
}
