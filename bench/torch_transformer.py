"""PyTorch mirror of bench/transformer.yaml, for `make bench-torch`.

An embedding of 5,000 ids (0 the padding) to width 128, learned positions, 2 ×
nn.TransformerEncoderLayer(128, 4 heads, 512 hidden, dropout 0.1, GELU (tanh form, as
flowtrain's), norm_first=True, batch_first=True) with the padding as src_key_padding_mask,
then a tag per token (9 classes, cross-entropy over the real tokens of the batch) and a
yes/no per text from the mean over its real tokens (binary cross-entropy, 10% of labels
missing). Texts as `flowtrain bench` makes them: lengths uniform in 0…64, padded. Adam lr
0.001, same threads. Prints `batch N: S samples/s`, the median of several repetitions of
whole training steps.
"""
import functools

import torch
import torch.nn.functional as F
from torch import nn

from torch_bench import run_benchmark

VOCABULARY, LENGTH, WIDTH, HEADS, HIDDEN, TAGS = 5000, 64, 128, 4, 512, 9


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, WIDTH)
        self.positions = nn.Parameter(torch.randn(LENGTH, WIDTH))
        gelu = functools.partial(F.gelu, approximate="tanh")
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(WIDTH, HEADS, HIDDEN, dropout=0.1, activation=gelu, norm_first=True,
                                       batch_first=True)
            for _ in range(2)])
        self.tags = nn.Linear(WIDTH, TAGS)
        self.positive = nn.Linear(WIDTH, 1)

    def forward(self, ids):
        padding = ids == 0
        x = self.embedding(ids) + self.positions
        for block in self.blocks:
            x = block(x, src_key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).float()
        pooled = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
        return self.tags(x), self.positive(pooled)[:, 0]


def synthetic_batch(batch, generator):
    lengths = torch.randint(0, LENGTH + 1, (batch,), generator=generator)
    ids = torch.randint(3, VOCABULARY, (batch, LENGTH), generator=generator)
    ids[torch.arange(LENGTH).unsqueeze(0) >= lengths.unsqueeze(1)] = 0
    tags = torch.randint(0, TAGS, (batch, LENGTH), generator=generator)
    tags[ids == 0] = -100  # cross_entropy's ignore_index: padding has no tag
    positive = (torch.rand(batch, generator=generator) < 0.5).float()
    present = (torch.rand(batch, generator=generator) >= 0.1).float()
    return ids, tags, positive, present


def encoder_step(batch):
    model = Encoder()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    ids, tags, positive, present = synthetic_batch(batch, torch.Generator().manual_seed(1))

    def step():
        optimizer.zero_grad(set_to_none=True)
        tag_logits, positive_logits = model(ids)
        loss = F.cross_entropy(tag_logits.reshape(-1, TAGS), tags.reshape(-1), ignore_index=-100)
        losses = F.binary_cross_entropy_with_logits(positive_logits, positive, reduction="none")
        loss = loss + (losses * present).sum() / present.sum().clamp(min=1)
        loss.backward()
        optimizer.step()

    return step


if __name__ == "__main__":
    run_benchmark(encoder_step, "32,128", 5)
