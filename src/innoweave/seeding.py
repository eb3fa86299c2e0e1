"""One source of randomness per run.

Every stochastic function in InnoWeave takes ``seed=`` (an int, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`) and turns it into
one generator here; sweeps spawn independent child seeds with :func:`spawn_seeds`.
"""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def make_rng(seed: SeedLike) -> np.random.Generator:
    """Return the run's single generator for ``seed``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def spawn_seeds(seed: int | np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """Independent child seeds for ``n`` replications of one run.

    The same ``seed`` gives the same children every time: a SeedSequence is read as a value
    (its own ``spawn`` would hand out new children on each call). A Generator cannot be
    split into reproducible replications, so it is refused, as is a negative int."""
    if isinstance(seed, np.random.SeedSequence):
        ss = np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0 or a numpy SeedSequence for a run of "
                         f"replications, got {seed!r}")
    else:
        ss = np.random.SeedSequence(int(seed))
    return ss.spawn(n)
