"""PyTorch mirror of bench/mlp.yaml, for `make bench-torch`, and what the training mirrors share.

Same network (128 → dense 512 → relu → dense 512 → relu, then one linear output per task),
same masked losses (each task's loss is the mean over the rows its mask keeps; the masks follow
the flow's preconditions with 10% of labels missing), same optimiser (Adam, lr 0.001), same
thread count. Times whole training steps and prints `batch N: S samples/s` per batch size,
the median of several repetitions, as `flowtrain bench` does.

The training mirrors (bench/torch_train_*.py, `make bench-quality`) score their test split with
`task_metrics` and print it with `print_metrics`: the metrics of Sources/Tasks/Metrics, on the
same rows and in the same units as `flowtrain eval` (no thresholds.yaml: 0.5), one
`task_path metric value rows` line each, as evaluation.csv names them.
"""
import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU())
        self.heads = nn.ModuleDict({
            "present": nn.Linear(512, 1), "moving": nn.Linear(512, 1), "kind": nn.Linear(512, 10),
            "tags": nn.Linear(512, 5), "x": nn.Linear(512, 1), "y": nn.Linear(512, 1),
            "w": nn.Linear(512, 1), "h": nn.Linear(512, 1),
        })

    def forward(self, features):
        shared = self.body(features)
        return {name: head(shared) for name, head in self.heads.items()}


def masked_mean(losses, mask):
    # Mean over kept rows; 0 with no row kept, as flowtrain defines it.
    return (losses * mask).sum() / mask.sum().clamp(min=1)


def confusion_metrics(predicted, actual):
    """accuracy, precision, recall, F1 of boolean arrays; 0 where a ratio has nothing to divide
    (scikit-learn's zero_division=0, as flowtrain's ConfusionCounts)."""
    tp = int((predicted & actual).sum())
    fp = int((predicted & ~actual).sum())
    fn = int((~predicted & actual).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return (predicted == actual).mean(), precision, recall, f1


def roc_auc(scores, positive):
    """The Mann–Whitney statistic with average ranks for ties, as BinaryMetrics.rocAUC; None
    with one class only."""
    positives = int(positive.sum())
    negatives = len(positive) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="stable")
    ranked, is_positive = scores[order], positive[order]
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1] == ranked[i]:
            j += 1
        rank_sum += ((i + j) / 2 + 1) * int(is_positive[i:j + 1].sum())
        i = j + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def regression_metrics(predictions, labels):
    errors = predictions - labels
    metrics = [("mean_absolute_error", np.abs(errors).mean()), ("rmse", np.sqrt((errors ** 2).mean()))]
    total = ((labels - labels.mean()) ** 2).sum()
    if total > 0:
        metrics.append(("r2", 1 - (errors ** 2).sum() / total))
    return metrics


def task_metrics(kind, logits, labels, counted, scale=1.0, mean=0.0, deviation=1.0):
    """One task's metrics on the rows it counts on (`counted`, ground-truth preconditions):
    [(metric, value, rows)]. `logits` (N, units) float32 as the model gives them; `labels` in
    the label's own units: 0/1, class indices, (N, labels) 0/1, or numbers. Activations are
    float32 like flowtrain's, so saturated scores tie as they do there (roc_auc)."""
    keep = np.asarray(counted, dtype=bool)
    z = logits.detach().float()[torch.from_numpy(keep)]
    y = np.asarray(labels, dtype=np.float64)[keep]
    n = len(y)
    if n == 0:
        return []
    if kind == "binary":
        scores = torch.sigmoid(z[:, 0]).numpy()
        accuracy, precision, recall, f1 = confusion_metrics(scores >= 0.5, y >= 0.5)
        metrics = [("accuracy", accuracy), ("precision", precision), ("recall", recall), ("f1_score", f1)]
        auc = roc_auc(scores, y >= 0.5)
        return [(name, value, n) for name, value in metrics + ([("roc_auc", auc)] if auc is not None else [])]
    if kind == "classification":
        p = torch.softmax(z, dim=1).numpy()
        label = y.astype(int)
        rank = (p > p[np.arange(n), label][:, None]).sum(1)  # ties favour the label
        classes = p.shape[1]
        metrics = [("accuracy_1", (rank < 1).mean())]
        metrics += [(f"accuracy_{k}", (rank < k).mean()) for k in (3, 5) if classes > k]
        predicted = p.argmax(1)  # the first on a tie
        # Macro averages over the classes that occur among the labels or the predictions.
        per_class = [confusion_metrics(predicted == c, label == c) for c in range(classes)
                     if (label == c).any() or (predicted == c).any()]
        metrics += [("f1_score", np.mean([c[3] for c in per_class])),
                    ("precision", np.mean([c[1] for c in per_class])),
                    ("recall", np.mean([c[2] for c in per_class]))]
        return [(name, value, n) for name, value in metrics]
    if kind == "multilabel":  # every (row, label) decision of the counted rows, pooled
        predicted, actual = torch.sigmoid(z).numpy() >= 0.5, y >= 0.5
        accuracy, _, _, micro = confusion_metrics(predicted.ravel(), actual.ravel())
        occurring = [confusion_metrics(predicted[:, j], actual[:, j])[3] for j in range(y.shape[1])
                     if (predicted[:, j] | actual[:, j]).any()]
        macro = np.mean(occurring) if occurring else 0.0
        return [(name, value, y.size) for name, value in
                [("accuracy", accuracy), ("f1_score_micro", micro), ("f1_score_macro", macro)]]
    if kind == "bounded_regression":
        predictions = torch.sigmoid(z[:, 0]).numpy().astype(np.float64) * scale
    else:
        predictions = z[:, 0].numpy().astype(np.float64) * deviation + mean
    return [(name, value, n) for name, value in regression_metrics(predictions, y)]


