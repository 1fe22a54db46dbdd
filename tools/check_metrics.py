"""Recomputes every metric in a flowtrain run's evaluation.csv with scikit-learn, as
`make check-metrics` does: `check_metrics.py RUN_DIR... [--split NAME]`.

From RUN/flow.yaml, state.json, thresholds.yaml, calibration.yaml, predictions.csv and the split's data it rebuilds
which rows each task counts on under both precondition modes (docs/semantics.md: Kleene logic on
the labels, or on the decoded predictions), checks that predictions.csv is self-consistent
(blank exactly where a task was not reached; decoded agreeing with activated, logits, the
temperatures and the thresholds), then compares every evaluation.csv row with scikit-learn: |a-b| <= 1e-6*max(1,|a|)
and the same num_samples. Exits 1 on any disagreement."""
import argparse
import csv
import json
import os
import re
import sys

import numpy as np
import yaml
from sklearn import metrics as skm

DEFAULT_MISSING = ["", "NA", "NaN", "null"]
BINARY = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
TOKEN = re.compile(r"\s*(?:([\w-]+)|'([^']*)'|\"([^\"]*)\"|(==|!=|[()\[\],.]))")


class CheckError(Exception):
    """A run that cannot be checked at all (unreadable or inconsistent files)."""


def near(ours, theirs):
    """The agreement rule, elementwise: |a-b| <= 1e-6*max(1,|a|), a being flowtrain's value."""
    return np.abs(ours - theirs) <= 1e-6 * np.maximum(1.0, np.abs(ours))


# ---- the flow: tasks, `when:` expressions, name resolution --------------------------------------

def parse_when(text):
    """Parses a `when:` expression into nested tuples: ('or'|'and', a, b), ('not', a),
    ('is', path) for a bare path, ('in', path, [classes]) for `==` and `in`."""
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise CheckError(f"when: cannot read {text!r} at column {pos + 1}")
        word, q1, q2, sym = m.groups()
        tokens.append(("w", word) if word else ("q", q1 if q1 is not None else q2) if sym is None else ("s", sym))
        pos = m.end()
    at = [0]

    def peek(kind=None, want=None):
        tok = tokens[at[0]] if at[0] < len(tokens) else None
        return tok if tok and kind in (None, tok[0]) and want in (None, tok[1]) else None

    def take(kind=None, want=None):
        tok = peek(kind, want)
        if tok is None:
            raise CheckError(f"when: cannot parse {text!r}")
        at[0] += 1
        return tok[1]

    def name():  # a class: a bare word or quoted
        return take("q") if peek("q") else take("w")

    def binary(op, sub):
        left = sub()
        while peek("w", op):
            take()
            left = (op, left, sub())
        return left

    def unary():
        if peek("w", "not"):
            take()
            return ("not", unary())
        return atom()

    def classes():
        take("s", "[")
        names = [name()]
        while peek("s", ","):
            take()
            names.append(name())
        take("s", "]")
        return names

    def atom():
        if peek("s", "("):
            take()
            inner = binary("or", lambda: binary("and", unary))
            take("s", ")")
            return inner
        path = [take("w")]
        while peek("s", "."):
            take()
            path.append(take("w"))
        path = ".".join(path)
        if peek("s", "==") or peek("s", "!="):
            negate = take() == "!="
            node = ("in", path, [name()])
            return ("not", node) if negate else node
        if peek("w", "in"):
            take()
            return ("in", path, classes())
        if peek("w", "not") and at[0] + 1 < len(tokens) and tokens[at[0] + 1] == ("w", "in"):
            take(), take()
            return ("not", ("in", path, classes()))
        return ("is", path)

    tree = binary("or", lambda: binary("and", unary))
    if at[0] != len(tokens):
        raise CheckError(f"when: unexpected {tokens[at[0]][1]!r} in {text!r}")
    return tree


