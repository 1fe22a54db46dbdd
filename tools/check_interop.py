"""Opens a flowtrain run directory with the ecosystem's own readers, as `make check-interop`
does: the weights with Python's `safetensors` (numpy), the scalars with TensorBoard's
EventAccumulator. Fails (exit 1) unless every tensor loads with a float32 dtype and every
task's loss is there once per epoch for each split in metrics.csv."""
import csv
import glob
import os
import sys

from safetensors.numpy import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main(run):
    weights = load_file(os.path.join(run, "model.safetensors"))
    assert weights, "no tensors"
    assert all(str(t.dtype) == "float32" for t in weights.values()), "a tensor is not float32"
    print(f"safetensors: {len(weights)} tensors, {sum(t.size for t in weights.values())} values")

    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["metric_name"] == "loss"]
    expected = {(f"{r['task_path']}/loss/{r['split']}", int(r["epoch"])): float(r["value"]) for r in rows}

    files = glob.glob(os.path.join(run, "events.out.tfevents.*"))
    assert len(files) == 1, f"expected one event file, found {files}"
    events = EventAccumulator(files[0], size_guidance={"scalars": 0})
    events.Reload()
    tags = set(events.Tags()["scalars"])
    for (tag, epoch), value in expected.items():
        assert tag in tags, f"tag {tag} missing from the event file"
        steps = {e.step: e.value for e in events.Scalars(tag)}
        assert epoch in steps, f"{tag} has no value for epoch {epoch}"
        assert abs(steps[epoch] - value) <= 1e-6 * max(1.0, abs(value)), f"{tag} epoch {epoch}: {steps[epoch]} != {value}"
    epochs = {e for _, e in expected}
    print(f"tensorboard: {len(tags)} scalar tags, every task's loss for {len(epochs)} epochs matches metrics.csv")


if __name__ == "__main__":
    main(sys.argv[1])
