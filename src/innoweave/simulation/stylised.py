"""Stylised facts of the SKIN literature, checked on the fast engine (model validation 2).

Three facts of ``../shared/design/model.md`` (validation 2), each stated as a measurable
criterion with a pass/fail and the numbers behind it:

1. **Heavy-tailed partnership sizes.** The number of distinct partners an organisation
   collects over a run is over-dispersed far beyond a Poisson count: coefficient of
   variation above 1 (an exponential has exactly 1, a Poisson ``1/sqrt(mean)``) and at
   least 100 times the Poisson share of organisations with five times the mean or more.
2. **Research organisations raise capability, knowledge variety and diffusion speed**
   (Ahrweiler, Pyka & Gilbert 2011). Populations with few, the default and many research
   organisations per firm are run with the same seeds; at the final step mean capability
   and knowledge variety must rise with the research share, and the diffusion of
   innovation must be faster (fewer steps until half the initial firms have innovated at
   least once). "Rise" means the high-minus-low difference over replications has a 95 %
   confidence interval above zero and the three levels are ordered.
3. **Firms linked to research organisations become more attractive partners.** A
   difference in differences on the model's own attractiveness score: every initial firm's
   mean phase-3 score S_ij to a fixed random panel of firms is measured after a third of the
   run and at its end; firms that found a research partner in between (none before) must
   gain more than firms that found only firm partners (bootstrap 95 % CI above 0). The rate
   at which the two groups are chosen by new partners is reported too, but it is no causal
   test: firms turn to research when no firm they see matches them, and such firms are
   chosen less whatever they learn.

:class:`StylisedFacts` runs the engine, keeps per-step collaborations and successes through
the engine's progress hook, and ``plot`` writes the evidence as PNG files. The script
``benchmarks/stylised_facts.py`` is the front end.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from innoweave import __version__
from innoweave.arguments import whole_number
from innoweave.estimator import Estimator
from innoweave.seeding import make_rng, spawn_seeds
from innoweave.simulation.engine import Engine
from innoweave.simulation.params import (
    LARGE_FIRM,
    RESEARCH_INSTITUTE,
    SME,
    UNIVERSITY,
    ModelParams,
    check_params,
)
from innoweave.simulation.population import synthetic_population

#: Research organisations per firm: few, the generator's default and many.
RESEARCH_LEVELS = {"few": 1 / 1000, "default": 1 / 150, "many": 1 / 40}
#: Seekers in the panel against which attractiveness is measured.
PANEL = 100


class _RunTrace:
    """Per-step collaborations and successes of one engine run (via its progress hook).

    With ``snapshots`` (steps after which to look) and a ``panel`` of seeker rows, it also
    records every initial firm's mean attractiveness S_ij to the panel (the phase-3 score,
    ``Engine.attractiveness``) after those steps.
    """

    def __init__(self, engine: Engine, *, snapshots: tuple[int, ...] = (),
                 panel: np.ndarray | None = None, firms: np.ndarray | None = None):
        self.engine = engine
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.first_success: dict[int, int] = {}
        self.snapshots = snapshots
        self.panel = panel
        self.firms = firms
        self.attractiveness: dict[int, np.ndarray] = {}

    def __call__(self) -> None:
        eng = self.engine
        t = eng.t_ - 1
        a, b = eng.recorder_.window[-1]
        self.pairs.append((np.asarray(a), np.asarray(b)))
        succeeded = np.nonzero(np.asarray(eng.state_.last_success) == t)[0]
        for row in succeeded.tolist():
            self.first_success.setdefault(row, t)
        if t in self.snapshots:
            self.attractiveness[t] = self._mean_attractiveness()

    def _mean_attractiveness(self) -> np.ndarray:
        """Mean S_ij over the panel seekers i, for every firm j of ``firms`` (self excluded)."""
        eng = self.engine
        xp = eng.xp_
        dv = eng.derive()
        panel, firms = xp.asarray(self.panel), xp.asarray(self.firms)
        out = np.zeros(self.firms.shape[0])
        block = max(1, 400_000 // max(panel.shape[0], 1))
        for start in range(0, firms.shape[0], block):
            js = firms[start:start + block]
            i = xp.tile(panel, js.shape[0])
            j = xp.repeat(js, panel.shape[0])
            score = eng.attractiveness(dv, i, j).reshape(js.shape[0], panel.shape[0])
            score = xp.where(j.reshape(score.shape) == i.reshape(score.shape), xp.nan, score)
            out[start:start + block] = np.asarray(xp.nanmean(score, axis=1).get()
                                                  if hasattr(score, "get") else
                                                  np.nanmean(score, axis=1))
        return out


def _run(params, population, steps, seed, xp, **trace_options):
    engine = Engine(params, population, seed=seed, xp=xp)
    trace = _RunTrace(engine, **trace_options)
    results = engine.run(steps, progress=trace)
    return engine, trace, results


def partner_counts(trace: _RunTrace) -> np.ndarray:
    """Distinct partners of every organisation with at least one collaboration in the run."""
    if not trace.pairs:
        return np.zeros(0, dtype=np.int64)
    a = np.concatenate([p[0] for p in trace.pairs])
    b = np.concatenate([p[1] for p in trace.pairs])
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
    _, counts = np.unique(pairs.ravel(), return_counts=True)
    return counts


def adoption_speed(trace: _RunTrace, initial_firms: np.ndarray, steps: int) -> float:
    """Diffusion speed: the mean over steps of the share of initial firms that have innovated
    at least once by then (the area under the adoption curve, 0..1; higher is faster)."""
    if initial_firms.size == 0:
        return 0.0
    firsts = np.array([trace.first_success.get(int(r), steps) for r in initial_firms])
    curve = [(firsts <= t).mean() for t in range(steps)]
    return float(np.mean(curve))


def half_adoption_time(trace: _RunTrace, initial_firms: np.ndarray, steps: int) -> float:
    """Steps until half the initial firms have innovated at least once (``steps`` if never)."""
    firsts = np.sort(np.array([trace.first_success.get(int(r), steps) for r in initial_firms],
                              dtype=float))
    half = firsts[(len(firsts) - 1) // 2] if len(firsts) else steps
    return float(min(half + 1, steps))


def _mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and t-based 95 % confidence interval."""
    v = np.asarray(values, dtype=float)
    m = float(v.mean())
    if v.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, m - half, m + half