def print_metrics(table):
    """`table`: [(task_path, metric, value, rows)], printed for bench/quality.py to read."""
    print(f"\n{'task':<56} {'metric':<20} {'value':>10} {'rows':>7}")
    for path, metric, value, rows in table:
        print(f"{path:<56} {metric:<20} {value:>10.6f} {rows:>7}")


def synthetic_batch(batch, generator):
    def present():
        return (torch.rand(batch, generator=generator) >= 0.1).float()

    features = torch.randn(batch, 128, generator=generator)
    labels, masks = {}, {}
    labels["present"] = (torch.rand(batch, generator=generator) < 0.5).float()
    masks["present"] = present()
    # `moving` and `kind` are only defined when `present` is true (and known).
    gate = masks["present"] * labels["present"]
    labels["moving"] = (torch.rand(batch, generator=generator) < 0.5).float()
    masks["moving"] = present() * gate
    labels["kind"] = torch.randint(0, 10, (batch,), generator=generator)
    masks["kind"] = present() * gate
    labels["tags"] = (torch.rand(batch, 5, generator=generator) < 0.3).float()
    masks["tags"] = present().unsqueeze(1).expand(batch, 5).contiguous()
    box_gate = masks["moving"] * labels["moving"]
    for name in "xywh":
        labels[name] = torch.rand(batch, generator=generator)
        masks[name] = present() * box_gate
    return features, labels, masks


def total_loss(outputs, labels, masks):
    loss = masked_mean(F.binary_cross_entropy_with_logits(outputs["present"][:, 0], labels["present"],
                                                          reduction="none"), masks["present"])
    loss = loss + masked_mean(F.binary_cross_entropy_with_logits(outputs["moving"][:, 0], labels["moving"],
                                                                 reduction="none"), masks["moving"])
    loss = loss + masked_mean(F.cross_entropy(outputs["kind"], labels["kind"], reduction="none"), masks["kind"])
    loss = loss + masked_mean(F.binary_cross_entropy_with_logits(outputs["tags"], labels["tags"], reduction="none"),
                              masks["tags"])
    for name in "xywh":
        loss = loss + masked_mean((torch.sigmoid(outputs[name][:, 0]) - labels[name]) ** 2, masks[name])
    return loss


def samples_per_second(step, batch, steps, repeats):
    """Whole training steps after 3 warm-up ones: the median of `repeats` runs of `steps`."""
    for _ in range(3):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return round(batch / statistics.median(times))


def run_benchmark(make_step, default_batch, default_steps):
    """The mirrors' command line (--batch, --steps, --repeats, --threads): per batch size, the
    training step `make_step(batch)` builds (after the threads and the seed are set), timed by
    `samples_per_second`, printed as `batch N: S samples/s`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", default=default_batch)
    parser.add_argument("--steps", type=int, default=default_steps)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"pytorch {torch.__version__}, {args.threads} threads")
    for batch in [int(b) for b in args.batch.split(",")]:
        step = make_step(batch)
        print(f"batch {batch}: {samples_per_second(step, batch, args.steps, args.repeats)} samples/s")


def mlp_step(batch):
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    features, labels, masks = synthetic_batch(batch, torch.Generator().manual_seed(1))

    def step():
        optimizer.zero_grad(set_to_none=True)
        total_loss(model(features), labels, masks).backward()
        optimizer.step()

    return step


if __name__ == "__main__":
    run_benchmark(mlp_step, "32,256,1024", 20)
