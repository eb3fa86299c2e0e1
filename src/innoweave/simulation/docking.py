"""Docking: the fast engine and the Mesa reference must give the same output distributions.

Validation 1 of the model (``docs/model.md``, "Reference implementation and docking"). For
each of three named scenarios and each of ``seeds`` replications, one synthetic population
is built and run by both implementations — the vectorised :class:`Engine` and the
object-per-agent :class:`~innoweave.simulation.mesa_reference.ReferenceModel` — from the
identical initial state, each with its own random stream. For every key output at the final
step, the two samples of ``seeds`` values are compared with a two-sample
Kolmogorov–Smirnov test (``scipy.stats.ks_2samp``); the p-values are Bonferroni-corrected
over all scenario × output tests, and docking passes when every corrected p-value exceeds
``alpha`` (0.01). ``innoweave simulate dock`` is the command-line front end.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import ks_2samp

from innoweave import __version__
from innoweave.arguments import real_number, whole_number
from innoweave.seeding import spawn_seeds
from innoweave.simulation.engine import Engine
from innoweave.simulation.params import InstrumentConfig, Mechanisms, ModelParams, SearchParams
from innoweave.simulation.population import synthetic_population


@dataclass(frozen=True)
class DockingScenario:
    """A named configuration both implementations run: parameters and instruments."""

    name: str
    description: str
    params: ModelParams = field(default_factory=ModelParams)
    instruments: dict[str, dict] = field(default_factory=dict)

    def instrument_configs(self) -> dict[str, InstrumentConfig]:
        """The scenario's instrument tables as checked :class:`InstrumentConfig` objects, by key."""
        return {key: InstrumentConfig.from_dict(key, dict(table), where=f"{self.name}.{key}")
                for key, table in self.instruments.items()}


#: Budgets per step for a population of about 400 firms (money in quarter-revenues per
#: employee at the start), large enough that every instrument is used in every run.
POLICY_MIX = {
    "rd_grant": {"budget": 6.0},
    "credit_guarantee": {"budget": 3.0},
    "rd_tax_credit": {"budget": 3.0},
    "talent_subsidy": {"budget": 4.0, "targeting": "need"},
    "researcher_secondment": {"budget": 4.0},
    "innovation_voucher": {"budget": 4.0},
    "matchmaking_platform": {"budget": 3.0},
    "joint_lab": {"budget": 6.0},
    "intermediary_funding": {"budget": 2.0},
    "cluster_programme": {"budget": 3.0, "targeting": "need"},
    "ip_support": {"budget": 3.0},
    "awareness_campaign": {"budget": 3.0, "targeting": "need"},
    "collaborative_call": {"budget": 4.0},
}

SCENARIOS: dict[str, DockingScenario] = {
    s.name: s
    for s in (
        DockingScenario(
            "baseline",
            "no policy, every mechanism on, progressive knowledge rule",
        ),
        DockingScenario(
            "policy_mix",
            "all 13 instruments at once (every mechanism on)",
            instruments=POLICY_MIX,
        ),
        DockingScenario(
            "conservative_closed",
            "conservative knowledge rule; no intermediaries, radical research, spin-offs or "
            "entry; awareness campaign and R&D grants need-targeted",
            params=ModelParams(
                search=SearchParams(rule="conservative"),
                mechanisms=Mechanisms(intermediaries=False, radical=False, spinoffs=False,
                                      entry=False),
            ),
            instruments={
                "rd_grant": {"budget": 8.0, "targeting": "need"},
                "awareness_campaign": {"budget": 4.0, "targeting": "need"},
            },
        ),
    )
}

#: Key outputs compared at the final step.
KEY_OUTPUTS = (
    "share_sme_project",
    "innovations",
    "collab_total",
    "collab_uir",
    "new_partnerships",
    "patents_total",
    "capability_mean",
    "capability_gini",
    "knowledge_variety",
    "knowledge_breadth",
    "survival",
    "net_edges",
    "mean_awareness",
    "spend_total",
)

DEFAULT_FIRMS = 400
DEFAULT_STEPS = 24


def _final_outputs(results, outputs) -> list[float]:
    last = results.iloc[-1]
    return [float(last[name]) for name in outputs]


def _reference_model():
    try:
        from innoweave.simulation.mesa_reference import ReferenceModel
    except ImportError as exc:
        raise RuntimeError(f"docking needs the Mesa reference: {exc}") from exc
    return ReferenceModel


