"""One source of randomness per run.

Every stochastic function in InnoWeave takes ``seed=`` (an int, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`) and turns it into
one generator here; sweeps spawn independent child seeds with :func:`spawn_seeds`.
"""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def check_seed(seed: object) -> SeedLike:
    """``seed`` if it can seed a run: None, a whole number >= 0 (not a bool: ``True`` would
    quietly be seed 1), a SeedSequence or a Generator; else a message naming ``seed``.
    Estimators call it before any work, so a bad seed does not fail halfway through."""
    if seed is None or isinstance(seed, (np.random.SeedSequence, np.random.Generator)):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, a NumPy SeedSequence or Generator, or None; got {seed!r}")
    return seed


def make_rng(seed: SeedLike) -> np.random.Generator:
    """Return the run's single generator for ``seed`` (checked by :func:`check_seed`)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed))


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