def load_tasks(flow):
    """The flow's tasks in file order: {path: {type, scale, conds}}, conds being every `when:`
    on the way down (to be and-ed), with each name resolved to a full task path."""
    tasks, nodes = {}, set()

    def walk(mapping, prefix, inherited):
        for name, spec in mapping.items():
            path = prefix + [name]
            nodes.add(".".join(path))
            conds = inherited + ([(parse_when(spec["when"]), prefix)] if "when" in spec else [])
            if "flow" in spec and "type" not in spec:
                walk(spec["flow"], path, conds)
            else:
                tasks[".".join(path)] = {"type": spec["type"], "scale": float(spec.get("scale", 1)), "conds": conds}

    walk(flow["flow"], [], [])
    for task in tasks.values():
        task["conds"] = [resolve(expr, scope, tasks, nodes) for expr, scope in task["conds"]]
    return tasks


def resolve(expr, scope, tasks, nodes):
    """Rewrites every path in `expr` to a full task path: a full dotted path from the root
    always works; otherwise the scope's siblings first, then each enclosing flow's."""
    if expr[0] in ("or", "and"):
        return (expr[0], resolve(expr[1], scope, tasks, nodes), resolve(expr[2], scope, tasks, nodes))
    if expr[0] == "not":
        return ("not", resolve(expr[1], scope, tasks, nodes))
    name, base = expr[1], list(scope)
    found = name if "." in name and name in nodes else None
    while found is None:
        if ".".join(base + [name]) in nodes:
            found = ".".join(base + [name])
        elif not base:
            raise CheckError(f"when: unknown task {name!r}")
        else:
            base.pop()
    want = "binary" if expr[0] == "is" else "classification"
    if tasks.get(found, {}).get("type") != want:
        raise CheckError(f"when: {name!r} ({found}) is not a {want} task")
    return (expr[0], found) + expr[2:]


def kleene(expr, atom):
    """Evaluates `expr` in three-valued logic; returns the (true, false) row masks."""
    if expr[0] == "not":
        t, f = kleene(expr[1], atom)
        return f, t
    if expr[0] in ("and", "or"):
        (at, af), (bt, bf) = kleene(expr[1], atom), kleene(expr[2], atom)
        return (at & bt, af | bf) if expr[0] == "and" else (at | bt, af & bf)
    known, value = atom(expr[1])
    hit = value if expr[0] == "is" else np.isin(value, expr[2])
    return known & hit, known & ~hit


def counting_masks(tasks, present, values):
    """Rows each task counts on, given each task's values in one source (labels or decoded
    predictions) and `present` (the label is there): a task's value is known where its label
    is present and its composed precondition is true on the same source."""
    memo = {}

    def counts(path, stack=()):
        if path not in memo:
            if path in stack:
                raise CheckError(f"precondition cycle through {path}")
            atom = lambda p: (counts(p, stack + (path,)), values[p])
            holds = np.ones(len(present[path]), dtype=bool)
            for cond in tasks[path]["conds"]:
                holds &= kleene(cond, atom)[0]
            memo[path] = holds & present[path]
        return memo[path]

    return {path: counts(path) for path in tasks}


# ---- the run's files ----------------------------------------------------------------------------

