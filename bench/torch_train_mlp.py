"""PyTorch mirror of `flowtrain train bench/mlp.yaml` + `flowtrain eval RUN --split test`, for
`make bench-quality`: what a user would write by hand, with PyTorch's own defaults.

Reads datasets/mlp (bench/mlp_data.py), standardises the 128 features with the training
split's mean and population deviation (an empty cell reads 0 first: `missing: zero`), builds
each task's targets and the mask of the rows it counts on (label present and precondition true
on the labels), then trains bench/torch_bench.py's network — nn.Linear as constructed, no
nn.init — with its masked losses (each task's the mean over its own rows, the total their
sum): 5 epochs, batch 256, full batches only, shuffled each epoch, Adam lr 0.001. The epoch with
the lowest validation loss is kept, as flowtrain keeps it, and the test split is scored with
it (torch_bench.task_metrics).
"""
import time

START = time.perf_counter()  # before `import torch`: flowtrain's time includes its start-up too

import argparse  # noqa: E402
import copy  # noqa: E402
import csv  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from torch_bench import MLP, print_metrics, task_metrics, total_loss  # noqa: E402

MARKERS = {"", "NA", "NaN", "null"}
FEATURES = [f"f{i}" for i in range(128)]
KINDS = [f"c{i}" for i in range(10)]
TAGS = [f"t{i}" for i in range(5)]
BOX = ["x", "y", "w", "h"]
# The flow's task paths, by the names of torch_bench.MLP's heads.
PATHS = {"present": "present", "moving": "moving", "kind": "kind", "tags": "tags",
         **{name: f"box.{name}" for name in BOX}}
KINDS_OF_TASK = {"present": "binary", "moving": "binary", "kind": "classification", "tags": "multilabel",
                 **{name: "bounded_regression" for name in BOX}}
EPOCHS, BATCH, LR = 5, 256, 0.001


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: [r[name] for r in rows] for name in rows[0]}, len(rows)


def features(table, statistics=None):
    """(N, 128) standardised features, and the statistics used (the training split's)."""
    raw = np.array([[float(c) if c.strip() else np.nan for c in table[name]] for name in FEATURES]).T
    if statistics is None:
        mean = np.nanmean(raw, axis=0)
        deviation = np.nanstd(raw, axis=0)
        statistics = (mean, np.where(deviation > 0, deviation, 1.0))
    mean, deviation = statistics
    filled = np.where(np.isnan(raw), 0.0, raw)  # missing: zero, before normalising
    return torch.from_numpy(((filled - mean) / deviation).astype(np.float32)), statistics


def labels(table, n):
    """Per head: targets as trained, and the mask of rows where the task counts (float, as
    torch_bench.total_loss takes it); the box's targets are its labels (scale 1)."""
    known = {name: np.array([c not in MARKERS for c in table[path]]) for name, path in PATHS.items()}
    targets = {
        "present": np.array([c.lower() in ("1", "true", "yes") for c in table["present"]], dtype=np.float32),
        "moving": np.array([c.lower() in ("1", "true", "yes") for c in table["moving"]], dtype=np.float32),
        "kind": np.array([KINDS.index(c) if c not in MARKERS else 0 for c in table["kind"]]),
        "tags": np.array([[t in c.split("|") for t in TAGS] for c in table["tags"]], dtype=np.float32),
        **{name: np.array([float(c) if c not in MARKERS else 0.0 for c in table[f"box.{name}"]], dtype=np.float32)
           for name in BOX},
    }
    # Ground-truth preconditions in Kleene logic: an atom about a task that does not count on
    # the row (label missing, or its own precondition false) is unknown, so never true.
    counts = {"present": known["present"], "tags": known["tags"]}
    is_present = counts["present"] & (targets["present"] >= 0.5)
    counts["moving"] = known["moving"] & is_present
    counts["kind"] = known["kind"] & is_present
    is_moving = counts["moving"] & (targets["moving"] >= 0.5)
    for name in BOX:
        counts[name] = known[name] & is_moving
    masks = {name: torch.from_numpy(c.astype(np.float32)) for name, c in counts.items()}
    masks["tags"] = masks["tags"].unsqueeze(1).expand(n, len(TAGS)).contiguous()
    return {name: torch.from_numpy(t) for name, t in targets.items()}, masks, counts


def load(path, statistics=None):
    table, n = read(path)
    x, statistics = features(table, statistics)
    targets, masks, counts = labels(table, n)
    return dict(n=n, x=x, targets=targets, masks=masks, counts=counts), statistics


def split_loss(model, split):
    """The validation loss flowtrain selects the best epoch by: Σ weight × each task's mean
    loss over all the split's rows it counts on (every weight is 1 here)."""
    model.eval()
    with torch.no_grad():
        return float(total_loss(model(split["x"]), split["targets"], split["masks"]))


def test_table(model, split):
    model.eval()
    with torch.no_grad():
        outputs = model(split["x"])
    table = []
    for name, path in PATHS.items():
        counted = torch.from_numpy(split["counts"][name])
        for metric, value, rows in task_metrics(KINDS_OF_TASK[name], outputs[name], split["targets"][name].numpy(),
                                                counted):
            table.append((path, metric, value, rows))
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="datasets/mlp")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    reading = time.perf_counter()
    train, statistics = load(os.path.join(args.data, "train.csv"))
    valid, _ = load(os.path.join(args.data, "valid.csv"), statistics)
    test, _ = load(os.path.join(args.data, "test.csv"), statistics)
    loaded = time.perf_counter()
    model = MLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    n = train["n"]
    batch = min(BATCH, n)
    steps = max(1, n // batch)  # full batches only
    best = (0, float("inf"), None)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(n)
        train_loss = 0.0
        for s in range(steps):
            rows = order[s * batch:(s + 1) * batch]
            optimizer.zero_grad(set_to_none=True)
            loss = total_loss(model(train["x"][rows]), {k: v[rows] for k, v in train["targets"].items()},
                              {k: v[rows] for k, v in train["masks"].items()})
            loss.backward()
            optimizer.step()
            train_loss += loss.item()
        valid_loss = split_loss(model, valid)
        mark = ""
        if valid_loss < best[1]:
            best = (epoch + 1, valid_loss, copy.deepcopy(model.state_dict()))
            mark = "  (best)"
        print(f"epoch {epoch + 1}/{args.epochs}  train loss {train_loss / steps:.4f}  "
              f"valid loss {valid_loss:.4f}{mark}", flush=True)
    trained = time.perf_counter()
    model.load_state_dict(best[2])
    table = test_table(model, test)
    end = time.perf_counter()
    print(f"pytorch read and preprocess: {loaded - reading:.1f} s ({train['n']} train, {valid['n']} valid, "
          f"{test['n']} test rows)")
    print(f"pytorch train loop: {trained - loaded:.1f} s; test pass: {end - trained:.2f} s; best epoch {best[0]}")
    print(f"pytorch training: {end - START:.1f} s wall time (whole script, start-up and reading included)")
    print_metrics(table)


if __name__ == "__main__":
    main()
