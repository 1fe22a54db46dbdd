"""Checks `flowtrain export` against `flowtrain predict` with ONNX Runtime (`make check-onnx`).

For a run directory and a CSV with the flow's input columns: exports the run, checks the model
with onnx.checker (full_check), feeds every row to ONNX Runtime as a user would (numbers with NaN
for blanks, category strings, 0-255 pixels from the PNG files, token ids from the vocabulary in
the model's metadata) and compares with `flowtrain predict` on the same file:
  - `<path>.reached` is false exactly where predict leaves the task blank;
  - `<path>.decoded` equals predict's decision (the same bool, class or label set; a decision
    may differ only at a tie, where predict's score is within the tolerance of the threshold or
    of the runner-up class); a number within the tolerance times its unit (scale, deviation);
  - `<path>.activated` is within --tolerance (default 1e-5) of predict's.
Prints the largest differences, ONNX Runtime's batch-1 latency (median over --latency-rows rows)
beside predict's time per row, and exits 1 on any mismatch.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

# ONNX Runtime's graph-optimisation notes are not this check's business.
ort.set_default_logger_severity(3)


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def feeds(metadata_inputs, rows, data_dir):
    """One array per graph input, from the CSV rows, as a serving client would build them."""
    result = {}
    for entry in metadata_inputs:
        name, kind = entry["name"], entry["type"]
        if kind == "numeric":
            def number(cell):
                return float("nan") if cell.strip() == "" else float(cell)
            result[name] = np.array([[number(r[c]) for c in entry["columns"]] for r in rows], dtype=np.float32)
        elif kind == "category":
            result[name] = np.array([r[entry["column"]] for r in rows], dtype=object)
        elif kind == "image":
            from PIL import Image
            height, width, channels = entry["shape"]
            mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
            images = []
            for r in rows:
                path = r[entry["column"]]
                image = np.asarray(Image.open(path if os.path.isabs(path) else os.path.join(data_dir, path)).convert(mode))
                images.append(image.reshape(height, width, channels))
            result[name] = np.stack(images).astype(np.float32)
        elif kind == "tokens":
            # The reserved ids (padding, unknown, mask) are no text's tokens.
            index = {token: i for i, token in enumerate(entry["vocabulary"]) if i >= 3}
            length = entry["shape"][0]
            ids = np.zeros((len(rows), length), dtype=np.int64)
            for i, r in enumerate(rows):
                text = r[entry["column"]]
                if entry.get("lowercase"):
                    text = text.lower()
                tokens = list(text) if entry.get("tokenize") == "characters" else text.split()
                for t, token in enumerate(tokens[:length]):
                    ids[i, t] = index.get(token, 1)
            result[name] = ids
        else:
            raise SystemExit(f"input {name}: unknown type {kind}")
    return result


def run_model(session, inputs, batch):
    n = len(next(iter(inputs.values())))
    names = [o.name for o in session.get_outputs()]
    parts = {name: [] for name in names}
    for start in range(0, n, batch):
        outs = session.run(names, {k: v[start:start + batch] for k, v in inputs.items()})
        for name, value in zip(names, outs):
            parts[name].append(value)
    return {name: np.concatenate(values) for name, values in parts.items()}


def token_numbers(text):
    """A token classification's cell: per token, `|`-joined values; tokens separated by spaces."""
    return np.array([[float(x) for x in group.split("|")] for group in text.split()], dtype=np.float64).reshape(
        len(text.split()), -1)


