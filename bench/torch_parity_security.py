"""Step parity of flowtrain and the PyTorch mirror on the security network (flows/security.yaml
against bench/torch_security.py's SecurityNet), from the same weights on the same rows.

Runs `flowtrain train` twice on the first --rows training rows (one batch, dropout 0, one epoch,
SGD without momentum at a constant rate): at a rate of 1e-30, which leaves its first weights as
they were, and at --lr. The mirror loads those first weights, converted to PyTorch's layouts
(conv weights (F, K, K, C) → (F, C, K, K); the flattened NHWC features of the first dense layer
→ NCHW order), runs one training step on the same rows and prints, side by side:

- each task's loss (flowtrain's epoch-1 training loss in metrics.csv);
- each parameter's gradient, PyTorch's and flowtrain's (w_before − w_after) / lr, as relative
  errors of the whole tensor against PyTorch's gradient in float64, and the cosine of the two;
  the float32 rounding of flowtrain's difference is far below the errors printed at the
  default --lr;
- the batchnorm running statistics after the step.

With --adam-steps N both sides also take N Adam steps (lr 0.001, constant) from the same first
weights and the weights are compared after them, relative to how far they moved.

With --whole-split flowtrain also runs one epoch over the whole training split at a rate of
1e-30 (its first weights throughout, dropout 0) and the mirror computes each task's loss over
the same 64-row batches (bench/flowtrain_rng.py's shuffle of epoch 1) against flowtrain's
epoch-1 training loss: every image, label and mask as each side feeds them.

With --paired-training the mirror trains as bench/torch_train_security.py does (its own
dropout masks), but from flowtrain's first weights for --seed and on flowtrain's batches of that
seed (bench/flowtrain_rng.py's shuffle), and prints its test metrics: a paired comparison with
`flowtrain train flows/security.yaml --seed N`, which separates what the draws do from what the
frameworks do. --paired-init torch and --paired-order torch swap either draw back to PyTorch's
own (its first weights for the seed, torch.randperm's batches), to tell which of the two matters.

With --model RUN the mirror scores RUN/model.safetensors on the test split in evaluation mode
(running statistics) and prints its metrics next to RUN/evaluation.csv's (ground truth).

The convolutions' biases sit before a batchnorm, which takes any constant away: their true
gradient is 0 and what either side computes is rounding, so they are shown and not judged.
Exit status 1 when another parameter's gradient is further than --tolerance from float64's, or a
running statistic or (--whole-split) a loss further than 1e-5 from PyTorch's. In float32, rounding flips a
ReLU or a max-pool choice here and there and moves gradient between positions: on the first
batch, seed 1, the first convolution's weight gradient is 7e-5 from float64 in PyTorch and 4e-6
in flowtrain, seed 3 6.6e-5 and 8.7e-5 (5.8e-3 before batchnorm's sums were kept in double), hence
the default tolerance of 3e-2; a wrong layout or formula is off by order 1.

    .build-torch/venv/bin/python bench/torch_parity_security.py .build/release/flowtrain
"""
import argparse
import copy
import csv
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

import flowtrain_rng
import torch_train_security as mirror
from torch_bench import print_metrics
from torch_security import BOXES, SecurityNet, total_loss

BINARY = ["camera_blocked", "door_open", "door_locked", "person_present"]
TASK_PATHS = mirror.PATHS  # the flow's task paths (flowtrain's parameter names), by SecurityNet's outputs
# SecurityNet's common trunk: (conv, batchnorm) indices, as in the flow's layer list.
CONV_BLOCKS = [(0, 1), (4, 5), (8, 9)]
FLATTENED = (64, 8, 8)  # channels, height, width of the first dense layer's input
# Forward values (losses, running statistics) round but flip nothing: they must agree closer.
FORWARD_TOLERANCE = 1e-5


def read_safetensors(path):
    """Name → float32 tensor, from a safetensors file (little-endian F32 only, as flowtrain writes)."""
    with open(path, "rb") as f:
        raw = f.read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        values = np.frombuffer(raw[8 + size + start:8 + size + end], dtype="<f4").copy()
        tensors[name] = torch.from_numpy(values).reshape(entry["shape"])
    return tensors


