"""flowtrain against its PyTorch mirrors, side by side, for `make bench-torch`: the MLP of
bench/mlp.yaml at several batch sizes, the networks of flows/security.yaml and of
bench/strided.yaml (three strided convolutions) at batch 64, ResNet-18 (flows/security-resnet18.yaml:
frozen trunk forward at batch 32, a whole training step at batch 16), the transformer encoder of
bench/transformer.yaml at batch 32 and 128, and (with --train) the whole `flowtrain train` of
both conv flows against bench/torch_train_security.py (--trunk pooled, strided), and (with --train-orders) `flowtrain train flows/orders.yaml` +
`flowtrain eval RUN --split test` against bench/torch_train_orders.py, wall times and every test
metric side by side (preconditions from the ground truth). Each throughput figure is the median of the repetitions each tool makes
(`--repeats`), and the ratio is flowtrain / PyTorch in samples per second (PyTorch / flowtrain
in wall time)."""
import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import time


def run(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    print(output, end="", flush=True)
    return output


def samples_per_second(output):
    return {int(b): int(s) for b, s in re.findall(r"batch (\d+): (\d+) samples/s", output)}


def peak_shares(output):
    return {int(b): int(s) for b, s in re.findall(r"batch (\d+): .*?(\d+)% of sgemm peak", output)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("python")
    parser.add_argument("flowtrain")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--batches", default="32,256,1024")
    parser.add_argument("--repeats", default="5")
    parser.add_argument("--train", action="store_true", help="also time a whole training of the security demo")
    parser.add_argument("--train-orders", action="store_true",
                        help="also train and evaluate flows/orders.yaml both ways: wall times and test metrics")
    parser.add_argument("--orders-flow", default="flows/orders.yaml", help="the orders flow (--train-orders)")
    parser.add_argument("--orders-data", default="datasets/orders",
                        help="the directory of the CSVs that flow reads, for the PyTorch side (--train-orders)")
    parser.add_argument("--orders-only", action="store_true", help="only the orders comparison (implies --train-orders)")
    args = parser.parse_args()
    if args.orders_only:
        return train_orders(args)
    rows = []
    common = ["--threads", args.threads, "--repeats", args.repeats]
    output = run([args.flowtrain, "bench", "bench/mlp.yaml", "--batch", args.batches] + common)
    ours, shares = samples_per_second(output), peak_shares(output)
    theirs = samples_per_second(run([args.python, "bench/torch_bench.py", "--batch", args.batches] + common))
    for batch in sorted(ours):
        rows.append((f"MLP, batch {batch}", ours[batch], theirs.get(batch, 0), "samples/s"))
    ours = samples_per_second(run([args.flowtrain, "bench", "flows/security.yaml", "--batch", "64"] + common))
    theirs = samples_per_second(run([args.python, "bench/torch_security.py", "--batch", "64"] + common))
    rows.append(("security network, batch 64", ours[64], theirs.get(64, 0), "samples/s"))
    ours = samples_per_second(run([args.flowtrain, "bench", "bench/strided.yaml", "--batch", "64"] + common))
    theirs = samples_per_second(run([args.python, "bench/torch_security.py", "--trunk", "strided", "--batch", "64"]
                                    + common))
    rows.append(("strided conv trunk, batch 64", ours[64], theirs.get(64, 0), "samples/s"))
    rows += resnet18_rows(args)
    # Both sides in the same run, so that a busy machine slows both alike.
    ours = samples_per_second(run([args.flowtrain, "bench", "bench/transformer.yaml", "--batch", "32,128"] + common))
    theirs = samples_per_second(run([args.python, "bench/torch_transformer.py", "--batch", "32,128"] + common))
    for batch in (32, 128):
        rows.append((f"transformer encoder, batch {batch}", ours.get(batch, 0), theirs.get(batch, 0), "samples/s"))
    if args.train:
        for name, flow, trunk in (("security demo", "flows/security.yaml", "pooled"),
                                  ("strided trunk", "bench/strided.yaml", "strided")):
            run_dir = f".build-torch/{trunk}-run"
            shutil.rmtree(run_dir, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run([args.flowtrain, "train", flow, "--threads", args.threads, "--run-dir", run_dir], check=True)
            ours_seconds = time.perf_counter() - start
            output = subprocess.run([args.python, "bench/torch_train_security.py", "--threads", args.threads,
                                     "--trunk", trunk], check=True, capture_output=True, text=True, cwd=".").stdout
            print(output, end="")
            theirs_seconds = float(re.search(r"pytorch training: ([\d.]+) s", output).group(1))
            rows.append((f"train {name}, 20 epochs (s, lower wins)", theirs_seconds, ours_seconds, "inverse"))
    print(f"\n{'workload':<48} {'flowtrain':>12} {'pytorch':>12} {'ratio':>7}")
    for name, a, b, kind in rows:
        if kind == "inverse":  # wall times: the ratio is theirs / ours
            print(f"{name:<48} {b:>12.1f} {a:>12.1f} {a / b:>6.2f}×")
        else:
            ratio = a / b if b else float("nan")
            print(f"{name:<48} {a:>12} {b:>12} {ratio:>6.2f}×")
    for batch in sorted(shares):
        print(f"flowtrain's share of the sgemm peak, MLP batch {batch}: {shares[batch]}%")
    if args.train_orders:
        train_orders(args)


def resnet18_rows(args):
    """flows/security-resnet18.yaml as shipped (backbone frozen: forward only, batch 32) and with
    every layer learning (batch 16, the flow without its `init:` and `trainable: false`,
    written to .build-torch/), against bench/torch_resnet18.py. 3 steps a repetition: a step
    takes a second or more."""
    resnet = ["--threads", args.threads, "--repeats", args.repeats, "--steps", "3"]
    rows = []
    ours = samples_per_second(run([args.flowtrain, "bench", "flows/security-resnet18.yaml", "--batch", "32"] + resnet))
    theirs = samples_per_second(run([args.python, "bench/torch_resnet18.py", "--mode", "frozen", "--batch", "32"]
                                    + resnet))
    rows.append(("ResNet-18 frozen trunk (forward), batch 32", ours.get(32, 0), theirs.get(32, 0), "samples/s"))
    with open("flows/security-resnet18.yaml") as f:
        kept = [line for line in f if line.strip().split(":")[0] not in ("init", "layout", "names", "trainable")]
    # .build-torch/ lies as deep as flows/, so the flow's relative data paths still hold.
    trainable = ".build-torch/security-resnet18-trainable.yaml"
    with open(trainable, "w") as f:
        f.writelines(kept)
    ours = samples_per_second(run([args.flowtrain, "bench", trainable, "--batch", "16"] + resnet))
    theirs = samples_per_second(run([args.python, "bench/torch_resnet18.py", "--mode", "full", "--batch", "16"]
                                    + resnet))
    rows.append(("ResNet-18 training step, batch 16", ours.get(16, 0), theirs.get(16, 0), "samples/s"))
    return rows


def train_orders(args):
    """`flowtrain train` + `flowtrain eval --split test` on the orders flow against
    bench/torch_train_orders.py: wall times, then each test metric of the torch script next to
    the evaluation.csv row of the same task and metric with preconditions == ground_truth."""
    run_dir = ".build-torch/orders-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    log = subprocess.run([args.flowtrain, "train", args.orders_flow, "--threads", args.threads, "--run-dir", run_dir],
                         check=True, stderr=subprocess.PIPE, text=True).stderr
    train_seconds = time.perf_counter() - start
    print(log, end="", flush=True)
    reading = re.search(r"read and encoded in ([\d.]+) s", log)
    start = time.perf_counter()
    subprocess.run([args.flowtrain, "eval", run_dir, "--split", "test"], check=True, stdout=subprocess.DEVNULL)
    eval_seconds = time.perf_counter() - start
    with open(os.path.join(run_dir, "evaluation.csv"), newline="") as f:
        ours = {(r["task_path"], r["metric_name"]): (float(r["metric_res"]), int(r["num_samples"]))
                for r in csv.DictReader(f) if r["preconditions"] == "ground_truth" and r["split"] == "test"}
    output = run([args.python, "bench/torch_train_orders.py", "--threads", args.threads, "--data", args.orders_data])
    theirs_seconds = float(re.search(r"pytorch training: ([\d.]+) s", output).group(1))
    read_seconds = float(re.search(r"pytorch read and preprocess: ([\d.]+) s", output).group(1))
    test_seconds = float(re.search(r"test pass: ([\d.]+) s", output).group(1))
    theirs = [(task, metric, float(value), int(count)) for task, metric, value, count in
              re.findall(r"^(\S+)\s+(accuracy|accuracy_1|mean_absolute_error)\s+([\d.]+)\s+(\d+)$", output, re.M)]
    print(f"\n{'orders, ' + args.threads + ' threads (s, lower wins)':<48} {'flowtrain':>12} {'pytorch':>12} {'ratio':>7}")
    print(f"{'train, 10 epochs (reading included)':<48} {train_seconds:>12.1f} {theirs_seconds:>12.1f} "
          f"{theirs_seconds / train_seconds:>6.2f}×")
    print(f"{'  of which reading and encoding':<48} {reading.group(1) if reading else '?':>12} {read_seconds:>12.1f}")
    print(f"{'test evaluation':<48} {eval_seconds:>12.1f} {test_seconds:>12.2f}"
          "   (flowtrain eval: a process of its own, also writing predictions and reports)")
    print(f"\n{'test split, ground-truth preconditions':<48} {'flowtrain':>12} {'pytorch':>12} {'rows':>7}")
    for task, metric, value, count in theirs:
        mine, rows = ours.get((task, metric), (float("nan"), 0))
        same = "" if rows == count else f" ≠ {count}"
        print(f"{task + ' ' + metric:<48} {mine:>12.4f} {value:>12.4f} {rows:>7}{same}")


if __name__ == "__main__":
    sys.exit(main())