def numbers(cell):
    return np.array([float(x) for x in cell.split("|")], dtype=np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("data")
    parser.add_argument("--flowtrain", default=".build/release/flowtrain")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--latency-rows", type=int, default=200)
    parser.add_argument("--opset", type=int, help="the operator set to export at (default: the exporter's)")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="check-onnx-")
    model_path = os.path.join(work, "model.onnx")
    opset = ["--opset", str(args.opset)] if args.opset else []
    subprocess.run([args.flowtrain, "export", args.run, "--out", model_path] + opset, check=True)
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    metadata = {p.key: p.value for p in model.metadata_props}
    inputs_meta = json.loads(metadata["flowtrain.inputs"])
    tasks = json.loads(metadata["flowtrain.tasks"])

    predictions_path = os.path.join(work, "predictions.csv")
    start = time.perf_counter()
    subprocess.run([args.flowtrain, "predict", args.run, "--data", args.data, "--out", predictions_path], check=True,
                   stderr=subprocess.DEVNULL)
    predict_seconds = time.perf_counter() - start
    predicted = read_rows(predictions_path)
    rows = read_rows(args.data)

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    inputs = feeds(inputs_meta, rows, os.path.dirname(os.path.abspath(args.data)))
    outputs = run_model(session, inputs, args.batch)

    failures = 0
    worst_activated = worst_logits = worst_number = 0.0
    for task in tasks:
        path, kind = task["path"], task["type"]
        reached = outputs[f"{path}.reached"]
        decoded = outputs[f"{path}.decoded"]
        activated = outputs[f"{path}.activated"]
        logits = outputs[f"{path}.logits"]
        # A token classification of an empty text writes no token either way: it is blank only
        # where the text has tokens.
        blank = np.array([r[f"{path}.decoded"] == "" and (kind != "token_classification" or r[f"{path}.logits"] != "")
                          for r in predicted])
        mismatched_gate = int(np.sum(reached == blank))
        wrong = boundary = 0
        for i, r in enumerate(predicted):
            if kind == "token_classification":
                # Per token of the text (up to max_length), tokens separated by spaces: the
                # graph's first positions; padding decodes to -1 there and is not written.
                theirs = token_numbers(r[f"{path}.logits"])
                count = len(theirs)
                worst_logits = max(worst_logits, float(np.max(np.abs(theirs - logits[i][:count]) / np.maximum(1, np.abs(theirs)), initial=0)))
                if blank[i]:
                    continue
                scores = token_numbers(r[f"{path}.activated"])
                worst_activated = max(worst_activated, float(np.max(np.abs(scores - activated[i][:count]), initial=0)))
                names = r[f"{path}.decoded"].split()
                for t, name in enumerate(names):
                    if name != task["classes"][int(decoded[i][t])]:
                        top = np.sort(scores[t])[-2:]
                        if len(top) == 2 and top[1] - top[0] <= args.tolerance:
                            boundary += 1
                        else:
                            wrong += 1
                if np.any(decoded[i][count:] != -1):
                    wrong += 1
                continue
            theirs = numbers(r[f"{path}.logits"])
            worst_logits = max(worst_logits, float(np.max(np.abs(theirs - logits[i].reshape(-1)) / np.maximum(1, np.abs(theirs)))))
            if blank[i]:
                continue
            scores = numbers(r[f"{path}.activated"])
            worst_activated = max(worst_activated, float(np.max(np.abs(scores - activated[i].reshape(-1)))))
            text = r[f"{path}.decoded"]
            # A decision may differ only where predict's score is within the tolerance of the
            # threshold (or of the runner-up class): float sums in another order decide a tie.
            if kind == "binary":
                ok = text == ("1" if decoded[i] else "0")
                tie = abs(scores[0] - task["thresholds"][0]) <= args.tolerance
            elif kind == "classification":
                ok = text == task["classes"][int(decoded[i])]
                top = np.sort(scores)[-2:]
                tie = len(top) == 2 and top[1] - top[0] <= args.tolerance
            elif kind == "multilabel":
                on = [name for name, flag in zip(task["classes"], decoded[i]) if flag]
                ok = text == ("|".join(on) if on else "none")
                tie = bool(np.any(np.abs(scores - np.array(task["thresholds"])) <= args.tolerance))
            elif kind in ("regression", "bounded_regression"):
                # A number in the label's units: the activated difference times the unit.
                unit = task.get("scale") or task.get("deviation") or 1.0
                difference = abs(float(np.float32(text)) - float(decoded[i])) / unit
                worst_number = max(worst_number, difference)
                ok, tie = difference <= args.tolerance, False
            else:
                ok, tie = True, False
            if not ok:
                if tie:
                    boundary += 1
                else:
                    wrong += 1
        reached_rows = int(np.sum(reached))
        status = "ok" if mismatched_gate == 0 and wrong == 0 else "MISMATCH"
        failures += mismatched_gate + wrong
        print(f"{path:45s} {kind:18s} reached {reached_rows:6d}/{len(rows)}  gate mismatches {mismatched_gate}  "
              f"decision mismatches {wrong}" + (f" (+{boundary} at a tie)" if boundary else "") + f"  {status}")
    print(f"max |activated - predict| = {worst_activated:.3g} (tolerance {args.tolerance:g}); "
          f"numbers: max |decoded - predict| / unit = {worst_number:.3g}; "
          f"logits: max |difference| / max(1, |logit|) = {worst_logits:.3g}")
    if worst_activated > args.tolerance:
        failures += 1

    # Latency: one row at a time, as a server answering single requests.
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    single = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in single.get_outputs()]
    times = []
    for i in range(min(args.latency_rows, len(rows))):
        feed = {k: v[i:i + 1] for k, v in inputs.items()}
        start = time.perf_counter()
        single.run(names, feed)
        times.append(time.perf_counter() - start)
    print(f"ONNX Runtime batch-1 latency (1 thread, median of {len(times)}): {1e6 * float(np.median(times)):.0f} µs; "
          f"flowtrain predict: {1e6 * predict_seconds / len(rows):.0f} µs per row over {len(rows)} rows "
          f"({predict_seconds:.2f} s, reading and writing included)")
    if failures:
        print(f"check-onnx: {failures} mismatches", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
