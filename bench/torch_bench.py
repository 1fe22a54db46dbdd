"""PyTorch mirror of bench/mlp.yaml, for `make bench-torch`.

Same network (128 → dense 512 → relu → dense 512 → relu, then one linear output per task),
same masked losses (each task's loss is the mean over the rows its mask keeps; the masks follow
the flow's preconditions with 10% of labels missing), same optimiser (Adam, lr 0.001), same
thread count. Times whole training steps and prints `batch N: S samples/s` per batch size,
the median of several repetitions, as `flowtrain bench` does.
"""
import argparse
import statistics
import time

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", default="32,256,1024")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"pytorch {torch.__version__}, {args.threads} threads")
    for batch in [int(b) for b in args.batch.split(",")]:
        model = MLP()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        features, labels, masks = synthetic_batch(batch, torch.Generator().manual_seed(1))

        def step():
            optimizer.zero_grad(set_to_none=True)
            total_loss(model(features), labels, masks).backward()
            optimizer.step()

        print(f"batch {batch}: {samples_per_second(step, batch, args.steps, args.repeats)} samples/s")


if __name__ == "__main__":
    main()