def flowtrain_names():
    """SecurityNet's parameter and buffer names → (flowtrain's name in model.safetensors, the
    conversion from flowtrain's layout to PyTorch's)."""
    def same(t):
        return t

    def conv(t):  # (F, K, K, C) → (F, C, K, K)
        return t.permute(0, 3, 1, 2).contiguous()

    def flattened(t):  # columns in NHWC order (h, w, c) → NCHW order (c, h, w)
        c, h, w = FLATTENED
        return t.reshape(t.shape[0], h, w, c).permute(0, 3, 1, 2).reshape(t.shape[0], c * h * w).contiguous()

    names = {}
    for c, b in CONV_BLOCKS:
        names[f"common.{c}.weight"] = (f"trunk.common.{c}.conv.weight", conv)
        names[f"common.{c}.bias"] = (f"trunk.common.{c}.conv.bias", same)
        for field in ["weight", "bias", "running_mean", "running_var"]:
            names[f"common.{b}.{field}"] = (f"trunk.common.{b}.batchnorm.{field}", same)
    for field in ["weight", "bias"]:
        names[f"common.13.{field}"] = (f"trunk.common.13.dense.{field}", flattened if field == "weight" else same)
        names[f"features.0.{field}"] = (f"trunk.features.0.dense.{field}", same)
        for name in BINARY:
            names[f"binary.{name}.{field}"] = (f"heads.{name}.out.{field}", same)
        names[f"shirt.{field}"] = (f"heads.{TASK_PATHS['shirt_type']}.out.{field}", same)
        for name in BOXES + ["facial"]:
            head = "boxes." + name if name in BOXES else name
            names[f"{head}.0.{field}"] = (f"heads.{TASK_PATHS[name]}.0.dense.{field}", same)
            names[f"{head}.2.{field}"] = (f"heads.{TASK_PATHS[name]}.out.{field}", same)
    return names


def security_net_from(weights, fresh_statistics=False):
    """SecurityNet holding flowtrain's `weights` (read_safetensors of a security run's model);
    with `fresh_statistics`, batchnorm's running statistics as a new layer has them."""
    model = SecurityNet()
    state = model.state_dict()
    for name, (source, convert) in flowtrain_names().items():
        value = convert(weights[source])
        if value.shape != state[name].shape:
            sys.exit(f"{source}: shape {tuple(value.shape)} does not map to {name} {tuple(state[name].shape)}")
        state[name] = value
    model.load_state_dict(state)
    if fresh_statistics:
        for _, b in CONV_BLOCKS:
            model.common[b].reset_running_stats()
    return model


def without_dropout(model):
    """The model with its dropout off: flowtrain's side runs without dropout, to draw no masks."""
    model.features[2].p = 0.0
    return model


def task_losses(outputs, labels, masks):
    """Each task's masked mean loss, unweighted, as flowtrain's metrics.csv reports it."""
    losses = {}
    for name in BINARY:
        losses[name] = mirror_mean(F.binary_cross_entropy_with_logits(outputs[name], labels[name], reduction="none"),
                                   masks[name])
    for name in BOXES:
        losses[name] = mirror_mean((torch.sigmoid(outputs[name]) - labels[name]).abs(), masks[name])
    losses["facial"] = mirror_mean(F.binary_cross_entropy_with_logits(outputs["facial"], labels["facial"],
                                                                      reduction="none"), masks["facial"])
    losses["shirt_type"] = mirror_mean(F.cross_entropy(outputs["shirt_type"], labels["shirt_type"], reduction="none"),
                                       masks["shirt_type"])
    return losses


def mirror_mean(losses, mask):
    return float((losses.detach() * mask).sum() / mask.sum().clamp(min=1))


def flowtrain_losses(run):
    """Task path → epoch 1's training loss."""
    with open(os.path.join(run, "metrics.csv"), newline="") as f:
        return {r["task_path"]: float(r["value"]) for r in csv.DictReader(f)
                if r["epoch"] == "1" and r["split"] == "train" and r["metric_name"] == "loss"}


def probe_flow(flow_text, data, batch, optimizer, epochs):
    """flows/security.yaml reading `data` for every split, without dropout, training batches of
    `batch` rows with `optimizer` at a constant rate."""
    text, count = re.subn(r"\.\./datasets/security/(train|valid|test)\.csv", data, flow_text)
    text, dropouts = re.subn(r"dropout: 0\.\d+", "dropout: 0.0", text)
    if count != 3 or dropouts != 1 or "\ntrain:\n" not in text:
        sys.exit("flows/security.yaml no longer has the three data paths, one dropout and a train: section")
    text = text[:text.index("\ntrain:\n")]
    return text + (f"\ntrain:\n  epochs: {epochs}\n  batch_size: {batch}\n  optimizer: {optimizer}\n"
                   "  schedule: {name: constant}\n  loss_weighting: fixed\n")


