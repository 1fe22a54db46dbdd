"""PyTorch mirror of `flowtrain train flows/security.yaml` (and, for `make bench-quality`, of
`flowtrain eval RUN --split test`): what a user would write by hand, with PyTorch's own defaults
(layers as constructed, no nn.init). Reads the security CSVs and decodes every PNG once
(Pillow), builds each task's targets and masks from the labels and the flow's preconditions,
then trains the network of bench/torch_security.py for the flow's 20 epochs (batch 64, Adam lr
0.001, one warm-up epoch then cosine decay, shuffled each epoch, the last partial batch dropped)
with a validation pass per epoch. The epoch with the lowest validation loss is kept, as
flowtrain keeps it, and the test split is scored with it (torch_bench.task_metrics). Prints the
wall time, data loading included, and the test metrics.
"""
import argparse
import copy
import csv
import math
import os
import time

import numpy as np
import torch
from PIL import Image

from torch_bench import print_metrics, task_metrics
from torch_security import BOXES, SecurityNet, total_loss

BINARY = ["camera_blocked", "door_open", "door_locked", "person_present"]
SHIRTS = ["red", "orange", "yellow", "green", "blue", "purple", "white"]
FACIAL = ["hat", "glasses", "beard"]
MISSING = {"", "NA", "NaN", "null"}
# The flow's task paths, by the names of SecurityNet's outputs, and each task's type.
PATHS = {**{name: name for name in BINARY},
         **{name: f"person_regression.{'face' if name.startswith('face') else 'body'}_regression.{name}"
            for name in BOXES},
         "facial": "person_regression.face_regression.facial_characteristics",
         "shirt_type": "person_regression.body_regression.shirt_type"}
TYPES = {**{name: "binary" for name in BINARY}, **{name: "bounded_regression" for name in BOXES},
         "facial": "multilabel", "shirt_type": "classification"}
SCALE = 64


def load(path):
    """Images (N, 3, 64, 64) in [0, 1], and per task its labels and masks per docs/semantics.md."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    base = os.path.dirname(path)
    images = np.stack([np.asarray(Image.open(os.path.join(base, r["image"])).convert("RGB")) for r in rows])
    images = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255).contiguous()
    n = len(rows)

    def column(name, parse):
        present = torch.tensor([r[name] not in MISSING for r in rows], dtype=torch.float32)
        values = [parse(r[name]) if r[name] not in MISSING else None for r in rows]
        return values, present

    labels, masks = {}, {}
    flags = {}
    for name in BINARY:
        values, present = column(name, lambda s: 1.0 if s.lower() in ("1", "true", "yes") else 0.0)
        labels[name] = torch.tensor([v or 0.0 for v in values])
        flags[name] = (present, labels[name])
    present, value = flags["camera_blocked"]
    masks["camera_blocked"] = present
    masks["door_open"] = flags["door_open"][0] * present * (1 - value)
    masks["door_locked"] = flags["door_locked"][0] * masks["door_open"] * (1 - labels["door_open"])
    masks["person_present"] = flags["person_present"][0] * masks["door_open"] * labels["door_open"]
    person = masks["person_present"] * labels["person_present"]
    for name in BOXES:
        group = "face_regression" if name.startswith("face") else "body_regression"
        values, present = column(f"person_regression.{group}.{name}", float)
        labels[name] = torch.tensor([(v or 0.0) / SCALE for v in values])
        masks[name] = present * person
    values, present = column("person_regression.face_regression.facial_characteristics",
                             lambda s: [] if s == "none" else s.split("|"))
    labels["facial"] = torch.tensor([[1.0 if f in (v or []) else 0.0 for f in FACIAL] for v in values])
    masks["facial"] = (present * person).unsqueeze(1).expand(n, 3).contiguous()
    values, present = column("person_regression.body_regression.shirt_type", SHIRTS.index)
    labels["shirt_type"] = torch.tensor([v or 0 for v in values])
    masks["shirt_type"] = present * person
    return images, labels, masks


def outputs_of(model, images, batch):
    """The model's outputs on a whole split in evaluation mode, batch by batch."""
    model.eval()
    with torch.no_grad():
        parts = [model(images[s:s + batch]) for s in range(0, images.shape[0], batch)]
    return {name: torch.cat([p[name] for p in parts]) for name in parts[0]}


def test_table(outputs, labels, masks):
    """Every task's test metrics, in label units (boxes in pixels)."""
    table = []
    for name, path in PATHS.items():
        counted = (masks[name][:, 0] if masks[name].dim() == 2 else masks[name]) > 0
        logits = outputs[name] if outputs[name].dim() == 2 else outputs[name][:, None]
        values = labels[name].numpy() * (SCALE if TYPES[name] == "bounded_regression" else 1)
        table += [(path, metric, value, rows) for metric, value, rows in
                  task_metrics(TYPES[name], logits, values, counted, scale=SCALE)]
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="datasets/security")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trunk", choices=["pooled", "strided"], default="pooled",
                        help="flows/security.yaml's trunk, or bench/strided.yaml's")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    train = load(os.path.join(args.data, "train.csv"))
    valid = load(os.path.join(args.data, "valid.csv"))
    test = load(os.path.join(args.data, "test.csv"))
    loaded = time.perf_counter()
    model = SecurityNet(args.trunk)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    batch, n = 64, train[0].shape[0]
    steps = n // batch
    total_steps = args.epochs * steps

    def rate(step):
        if step < steps:  # one warm-up epoch
            return (step + 1) / steps
        progress = (step - steps) / max(1, total_steps - steps)
        return 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    best = (0, math.inf, None)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(n)
        for s in range(steps):
            rows = order[s * batch:(s + 1) * batch]
            images, labels, masks = train[0][rows], {k: v[rows] for k, v in train[1].items()}, \
                {k: v[rows] for k, v in train[2].items()}
            optimizer.zero_grad(set_to_none=True)
            total_loss(model(images), labels, masks).backward()
            optimizer.step()
            scheduler.step()
        # flowtrain's validation loss: each task's mean over all the split's rows it counts on,
        # weighted and summed, which total_loss computes on the whole split's outputs at once.
        with torch.no_grad():
            valid_loss = float(total_loss(outputs_of(model, valid[0], batch), valid[1], valid[2]))
        mark = ""
        if valid_loss < best[1]:
            best = (epoch + 1, valid_loss, copy.deepcopy(model.state_dict()))
            mark = "  (best)"
        print(f"epoch {epoch + 1}/{args.epochs}  valid loss {valid_loss:.4f}{mark}", flush=True)
    trained = time.perf_counter()
    model.load_state_dict(best[2])
    table = test_table(outputs_of(model, test[0], batch), test[1], test[2])
    end = time.perf_counter()
    print(f"pytorch train loop: {trained - loaded:.1f} s; test pass: {end - trained:.2f} s; best epoch {best[0]}")
    print(f"pytorch training: {trained - start:.1f} s wall time ({loaded - start:.1f} s loading data)")
    print_metrics(table)


if __name__ == "__main__":
    main()