def read_csv(path):
    """An RFC 4180 file as (header, rows)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise CheckError(f"{path}: empty file")
    return rows[0], rows[1:]


def load_labels(path, tasks, names, rows, missing):
    """Per task, the `present` mask and the parsed labels of the given data rows."""
    header, data = read_csv(path)
    if max(rows, default=-1) >= len(data):
        raise CheckError(f"predictions.csv names row {max(rows)}, {path} has {len(data)} rows")
    present, labels = {}, {}
    for task_path, task in tasks.items():
        if task_path not in header:
            raise CheckError(f"{path}: no column {task_path!r}")
        cells = [data[r][header.index(task_path)] for r in rows]
        present[task_path] = np.array([c not in missing for c in cells])
        kind, parsed = task["type"], []
        for r, cell in zip(rows, cells):
            if cell in missing:
                parsed.append(None)
            elif kind == "binary":
                if cell.lower() not in BINARY:
                    raise CheckError(f"{path}: row {r}: {task_path}: not a binary label {cell!r}")
                parsed.append(BINARY[cell.lower()])
            elif kind in ("classification", "multilabel"):
                given = [cell] if kind == "classification" else [] if cell == "none" else cell.split("|")
                unknown = [g for g in given if g not in names[task_path]]
                if unknown:
                    raise CheckError(f"{path}: row {r}: {task_path}: {unknown[0]!r} is not one of {names[task_path]}")
                parsed.append(cell if kind == "classification" else [n in given for n in names[task_path]])
            else:
                parsed.append(float(cell))
        blank = {"binary": False, "classification": "", "multilabel": [False] * len(names.get(task_path, []))}
        labels[task_path] = np.array([blank.get(kind, np.nan) if p is None else p for p in parsed],
                                     dtype=object if kind == "classification" else None)
    return present, labels


def load_thresholds(run, tasks, names):
    """float32 thresholds per binary task (a scalar) and multilabel task (one per label)."""
    path = os.path.join(run, "thresholds.yaml")
    given = {}
    if os.path.exists(path):
        with open(path) as f:
            given = (yaml.load(f, Loader=yaml.BaseLoader) or {}).get("tasks") or {}
    unknown = [p for p in given if tasks.get(p, {}).get("type") not in ("binary", "multilabel")]
    if unknown:
        raise CheckError(f"{path}: {unknown[0]!r} is not a binary or multilabel task")
    out = {}
    for task_path, task in tasks.items():
        entry = given.get(task_path, {})
        if task["type"] == "binary":
            out[task_path] = np.float32(entry.get("threshold", "0.5"))
        elif task["type"] == "multilabel":
            per = entry.get("labels", {})
            if set(per) - set(names[task_path]):
                raise CheckError(f"{path}: {task_path}: unknown labels {sorted(set(per) - set(names[task_path]))}")
            out[task_path] = np.array([per.get(n, {}).get("threshold", "0.5") for n in names[task_path]], np.float32)
    return out


def load_temperatures(run, tasks):
    """float32 temperature per calibrated task from calibration.yaml (1 for the others)."""
    path = os.path.join(run, "calibration.yaml")
    given = {}
    if os.path.exists(path):
        with open(path) as f:
            given = (yaml.load(f, Loader=yaml.BaseLoader) or {}).get("tasks") or {}
    unknown = [p for p in given if tasks.get(p, {}).get("type") not in ("binary", "multilabel", "classification")]
    if unknown:
        raise CheckError(f"{path}: {unknown[0]!r} is not a binary, multilabel or classification task")
    return {p: np.float32(given.get(p, {}).get("temperature", "1")) for p in tasks}


def parse_numbers(cells, width):
    """`|`-joined float32 lists as an (n, width) array, NaN rows where a cell is blank."""
    out = np.full((len(cells), width), np.nan, dtype=np.float32)
    for i, cell in enumerate(cells):
        if cell != "":
            parts = cell.split("|")
            if len(parts) != width:
                raise CheckError(f"predictions.csv: {cell!r} has {len(parts)} values, expected {width}")
            out[i] = [np.float32(p) for p in parts]
    return out


# ---- predictions: activations, decisions, self-consistency -------------------------------------

def activate(kind, logits, temperature):
    """The task's activation from its logits divided by its temperature, in float32."""
    if kind == "regression":
        return logits
    if kind == "bounded_regression":
        return np.float32(1) / (np.float32(1) + np.exp(-logits))
    scaled = logits / temperature
    if kind == "classification":
        e = np.exp(scaled - scaled.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    with np.errstate(over="ignore"):  # exp(-z) = inf gives σ = 0, as in float32 arithmetic anywhere
        return np.float32(1) / (np.float32(1) + np.exp(-scaled))


def decide(path, task, names, thresholds, stats, act, logits, text):
    """The decision per row (the value preconditions and metrics use) from the activations,
    and the decoded text expected where it is written (None: compared numerically)."""
    kind = task["type"]
    if kind == "binary":
        decision = act[:, 0] >= thresholds[path]
        return decision, np.where(decision, "1", "0").astype(object)
    if kind == "classification":
        decision = np.array(names[path], dtype=object)[act.argmax(axis=1)]
        tie = np.array([d in names[path] and a[names[path].index(d)] == a.max() for d, a in zip(text, act)], bool)
        decision[tie] = text[tie]  # an argmax tie may go either way
        return decision, decision
    if kind == "multilabel":
        decision = act >= thresholds[path]
        return decision, np.array(["|".join(n for n, on in zip(names[path], d) if on) or "none" for d in decision], object)
    if kind == "bounded_regression":
        return act[:, 0] * np.float32(task["scale"]), None
    return logits[:, 0] * np.float32(stats[path]["deviation"]) + np.float32(stats[path]["mean"]), None


def load_predictions(run, tasks, names, thresholds, temperatures, stats):
    """The data rows of predictions.csv, and per task: where decoded and activated are
    written, the activations (the written ones, else from the logits), the decisions, and the
    self-consistency problems found."""
    header, data = read_csv(os.path.join(run, "predictions.csv"))
    col = {name: i for i, name in enumerate(header)}
    rows = [int(r[col["row"]]) for r in data]
    preds = {}
    for path, task in tasks.items():
        kind = task["type"]
        width = len(names[path]) if kind in ("classification", "multilabel") else 1
        for part in ("decoded", "activated", "logits"):
            if f"{path}.{part}" not in col:
                raise CheckError(f"predictions.csv: no column {path}.{part}")
        text = np.array([r[col[f"{path}.decoded"]] for r in data], dtype=object)
        written = parse_numbers([r[col[f"{path}.activated"]] for r in data], width)
        logits = parse_numbers([r[col[f"{path}.logits"]] for r in data], width)
        if np.isnan(logits).any():
            raise CheckError(f"predictions.csv: {path}.logits is blank or NaN on some row")
        own = activate(kind, logits, temperatures[path])
        has = ~np.isnan(written).any(axis=1)
        act = np.where(has[:, None], written, own)
        problems = []
        off = has & ~near(own, written).all(axis=1)
        if off.any():
            problems.append(f"activated disagrees with the logits on {off.sum()} rows (row {rows[np.argmax(off)]})")
        if kind == "multilabel":  # compare label sets: put the decoded labels in label order
            order = {n: i for i, n in enumerate(names[path])}
            text = np.array(["|".join(sorted(d.split("|"), key=lambda n: order.get(n, len(order))))
                             if d not in ("", "none") else d for d in text], object)
        decision, expected = decide(path, task, names, thresholds, stats, act, logits, text)
        filled = text != ""
        if expected is None:  # regressions: the decoded number is the decision where written
            value = np.array([np.float32(d) if d else np.nan for d in text], np.float32)
            bad, expected = filled & ~near(decision, value), [f"{v:.9g}" for v in decision]
            decision = np.where(filled, value, decision)
        else:
            bad = filled & (text != expected)
        if bad.any():
            i = int(np.argmax(bad))
            problems.append(f"decoded disagrees with activated and thresholds on {bad.sum()} rows "
                            f"(row {rows[i]}: {text[i]!r}, expected {expected[i]!r})")
        preds[path] = {"decoded": filled, "activated": has, "act": act, "decision": decision, "problems": problems}
    return rows, preds


# ---- metrics ------------------------------------------------------------------------------------

def expected_calibration_error(confidence, outcome, bins=15):
    """Σ_b n_b/n |mean outcome − mean confidence| over bins min(⌊15 p⌋, 14) (docs/semantics.md)."""
    confidence = confidence.astype(np.float64)
    index = np.minimum((np.clip(confidence, 0, 1) * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            total += inside.sum() / len(confidence) * abs(outcome[inside].mean() - confidence[inside].mean())
    return total


def calibration_metrics(kind, y, act):
    """expected_calibration_error and brier_score of a binary, multilabel or classification task."""
    act = act.astype(np.float64)
    if kind == "binary":
        return {"expected_calibration_error": expected_calibration_error(act[:, 0], y.astype(float)),
                "brier_score": skm.brier_score_loss(y.astype(int), act[:, 0])}
    if kind == "multilabel":
        y = np.stack(y).astype(float)
        return {"expected_calibration_error": expected_calibration_error(act.ravel(), y.ravel()),
                "brier_score": float(((act - y) ** 2).mean())}
    onehot = np.eye(act.shape[1])[y]
    top = act.argmax(axis=1)
    return {"expected_calibration_error": expected_calibration_error(act[np.arange(len(y)), top], (top == y).astype(float)),
            "brier_score": float(((act - onehot) ** 2).sum(axis=1).mean())}


def sklearn_metrics(kind, y, pred, act, n_names):
    """{metric name: value} for one task on its counted rows, as evaluation.csv names them."""
    out = calibration_metrics(kind, y, act) if kind in ("binary", "multilabel", "classification") else {}
    if kind == "binary":
        y = y.astype(int)
        out["accuracy"] = skm.accuracy_score(y, pred)
        for name, fn in [("precision", skm.precision_score), ("recall", skm.recall_score), ("f1_score", skm.f1_score)]:
            out[name] = fn(y, pred, zero_division=0)
        if len(set(y)) == 2:
            out["roc_auc"] = skm.roc_auc_score(y, act[:, 0])
    elif kind == "classification":
        out["accuracy_1"] = skm.accuracy_score(y, pred)
        for k in (3, 5):
            if n_names > k:
                out[f"accuracy_{k}"] = skm.top_k_accuracy_score(y, act, k=k, labels=list(range(n_names)))
        for name, fn in [("f1_score", skm.f1_score), ("precision", skm.precision_score), ("recall", skm.recall_score)]:
            out[name] = fn(y, pred, average="macro", zero_division=0)
    elif kind == "multilabel":
        y, pred = np.stack(y).astype(int), pred.astype(int)
        out["accuracy"] = skm.accuracy_score(y.ravel(), pred.ravel())
        out["f1_score_micro"] = skm.f1_score(y, pred, average="micro", zero_division=0)
        occurring = [j for j in range(y.shape[1]) if y[:, j].any() or pred[:, j].any()]
        out["f1_score_macro"] = (skm.f1_score(y, pred, average="macro", labels=occurring, zero_division=0)
                                 if occurring else 0.0)
    else:
        pred = pred.astype(np.float64)
        out["mean_absolute_error"] = skm.mean_absolute_error(y, pred)
        out["rmse"] = float(np.sqrt(skm.mean_squared_error(y, pred)))
        if np.ptp(y) > 0:
            out["r2"] = skm.r2_score(y, pred)
    return out


def reported_metrics(run, split, failures):
    """evaluation.csv's rows for `split`: {(task, metric, mode): (value, num_samples)}."""
    header, rows = read_csv(os.path.join(run, "evaluation.csv"))
    reported = {}
    for r in (dict(zip(header, r)) for r in rows):
        key = (r["task_path"], r["metric_name"], r["preconditions"])
        if r["split"] == split:
            if key in reported:
                failures.append(f"{run}: evaluation.csv repeats {key}")
            reported[key] = (float(r["metric_res"]), int(r["num_samples"]))
    return reported


def check_predictions(run, tasks, preds, reached, failures):
    """One line per task: predictions.csv blank exactly where the task was not reached, and
    consistent with itself (problems found while loading it)."""
    for path in tasks:
        p, where = preds[path], reached[path]
        for column in ("decoded", "activated"):
            if (p[column] != where).any():
                p["problems"].append(f"{column} is blank on {(~p[column] & where).sum()} reached rows, "
                                     f"filled on {(p[column] & ~where).sum()} unreached rows")
        print(f"{'FAIL' if p['problems'] else 'ok  '} {path} predictions: reached on {where.sum()}/{len(where)} rows" +
              ("".join(f"\n       {q}" for q in p["problems"]) or ", decoded agrees with activated and thresholds"))
        failures += [f"{run}: {path} predictions: {q}" for q in p["problems"]]


def compare_metrics(run, tasks, names, labels, preds, masks, reported, failures):
    """One line per task and mode: sklearn's metrics on the counted rows against evaluation.csv
    (value and num_samples); then any evaluation.csv row not computed here. Returns the count."""
    computed = set()
    for mode in ("ground_truth", "predicted"):
        for path, task in tasks.items():
            m, kind = masks[mode][path], task["type"]
            if not m.any():
                continue
            label, decision = labels[path][m], preds[path]["decision"][m]
            if kind == "classification":
                label, decision = ([names[path].index(c) for c in x] for x in (label, decision))
            n = int(m.sum()) * (len(names[path]) if kind == "multilabel" else 1)
            values = sklearn_metrics(kind, np.array(label), np.array(decision), preds[path]["act"][m],
                                     len(names.get(path, [])))
            bad = []
            for metric, value in values.items():
                computed.add((path, metric, mode))
                ours, count = reported.get((path, metric, mode), (None, None))
                if ours is None:
                    bad.append(f"{path} {metric} {mode}: missing from evaluation.csv (sklearn {value:.9g}, {n} rows)")
                elif not near(ours, value) or count != n:
                    bad.append(f"{path} {metric} {mode}: ours {ours:.9g} vs sklearn {value:.9g}, counts ours {count} vs {n}")
            summary = " ".join(f"{k}={v:.4g}" for k, v in values.items())
            print(f"{'FAIL' if bad else 'ok  '} {path} [{kind}] {mode}: {summary} on {n} samples" +
                  "".join(f"\n       {b}" for b in bad))
            failures += [f"{run}: {b}" for b in bad]
    for key in sorted(set(reported) - computed):
        line = f"{' '.join(key)}: in evaluation.csv ({reported[key][0]:.9g}, {reported[key][1]} rows), not computable here"
        print(f"FAIL {line}")
        failures.append(f"{run}: {line}")
    return len(computed)


def check_run(run, split):
    """Checks one run; returns (failure lines, number of metrics recomputed)."""
    with open(os.path.join(run, "flow.yaml")) as f:
        flow = yaml.load(f, Loader=yaml.BaseLoader)  # every scalar a string: no YAML 1.1 surprises
    with open(os.path.join(run, "state.json")) as f:
        stats_root = json.load(f, parse_float=np.float32)
    stats = stats_root["statistics"]
    tasks, names, data = load_tasks(flow), stats.get("classes", {}), flow["data"]
    if split is None:
        splits = {r[-1] for r in read_csv(os.path.join(run, "evaluation.csv"))[1]}
        if len(splits) != 1:
            raise CheckError(f"evaluation.csv holds splits {sorted(splits)}: pass --split")
        split = splits.pop()
    source = data["file"] if "file" in data else data[split]
    if not os.path.isabs(source):  # relative to the flow file it was trained from, else to RUN
        source = os.path.join(stats_root.get("flowDirectory", run), source)
    print(f"== {run}: split {split}, data {source}")

    failures = []
    rows, preds = load_predictions(run, tasks, names, load_thresholds(run, tasks, names), load_temperatures(run, tasks),
                                   stats.get("regression", {}))
    present, labels = load_labels(source, tasks, names, rows, data.get("missing", DEFAULT_MISSING))
    if len(set(rows)) != len(rows) or ("file" not in data and rows != list(range(len(read_csv(source)[1])))):
        failures.append(f"{run}: predictions.csv: rows are not " +
                        ("unique" if "file" in data else f"every row of {source} in order"))
        print(f"FAIL {failures[-1]}")
    reached = counting_masks(tasks, {p: np.ones(len(rows), bool) for p in tasks},
                             {p: preds[p]["decision"] for p in tasks})
    masks = {"ground_truth": counting_masks(tasks, present, labels),
             "predicted": {p: reached[p] & present[p] for p in tasks}}
    check_predictions(run, tasks, preds, reached, failures)
    reported = reported_metrics(run, split, failures)
    return failures, compare_metrics(run, tasks, names, labels, preds, masks, reported, failures)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--split", help="the split evaluation.csv and predictions.csv are about (default: the one in evaluation.csv)")
    args = parser.parse_args()
    failures, compared = [], 0
    for run in args.runs:
        try:
            found, n = check_run(run, args.split)
        except (CheckError, OSError, KeyError, IndexError, ValueError) as error:
            found, n = [f"{run}: cannot check: {type(error).__name__}: {error}"], 0
            print(f"FAIL {found[0]}")
        failures += found
        compared += n
    print(f"check-metrics: {len(args.runs)} runs, {compared} metrics recomputed with scikit-learn, "
          f"{len(failures)} failures")
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
