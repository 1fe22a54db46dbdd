"""PyTorch mirror of flows/security-resnet18.yaml's network, for `make bench-torch`: ResNet-18 in
torchvision's layout (written out here in torch.nn, PyTorch's default initialisation), then the
security demo's dense layers and heads (bench/torch_security.py) on its 512 features, 224×224
images. `--mode frozen` times the flow as shipped: the backbone frozen in evaluation mode and
run without gradients, the layers above it training. `--mode full` times a whole training step
with every layer learning. Prints `batch N: S samples/s` like the other mirrors.
"""
import sys

import torch
from torch import nn

from torch_bench import run_benchmark
from torch_security import SecurityNet, synthetic_batch, total_loss


class BasicBlock(nn.Module):
    def __init__(self, channels_in, channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or channels_in != channels:
            self.downsample = nn.Sequential(nn.Conv2d(channels_in, channels, 1, stride, bias=False),
                                            nn.BatchNorm2d(channels))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


def resnet18_backbone():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    channels = 64
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(channels, width, stride), BasicBlock(width, width, 1)]
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def resnet18_step(batch, frozen):
    model = SecurityNet()
    backbone = resnet18_backbone()
    # The flow's `common` branch: dense 256 and ReLU on the backbone's 512 features.
    model.common = nn.Sequential(nn.Linear(512, 256), nn.ReLU())
    if frozen:
        backbone.eval()
        backbone.requires_grad_(False)
    parameters = list(model.parameters()) + ([] if frozen else list(backbone.parameters()))
    optimizer = torch.optim.Adam(parameters, lr=0.001)
    _, labels, masks = synthetic_batch(batch, torch.Generator().manual_seed(1))
    images = torch.rand(batch, 3, 224, 224, generator=torch.Generator().manual_seed(2))

    def step():
        optimizer.zero_grad(set_to_none=True)
        if frozen:
            with torch.no_grad():
                features = backbone(images)
        else:
            features = backbone(images)
        total_loss(model(features), labels, masks).backward()
        optimizer.step()

    return step


if __name__ == "__main__":
    # --mode frozen (the shipped flow) or full; the other options are run_benchmark's.
    frozen = True
    if "--mode" in sys.argv:
        at = sys.argv.index("--mode")
        frozen = sys.argv[at + 1] == "frozen"
        del sys.argv[at:at + 2]
    run_benchmark(lambda batch: resnet18_step(batch, frozen), "32" if frozen else "16", 3)
