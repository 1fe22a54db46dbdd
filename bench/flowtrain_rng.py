"""flowtrain's random draws for the orders mirror (bench/torch_train_orders.py --flowtrain-rng):
its generator (Sources/Engine/Random.swift: xoshiro256** seeded through SplitMix64), the
first values of every parameter of flows/orders.yaml's network as PlanBuilder.build draws them
for a seed, and Trainer.order's shuffle of each epoch. With both, the mirror starts from
flowtrain's weights and sees its batches, so a difference between the two is the frameworks'
and not the luck of two different draws (one seed's test MAE moves by ±0.01 between draws)."""
import math

import numpy as np

MASK = (1 << 64) - 1


class Random:
    def __init__(self, seed):
        x, s = seed & MASK, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(z ^ (z >> 31))
        self.s = s

    def next(self):
        s0, s1, s2, s3 = self.s
        r = (s1 * 5) & MASK
        result = ((((r << 7) | (r >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):  # [0, 1) with 24 bits, as a Float
        return np.float32(self.next() >> 40) * np.float32(1.0 / 16777216.0)

    def normal(self):  # Box–Muller, one value per call, computed in Double
        u1 = (self.next() >> 11) * (1.0 / 9007199254740992.0)
        u2 = (self.next() >> 11) * (1.0 / 9007199254740992.0)
        return np.float32(math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2))


# flowtrain's task order (each after the tasks its precondition names) and output widths.
TASK_UNITS = [("cancelled", 1), ("cancel_reason", 4), ("delivery.shipped_late", 1), ("delivery.delay_days", 32),
              ("delivery.problems", 3), ("delivery.problems_reported", 1), ("delivery.rating", 1)]


def parameter_spec(features):
    """flows/orders.yaml's parameters in the order ModelCompiler declares them (which is the
    order they are drawn in): the embedding tables, the trunk, the heads' first dense layers run
    as one group (weights, then biases), then delay_days' output layer."""
    spec = [("inputs.carrier.embedding.weight", (6, 4), ("normal", 1.0)),
            ("inputs.category.embedding.weight", (9, 4), ("normal", 1.0)),
            ("trunk.shared.0.dense.weight", (128, features), ("he", features)),
            ("trunk.shared.0.dense.bias", (128,), ("constant", 0.0)),
            ("trunk.shared.2.layernorm.weight", (128,), ("constant", 1.0)),
            ("trunk.shared.2.layernorm.bias", (128,), ("constant", 0.0)),
            ("trunk.shared.3.dense.weight", (64, 128), ("he", 128)),
            ("trunk.shared.3.dense.bias", (64,), ("constant", 0.0))]
    first = {path: f"heads.{path}.0.dense" if path == "delivery.delay_days" else f"heads.{path}.out"
             for path, _ in TASK_UNITS}
    for path, units in TASK_UNITS:
        spec.append((first[path] + ".weight", (units, 64),
                     ("he", 64) if path == "delivery.delay_days" else ("glorot", 64, units)))
    spec += [(first[path] + ".bias", (units,), ("constant", 0.0)) for path, units in TASK_UNITS]
    spec += [("heads.delivery.delay_days.out.weight", (1, 32), ("glorot", 32, 1)),
             ("heads.delivery.delay_days.out.bias", (1,), ("constant", 0.0))]
    return spec


def initial_parameters(seed, features):
    """Name (as in model.safetensors) → float32 array, as `flowtrain train --seed seed` starts."""
    random, values = Random(seed), {}
    for name, shape, (kind, *arguments) in parameter_spec(features):
        v = np.empty(int(np.prod(shape)), dtype=np.float32)
        if kind == "he":
            std = np.sqrt(np.float32(2) / np.float32(arguments[0]), dtype=np.float32)
            for i in range(v.size):
                v[i] = std * random.normal()
        elif kind == "glorot":
            limit = np.sqrt(np.float32(6) / np.float32(arguments[0] + arguments[1]), dtype=np.float32)
            for i in range(v.size):
                v[i] = limit * (np.float32(2) * random.uniform() - np.float32(1))
        elif kind == "normal":
            for i in range(v.size):
                v[i] = np.float32(arguments[0]) * random.normal()
        else:
            v[:] = arguments[0]
        values[name] = v.reshape(shape)
    return values


def epoch_order(rows, epoch, seed):
    """The training rows of `epoch` (1-based) in flowtrain's order: a Fisher–Yates shuffle from a
    generator seeded by the seed and the epoch alone."""
    random = Random(((seed + 0x5EED) & MASK) ^ ((epoch * 0x9E3779B97F4A7C15) & MASK))
    order = list(range(rows))
    for i in range(rows - 1, 0, -1):
        j = random.next() % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order
