"""Calibration of the model to the NCSES Annual Business Survey, by firm-size class.

Two behavioural parameters per size class are fitted so that a baseline run (no policy,
every mechanism on) started from a synthetic population with the NCSES size mix reproduces
the published share of innovating companies (table 2609) and the share of innovating
companies cooperating with universities or research institutes (table 4446, the union of
the three research partner types as estimated by :mod:`innoweave.registry.ncses`):

- ``intent.intent_bias[c]`` — the intercept of the innovation-intent logit;
- ``search.research_seek[c]`` — the probability that a candidate slot is a research
  organisation.

Routine (:meth:`Calibration.fit`): run the baseline for ``steps`` = 24 quarters with
``replications`` replications (common random numbers: the same seeds at every iteration),
read ``innovating_<class>`` and ``coop_research_<class>`` at the last step (a three-year
window, as the survey's), then update every class at once — the bias by a secant step on
the logit of the innovating share (slope from the last two iterations, 1 at first, steps
clipped to ±1), the seeking probability multiplicatively by the ratio of target to
simulated cooperation share (clipped to [0.002, 0.9]) — until every gap is below
``inner_tolerance`` points or ``iterations`` are spent. The fitted values ship as
``params.DEFAULT_CALIBRATION``; :meth:`Calibration.check` re-runs the same baseline with
given parameters and reports each target, observed and simulated, and the largest gap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from innoweave import __version__
from innoweave.arguments import real_number, whole_number
from innoweave.estimator import Estimator
from innoweave.seeding import spawn_seeds
from innoweave.simulation.engine import Engine
from innoweave.simulation.params import SIZE_CLASSES, ModelParams, check_params
from innoweave.simulation.population import synthetic_population

TABLES = {"innovating": "NCSES ABS table 2609 (2015-17)",
          "coop_research": "NCSES ABS table 4446 (2015-17), universities or research institutes"}


def targets(data_dir=None) -> dict[str, dict[str, float]]:
    """Observed shares (0..1) by size class: ``innovating`` and ``coop_research``."""
    from innoweave.registry.ncses import load_ncses_shares

    shares = load_ncses_shares(data_dir)
    return {
        "innovating": {c: float(shares[c].innovating) for c in SIZE_CLASSES},
        "coop_research": {c: float(shares[c].cooperation["university_research"])
                          for c in SIZE_CLASSES},
    }


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


#: Firms below which a calibration population rarely holds every size class (the NCSES mix
#: has ~0.6 % large firms: 2,000 firms give ~12); named in the message when a class is empty.
MIN_FIRMS = 2_000


class Calibration(Estimator):
    """Fit ``intent_bias`` and ``research_seek`` by size class to the NCSES targets."""

    def __init__(
        self,
        *,
        n_firms: int = 100_000,
        replications: int = 2,
        steps: int = 24,
        iterations: int = 8,
        seed: int = 7,
        tolerance: float = 3.0,
        inner_tolerance: float = 1.0,
        params: ModelParams | None = None,
        data_dir=None,
    ):
        self.n_firms = n_firms
        self.replications = replications
        self.steps = steps
        self.iterations = iterations
        self.seed = seed
        self.tolerance = tolerance
        self.inner_tolerance = inner_tolerance
        self.params = params
        self.data_dir = data_dir

    def _checked_params(self) -> ModelParams:
        """The starting parameters, after every setting has been checked (ValueError naming
        it): run once by :meth:`check` and :meth:`fit` before any simulation, so 0
        replications or iterations fail by name rather than dividing by zero or returning
        nothing, and a negative or NaN tolerance cannot make every check pass or fail."""
        whole_number("n_firms", self.n_firms, least=1)
        whole_number("replications", self.replications, least=1)
        whole_number("steps", self.steps, least=1)
        whole_number("iterations", self.iterations, least=1)
        spawn_seeds(self.seed, 1)  # the seed as the replications will use it
        real_number("tolerance", self.tolerance, low=0.0)
        real_number("inner_tolerance", self.inner_tolerance, low=0.0)
        return check_params(ModelParams() if self.params is None else self.params)

    # --- simulation ----------------------------------------------------------------------

    def simulate(self, params: ModelParams, progress: Callable[[], None] | None = None
                 ) -> dict[str, dict[str, float]]:
        """Mean last-step shares by size class over the replications (same seeds always)."""
        sums = {"innovating": dict.fromkeys(SIZE_CLASSES, 0.0),
                "coop_research": dict.fromkeys(SIZE_CLASSES, 0.0)}
        present = dict.fromkeys(SIZE_CLASSES, 0)
        for child in spawn_seeds(self.seed, self.replications):
            pop_seed, run_seed = child.spawn(2)
            pop = synthetic_population(self.n_firms, seed=pop_seed, params=params)
            df = Engine(params, pop, seed=run_seed).run(self.steps)
            last = df.iloc[-1]
            for c in SIZE_CLASSES:
                # a class without firms at the last step has no share (NaN), not a share of 0
                if np.isfinite(last[f"innovating_{c}"]):
                    present[c] += 1
                    sums["innovating"][c] += float(last[f"innovating_{c}"])
                    sums["coop_research"][c] += float(np.nan_to_num(last[f"coop_research_{c}"]))
            if progress is not None:
                progress()
        empty = [c for c in SIZE_CLASSES if present[c] == 0]
        if empty:
            raise ValueError(
                f"a population of {self.n_firms:,} firms has no firm of size class(es) {', '.join(empty)} "
                f"at the last step of any replication, so their shares cannot be compared with the "
                f"targets; use at least {MIN_FIRMS:,} firms (n_firms; --firms on the command line; the "
                f"shipped fit used 100,000)"
            )
        return {k: {c: v / present[c] for c, v in d.items()} for k, d in sums.items()}

    def report(self, params: ModelParams, simulated: dict[str, dict[str, float]]
               ) -> dict[str, Any]:
        """Compare ``simulated`` innovating and research-cooperation shares with the NCSES targets
        by size class: gaps in percentage points, whether the largest is within ``tolerance``, and
        the calibrated values and run settings."""
        observed = targets(self.data_dir)
        rows = []
        for key in ("innovating", "coop_research"):
            for c in SIZE_CLASSES:
                o, s = 100 * observed[key][c], 100 * simulated[key][c]
                rows.append({"target": key, "table": TABLES[key], "size_class": c,
                             "observed": round(o, 2), "simulated": round(s, 2),
                             "gap_points": round(s - o, 2)})
        max_gap = max(abs(r["gap_points"]) for r in rows)
        return {
            "targets": rows,
            "max_gap_points": max_gap,
            "tolerance_points": self.tolerance,
            "passed": max_gap <= self.tolerance,
            "calibrated": {"intent_bias": list(params.intent.intent_bias),
                           "research_seek": list(params.search.research_seek)},
            "n_firms": self.n_firms,
            "replications": self.replications,
            "steps": self.steps,
            "seed": self.seed,
            "version": __version__,
        }

    def check(self, progress: Callable[[], None] | None = None) -> dict[str, Any]:
        """Targets, observed vs simulated, with the given (default: shipped) parameters."""
        params = self._checked_params()
        return self.report(params, self.simulate(params, progress))

    # --- fitting -------------------------------------------------------------------------

    def fit(self, progress: Callable[[], None] | None = None) -> Calibration:
        """Iterate ``intent_bias`` (a secant step on the logit of the innovating share) and
        ``research_seek`` (scaled by the cooperation ratio) until the gaps are within
        ``inner_tolerance``, keeping the best iteration; ``progress`` is called after each
        replication. Returns ``self``."""
        params = self._checked_params()
        observed = targets(self.data_dir)
        bias = list(params.intent.intent_bias)
        seek = list(params.search.research_seek)
        previous: list[tuple[list[float], dict[str, float]]] = []
        history = []
        best = None
        for _ in range(self.iterations):
            params = replace(params,
                             intent=replace(params.intent, intent_bias=tuple(bias)),
                             search=replace(params.search, research_seek=tuple(seek)))
            sim = self.simulate(params, progress)
            rep = self.report(params, sim)
            history.append(rep)
            if best is None or rep["max_gap_points"] < best[1]["max_gap_points"]:
                best = (params, rep)
            if rep["max_gap_points"] <= self.inner_tolerance:
                break
            new_bias = []
            for i, c in enumerate(SIZE_CLASSES):
                err = _logit(observed["innovating"][c]) - _logit(sim["innovating"][c])
                slope = 1.0
                if previous:
                    b0, s0 = previous[-1][0][i], previous[-1][1][c]
                    db = bias[i] - b0
                    dl = _logit(sim["innovating"][c]) - _logit(s0)
                    if abs(db) > 1e-6 and dl / db > 0.05:
                        slope = dl / db
                new_bias.append(bias[i] + float(np.clip(err / slope, -1.0, 1.0)))
            previous.append((list(bias), dict(sim["innovating"])))
            for i, c in enumerate(SIZE_CLASSES):
                ratio = observed["coop_research"][c] / max(sim["coop_research"][c], 1e-3)
                seek[i] = float(np.clip(seek[i] * ratio, 0.002, 0.9))
            bias = new_bias
        self.params_, self.report_ = best
        self.intent_bias_ = tuple(round(b, 4) for b in self.params_.intent.intent_bias)
        self.research_seek_ = tuple(round(s, 4) for s in self.params_.search.research_seek)
        self.history_ = history
        return self

    def to_toml(self) -> str:
        """The fitted values as a calibration file a scenario can name (``calibration = ...``)."""
        def fmt(values):
            return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"

        return (f"# innoweave {__version__} calibration to NCSES tables 2609 and 4446 "
                f"(largest gap {self.report_['max_gap_points']:.2f} points)\n"
                f"intent_bias = {fmt(self.intent_bias_)}\n"
                f"research_seek = {fmt(self.research_seek_)}\n")
