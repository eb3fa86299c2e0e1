"""The one source of randomness: a seed that cannot seed a run is named, not passed to NumPy."""

import re

import numpy as np
import pytest

from innoweave.seeding import check_seed, make_rng


@pytest.mark.parametrize("seed", [True, -1, 1.5, "x", [1, 2]])
def test_a_seed_that_cannot_seed_a_run_is_refused_by_name(seed):
    # True used to be seed 1 quietly; "x" and 1.5 ended in NumPy's SeedSequence message
    with pytest.raises(ValueError, match=f"seed must be a whole number >= 0.*got {re.escape(repr(seed))}"):
        make_rng(seed)


def test_valid_seeds_give_the_generators_they_always_gave():
    assert make_rng(np.int64(3)).random() == make_rng(3).random() == np.random.default_rng(3).random()
    generator = np.random.default_rng(5)
    assert make_rng(generator) is generator
    # no seed: fresh entropy from the system each time, never a fixed seed
    assert check_seed(None) is None
    draws = {tuple(make_rng(None).integers(0, 2**62, 2)) for _ in range(3)}
    assert len(draws) == 3 and not draws & {tuple(np.random.default_rng(0).integers(0, 2**62, 2))}
    sequence = np.random.SeedSequence(9)
    assert make_rng(sequence).random() == np.random.default_rng(np.random.SeedSequence(9)).random()
