"""Runs `flowtrain bench` and its PyTorch mirror on the same workload and prints them side by
side with the ratio (flowtrain / PyTorch samples per second). Used by `make bench-torch`."""
import re
import subprocess
import sys


def samples_per_second(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    print(output, end="")
    return {int(b): int(s) for b, s in re.findall(r"batch (\d+): (\d+) samples/s", output)}


def main():
    python, flowtrain, threads, batches = sys.argv[1:5]
    ours = samples_per_second([flowtrain, "bench", "bench/mlp.yaml", "--batch", batches, "--threads", threads])
    theirs = samples_per_second([python, "bench/torch_bench.py", "--batch", batches, "--threads", threads])
    print(f"\n{'batch':>6} {'flowtrain':>12} {'pytorch':>12} {'ratio':>7}")
    for batch in sorted(ours):
        ratio = ours[batch] / theirs[batch] if theirs.get(batch) else float("nan")
        print(f"{batch:>6} {ours[batch]:>12} {theirs.get(batch, 0):>12} {ratio:>6.2f}×")


if __name__ == "__main__":
    main()