class StylisedFacts(Estimator):
    """Check the three stylised facts on engine runs.

    Settings: ``n_firms`` and ``steps`` per run, ``replications`` per configuration,
    ``seed`` (replication ``k`` of every configuration shares the ``k``-th child seed: common
    random numbers), ``params`` (default :class:`ModelParams`), ``xp`` (array module).
    ``fit()`` fills ``facts_`` (name -> {"passed", "criterion", numbers...}), ``passed_``
    and the raw series used by :meth:`plot`.
    """

    def __init__(self, *, n_firms: int = 2000, steps: int = 40, replications: int = 8,
                 seed: int = 11, params: ModelParams | None = None, xp: Any = None):
        self.n_firms = n_firms
        self.steps = steps
        self.replications = replications
        self.seed = seed
        self.params = params
        self.xp = xp

    def fit(self, progress=None) -> StylisedFacts:
        """Run every replication at the three research levels, collect partner counts, capability,
        variety, diffusion and attractiveness, and judge the three facts into ``facts_`` and
        ``passed_``; ``progress`` is called after each run. Returns ``self``."""
        # every setting by name before the first run (a float count reached NumPy as such)
        whole_number("n_firms", self.n_firms, least=20)
        whole_number("steps", self.steps, least=4)
        whole_number("replications", self.replications, least=2)
        params = check_params(ModelParams() if self.params is None else self.params)
        children = spawn_seeds(self.seed, self.replications)
        self.series_: dict[str, list] = {name: [] for name in RESEARCH_LEVELS}
        per_level: dict[str, dict[str, list[float]]] = {
            name: {"capability": [], "variety": [], "diffusion": [], "half_adoption": []}
            for name in RESEARCH_LEVELS
        }
        degrees: list[np.ndarray] = []
        chosen_uir, chosen_firm_only, gain_uir, gain_firm_only = [], [], [], []
        for child in children:
            pop_seed, run_seed, panel_seed = child.spawn(3)
            for name, share in RESEARCH_LEVELS.items():
                pop = synthetic_population(self.n_firms, seed=pop_seed, params=params,
                                           research_per_firm=share)
                initial = np.nonzero(np.isin(pop.kind, (SME, LARGE_FIRM)))[0]
                options = {}
                if name == "default":
                    panel = make_rng(panel_seed).choice(initial, min(PANEL, initial.size),
                                                        replace=False)
                    options = {"snapshots": self._snapshots(), "panel": panel, "firms": initial}
                engine, trace, results = _run(params, pop, self.steps, run_seed, self.xp,
                                              **options)
                last = results.iloc[-1]
                per_level[name]["capability"].append(float(last["capability_mean"]))
                per_level[name]["variety"].append(float(last["knowledge_variety"]))
                per_level[name]["diffusion"].append(adoption_speed(trace, initial, self.steps))
                per_level[name]["half_adoption"].append(
                    half_adoption_time(trace, initial, self.steps))
                self.series_[name].append(results[["step", "capability_mean",
                                                   "knowledge_variety"]].to_numpy())
                if name == "default":
                    degrees.append(partner_counts(trace))
                    u, f = self._chosen(engine, trace, pop)
                    chosen_uir.append(u)
                    chosen_firm_only.append(f)
                    u, f = self._attractiveness_gain(engine, trace, initial)
                    gain_uir.append(u)
                    gain_firm_only.append(f)
                if progress is not None:
                    progress()
        self.degrees_ = np.concatenate(degrees) if degrees else np.zeros(0, dtype=np.int64)
        self.per_level_ = per_level
        self.chosen_ = (np.concatenate(chosen_uir), np.concatenate(chosen_firm_only))
        self.gain_ = (np.concatenate(gain_uir), np.concatenate(gain_firm_only))
        self.facts_ = {
            "heavy_tailed_partnerships": self._heavy_tail(self.degrees_),
            "research_raises_capability_variety_diffusion": self._research_effect(per_level),
            "research_linked_firms_more_attractive": self._attractive(),
        }
        self.passed_ = all(f["passed"] for f in self.facts_.values())
        return self

    # --- fact 1 -------------------------------------------------------------------------

    @staticmethod
    def _heavy_tail(degrees: np.ndarray) -> dict:
        if degrees.size == 0:
            return {"passed": False, "criterion": "no collaborations", "organisations": 0}
        mean = float(degrees.mean())
        cv = float(degrees.std() / mean)
        threshold = math.ceil(5 * mean)
        observed = float((degrees >= threshold).mean())
        poisson = float(stats.poisson.sf(threshold - 1, mean))
        ratio = observed / poisson if poisson > 0 else math.inf
        top = np.sort(degrees)[::-1]
        top_share = float(top[: max(1, top.size // 10)].sum() / top.sum())
        return {
            "passed": bool(cv > 1 and ratio >= 100),
            "criterion": "coefficient of variation > 1 and P(partners >= 5 x mean) at least "
                         "100 x the Poisson value with the same mean",
            "organisations": int(degrees.size),
            "mean_partners": mean,
            "max_partners": int(degrees.max()),
            "coefficient_of_variation": cv,
            "tail_threshold": threshold,
            "tail_share": observed,
            "poisson_tail_share": poisson,
            "tail_ratio_vs_poisson": ratio,
            "top10_share_of_ties": top_share,
        }

    # --- fact 2 -------------------------------------------------------------------------

    @staticmethod
    def _research_effect(per_level: dict) -> dict:
        names = list(RESEARCH_LEVELS)
        lo, hi = names[0], names[-1]
        out: dict[str, Any] = {
            "criterion": "from few to many research organisations (same seeds): final mean "
                         "capability, knowledge variety and diffusion speed (area under the "
                         "adoption curve of first innovations) each rise, ordered over the three "
                         "levels, with the few-vs-many paired difference's 95 % CI above 0",
            "levels": {n: RESEARCH_LEVELS[n] for n in names},
        }
        passed = True
        for metric, sign in (("capability", 1), ("variety", 1), ("diffusion", 1)):
            means = {n: float(np.mean(per_level[n][metric])) for n in names}
            diff = sign * (np.asarray(per_level[hi][metric]) - np.asarray(per_level[lo][metric]))
            m, ci_lo, ci_hi = _mean_ci(diff)
            ordered = all(sign * (means[names[k + 1]] - means[names[k]]) >= 0
                          for k in range(len(names) - 1))
            ok = bool(ordered and ci_lo > 0)
            passed &= ok
            out[metric] = {"means": means, "improvement_many_vs_few": m,
                           "ci95": [ci_lo, ci_hi], "ordered": ordered, "passed": ok}
        out["half_adoption_steps"] = {n: float(np.mean(per_level[n]["half_adoption"]))
                                      for n in names}
        out["passed"] = bool(passed)
        return out

    # --- fact 3 -------------------------------------------------------------------------

    def _snapshots(self) -> tuple[int, int]:
        """Steps after which attractiveness is measured: a third of the run, and the end."""
        return (self.steps // 3 - 1, self.steps - 1)

    def _attractiveness_gain(self, engine: Engine, trace: _RunTrace, initial: np.ndarray):
        """Change of mean attractiveness from a third of the run to its end, for initial firms
        alive at the end that found (as seekers) a research partner after the first third
        and none before, against those that found only firm partners after it (and never a
        research partner)."""
        first, last = self._snapshots()
        kind = np.asarray(engine.state_.kind)
        alive = np.asarray(engine.state_.alive)
        research = np.isin(kind, (UNIVERSITY, RESEARCH_INSTITUTE))
        firm = np.isin(kind, (SME, LARGE_FIRM))
        n = kind.shape[0]
        uir_before = np.zeros(n, dtype=bool)
        uir_after = np.zeros(n, dtype=bool)
        firm_after = np.zeros(n, dtype=bool)
        for t, (a, b) in enumerate(trace.pairs):
            if t <= first:
                uir_before[a[research[b]]] = True
            else:
                uir_after[a[research[b]]] = True
                firm_after[a[firm[b]]] = True
        gain = trace.attractiveness[last] - trace.attractiveness[first]
        ok = alive[initial]
        treated = ok & uir_after[initial] & ~uir_before[initial]
        control = ok & firm_after[initial] & ~uir_after[initial] & ~uir_before[initial]
        return gain[treated], gain[control]

    def _chosen(self, engine: Engine, trace: _RunTrace, pop) -> tuple[np.ndarray, np.ndarray]:
        """Times chosen by a *new* firm partner in the second half, for the two groups.

        Groups are formed in the first half from the partners firms found as seekers:
        initial firms that found a research partner, and initial firms that found firm
        partners only. Choices by a firm that was already a
        partner in the first half are not counted: returning to a previous partner is the
        memory rule, not attractiveness.
        """
        kind = np.asarray(engine.state_.kind)
        alive = np.asarray(engine.state_.alive)
        firm = np.isin(kind, (SME, LARGE_FIRM))
        research = np.isin(kind, (UNIVERSITY, RESEARCH_INSTITUTE))
        half = len(trace.pairs) // 2
        n = kind.shape[0]
        uir = np.zeros(n, dtype=bool)
        firm_partner = np.zeros(n, dtype=bool)
        known = []
        for a, b in trace.pairs[:half]:
            # groups by what the firm found as a seeker (side a): both groups searched and
            # found a partner; being chosen (side b) would select the attractive ones
            uir[a[research[b]]] = True
            firm_partner[a[firm[b]]] = True
            known += [a * n + b, b * n + a]
        known_keys = np.unique(np.concatenate(known)) if known else np.zeros(0, dtype=np.int64)
        chosen = np.zeros(n, dtype=np.int64)
        for a, b in trace.pairs[half:]:
            new = firm[a] & firm[b] & ~np.isin(b * n + a, known_keys)
            np.add.at(chosen, b[new], 1)
        initial = np.zeros(n, dtype=bool)
        initial[: len(pop)] = np.isin(pop.kind, (SME, LARGE_FIRM))
        base = initial & alive
        return chosen[base & uir], chosen[base & firm_partner & ~uir]

    def _attractive(self) -> dict:
        gain_uir, gain_firm = self.gain_
        chosen_uir, chosen_firm = self.chosen_
        crit = ("difference in differences of attractiveness (mean phase-3 score S_ij to a fixed "
                "panel of firms, from a third of the run to its end): firms that found a research "
                "partner in that period gain more than firms that found firm partners only; "
                "difference > 0 with a bootstrap 95 % CI above 0")
        out: dict[str, Any] = {"criterion": crit, "research_linked_firms": int(gain_uir.size),
                               "firm_only_firms": int(gain_firm.size)}
        if gain_uir.size == 0 or gain_firm.size == 0:
            out["passed"] = False
            return out
        rng = make_rng(self.seed)
        diff = float(gain_uir.mean() - gain_firm.mean())
        boots = [rng.choice(gain_uir, gain_uir.size).mean()
                 - rng.choice(gain_firm, gain_firm.size).mean() for _ in range(2000)]
        lo, hi = (float(x) for x in np.percentile(boots, [2.5, 97.5]))
        out.update(
            passed=bool(diff > 0 and lo > 0),
            gain_research_linked=float(gain_uir.mean()),
            gain_firm_only=float(gain_firm.mean()),
            difference=diff,
            ci95=[lo, hi],
        )
        # the observed choices, for information: selection makes them no causal test (firms
        # choose research when no firm they see matches them, and such firms are chosen less)
        if chosen_uir.size and chosen_firm.size and chosen_firm.mean() > 0:
            out["chosen_by_new_firm_partners_rate_ratio"] = float(chosen_uir.mean()
                                                                 / chosen_firm.mean())
        return out

    # --- report and plots ---------------------------------------------------------------

    def report(self) -> dict:
        """Whether every fact passed, each fact's criterion and numbers, the settings and the
        ``innoweave`` version."""
        return {
            "passed": self.passed_,
            "facts": self.facts_,
            "settings": {"n_firms": self.n_firms, "steps": self.steps,
                         "replications": self.replications, "seed": self.seed},
            "version": __version__,
        }

    def plot(self, folder: str | Path) -> list[Path]:
        """Write the evidence of the three facts as PNG files in ``folder``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []

        fig, ax = plt.subplots(figsize=(5.5, 4))
        d = self.degrees_
        if d.size:
            ks = np.arange(1, d.max() + 1)
            ccdf = np.array([(d >= k).mean() for k in ks])
            ax.loglog(ks, ccdf, "o-", ms=3, label="simulated")
            pois = stats.poisson.sf(ks - 1, d.mean())
            ax.loglog(ks[pois > 1e-6], pois[pois > 1e-6], "--", label="Poisson, same mean")
        ax.set_xlabel("distinct partners over the run")
        ax.set_ylabel("P(partners ≥ k)")
        fact = self.facts_["heavy_tailed_partnerships"]
        ax.set_title(f"Partnership sizes ({'PASS' if fact['passed'] else 'FAIL'})")
        ax.legend()
        paths.append(self._save(fig, folder / "stylised_partnership_ccdf.png"))

        fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
        for name in RESEARCH_LEVELS:
            runs = np.stack(self.series_[name])
            axes[0].plot(runs[0][:, 0], runs[:, :, 1].mean(axis=0), label=name)
            axes[1].plot(runs[0][:, 0], runs[:, :, 2].mean(axis=0), label=name)
        names = list(RESEARCH_LEVELS)
        axes[2].boxplot([self.per_level_[n]["diffusion"] for n in names])
        axes[2].set_xticks(range(1, len(names) + 1), names)
        axes[0].set_title("mean capability")
        axes[1].set_title("knowledge variety")
        axes[2].set_title("diffusion speed (area under adoption)")
        for ax in axes[:2]:
            ax.set_xlabel("step")
            ax.legend(title="research orgs")
        fact = self.facts_["research_raises_capability_variety_diffusion"]
        fig.suptitle(f"Adding research organisations ({'PASS' if fact['passed'] else 'FAIL'})")
        paths.append(self._save(fig, folder / "stylised_research_effect.png"))

        fig, ax = plt.subplots(figsize=(5, 4))
        uir, firm_only = self.gain_
        ax.boxplot([uir, firm_only], showfliers=False)
        ax.set_xticks([1, 2], ["research partner", "firm partners only"])
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel("change of mean attractiveness S (third of run -> end)")
        fact = self.facts_["research_linked_firms_more_attractive"]
        ax.set_title(f"Attractiveness ({'PASS' if fact['passed'] else 'FAIL'})")
        paths.append(self._save(fig, folder / "stylised_attractiveness.png"))
        return paths

    @staticmethod
    def _save(fig, path: Path) -> Path:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        import matplotlib.pyplot as plt

        plt.close(fig)
        return path


__all__ = ["RESEARCH_LEVELS", "StylisedFacts", "adoption_speed", "half_adoption_time",
           "partner_counts"]