def train_flowtrain(flowtrain, directory, name, flow, seed):
    """Runs `flowtrain train` on `flow`; returns the run directory."""
    path, run = os.path.join(directory, name + ".yaml"), os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(flow)
    result = subprocess.run([flowtrain, "train", path, "--run-dir", run, "--seed", str(seed), "--threads", "2"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"flowtrain train {path} exited {result.returncode}:\n{result.stderr}")
    return run


def float64_gradients(model, batch):
    """Every parameter's gradient of the total loss, computed in float64 on a copy of `model`:
    the reference both float32 sides are measured against."""
    images, labels, masks = batch
    reference = copy.deepcopy(model).double()
    reference.train()
    labels = {k: v.double() if v.is_floating_point() else v for k, v in labels.items()}
    total_loss(reference(images.double()), labels, {k: v.double() for k, v in masks.items()}).backward()
    return {name: parameter.grad for name, parameter in reference.named_parameters()}


def compare_step(model, weights_after, lr, batch, run, tolerance):
    """One SGD step's losses, gradients and running statistics, both sides; True when they agree."""
    images, labels, masks = batch
    exact = float64_gradients(model, batch)
    model.train()
    outputs = model(images)
    ours = task_losses(outputs, labels, masks)
    theirs = flowtrain_losses(run)
    print(f"{'task':18s} {'pytorch loss':>14s} {'flowtrain loss':>14s} {'rel. diff':>10s}")
    for name, path in TASK_PATHS.items():
        difference = abs(ours[name] - theirs[path]) / max(abs(ours[name]), 1e-30)
        print(f"{name:18s} {ours[name]:14.7f} {theirs[path]:14.7f} {difference:10.1e}")
    model.zero_grad(set_to_none=True)
    total_loss(outputs, labels, masks).backward()
    names, agree = flowtrain_names(), True

    def error(gradient, reference):
        return float((gradient - reference).norm() / reference.norm().clamp(min=1e-30))

    print(f"\ngradients, relative error against PyTorch in float64\n"
          f"{'parameter':30s} {'|grad|':>10s} {'pytorch':>9s} {'flowtrain':>9s} {'cos(ft, pt)':>12s}")
    for name, parameter in model.named_parameters():
        source, convert = names[name]
        before = parameter.detach().double()
        theirs = (before - convert(weights_after[source]).double()) / lr
        ours, reference = parameter.grad.double(), exact[name]
        cosine = float((theirs * ours).sum() / (theirs.norm() * ours.norm()).clamp(min=1e-30))
        if any(name == f"common.{c}.bias" for c, _ in CONV_BLOCKS):
            print(f"{name:30s} {float(reference.norm()):10.3e} {float(ours.norm()):9.1e} {float(theirs.norm()):9.1e} "
                  f"{cosine:12.6f}  (true gradient 0: the norms of the rounding)")
            continue
        note = ""
        if error(theirs, reference) > tolerance:
            agree, note = False, "  DIFFERS"
        print(f"{name:30s} {float(reference.norm()):10.3e} {error(ours, reference):9.1e} "
              f"{error(theirs, reference):9.1e} {cosine:12.6f}{note}")
    print("\nbatchnorm running statistics after the step: relative difference")
    for _, b in CONV_BLOCKS:
        for field in ["running_mean", "running_var"]:
            ours = getattr(model.common[b], field).double()
            theirs = weights_after[f"trunk.common.{b}.batchnorm.{field}"].double()
            difference = float((ours - theirs).norm() / ours.norm())
            agree = agree and difference <= FORWARD_TOLERANCE
            print(f"  common.{b}.{field:13s} {difference:.1e}")
    return agree


def compare_adam(model, weights_after, steps, batch):
    """`steps` Adam steps in PyTorch against flowtrain's weights after as many."""
    images, labels, masks = batch
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    start = {name: value.detach().clone().double() for name, value in model.state_dict().items()}
    model.train()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total_loss(model(images), labels, masks).backward()
        optimizer.step()
    print(f"\nafter {steps} Adam steps: |PyTorch − flowtrain| / |PyTorch's move|")
    state = model.state_dict()
    for name, (source, convert) in flowtrain_names().items():
        ours, theirs = state[name].double(), convert(weights_after[source]).double()
        moved = float((ours - start[name]).norm())
        print(f"  {name:30s} {float((ours - theirs).norm()) / max(moved, 1e-30):.1e}")


def compare_whole_split(first, run, data, seed):
    """Each task's loss over flowtrain's epoch-1 batches at the first weights, both sides."""
    model = without_dropout(security_net_from(first, fresh_statistics=True))
    images, labels, masks = mirror.load(os.path.join(data, "train.csv"))
    n, batch = images.shape[0], 64
    order = torch.tensor(flowtrain_rng.epoch_order(n, 1, seed))
    sums = {name: [0.0, 0.0] for name in TASK_PATHS}
    model.train()
    with torch.no_grad():
        for s in range(n // batch):
            rows = order[s * batch:(s + 1) * batch]
            batch_masks = {k: v[rows] for k, v in masks.items()}
            losses = task_losses(model(images[rows]), {k: v[rows] for k, v in labels.items()}, batch_masks)
            for name, total in sums.items():
                kept = float(batch_masks[name].sum())
                total[0] += losses[name] * kept
                total[1] += kept
    theirs = flowtrain_losses(run)
    print("\nthe whole training split at the first weights, flowtrain's batches: epoch-1 loss")
    print(f"{'task':18s} {'pytorch loss':>14s} {'flowtrain loss':>14s} {'rel. diff':>10s}")
    agree = True
    for name, path in TASK_PATHS.items():
        ours = sums[name][0] / max(sums[name][1], 1)
        difference = abs(ours - theirs[path]) / max(abs(ours), 1e-30)
        agree = agree and difference <= FORWARD_TOLERANCE
        print(f"{name:18s} {ours:14.7f} {theirs[path]:14.7f} {difference:10.1e}")
    return agree


def paired_training(first, data, epochs, seed, init="flowtrain", order_from="flowtrain"):
    """bench/torch_train_security.py's training (Adam 0.001, a warm-up epoch then cosine, the
    best epoch by validation loss) for `seed`, from flowtrain's `first` weights or PyTorch's own
    (`init`), on flowtrain's batches or torch.randperm's (`order_from`): with both "torch" it is
    the mirror itself; returns the test split's metrics."""
    torch.manual_seed(seed)
    train, valid, test = (mirror.load(os.path.join(data, f"{split}.csv")) for split in ["train", "valid", "test"])
    model = security_net_from(first, fresh_statistics=True) if init == "flowtrain" else SecurityNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    batch, n = 64, train[0].shape[0]
    steps = n // batch
    total_steps = epochs * steps

    def rate(step):
        if step < steps:
            return (step + 1) / steps
        return 0.5 * (1 + math.cos(math.pi * (step - steps) / max(1, total_steps - steps)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    best = (0, math.inf, None)
    for epoch in range(epochs):
        model.train()
        order = torch.tensor(flowtrain_rng.epoch_order(n, epoch + 1, seed)) if order_from == "flowtrain" \
            else torch.randperm(n)
        for s in range(steps):
            rows = order[s * batch:(s + 1) * batch]
            labels, masks = {k: v[rows] for k, v in train[1].items()}, {k: v[rows] for k, v in train[2].items()}
            optimizer.zero_grad(set_to_none=True)
            total_loss(model(train[0][rows]), labels, masks).backward()
            optimizer.step()
            scheduler.step()
        with torch.no_grad():
            valid_loss = float(total_loss(mirror.outputs_of(model, valid[0], batch), valid[1], valid[2]))
        if valid_loss < best[1]:
            best = (epoch + 1, valid_loss, copy.deepcopy(model.state_dict()))
        print(f"epoch {epoch + 1}/{epochs}  valid loss {valid_loss:.4f}" + ("  (best)" if best[0] == epoch + 1 else ""),
              flush=True)
    model.load_state_dict(best[2])
    return mirror.test_table(mirror.outputs_of(model, test[0], batch), test[1], test[2])


def compare_evaluation(run_directory, data):
    """The mirror's test metrics of RUN/model.safetensors against RUN/evaluation.csv's."""
    model = security_net_from(read_safetensors(os.path.join(run_directory, "model.safetensors")))
    images, labels, masks = mirror.load(os.path.join(data, "test.csv"))
    table = mirror.test_table(mirror.outputs_of(model, images, 64), labels, masks)
    with open(os.path.join(run_directory, "evaluation.csv"), newline="") as f:
        theirs = {(r["task_path"], r["metric_name"]): float(r["metric_res"]) for r in csv.DictReader(f)
                  if r["preconditions"] == "ground_truth" and r["split"] == "test"}
    print(f"\n{run_directory}: test metrics, PyTorch's evaluation of flowtrain's weights / flowtrain eval")
    for path, metric, value, rows in table:
        print(f"  {path:58s} {metric:20s} {value:.6f} {theirs.get((path, metric), float('nan')):.6f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("flowtrain", help="the flowtrain binary")
    parser.add_argument("--flow", default="flows/security.yaml")
    parser.add_argument("--data", default="datasets/security")
    parser.add_argument("--rows", type=int, default=64, help="the batch: the first ROWS training rows")
    parser.add_argument("--seed", type=int, default=1, help="flowtrain's seed for the first weights")
    parser.add_argument("--lr", type=float, default=10, help="flowtrain's SGD rate (at most 10)")
    parser.add_argument("--tolerance", type=float, default=3e-2)
    parser.add_argument("--adam-steps", type=int, default=0)
    parser.add_argument("--model", help="a security run directory to score with the mirror")
    parser.add_argument("--whole-split", action="store_true",
                        help="also compare the losses over the whole training split at the first weights")
    parser.add_argument("--paired-training", action="store_true",
                        help="train the mirror from flowtrain's first weights and on its batches for --seed")
    parser.add_argument("--epochs", type=int, default=20, help="with --paired-training")
    parser.add_argument("--paired-init", choices=["flowtrain", "torch"], default="flowtrain",
                        help="with --paired-training: whose first weights (PyTorch's own draws for --seed)")
    parser.add_argument("--paired-order", choices=["flowtrain", "torch"], default="flowtrain",
                        help="with --paired-training: whose batches (torch.randperm's for --seed)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    flowtrain = os.path.abspath(args.flowtrain)
    with open(args.flow) as f:
        flow_text = f.read()
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(args.data, "train.csv"), newline="") as f:
            lines = f.readlines()[:args.rows + 1]
        with open(os.path.join(directory, "train.csv"), "w", newline="") as f:
            f.writelines(lines)
        os.symlink(os.path.abspath(os.path.join(args.data, "images")), os.path.join(directory, "images"))

        def run(name, optimizer, epochs=1, data="train.csv", batch=args.rows):
            flow = probe_flow(flow_text, data, batch, optimizer, epochs)
            directory_of_run = train_flowtrain(flowtrain, directory, name, flow, args.seed)
            return read_safetensors(os.path.join(directory_of_run, "model-last.safetensors")), directory_of_run

        still = "{name: sgd, lr: 1e-30, momentum: 0}"  # the smallest rate flowtrain takes
        first, _ = run("first", still)
        stepped, stepped_run = run("stepped", f"{{name: sgd, lr: {args.lr}, momentum: 0}}")
        batch = mirror.load(os.path.join(directory, "train.csv"))
        agree = compare_step(without_dropout(security_net_from(first, fresh_statistics=True)), stepped, args.lr,
                             batch, stepped_run, args.tolerance)
        if args.adam_steps:
            adam, _ = run("adam", "{name: adam, lr: 0.001}", epochs=args.adam_steps)
            compare_adam(without_dropout(security_net_from(first, fresh_statistics=True)), adam, args.adam_steps,
                         batch)
        if args.whole_split:
            _, whole_run = run("whole", still, data=os.path.abspath(os.path.join(args.data, "train.csv")), batch=64)
            agree = compare_whole_split(first, whole_run, args.data, args.seed) and agree
    if args.model:
        compare_evaluation(args.model, args.data)
    if args.paired_training:
        print_metrics(paired_training(first, args.data, args.epochs, args.seed, args.paired_init, args.paired_order))
    print("\nflowtrain and the mirror: " + ("the same within the tolerance" if agree else "DIFFERENT"))
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
