"""Checks that flowtrain starts a trunk from PyTorch weights (`make check-torch-import`).

1. torchvision's ResNet-18 (`resnet18(weights=None)` under a fixed seed; a few training-mode
   passes on random images give its batchnorm layers statistics other than 0 and 1), saved with
   `safetensors.torch.save_file(model.state_dict())`.
2. flows/security-resnet18.yaml, pointed at that file and at a small generated security data set,
   trains its heads for one epoch on the frozen backbone (the HydraNet recipe).
3. `flowtrain embed` writes the backbone's output for 8 random 224×224 images; torchvision's
   model in evaluation mode computes the same features (everything before `fc`) from the same
   pixels, standardised with ImageNet's statistics as the flow's `normalize: imagenet` does.
   They must agree within --tolerance (default 1e-4) relative to the largest feature.

torchvision's wheels on PyPI are built for CUDA builds of torch, and their compiled operators do
not load beside the CPU build; ResNet-18 needs none of them, so the script imports
torchvision's model code (torchvision/models/resnet.py) without the package's initialisation.
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file


def torchvision_resnet18():
    """torchvision.models.resnet18, imported without torchvision/__init__.py (see above)."""
    root = os.path.join(os.path.dirname(os.path.dirname(torch.__file__)), "torchvision")
    for name, path in [("torchvision", root), ("torchvision.models", os.path.join(root, "models"))]:
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [path]
            sys.modules[name] = module
    from torchvision.models.resnet import resnet18
    return resnet18


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--flowtrain", default=".build/release/flowtrain")
    parser.add_argument("--flow", default="flows/security-resnet18.yaml")
    parser.add_argument("--work", default=None, help="directory for the weights, data and run (default: a new one)")
    parser.add_argument("--rows", type=int, default=240, help="generated security scenes to train the heads on")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="check-torch-import-"))
    os.makedirs(work, exist_ok=True)
    flowtrain = os.path.abspath(args.flowtrain)

    torch.manual_seed(args.seed)
    model = torchvision_resnet18()(weights=None)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 224, 224) * 0.5 + 0.2)
    model.eval()
    weights = os.path.join(work, "resnet18.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)

    data = os.path.join(work, "data")
    subprocess.run([flowtrain, "datasets", "security", "--out", data, "--n", str(args.rows)], check=True,
                   stdout=subprocess.DEVNULL)
    with open(args.flow) as f:
        text = f.read()
    text = text.replace("../models/resnet18.safetensors", weights).replace("../datasets/security/", data + "/")
    flow = os.path.join(work, "resnet18.yaml")
    with open(flow, "w") as f:
        f.write(text)
    run = os.path.join(work, "run")
    subprocess.run([flowtrain, "train", flow, "--epochs", "1", "--run-dir", run], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == "valid" and r["metric_name"] == "loss"]
    if not rows:
        print("check-torch-import: the run wrote no validation losses", file=sys.stderr)
        sys.exit(1)
    print(f"heads trained on the frozen backbone for 1 epoch: validation loss of {rows[0]['task_path']} "
          f"{float(rows[0]['value']):.4f}, of {len(rows)} tasks in all")

    # 8 random images, as PNG files and as the same pixels for torchvision.
    rng = np.random.default_rng(args.seed)
    pixels = rng.integers(0, 256, size=(8, 224, 224, 3), dtype=np.uint8)
    images = os.path.join(work, "images")
    os.makedirs(images, exist_ok=True)
    with open(os.path.join(work, "images.csv"), "w") as f:
        f.write("image\n")
        for i, image in enumerate(pixels):
            Image.fromarray(image).save(os.path.join(images, f"{i}.png"))
            f.write(f"images/{i}.png\n")
    embedded = os.path.join(work, "embeddings.csv")
    subprocess.run([flowtrain, "embed", run, "--data", os.path.join(work, "images.csv"), "--branch", "backbone",
                    "--out", embedded], check=True)
    with open(embedded) as f:
        ours = np.array([[float(x) for x in row[1:]] for row in list(csv.reader(f))[1:]], dtype=np.float64)

    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x = (torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255 - mean) / std
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(model.children())[:-1])  # everything before fc
        theirs = torch.flatten(trunk(x), 1).double().numpy()
    scale = np.abs(theirs).max()
    worst = np.abs(ours - theirs).max() / scale
    print(f"backbone features on 8 random 224×224 images: {ours.shape[1]} each, largest |feature| {scale:.4g}, "
          f"max |flowtrain − torchvision| / largest = {worst:.2e} (tolerance {args.tolerance:g})")
    if ours.shape != theirs.shape or not worst <= args.tolerance:
        print("check-torch-import: the backbone's features differ from torchvision's", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
