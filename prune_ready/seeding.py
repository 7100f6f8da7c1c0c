"""Independent, reproducible random streams derived from the run's seed.

Each consumer (weight init, data order, re-initialisation, ...) gets its own stream so that
changing one never shifts another: e.g. the data order of seed 0 is the same for every init.
"""

import numpy as np
import torch


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed for the stream named by `keys` under the run seed `seed`."""
    words = [seed] + [
        k if isinstance(k, int) else int.from_bytes(k.encode(), "little") for k in keys
    ]
    return int(np.random.SeedSequence(words).generate_state(2, np.uint32).view(np.uint64)[0] >> 1)


def generator(seed: int, *keys: int | str) -> torch.Generator:
    """A CPU torch.Generator for the stream named by `keys`."""
    return torch.Generator().manual_seed(derive_seed(seed, *keys))
