"""PyTorch mirror of `flowtrain train flows/orders.yaml` + `flowtrain eval RUN --split test`, for
`make bench-torch BENCH_ORDERS=1`: what a user would write by hand for the same flow.

Reads the three orders CSVs (as `flowtrain train` does), encodes them as flowtrain's
SplitEncoder does (statistics from the training split), builds each task's targets and its
mask from the labels and the flow's preconditions (ground truth, Kleene logic), then trains the
flow's network for 10 epochs: batch 256, full batches only, shuffled each epoch, AdamW lr 0.002
weight decay 0.01 on every parameter, global gradient-norm clipping at 5, the rate halved every
4 epochs, task losses balanced by flowtrain's Dynamic Weight Average. The epoch with the lowest
validation loss (tasks' fixed weights) is kept, and the test split is scored with it, as the
`preconditions == ground_truth` rows of flowtrain's evaluation.csv name the metrics
(torch_bench.task_metrics).

Prints per epoch the train and validation losses, then `pytorch training: N.N s` (the whole
script: imports, reading, encoding, training, the test pass), and the test metrics as
`task metric value rows` lines.

The weights start as PyTorch constructs its layers (nn.Linear, nn.Embedding, nn.LayerNorm, no
nn.init), from torch's generator, and the batches come from torch.randperm: what PyTorch's
defaults learn, for `make bench-quality`. One seed here and the same seed in flowtrain are two
different draws: the delay_days test MAE alone moves by ±0.01 from seed to seed. For diagnosis
only, `--flowtrain-init` starts from flowtrain's initialisation scheme instead (He normal
before a ReLU, Glorot uniform otherwise, zero biases), and `--flowtrain-rng` from flowtrain's
very draws (bench/flowtrain_rng.py): its first weights for the seed and its shuffle of each
epoch, for a paired comparison with `flowtrain train flows/orders.yaml --seed N`.
"""
import time

START = time.perf_counter()  # before `import torch`: flowtrain's time includes its start-up too

import argparse  # noqa: E402
import copy  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from torch_bench import print_metrics, task_metrics  # noqa: E402

MARKERS = {"", "NA", "NaN", "null"}  # data.missing's default: a label cell equal to one is missing

# inputs: of flows/orders.yaml, in its order (which is also the trunk's `from:` order).
NUMERIC = [  # name, columns, normalize, missing
    ("basket", ["items", "total_price", "discount_pct", "weight_kg", "promised_days"], "standard", "mean"),
    ("customer", ["customer_age", "account_days", "past_orders", "past_returns"], "standard", "mean"),
    ("logistics", ["distance_km", "warehouse_load"], "minmax", "error"),
    ("weather", ["temperature_c", "wind_kmh"], "standard", "zero"),
]
CATEGORY = [  # name (= column), encoding, embedding width, min_count
    ("carrier", "embedding", 4, 1),
    ("category", "embedding", 4, 1),
    ("country", "one_hot", 0, 200),
    ("payment", "one_hot", 0, 1),
    ("channel", "one_hot", 0, 1),
]
FROM = ["basket", "customer", "logistics", "weather", "carrier", "category", "country", "payment", "channel"]

# flow: every task with its column, type, loss weight and options. Preconditions are below.
TASKS = {
    "cancelled": dict(type="binary"),
    "cancel_reason": dict(type="classification", classes=["customer_request", "payment_failed", "out_of_stock", "fraud"]),
    "delivery.shipped_late": dict(type="binary"),
    "delivery.delay_days": dict(type="regression", loss="huber"),
    "delivery.problems": dict(type="multilabel", labels=["damaged", "wrong_item", "missing_parts"], weight=0.5),
    "delivery.rating": dict(type="bounded_regression", scale=5.0),
    "delivery.problems_reported": dict(type="binary"),
}
# Effective preconditions (docs/semantics.md): the nested flow's `when: not cancelled` and'ed
# with the task's own. Each is a list of (task, value) atoms that must all be true; an atom about
# a task that does not count on the row (label missing or its own precondition failing) is
# unknown, and `and` with an unknown is never true. Listed in evaluation order.
PRECONDITIONS = {
    "cancelled": [],
    "cancel_reason": [("cancelled", 1)],
    "delivery.shipped_late": [("cancelled", 0)],
    "delivery.problems_reported": [("cancelled", 0)],
    "delivery.problems": [("cancelled", 0)],
    "delivery.delay_days": [("cancelled", 0), ("delivery.shipped_late", 1)],
    "delivery.rating": [("cancelled", 0), ("delivery.problems_reported", 0)],
}
EPOCHS, BATCH, LR, WEIGHT_DECAY, CLIP_NORM = 10, 256, 0.002, 0.01, 5.0
STEP_SIZE, GAMMA, DWA_TEMPERATURE = 4, 0.5, 2.0


