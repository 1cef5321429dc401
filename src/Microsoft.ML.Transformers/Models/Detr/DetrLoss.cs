using Microsoft.ML.Transformers.Configuration;
using Microsoft.ML.Transformers.Modeling;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Microsoft.ML.Transformers.Models.Detr;

/// <summary>Box arithmetic of DETR (Hugging Face's image_transforms.center_to_corners_format and loss_utils' generalized_box_iou).</summary>
public static class BoxOps
{
    /// <summary>(center x, center y, width, height) -> (x0, y0, x1, y1) on the last axis.</summary>
    public static Tensor CenterToCorners(Tensor boxes)
    {
        var (cx, cy, w, h) = (boxes[TensorIndex.Ellipsis, 0], boxes[TensorIndex.Ellipsis, 1], boxes[TensorIndex.Ellipsis, 2], boxes[TensorIndex.Ellipsis, 3]);
        return stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], -1);
    }

    /// <summary>Generalized IoU of every box of <paramref name="a"/> [N, 4] with every box of <paramref name="b"/> [M, 4], both (x0, y0, x1, y1): [N, M].</summary>
    public static Tensor GeneralizedIoU(Tensor a, Tensor b)
    {
        Tensor Area(Tensor t) => (t[TensorIndex.Colon, 2] - t[TensorIndex.Colon, 0]) * (t[TensorIndex.Colon, 3] - t[TensorIndex.Colon, 1]);
        var areaA = Area(a);
        var areaB = Area(b);
        var lo = maximum(a[TensorIndex.Colon, TensorIndex.None, TensorIndex.Slice(null, 2)], b[TensorIndex.Colon, TensorIndex.Slice(null, 2)]);
        var hi = minimum(a[TensorIndex.Colon, TensorIndex.None, TensorIndex.Slice(2)], b[TensorIndex.Colon, TensorIndex.Slice(2)]);
        var wh = (hi - lo).clamp(min: 0);
        var inter = wh[TensorIndex.Ellipsis, 0] * wh[TensorIndex.Ellipsis, 1];
        var union = areaA[TensorIndex.Colon, TensorIndex.None] + areaB - inter;
        var iou = inter / union;
        var outerLo = minimum(a[TensorIndex.Colon, TensorIndex.None, TensorIndex.Slice(null, 2)], b[TensorIndex.Colon, TensorIndex.Slice(null, 2)]);
        var outerHi = maximum(a[TensorIndex.Colon, TensorIndex.None, TensorIndex.Slice(2)], b[TensorIndex.Colon, TensorIndex.Slice(2)]);
        var outer = (outerHi - outerLo).clamp(min: 0);
        var enclosing = outer[TensorIndex.Ellipsis, 0] * outer[TensorIndex.Ellipsis, 1];
        return iou - (enclosing - union) / enclosing;
    }
}

/// <summary>
/// DETR's set loss (Hugging Face's DetrHungarianMatcher + DetrLoss): each image's queries are matched one-to-one to its
/// targets by the assignment of least class_cost * (-p(class)) + bbox_cost * L1 + giou_cost * (-GIoU); then
/// loss = CE over every query (unmatched ones aim at "no object", weighted eos_coefficient)
/// + bbox_loss_coefficient * L1 + giou_loss_coefficient * (1 - GIoU), box terms averaged over the number of targets.
/// </summary>
public static class DetrLoss
{
    /// <summary>For each image, the matched (query, target) index pairs, queries ascending.</summary>
    public static IReadOnlyList<(int[] queries, int[] targets)> Match(Tensor logits, Tensor predBoxes, IReadOnlyList<DetectionTarget> labels, DetrConfig config)
    {
        var result = new List<(int[], int[])>();
        using var _ = no_grad();
        for (int i = 0; i < labels.Count; i++)
        {
            using var scope = NewDisposeScope();
            var target = labels[i];
            if (target.ClassLabels.size(0) == 0)
            {
                result.Add(([], []));
                continue;
            }
            var prob = logits[i].softmax(-1);
            var classCost = prob.index_select(1, target.ClassLabels.to(ScalarType.Int64)).neg();
            var boxCost = cdist(predBoxes[i], target.Boxes.to(predBoxes.dtype), p: 1);
            var giouCost = BoxOps.GeneralizedIoU(BoxOps.CenterToCorners(predBoxes[i]), BoxOps.CenterToCorners(target.Boxes.to(predBoxes.dtype))).neg();
            var cost = (boxCost * config.BboxCost + classCost * config.ClassCost + giouCost * config.GiouCost).to(ScalarType.Float64).cpu();
            long q = cost.size(0), t = cost.size(1);
            var flat = cost.data<double>().ToArray();
            var matrix = new double[q, t];
            Buffer.BlockCopy(flat, 0, matrix, 0, flat.Length * sizeof(double));
            result.Add(LinearSumAssignment.Solve(matrix));
        }
        return result;
    }