def smallest_p(seeds: int) -> float:
    """The smallest p-value the two-sample KS test can give with ``seeds`` values per sample:
    its exact p for two fully separated samples."""
    return float(ks_2samp(np.arange(seeds), np.arange(seeds) + seeds, method="exact").pvalue)


def min_seeds(n_tests: int, alpha: float = 0.01) -> int:
    """The fewest seeds with which docking can fail at all: even two fully separated samples
    must reach a Bonferroni-corrected p (``n_tests`` × p) below ``alpha``. With fewer, every
    run "passes", which says nothing (with 3 × 14 tests at 0.01: 8 seeds)."""
    seeds = 2
    while smallest_p(seeds) * n_tests >= alpha:
        seeds += 1
    return seeds


def run_docking(
    *,
    seeds: int = 30,
    scenarios: tuple[str, ...] | None = None,
    outputs: tuple[str, ...] | None = None,
    n_firms: int = DEFAULT_FIRMS,
    steps: int = DEFAULT_STEPS,
    alpha: float = 0.01,
    seed: int = 20240601,
    workers: int = 1,
    progress: Callable[[], None] | None = None,
) -> dict:
    """Run every scenario ``seeds`` times in both implementations and compare outputs.

    ``scenarios`` are names of :data:`SCENARIOS` (default all three); ``outputs`` columns of
    the per-step results (default :data:`KEY_OUTPUTS`). Replication ``k`` uses the ``k``-th
    child of ``seed`` for its population (shared by both implementations and all scenarios)
    and two further children for the engine's and the reference's streams. Returns
    ``{"scenarios", "outputs", "seeds", "min_p", "passed"}`` (``min_p`` the smallest
    Bonferroni-corrected p-value) plus ``alpha``, ``tests``, sizes, timings and one entry
    per scenario × output in ``details``. ``workers`` > 1 runs replications in that many
    processes (results do not depend on it); ``progress`` is called once per scenario run.
    """
    for name, value in (("scenarios", scenarios), ("outputs", outputs)):
        if isinstance(value, str):  # one name, not its letters
            raise ValueError(f"{name} must be a tuple of names, got the text {value!r}")
    names = tuple(scenarios) if scenarios is not None else tuple(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise ValueError(f"scenarios: unknown {unknown}; known: {sorted(SCENARIOS)}")
    outputs = tuple(outputs) if outputs is not None else KEY_OUTPUTS
    seeds = whole_number("seeds", seeds, least=2)
    whole_number("n_firms", n_firms, least=1)
    whole_number("steps", steps, least=1)
    whole_number("workers", workers, least=1)
    # alpha 0 made the search for the fewest useful seeds endless; alpha >= 1 passes anything
    alpha = real_number("alpha", alpha, low=0.0, high=1.0, above_low=True)
    if alpha >= 1.0:
        raise ValueError(f"alpha must be below 1, got {alpha!r}")
    spawn_seeds(seed, 1)  # the seed checked before any run
    if not names or not outputs:
        raise ValueError("docking needs at least one scenario and one output")
    needed = min_seeds(len(names) * len(outputs), alpha)
    if seeds < needed:
        raise ValueError(
            f"seeds: {seeds} cannot detect a mismatch: the smallest Bonferroni-corrected p "
            f"they allow is {min(1.0, smallest_p(seeds) * len(names) * len(outputs)):.3g} "
            f"(> alpha {alpha}) over {len(names) * len(outputs)} tests; use at least {needed}")
    _check_outputs(outputs, names[0])  # fails early, with the install hint, when Mesa is missing

    started = time.perf_counter()
    timing = {"engine_s": 0.0, "mesa_s": 0.0}
    samples = {name: {"engine": [], "mesa": []} for name in names}
    jobs = [(child, names, outputs, n_firms, steps) for child in spawn_seeds(seed, seeds)]
    if workers > 1:
        # importing Mesa switches the global start method to "spawn" (mesa.batchrunner); fork
        # where the platform allows it, so workers need not re-import everything
        context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = pool.map(_replicate, jobs)
            for result in results:
                _collect(result, samples, timing, progress)
    else:
        for job in jobs:
            _collect(_replicate(job), samples, timing, progress)

    n_tests = len(names) * len(outputs)
    details = []
    for name in names:
        eng = np.asarray(samples[name]["engine"])
        ref = np.asarray(samples[name]["mesa"])
        for k, output in enumerate(outputs):
            details.append(_compare(name, output, eng[:, k], ref[:, k], n_tests))
    min_p = min(d["p_corrected"] for d in details)
    min_p_raw = min(d["p"] for d in details)
    return {
        "scenarios": len(names),
        "outputs": len(outputs),
        "seeds": seeds,
        "min_p": min_p,
        "passed": bool(all(d["p_corrected"] > alpha for d in details)),
        "alpha": alpha,
        "min_p_raw": min_p_raw,
        "tests": n_tests,
        "correction": "bonferroni",
        "test": "two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp), final step",
        "scenario_names": list(names),
        "output_names": list(outputs),
        "n_firms": n_firms,
        "steps": steps,
        "seed": seed,
        "workers": workers,
        "seconds": time.perf_counter() - started,
        **timing,
        "version": __version__,
        "details": details,
    }


def _check_outputs(outputs: tuple[str, ...], scenario: str) -> None:
    """Refuse, before any replication, an output that one of the implementations does not
    report: both run one step of ``scenario`` on a small population to list their columns."""
    ReferenceModel = _reference_model()
    sc = SCENARIOS[scenario]
    population, instruments = synthetic_population(20, seed=0, params=sc.params), sc.instrument_configs()
    both = set(Engine(sc.params, population, instruments=instruments, seed=0).run(1).columns)
    both &= set(ReferenceModel(sc.params, population, instruments=instruments, seed=0).run(1).columns)
    missing = [o for o in outputs if o not in both]
    if missing:
        raise ValueError(f"outputs: unknown column(s) {missing}; both implementations report: "
                         f"{', '.join(sorted(both - {'step'}))}")  # fmt: skip


def _replicate(job) -> dict:
    """One replication: every scenario run by both implementations from one population."""
    child, names, outputs, n_firms, steps = job
    ReferenceModel = _reference_model()
    pop_seed, engine_seed, mesa_seed = child.spawn(3)
    out = {}
    for name in names:
        sc = SCENARIOS[name]
        instruments = sc.instrument_configs()
        population = synthetic_population(n_firms, seed=pop_seed, params=sc.params)
        t0 = time.perf_counter()
        e_out = Engine(sc.params, population, instruments=instruments, seed=engine_seed).run(steps)
        t1 = time.perf_counter()
        m_out = ReferenceModel(sc.params, population, instruments=instruments,
                               seed=mesa_seed).run(steps)
        t2 = time.perf_counter()
        out[name] = (_final_outputs(e_out, outputs), _final_outputs(m_out, outputs),
                     t1 - t0, t2 - t1)
    return out


def _collect(result: dict, samples: dict, timing: dict, progress) -> None:
    for name, (engine, mesa, t_engine, t_mesa) in result.items():
        samples[name]["engine"].append(engine)
        samples[name]["mesa"].append(mesa)
        timing["engine_s"] += t_engine
        timing["mesa_s"] += t_mesa
        if progress is not None:
            progress()


def _compare(scenario: str, output: str, engine: np.ndarray, mesa: np.ndarray,
             n_tests: int) -> dict:
    """KS test of one output in one scenario; NaN values (empty size classes) are dropped."""
    e, m = engine[~np.isnan(engine)], mesa[~np.isnan(mesa)]
    if e.size == 0 or m.size == 0:
        stat, p = 0.0, 1.0
    elif np.array_equal(np.unique(e), np.unique(m)) and np.unique(e).size == 1:
        stat, p = 0.0, 1.0  # both constant and equal (e.g. no spending without policy)
    else:
        res = ks_2samp(e, m)
        stat, p = float(res.statistic), float(res.pvalue)
    return {
        "scenario": scenario,
        "output": output,
        "engine_mean": float(e.mean()) if e.size else math.nan,
        "engine_sd": float(e.std(ddof=1)) if e.size > 1 else math.nan,
        "mesa_mean": float(m.mean()) if m.size else math.nan,
        "mesa_sd": float(m.std(ddof=1)) if m.size > 1 else math.nan,
        "ks": stat,
        "p": p,
        "p_corrected": min(1.0, p * n_tests),
    }


__all__ = ["DEFAULT_FIRMS", "DEFAULT_STEPS", "KEY_OUTPUTS", "SCENARIOS", "DockingScenario",
           "min_seeds", "run_docking", "smallest_p"]