def read(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    return {name: [r[i] for r in rows] for i, name in enumerate(header)}, len(rows)


def number(text):
    """A finite number, or None (an empty or unreadable cell)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Encoder:
    """flowtrain's SplitEncoder: statistics from the training split, applied to every split."""

    def __init__(self, train):
        self.numeric = {}
        for name, columns, normalize, missing in NUMERIC:
            stats = []
            for column in columns:
                cells = train[column]
                values = np.array([v for v in map(number, cells) if v is not None], dtype=np.float64)
                had_missing = any(c.strip() == "" for c in cells)
                mean = values.mean() if len(values) else 0.0
                deviation = values.std() if len(values) else 1.0  # population deviation
                if normalize == "standard":
                    offset, scale = mean, (deviation if deviation > 0 else 1.0)
                else:  # minmax
                    low, high = (values.min(), values.max()) if len(values) else (0.0, 1.0)
                    offset, scale = low, (high - low if high > low else 1.0)
                stats.append(dict(column=column, mean=np.float32(mean), offset=np.float32(offset),
                                  scale=np.float32(scale), indicator=had_missing and missing == "mean"))
            self.numeric[name] = stats
        self.vocabularies = {}
        for name, _, _, min_count in CATEGORY:
            counts = {}
            for value in train[name]:  # an empty cell is a value of its own
                counts[value] = counts.get(value, 0) + 1
            self.vocabularies[name] = ["<unknown>"] + sorted(v for v, c in counts.items() if c >= min_count)
        self.regression = {}
        for path, spec in TASKS.items():
            if spec["type"] == "regression":
                values = np.array([number(c) for c in train[path] if c not in MARKERS], dtype=np.float64)
                mean = values.mean() if len(values) else 0.0
                variance = values.var() if len(values) else 0.0
                self.regression[path] = (mean, math.sqrt(variance) if variance > 0 else 1.0)

    def inputs(self, table, n, file):
        """The trunk's input pieces in `from:` order: float tensors, and id tensors for embeddings."""
        pieces = {}
        for name, _, _, missing in NUMERIC:
            stats = self.numeric[name]
            indicators = [s for s in stats if s["indicator"]]
            out = np.zeros((n, len(stats) + len(indicators)), dtype=np.float32)
            for c, s in enumerate(stats):
                for r, cell in enumerate(table[s["column"]]):
                    value = number(cell)
                    if value is not None:
                        value = np.float32(value)
                    elif cell.strip() == "":
                        if missing == "error":
                            raise SystemExit(f"{file}: row {r + 2}: '{s['column']}' is empty, and input '{name}' "
                                             "says missing: error")
                        value = s["mean"] if missing == "mean" else np.float32(0)
                        if s["indicator"]:
                            out[r, len(stats) + indicators.index(s)] = 1
                    else:
                        raise SystemExit(f"{file}: row {r + 2}: '{cell}' is not a finite number")
                    out[r, c] = (value - s["offset"]) / s["scale"]
            pieces[name] = torch.from_numpy(out)
        for name, encoding, _, _ in CATEGORY:
            index = {v: i for i, v in enumerate(self.vocabularies[name])}
            ids = torch.tensor([index.get(v, 0) for v in table[name]], dtype=torch.long)
            pieces[name] = ids if encoding == "embedding" else F.one_hot(ids, len(index)).float()
        return pieces

    def labels(self, table, n, file):
        """Per task: targets (as trained), label values in label units (for metrics) and the
        mask of rows it counts on (label present and effective precondition true)."""
        present, values, targets = {}, {}, {}
        for path, spec in TASKS.items():
            cells = table[path]
            present[path] = torch.tensor([c not in MARKERS for c in cells])
            kind = spec["type"]
            if kind == "binary":
                parse = {"1": 1.0, "true": 1.0, "yes": 1.0, "0": 0.0, "false": 0.0, "no": 0.0}
                v = [parse[c.lower()] if c not in MARKERS else 0.0 for c in cells]
                targets[path] = values[path] = torch.tensor(v)
            elif kind == "classification":
                index = {c: i for i, c in enumerate(spec["classes"])}
                targets[path] = values[path] = torch.tensor([index[c] if c not in MARKERS else 0 for c in cells])
            elif kind == "multilabel":
                index = {c: i for i, c in enumerate(spec["labels"])}
                t = torch.zeros(n, len(index))
                for r, c in enumerate(cells):
                    if c not in MARKERS and c != "none":
                        for name in c.split("|"):
                            t[r, index[name]] = 1
                targets[path] = values[path] = t
            else:
                v = torch.tensor([number(c) if c not in MARKERS else 0.0 for c in cells], dtype=torch.float64)
                values[path] = v
                if kind == "bounded_regression":
                    targets[path] = (v / spec["scale"]).float()
                else:
                    mean, deviation = self.regression[path]
                    targets[path] = ((v - mean) / deviation).float()
        counts = {}
        for path, atoms in PRECONDITIONS.items():
            counted = present[path].clone()
            for other, want in atoms:
                counted &= counts[other] & ((values[other] >= 0.5) == bool(want))
            counts[path] = counted
        return targets, values, counts


def load(path, encoder=None):
    table, n = read(path)
    encoder = encoder or Encoder(table)
    return encoder, dict(n=n, inputs=encoder.inputs(table, n, path), labels=encoder.labels(table, n, path))


class OrdersNet(nn.Module):
    """trunk.shared: dense 128, relu, layernorm, dense 64, relu over the concatenated inputs;
    each task's output layer on it (delay_days: dense 32, relu first). Weights as PyTorch
    constructs the layers, or with `flowtrain_init` as flowtrain starts them: He normal before a
    ReLU, Glorot uniform otherwise, biases 0 (embeddings are N(0, 1) either way)."""

    def __init__(self, widths, vocabularies, flowtrain_init=False):
        super().__init__()
        self.flowtrain_init = flowtrain_init
        self.embeddings = nn.ModuleDict({name: nn.Embedding(len(vocabularies[name]), dim)
                                         for name, encoding, dim, _ in CATEGORY if encoding == "embedding"})
        features = sum(widths[name] for name in FROM)
        self.trunk = nn.Sequential(self.dense(features, 128, relu=True), nn.ReLU(), nn.LayerNorm(128, eps=1e-5),
                                   self.dense(128, 64, relu=True), nn.ReLU())
        units = {"binary": 1, "regression": 1, "bounded_regression": 1}
        self.heads = nn.ModuleDict()
        for path, spec in TASKS.items():
            out = units.get(spec["type"]) or len(spec.get("classes") or spec["labels"])
            key = path.replace(".", "/")
            if path == "delivery.delay_days":
                self.heads[key] = nn.Sequential(self.dense(64, 32, relu=True), nn.ReLU(), self.dense(32, out))
            else:
                self.heads[key] = self.dense(64, out)

    def dense(self, i, o, relu=False):
        layer = nn.Linear(i, o)
        if not self.flowtrain_init:
            return layer
        if relu:
            nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")  # std √(2 / fan_in)
        else:
            nn.init.xavier_uniform_(layer.weight)  # ±√(6 / (fan_in + fan_out))
        nn.init.zeros_(layer.bias)
        return layer

    def forward(self, pieces):
        x = torch.cat([self.embeddings[n](pieces[n]) if n in self.embeddings else pieces[n] for n in FROM], dim=1)
        h = self.trunk(x)
        return {path: self.heads[path.replace(".", "/")](h) for path in TASKS}


def flowtrain_name(key):
    """The name in flowtrain's model.safetensors of an OrdersNet state_dict entry."""
    parts = key.split(".")
    if parts[0] == "embeddings":
        return f"inputs.{parts[1]}.embedding.weight"
    if parts[0] == "trunk":
        return {"0": "trunk.shared.0.dense", "2": "trunk.shared.2.layernorm", "3": "trunk.shared.3.dense"}[parts[1]] \
            + "." + parts[2]
    path = parts[1].replace("/", ".")
    if len(parts) == 3:  # a head that is only its output layer
        return f"heads.{path}.out.{parts[2]}"
    return f"heads.{path}.{'0.dense' if parts[2] == '0' else 'out'}.{parts[3]}"


def task_losses(outputs, targets, counts):
    """Per task: (mean loss over the rows it counts on, 0 when none; rows counted)."""
    losses = {}
    for path, spec in TASKS.items():
        z, y, m = outputs[path], targets[path], counts[path]
        kind, n = spec["type"], int(m.sum())
        if n == 0:
            losses[path] = (z.sum() * 0, 0)
            continue
        if kind == "binary":
            loss = F.binary_cross_entropy_with_logits(z[m, 0], y[m])
        elif kind == "classification":
            loss = F.cross_entropy(z[m], y[m])
        elif kind == "multilabel":  # the mean over every kept (row, label) element
            loss = F.binary_cross_entropy_with_logits(z[m], y[m])
        elif kind == "bounded_regression":  # sigmoid, then squared error (the default loss)
            loss = ((torch.sigmoid(z[m, 0]) - y[m]) ** 2).mean()
        else:  # huber, delta 1, on the standardised target
            loss = F.huber_loss(z[m, 0], y[m], delta=1.0)
        losses[path] = (loss, n)
    return losses


class DynamicWeightAverage:
    """Sources/Engine/Losses/DynamicWeightAverage.swift: weight_k = w_k · λ_k / n_k, with n_k the
    task's mean loss over its first epoch (within it, over the batches so far, this one
    included) and λ_k = K·softmax(r / T), r_k = L̄_k(e−1) / L̄_k(e−2), from the third epoch on."""

    def __init__(self):
        self.sums = {p: [0.0, 0] for p in TASKS}
        self.previous = {p: math.nan for p in TASKS}
        self.before = {p: math.nan for p in TASKS}
        self.first = {p: math.nan for p in TASKS}
        self.balance = {p: 1.0 for p in TASKS}
        self.epochs = 0

    def weights(self, losses):
        weights = {}
        for path, (loss, n) in losses.items():
            s = self.sums[path]
            if n > 0:
                s[0] += loss.item() * n
                s[1] += n
            scale = self.first[path] if not math.isnan(self.first[path]) else (s[0] / s[1] if s[1] > 0 else 1.0)
            weights[path] = TASKS[path].get("weight", 1.0) * self.balance[path] / max(scale, 1e-8)
        return weights

    def end_epoch(self):
        ratios = {}
        for path, s in self.sums.items():
            if s[1] > 0:
                self.before[path], self.previous[path] = self.previous[path], s[0] / s[1]
                if math.isnan(self.first[path]):
                    self.first[path] = self.previous[path]
            self.sums[path] = [0.0, 0]
            prev, before = self.previous[path], self.before[path]
            ratios[path] = prev / before if not math.isnan(prev) and not math.isnan(before) and before > 0 else 1.0
        self.epochs += 1
        if self.epochs < 2:
            return
        largest = max(ratios.values())
        exps = {p: math.exp((r - largest) / DWA_TEMPERATURE) for p, r in ratios.items()}
        total = sum(exps.values())
        self.balance = {p: len(TASKS) * e / total for p, e in exps.items()}


def select(split, rows):
    return ({k: v[rows] for k, v in split["inputs"].items()}, {k: v[rows] for k, v in split["labels"][0].items()},
            {k: v[rows] for k, v in split["labels"][2].items()})


def fixed_weight_loss(model, split):
    """The validation loss flowtrain selects the best epoch by: Σ w_k · (task k's mean loss)."""
    model.eval()
    with torch.no_grad():
        losses = task_losses(model(split["inputs"]), split["labels"][0], split["labels"][2])
    return sum(TASKS[p].get("weight", 1.0) * float(loss) for p, (loss, _) in losses.items())


def test_metrics(model, split, encoder):
    """Every task's metrics over the rows it counts on (ground-truth preconditions), in label units."""
    model.eval()
    with torch.no_grad():
        outputs = model(split["inputs"])
    _, values, counts = split["labels"]
    table = []
    for path, spec in TASKS.items():
        mean, deviation = encoder.regression.get(path, (0.0, 1.0))
        table += [(path, metric, value, rows) for metric, value, rows in
                  task_metrics(spec["type"], outputs[path], values[path].numpy(), counts[path],
                               scale=spec.get("scale", 1.0), mean=mean, deviation=deviation)]
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="datasets/orders")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--flowtrain-init", action="store_true",
                        help="diagnosis: flowtrain's initialisation scheme instead of PyTorch's defaults")
    parser.add_argument("--flowtrain-rng", action="store_true",
                        help="diagnosis: flowtrain's very first weights and shuffles for the seed instead of torch's")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    reading = time.perf_counter()
    encoder, train = load(os.path.join(args.data, "train.csv"))
    _, valid = load(os.path.join(args.data, "valid.csv"), encoder)
    _, test = load(os.path.join(args.data, "test.csv"), encoder)
    loaded = time.perf_counter()
    widths = {name: (1 if t.dim() == 1 else t.shape[1]) for name, t in train["inputs"].items()}
    for name, _, dim, _ in CATEGORY:
        if dim:
            widths[name] = dim
    model = OrdersNet(widths, encoder.vocabularies, flowtrain_init=args.flowtrain_init)
    if args.flowtrain_rng:
        import flowtrain_rng
        values = flowtrain_rng.initial_parameters(args.seed, sum(widths[name] for name in FROM))
        model.load_state_dict({key: torch.from_numpy(values[flowtrain_name(key)].copy())
                               for key in model.state_dict()})
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=WEIGHT_DECAY)
    dwa = DynamicWeightAverage()
    n = train["n"]
    batch = min(BATCH, n)
    steps = max(1, n // batch)  # full batches only
    best = (0, math.inf, None)
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:  # step decay, at epoch boundaries
            group["lr"] = LR * GAMMA ** (epoch // STEP_SIZE)
        model.train()
        if args.flowtrain_rng:
            order = torch.tensor(flowtrain_rng.epoch_order(n, epoch + 1, args.seed))
        else:
            order = torch.randperm(n)
        train_loss, seen = 0.0, 0
        for s in range(steps):
            inputs, targets, counts = select(train, order[s * batch:(s + 1) * batch])
            optimizer.zero_grad(set_to_none=True)
            losses = task_losses(model(inputs), targets, counts)
            weights = dwa.weights(losses)
            sum(weights[p] * loss for p, (loss, _) in losses.items()).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP_NORM)
            optimizer.step()
            train_loss += sum(TASKS[p].get("weight", 1.0) * loss.item() for p, (loss, _) in losses.items()) * batch
            seen += batch
        dwa.end_epoch()
        valid_loss = fixed_weight_loss(model, valid)
        mark = ""
        if valid_loss < best[1]:
            best = (epoch + 1, valid_loss, copy.deepcopy(model.state_dict()))
            mark = "  (best)"
        print(f"epoch {epoch + 1}/{args.epochs}  train loss {train_loss / seen:.4f}  valid loss {valid_loss:.4f}{mark}",
              flush=True)
    trained = time.perf_counter()
    model.load_state_dict(best[2])
    table = test_metrics(model, test, encoder)
    end = time.perf_counter()
    print(f"pytorch read and preprocess: {loaded - reading:.1f} s ({train['n']} train, {valid['n']} valid, "
          f"{test['n']} test rows)")
    print(f"pytorch train loop: {trained - loaded:.1f} s; test pass: {end - trained:.2f} s; best epoch {best[0]}")
    print(f"pytorch training: {end - START:.1f} s wall time (whole script, start-up and reading included)")
    print_metrics(table)


if __name__ == "__main__":
    main()