    /// <summary>The weighted loss and its parts; <paramref name="auxiliary"/> are the intermediate decoder layers'
    /// (logits, boxes) whose parts are added with the suffixes _0, _1, ... (auxiliary_loss).</summary>
    public static (Tensor loss, IReadOnlyDictionary<string, Tensor> parts) Compute(Tensor logits, Tensor predBoxes, IReadOnlyList<DetectionTarget> labels,
        DetrConfig config, IReadOnlyList<(Tensor logits, Tensor boxes)>? auxiliary = null)
    {
        Check(logits, labels, config);
        double numBoxes = Math.Max(labels.Sum(l => (double)l.ClassLabels.size(0)), 1.0);
        var parts = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var loss = Single(logits, predBoxes, labels, config, numBoxes, parts, "");
        if (auxiliary is not null)
            for (int i = 0; i < auxiliary.Count; i++)
                loss = loss + Single(auxiliary[i].logits, auxiliary[i].boxes, labels, config, numBoxes, parts, $"_{i}");
        return (loss, parts);
    }

    private static Tensor Single(Tensor logits, Tensor predBoxes, IReadOnlyList<DetectionTarget> labels, DetrConfig config, double numBoxes,
        Dictionary<string, Tensor> parts, string suffix)
    {
        var matches = Match(logits, predBoxes, labels, config);
        long batch = logits.size(0), queries = logits.size(1);
        int numLabels = config.NumLabels;
        var device = logits.device;

        var targetClasses = Enumerable.Repeat((long)numLabels, (int)(batch * queries)).ToArray();
        var flatIndex = new List<long>();
        var targetBoxes = new List<Tensor>();
        for (int i = 0; i < matches.Count; i++)
        {
            var (q, t) = matches[i];
            if (q.Length == 0) continue;
            var classes = labels[i].ClassLabels.to(ScalarType.Int64).cpu().data<long>().ToArray();
            for (int k = 0; k < q.Length; k++)
            {
                targetClasses[i * queries + q[k]] = classes[t[k]];
                flatIndex.Add(i * queries + q[k]);
            }
            targetBoxes.Add(labels[i].Boxes.to(predBoxes.dtype, device).index_select(0, tensor(t.Select(x => (long)x).ToArray(), device: device)));
        }
        var weight = ones(numLabels + 1, dtype: logits.dtype, device: device);
        weight[numLabels] = config.EosCoefficient;
        var ce = F.cross_entropy(logits.transpose(1, 2), tensor(targetClasses, [batch, queries], device: device), weight: weight);

        Tensor l1, giou;
        if (flatIndex.Count == 0)
        {
            l1 = predBoxes.sum() * 0;
            giou = predBoxes.sum() * 0;
        }
        else
        {
            var src = predBoxes.flatten(0, 1).index_select(0, tensor(flatIndex.ToArray(), device: device));
            var tgt = cat(targetBoxes.ToArray(), 0);
            l1 = (src - tgt).abs().sum() / numBoxes;
            giou = (1 - BoxOps.GeneralizedIoU(BoxOps.CenterToCorners(src), BoxOps.CenterToCorners(tgt)).diag()).sum() / numBoxes;
        }
        using (no_grad())
        {
            var predictedCount = logits.argmax(-1).ne(numLabels).sum(1).to(ScalarType.Float32);
            var trueCount = tensor(labels.Select(l => (float)l.ClassLabels.size(0)).ToArray(), device: device);
            parts["loss_cardinality" + suffix] = (predictedCount - trueCount).abs().mean();
        }
        parts["loss_ce" + suffix] = ce;
        parts["loss_bbox" + suffix] = l1;
        parts["loss_giou" + suffix] = giou;
        return ce + l1 * config.BboxLossCoefficient + giou * config.GiouLossCoefficient;
    }

    private static void Check(Tensor logits, IReadOnlyList<DetectionTarget> labels, DetrConfig config)
    {
        if (labels.Count != logits.size(0))
            throw new ArgumentException($"detr: {labels.Count} label sets for a batch of {logits.size(0)} images; expected one per image.");
        for (int i = 0; i < labels.Count; i++)
        {
            var (c, b) = (labels[i].ClassLabels, labels[i].Boxes);
            if (c.dim() != 1 || c.is_floating_point())
                throw new ArgumentException($"detr: labels[{i}].class_labels must be a 1-D integer tensor; found {c.dtype} [{string.Join(", ", c.shape)}].");
            if (b.dim() != 2 || b.size(1) != 4 || b.size(0) != c.size(0) || !b.is_floating_point())
                throw new ArgumentException($"detr: labels[{i}].boxes must be a float tensor [{c.size(0)}, 4] (one normalized center-x, center-y, width, height box per class label); found {b.dtype} [{string.Join(", ", b.shape)}].");
            if (c.size(0) > 0)
            {
                long lo = c.to(ScalarType.Int64).min().item<long>(), hi = c.to(ScalarType.Int64).max().item<long>();
                if (lo < 0 || hi >= config.NumLabels)
                    throw new ArgumentException($"detr: labels[{i}].class_labels holds {(lo < 0 ? lo : hi)}, outside 0..{config.NumLabels - 1} (num_labels in config.json).");
            }
        }
    }
}
