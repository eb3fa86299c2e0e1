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
    """Independent child seeds for ``n`` replications of one run."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(n)
