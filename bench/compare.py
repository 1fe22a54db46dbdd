"""flowtrain against its PyTorch mirrors, side by side, for `make bench-torch`: the MLP of
bench/mlp.yaml at several batch sizes, the network of flows/security.yaml at batch 64, and
(with --train) the whole `flowtrain train flows/security.yaml` against
bench/torch_train_security.py. Each figure is the median of the repetitions each tool makes
(`--repeats`), and the ratio is flowtrain / PyTorch in samples per second (PyTorch / flowtrain
in wall time)."""
import argparse
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
    args = parser.parse_args()
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
    if args.train:
        shutil.rmtree(".build-torch/security-run", ignore_errors=True)
        start = time.perf_counter()
        subprocess.run([args.flowtrain, "train", "flows/security.yaml", "--threads", args.threads,
                        "--run-dir", ".build-torch/security-run"], check=True)
        ours_seconds = time.perf_counter() - start
        output = subprocess.run([args.python, "bench/torch_train_security.py", "--threads", args.threads],
                                check=True, capture_output=True, text=True, cwd=".").stdout
        print(output, end="")
        theirs_seconds = float(re.search(r"pytorch training: ([\d.]+) s", output).group(1))
        rows.append(("train security demo, 20 epochs (s, lower wins)", theirs_seconds, ours_seconds, "inverse"))
    print(f"\n{'workload':<48} {'flowtrain':>12} {'pytorch':>12} {'ratio':>7}")
    for name, a, b, kind in rows:
        if kind == "inverse":  # wall times: the ratio is theirs / ours
            print(f"{name:<48} {b:>12.1f} {a:>12.1f} {a / b:>6.2f}×")
        else:
            ratio = a / b if b else float("nan")
            print(f"{name:<48} {a:>12} {b:>12} {ratio:>6.2f}×")
    for batch in sorted(shares):
        print(f"flowtrain's share of the sgemm peak, MLP batch {batch}: {shares[batch]}%")


if __name__ == "__main__":
    sys.exit(main())
