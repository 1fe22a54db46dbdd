"""Learnable data for bench/mlp.yaml, for `make bench-quality`: datasets/mlp/{train,valid,test}.csv.

128 standard-normal features f0…f127; every label comes from one fixed random *teacher*, a
2-layer tanh network on the features, plus noise, so that the flow's 512-wide MLP learns it
well but not perfectly in a few epochs. The labels follow the flow's preconditions: `moving`
and `kind` have a value only where `present` is true, the box only where `moving` is too (blank
cells elsewhere), and a few percent of every label cell is blanked at random on top, so some
rows also lose a task through a missing label upstream.
"""
import argparse
import os

import numpy as np

FEATURES, HIDDEN = 128, 48
KINDS = [f"c{i}" for i in range(10)]
TAGS = [f"t{i}" for i in range(5)]
BOX = ["x", "y", "w", "h"]


class Teacher:
    """tanh(x·W1 + b1) with pre-activations of about unit spread (so tanh bends), then one
    standardised linear read-out per task output."""

    def __init__(self, random):
        self.w1 = random.normal(0, 1.3 / np.sqrt(FEATURES), (FEATURES, HIDDEN))
        self.b1 = random.normal(0, 0.3, HIDDEN)
        self.outputs = {name: random.normal(0, 1 / np.sqrt(HIDDEN * 0.5), (HIDDEN, width))
                        for name, width in [("present", 1), ("moving", 1), ("kind", len(KINDS)),
                                            ("tags", len(TAGS)), ("box", len(BOX))]}

    def __call__(self, features):
        hidden = np.tanh(features @ self.w1 + self.b1)
        return {name: hidden @ w for name, w in self.outputs.items()}


def labels(teacher, features, random, missing):
    """The label columns of the flow's tasks, as CSV cells ('' for a blank)."""
    n = len(features)
    scores = teacher(features)

    def noisy(values, spread):
        return values + random.normal(0, spread, values.shape)

    present = noisy(scores["present"][:, 0], 0.3) > 0
    moving = noisy(scores["moving"][:, 0], 0.3) > 0
    kind = np.argmax(noisy(scores["kind"] * 2, 0.6), axis=1)
    tags = noisy(scores["tags"], 0.3) > 0.5  # about a third of the labels on
    box = np.clip(1 / (1 + np.exp(-1.5 * noisy(scores["box"], 0.1))), 0, 1)
    columns = {
        "present": ["1" if p else "0" for p in present],
        "moving": [("1" if m else "0") if p else "" for p, m in zip(present, moving)],
        "kind": [KINDS[k] if p else "" for p, k in zip(present, kind)],
        "tags": ["|".join(t for t, on in zip(TAGS, row) if on) or "none" for row in tags],
    }
    for j, name in enumerate(BOX):
        columns[f"box.{name}"] = [f"{v:.4f}" if p and m else "" for p, m, v in zip(present, moving, box[:, j])]
    for cells in columns.values():
        for r in np.flatnonzero(random.random(n) < missing):
            cells[r] = ""
    return columns


def write(path, features, columns):
    header = [f"f{i}" for i in range(FEATURES)] + list(columns)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        cells = list(zip(*columns.values()))
        for row, label_cells in zip(features, cells):
            f.write(",".join(f"{v:.4f}" for v in row) + "," + ",".join(label_cells) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="datasets/mlp")
    parser.add_argument("--train", type=int, default=18000)
    parser.add_argument("--valid", type=int, default=2000)
    parser.add_argument("--test", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--missing", type=float, default=0.03, help="share of label cells blanked at random")
    args = parser.parse_args()
    random = np.random.default_rng(args.seed)
    teacher = Teacher(random)
    os.makedirs(args.out, exist_ok=True)
    for split, n in [("train", args.train), ("valid", args.valid), ("test", args.test)]:
        features = random.standard_normal((n, FEATURES))
        write(os.path.join(args.out, f"{split}.csv"), features, labels(teacher, features, random, args.missing))
        print(f"wrote {os.path.join(args.out, split + '.csv')}: {n} rows")


if __name__ == "__main__":
    main()
