"""Uncertainty and sensitivity of a composite index to its methodological choices.

A composite index is only as defensible as its ranking is robust to the choices an analyst
could reasonably have made differently: the normalisation, the weights, the aggregation,
which indicators to keep. :class:`UncertaintyAnalysis` draws those choices at random
(Monte Carlo, one seeded generator), refits the :class:`~innoweave.diagnosis.composite.CompositeIndex`
for each draw, and reports each unit's nominal rank, median rank and 5–95 % rank interval;
:meth:`UncertaintyAnalysis.sobol` apportions the variance of the mean absolute rank shift
among the choices with Sobol indices (Saltelli sampling and Jansen estimators, via SALib).
It serves the EIS ranking plot and any other index built with the engine.

Each choice is a list of alternatives, each a dict of :class:`CompositeIndex` settings; a
draw picks one alternative per choice uniformly. Combinations repeat, so fitted rankings
are cached per combination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from innoweave import __version__
from innoweave.diagnosis.composite import CompositeIndex, IndicatorData
from innoweave.estimator import Estimator
from innoweave.seeding import SeedLike, make_rng


class UncertaintyAnalysis(Estimator):
    """Monte Carlo over methodological choices of a composite index.

    ``base`` is the nominal (unfitted) index; ``choices`` maps a choice's name to its
    alternatives (dicts of settings); ``fixed`` settings apply to every draw (e.g. a
    positive ``scale`` so that geometric means are defined); ``year`` is the year ranked
    and ``units`` the units ranked (default: all). After :meth:`fit`: ``nominal_ranks_``,
    ``draws_`` (the alternative chosen per draw), ``ranks_`` (draws x units), ``summary_``
    (nominal, median, 5 % and 95 % rank per unit, best median first) and ``meta_``.
    """

    def __init__(
        self, base: CompositeIndex, choices: Mapping[str, Sequence[Mapping[str, object]]], *,
        n_draws: int = 1000, year: int | None = None, units: Sequence[str] | None = None,
        fixed: Mapping[str, object] | None = None, seed: SeedLike = None,
    ) -> None:
        self.base = base
        self.choices = choices
        self.n_draws = n_draws
        self.year = year
        self.units = units
        self.fixed = fixed
        self.seed = seed

    def _check(self) -> None:
        if self.n_draws < 1:
            raise ValueError(f"n_draws must be >= 1, got {self.n_draws}")
        allowed = set(self.base.get_params(deep=False))
        for name, alternatives in self.choices.items():
            if not alternatives:
                raise ValueError(f"choice {name!r} has no alternatives")
            for alt in alternatives:
                unknown = sorted(set(alt) - allowed)
                if unknown:
                    raise ValueError(f"choice {name!r} sets unknown settings {unknown}")

    def _ranks(self, data: IndicatorData, combo: tuple[int, ...]) -> np.ndarray:
        if combo not in self._cache:
            params = self.base.get_params(deep=False) | dict(self.fixed or {})
            for (_, alternatives), k in zip(self.choices.items(), combo, strict=True):
                params |= dict(alternatives[k])
            model = CompositeIndex(**params).fit(data)
            ranks = model.ranks(self.year_, units=self.units_)
            self._cache[combo] = ranks.to_numpy(dtype=float)
        return self._cache[combo]

    def fit(self, data: IndicatorData) -> UncertaintyAnalysis:
        """Rank the units under the nominal index and under ``n_draws`` random combinations of the
        alternative choices, and summarise each unit's rank spread. Returns ``self``."""
        self._check()
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._data = data
        rng = make_rng(self.seed)
        self.year_ = self.year if self.year is not None else data.years[-1]
        self.units_ = list(self.units) if self.units is not None else list(data.units)
        nominal = CompositeIndex(**self.base.get_params(deep=False)).fit(data)
        self.nominal_ranks_ = nominal.ranks(self.year_, units=self.units_)
        sizes = [len(a) for a in self.choices.values()]
        picks = np.column_stack([rng.integers(0, k, size=self.n_draws) for k in sizes])
        self.draws_ = pd.DataFrame(picks, columns=list(self.choices))
        ranks = np.vstack([self._ranks(data, tuple(int(v) for v in row)) for row in picks])
        self.ranks_ = pd.DataFrame(ranks, columns=self.units_)
        q = np.nanpercentile(ranks, [5, 50, 95], axis=0)
        self.summary_ = (
            pd.DataFrame({
                "unit": self.units_,
                "nominal_rank": self.nominal_ranks_.to_numpy(),
                "median_rank": q[1],
                "rank_p05": q[0],
                "rank_p95": q[2],
            })
            .sort_values(["median_rank", "nominal_rank"])
            .reset_index(drop=True)
        )
        self.meta_ = {
            "n_draws": self.n_draws,
            "distinct_combinations": len(self._cache),
            "year": self.year_,
            "choices": {k: len(v) for k, v in self.choices.items()},
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "version": __version__,
        }
        return self

    def sobol(self, *, n_base: int = 256, seed: SeedLike = None) -> pd.DataFrame:
        """First-order and total Sobol indices of each choice on the mean absolute rank shift.

        Each choice becomes a factor uniform on [0, 1) cut into equal parts, one per
        alternative; ``n_base`` (a power of two) gives ``n_base * (choices + 2)`` evaluations.
        """
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import sobol as sobol_sample

        if not hasattr(self, "nominal_ranks_"):
            raise RuntimeError("call fit() before sobol()")
        if n_base < 2 or n_base & (n_base - 1):
            raise ValueError(f"n_base must be a power of two >= 2, got {n_base}")
        rng = make_rng(seed)
        names = list(self.choices)
        sizes = np.array([len(a) for a in self.choices.values()])
        problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
        sample_seed, analyse_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=2))
        u = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=sample_seed)
        picks = np.minimum((u * sizes).astype(int), sizes - 1)
        nominal = self.nominal_ranks_.to_numpy(dtype=float)
        shift = np.array([
            np.nanmean(np.abs(self._ranks(self._data, tuple(int(v) for v in row)) - nominal))
            for row in picks
        ])
        res = sobol_analyze.analyze(problem, shift, calc_second_order=False, seed=analyse_seed)
        self.sobol_meta_ = {"n_base": n_base, "evaluations": len(shift), "output": "mean |rank shift|"}
        return pd.DataFrame({
            "choice": names,
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        })
