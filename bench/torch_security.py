"""PyTorch mirror of flows/security.yaml's network (and, with `--trunk strided`, of bench/strided.yaml's),
for `make bench-torch`.

Same trunk (3 × [conv 3×3 same → batchnorm → relu → maxpool 2], flatten, dense 256, relu;
`features`: dense 128, relu, dropout 0.1), same heads (4 binary and a 7-class on `features`;
8 bounded regressions with a dense-64 hidden layer, L1 on σ, weight 10, and a 3-label
multilabel with a dense-64 hidden layer, weight 10, on `common`), same masked losses (the
masks follow the flow's preconditions, 10% of labels missing), Adam lr 0.001, same threads.
Images are NCHW, PyTorch's default layout. Prints `batch N: S samples/s` per batch size,
the median of several repetitions of whole training steps.
"""

import torch
import torch.nn.functional as F
from torch import nn

from torch_bench import run_benchmark

BOXES = ["face_x1", "face_y1", "face_w", "face_h", "body_x1", "body_y1", "body_w", "body_h"]


class SecurityNet(nn.Module):
    """`trunk` "pooled" is flows/security.yaml's; "strided" is bench/strided.yaml's: three strided
    convolutions (5×5 stride 2 → 16, 3×3 stride 2 → 32, 3×3 stride 2 → 64, each with ReLU), no
    batchnorm or pooling. Both end in 8 × 8 × 64 and the same dense layers and heads."""

    def __init__(self, trunk="pooled"):
        super().__init__()
        layers = []
        channels = 3
        if trunk == "strided":
            for filters, kernel in ((16, 5), (32, 3), (64, 3)):
                layers += [nn.Conv2d(channels, filters, kernel, stride=2, padding=kernel // 2), nn.ReLU()]
                channels = filters
        else:
            for filters in (16, 32, 64):
                layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.BatchNorm2d(filters), nn.ReLU(),
                           nn.MaxPool2d(2)]
                channels = filters
        self.common = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU())
        self.features = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.1))
        self.binary = nn.ModuleDict({name: nn.Linear(128, 1) for name in
                                     ["camera_blocked", "door_open", "door_locked", "person_present"]})
        self.shirt = nn.Linear(128, 7)
        self.boxes = nn.ModuleDict({name: nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 1))
                                    for name in BOXES})
        self.facial = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 3))

    def forward(self, images):
        common = self.common(images)
        features = self.features(common)
        outputs = {name: head(features)[:, 0] for name, head in self.binary.items()}
        outputs["shirt_type"] = self.shirt(features)
        outputs.update({name: head(common)[:, 0] for name, head in self.boxes.items()})
        outputs["facial"] = self.facial(common)
        return outputs


def masked_mean(losses, mask):
    return (losses * mask).sum() / mask.sum().clamp(min=1)


def synthetic_batch(batch, generator):
    def present():
        return (torch.rand(batch, generator=generator) >= 0.1).float()

    def flag():
        return (torch.rand(batch, generator=generator) < 0.5).float()

    images = torch.rand(batch, 3, 64, 64, generator=generator)
    labels, masks = {}, {}
    labels["camera_blocked"], masks["camera_blocked"] = flag(), present()
    not_blocked = masks["camera_blocked"] * (1 - labels["camera_blocked"])
    labels["door_open"], masks["door_open"] = flag(), present() * not_blocked
    labels["door_locked"], masks["door_locked"] = flag(), present() * masks["door_open"] * (1 - labels["door_open"])
    labels["person_present"], masks["person_present"] = flag(), present() * masks["door_open"] * labels["door_open"]
    person = masks["person_present"] * labels["person_present"]
    for name in BOXES:
        labels[name], masks[name] = torch.rand(batch, generator=generator), present() * person
    labels["facial"] = (torch.rand(batch, 3, generator=generator) < 0.5).float()
    masks["facial"] = (present() * person).unsqueeze(1).expand(batch, 3).contiguous()
    labels["shirt_type"] = torch.randint(0, 7, (batch,), generator=generator)
    masks["shirt_type"] = present() * person
    return images, labels, masks


def total_loss(outputs, labels, masks):
    loss = 0
    for name in ["camera_blocked", "door_open", "door_locked", "person_present"]:
        loss = loss + masked_mean(F.binary_cross_entropy_with_logits(outputs[name], labels[name], reduction="none"),
                                  masks[name])
    for name in BOXES:
        loss = loss + 10 * masked_mean((torch.sigmoid(outputs[name]) - labels[name]).abs(), masks[name])
    loss = loss + 10 * masked_mean(F.binary_cross_entropy_with_logits(outputs["facial"], labels["facial"],
                                                                      reduction="none"), masks["facial"])
    loss = loss + 2 * masked_mean(F.cross_entropy(outputs["shirt_type"], labels["shirt_type"], reduction="none"),
                                  masks["shirt_type"])
    return loss


def security_step(batch, trunk="pooled"):
    model = SecurityNet(trunk)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    images, labels, masks = synthetic_batch(batch, torch.Generator().manual_seed(1))

    def step():
        optimizer.zero_grad(set_to_none=True)
        total_loss(model(images), labels, masks).backward()
        optimizer.step()

    return step


def strided_step(batch):
    return security_step(batch, trunk="strided")


if __name__ == "__main__":
    import sys
    # --trunk strided times bench/strided.yaml's network instead; the other options are run_benchmark's.
    strided = "--trunk" in sys.argv and sys.argv[sys.argv.index("--trunk") + 1] == "strided"
    if "--trunk" in sys.argv:
        at = sys.argv.index("--trunk")
        del sys.argv[at:at + 2]
    run_benchmark(strided_step if strided else security_step, "64", 10)
