"""Two flowtrain run directories side by side: every number of metrics.csv and every float32
tensor of model.safetensors, with the largest differences. Python's standard library only, so
that checks outside a virtualenv can use it (`make check-multihost`).

    python3 tools/compare_runs.py RUN_A RUN_B [--tolerance 1e-4] [--losses-only]

A metric's difference is taken relative to max(|a|, 0.01) (near 0, absolute), a weight's
relative to its tensor's largest magnitude. Exit status 1 when the files hold different rows or
tensors, or a number is further apart than `--tolerance`. With `--losses-only`, only the losses
of metrics.csv are judged: two trainings that sum in another order (another thread count,
another number of processes) drift apart over hundreds of Adam steps, and the decisions'
metrics (recall, F1) move by whole rows where the losses move by their last digits."""
import argparse
import array
import csv
import json
import os
import struct
import sys


def metrics(run):
    """(epoch, split, task, metric, rows) → value, in the file's order."""
    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        return {(r["epoch"], r["split"], r["task_path"], r["metric_name"], r["num_samples"]): float(r["value"])
                for r in csv.DictReader(f)}


def tensors(run):
    """Every float32 tensor of RUN/model.safetensors, by name, as a flat array."""
    with open(os.path.join(run, "model.safetensors"), "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    result = {}
    for name, entry in header.items():
        if name == "__metadata__" or entry.get("dtype") != "F32":
            continue
        start, end = entry["data_offsets"]
        values = array.array("f")
        values.frombytes(data[8 + length + start:8 + length + end])
        if sys.byteorder != "little":
            values.byteswap()
        result[name] = values
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--losses-only", action="store_true", help="judge the losses of metrics.csv alone")
    parser.add_argument("--scale", metavar="RUN_C",
                        help="judge the metrics against --tolerance times their largest difference between A and C "
                             "(e.g. C is A at another thread count: as close as A is to itself)")
    args = parser.parse_args()
    ok = True

    def judged(run):
        m = metrics(run)
        return {k: v for k, v in m.items() if k[3] == "loss"} if args.losses_only else m

    ma, mb = judged(args.a), judged(args.b)
    tolerance = args.tolerance
    if args.scale:
        mc = judged(args.scale)
        spread = max((abs(ma[k] - mc[k]) / max(abs(ma[k]), 1e-2) for k in ma.keys() & mc.keys()), default=0.0)
        tolerance = args.tolerance * spread
        print(f"metrics.csv: A against {args.scale}: largest relative difference {spread:.1e}; "
              f"tolerance {args.tolerance:g} × that = {tolerance:.1e}")
    if ma.keys() != mb.keys():
        print(f"metrics.csv: different rows ({len(ma)} against {len(mb)}; "
              f"e.g. {sorted(ma.keys() ^ mb.keys())[:3]})")
        ok = False
    worst = sorted(((abs(ma[k] - mb[k]) / max(abs(ma[k]), 1e-2), k) for k in ma.keys() & mb.keys()), reverse=True)
    if worst:
        difference, key = worst[0]
        print(f"metrics.csv: {len(worst)} numbers, largest relative difference {difference:.1e} "
              f"({'/'.join(key[:4])}: {ma[key]!r} against {mb[key]!r})")
        ok = ok and difference <= tolerance

    ta, tb = tensors(args.a), tensors(args.b)
    if ta.keys() != tb.keys() or any(len(ta[n]) != len(tb[n]) for n in ta.keys() & tb.keys()):
        print("model.safetensors: different tensors")
        ok = False
    largest = (0.0, "")
    for name in sorted(ta.keys() & tb.keys()):
        scale = max(max((abs(v) for v in ta[name]), default=0.0), 1e-6)
        difference = max((abs(x - y) for x, y in zip(ta[name], tb[name])), default=0.0) / scale
        largest = max(largest, (difference, name))
    print(f"model.safetensors: {len(ta)} tensors, largest difference {largest[0]:.1e} of the tensor's largest "
          f"value ({largest[1]})")
    ok = ok and (args.losses_only or largest[0] <= args.tolerance)
    print("the same within the tolerance" if ok else f"DIFFERENT (tolerance {tolerance:.1e})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
