"""The instrument menu: every support instrument alone, at one budget, against a base.

Government asks which instrument buys most collaborative innovation for its money, and for
which growth stage. :class:`InstrumentMenu` answers the question the way an analyst would
with ``simulate compare``, in one call: it adds each instrument in turn to the base scenario
(same budget a quarter, the instrument's own defaults or the stages given), runs them all
with common random numbers (:func:`~innoweave.simulation.runner.compare_scenarios`) and
tabulates what each spent, whom it reached and what it achieved — additional innovations
and research collaborations with their 95 % intervals, and the spending per additional
innovation, marked established only where the additional innovations' interval lies above
0. The figures rest on the model's default costs and effect sizes (docs/model.md section
4), which are assumptions to be replaced by a programme's own where known.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from innoweave.estimator import Estimator
from innoweave.registry.instruments import INSTRUMENTS
from innoweave.simulation.params import MAX_BUDGET, STAGES, InstrumentConfig
from innoweave.simulation.runner import (
    MONEY_UNIT,
    Comparison,
    compare_scenarios,
    first_population,
    unreached,
)
from innoweave.simulation.scenario import Scenario, ScenarioError

#: The columns of :meth:`InstrumentMenu.table`, in order.
MENU_COLUMNS = (
    "instrument", "resource", "stages", "budget_per_quarter", "spent", "spent_share",
    "reach", "spent_per_reach", "base_spending_change", "additional_innovations",
    "additional_innovations_low", "additional_innovations_high",
    "spending_per_additional_innovation", "established",
    "additional_uir", "additional_uir_low", "additional_uir_high", "additional_patents",
    "additional_patents_low", "additional_patents_high",
)  # fmt: skip

#: What each column of the menu means (the workbook's "columns" sheet and the docs).
MENU_MEANINGS = {
    "instrument": "the instrument alone, added to the base",
    "resource": "what it gives: capital, talent, technology or policy",
    "stages": "growth stages eligible",
    "budget_per_quarter": f"its budget a quarter, in {MONEY_UNIT}",
    "spent": "spent over the horizon (mean over replications)",
    "spent_share": "spent / (budget x quarters)",
    "reach": "firms paid for or served, summed over the quarters (firm-quarters)",
    "spent_per_reach": "spent / reach: money per firm and quarter",
    "additional_innovations": "innovations over the horizon, minus the base's (mean of the "
                              "paired differences)",
    "additional_innovations_low": "its 95 % interval, lower end",
    "additional_innovations_high": "its 95 % interval, upper end",
    "base_spending_change": "what the base's own instruments spent more (or less) beside "
                            "it, over the horizon (0 where the base has none)",
    "spending_per_additional_innovation": "(spent + base_spending_change) / additional "
                                          "innovations: all extra spending, as simulate "
                                          "compare gives it (ratio of mean totals; empty "
                                          "where there are none)",
    "established": "whether the additional innovations' 95 % interval lies above 0 (else "
                   "the ratio may divide by chance)",
    "additional_uir": "industry-university-research collaborations minus the base's",
    "additional_uir_low": "its 95 % interval, lower end",
    "additional_uir_high": "its 95 % interval, upper end",
    "additional_patents": "patents granted over the horizon minus the base's (what IP "
                          "support aims at)",
    "additional_patents_low": "its 95 % interval, lower end",
    "additional_patents_high": "its 95 % interval, upper end",
}


class InstrumentMenu(Estimator):
    """Each instrument alone at one budget, compared with the base under common random
    numbers.

    Parameters
    ----------
    budget:
        Budget per quarter (step) given to every instrument, in the model's money unit.
    instruments:
        Instrument keys to put on the menu (default: all 13, in catalogue order).
    stages:
        Growth stages eligible for every instrument (default: each instrument's own, as
        the catalogue sets them).
    by_stage:
        Put each instrument on the menu once per growth stage (of ``stages``, default all
        four), eligible for that stage alone: the seed paper's "principle of the stage" as
        a table of instrument x stage. A pair whose stage has no eligible firm at the start
        is left out and listed in ``skipped_``.
    """

    def __init__(self, budget: float = 10.0, *, instruments=None, stages=None,
                 by_stage: bool = False):
        self.budget = budget
        self.instruments = instruments
        self.stages = stages
        self.by_stage = by_stage

    def scenarios(self, base: Scenario) -> list[Scenario]:
        """The menu's alternatives: ``base`` plus one instrument each, named by its key (by
        stage: ``key.stage``, eligible for that stage alone).

        Raises ScenarioError naming the budget where it is not a number in (0, 1e12], or the
        instrument where the base already has it or its settings refuse the budget (a voucher
        budget below one voucher's value)."""
        if not isinstance(self.budget, (int, float)) or isinstance(self.budget, bool) or not (
                0 < self.budget <= MAX_BUDGET):
            raise ScenarioError(f"budget: a number > 0 a quarter, at most {MAX_BUDGET:g}, got "
                                f"{self.budget!r}")
        keys = list(INSTRUMENTS) if self.instruments is None else list(self.instruments)
        unknown = [k for k in keys if k not in INSTRUMENTS]
        if unknown or not keys:
            raise ScenarioError(f"instruments: unknown {unknown}; known: {list(INSTRUMENTS)}"
                                if unknown else "instruments: the menu needs at least one")
        if len(set(keys)) != len(keys):
            raise ScenarioError(f"instruments: each instrument once, got {keys}")
        if self.stages is not None:
            bad = [s for s in self.stages if s not in STAGES]
            if bad or not self.stages:
                raise ScenarioError(f"stages: unknown {bad}; allowed: {list(STAGES)}" if bad
                                    else "stages: at least one growth stage")
        held = [k for k in keys if k in base.instruments]
        if held:
            rest = [k for k in keys if k not in base.instruments]
            raise ScenarioError(
                f"{', '.join(held)}: the base scenario {base.name!r} has "
                f"{'it' if len(held) == 1 else 'them'} already; leave "
                f"{'it' if len(held) == 1 else 'them'} off the menu or out of the base"
                + (f" (--instruments {','.join(rest)})" if rest else ""))
        if self.by_stage:
            groups = [(f"{key}.{stage}", key, [stage]) for key in keys
                      for stage in (self.stages or STAGES)]
        else:
            groups = [(key, key, None if self.stages is None else list(self.stages))
                      for key in keys]
        out = []
        for name, key, stages in groups:
            table: dict[str, Any] = {"budget": self.budget}
            if stages is not None:
                table["stages"] = stages
            try:
                cfg = InstrumentConfig.from_dict(key, table)
            except ValueError as exc:
                raise ScenarioError(f"{exc} (leave {key} off the menu or give another "
                                    "budget)") from None
            out.append(replace(base, name=name, description=f"{key} alone, {self.budget:g} a "
                               f"quarter, for {', '.join(cfg.stages)}",
                               instruments={**base.instruments, key: cfg}, path=None))
        return out

    def fit(self, base: Scenario, *, replications: int | None = None,
            horizon: int | None = None, xp: Any = None, progress=None) -> InstrumentMenu:
        """Run the base and every instrument alone (common random numbers); the comparison
        is kept in ``comparison_``, the menu in ``table_``."""
        alternatives = self.scenarios(base)
        self.skipped_: dict[str, str] = {}
        pop = first_population(base)  # every alternative checked on it before any run
        base.check_population(pop)
        excluded = {sc.name: error for sc, error in unreached(alternatives, pop)}
        kept = [sc for sc in alternatives if sc.name not in excluded]
        if self.by_stage:  # a stage without an eligible firm is left out, not an error
            self.skipped_ = excluded
            if not kept:
                raise ScenarioError("no instrument and stage of the menu reaches a firm at "
                                    f"the start: {_unreached(excluded, by_stage=True)}")
            alternatives = kept
        elif excluded:
            raise ScenarioError(f"{_unreached(excluded, by_stage=False)}; "
                                + ("give other --stages or leave them off the menu"
                                   if self.stages is not None else
                                   "leave them off the menu (--instruments) or give --stages"))
        self.comparison_ = compare_scenarios(base, alternatives, replications=replications,
                                             horizon=horizon, xp=xp, progress=progress,
                                             population=pop)
        self.table_ = menu_table(self.comparison_, self.budget)
        return self

    def matrix(self, value: str = "additional_innovations") -> pd.DataFrame:
        """The by-stage menu as instrument x stage: ``value`` (a column of the table), the
        menu's instruments in catalogue order and its stages in order — a pair left out
        (``skipped_``: no eligible firm at that stage) is NaN, and a stage no pair reached is
        still a column, so the grid says so rather than dropping it."""
        table = self.table_
        asked = [k for k in INSTRUMENTS if self.instruments is None or k in self.instruments]
        keys = [k for k in asked if k in set(table["instrument"])
                or any(name.startswith(f"{k}.") for name in self.skipped_)]
        stages = [s for s in STAGES if s in (self.stages or STAGES)]
        return (table.pivot(index="instrument", columns="stages", values=value)
                .reindex(index=keys, columns=stages))

    def to_dict(self) -> dict[str, Any]:
        """The menu as plain data: settings, the comparison's seed, replications, horizon and
        version, the base's settings as run (``settings``: file and digest, population,
        parameters, overrides), each menu instrument's terms (``instruments``) and one record
        per instrument (JSON-ready: no NaN)."""
        comp = self.comparison_.to_dict()
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                 for k, v in row.items()} for row in self.table_.to_dict(orient="records")]
        return {"base": comp["base"], "budget_per_quarter": self.budget,
                "stages": None if self.stages is None else list(self.stages),
                "by_stage": self.by_stage, "skipped": dict(self.skipped_),
                **{k: comp[k] for k in ("seed", "replications", "horizon",
                                        "common_random_numbers", "kernels", "version")},
                "money_unit": MONEY_UNIT,
                # the base as run (file and digest, population, parameters such as the price
                # elasticity, its own instruments, overridden values) and each menu
                # instrument's terms (settings, eligibility, targeting)
                "settings": comp["settings"][comp["base"]],
                "instruments": {run.scenario.name: run.scenario.instruments[
                                    added_instrument(self.comparison_, run)].to_dict()
                                for run in self.comparison_.alternatives},
                "menu": rows, "notes": menu_notes(self.table_, self.budget, self.by_stage),
                "note": MENU_NOTE}

    def plot(self, path: str | Path, *, format: str | None = None) -> Path:
        """A bar per instrument: its additional innovations with the 95 % interval, coloured
        by resource, hatched where not established, the spending written beside; by stage,
        a grid of instrument x stage coloured by additional innovations per 100 spent,
        established cells in full colour (``format``: png, svg, ...; default ``path``'s
        suffix)."""
        settings = {"budget": self.budget, "replications": self.comparison_.base.replications,
                    "horizon": self.comparison_.base.horizon, "format": format}
        if self.by_stage:
            return plot_stage_grid(self, path, **settings)
        return plot_menu(self.table_, path, **settings)


def _unreached(excluded: dict[str, str], *, by_stage: bool) -> str:
    """One line for the menu's alternatives that no firm is eligible for at the start
    (``excluded``: name -> the check's error): by stage, the instruments each stage leaves
    out; else the instruments and why (once where the reason is the same for all)."""
    if by_stage:
        stages: dict[str, list[str]] = {}
        for name in excluded:
            key, stage = name.rsplit(".", 1)
            stages.setdefault(stage, []).append(key)
        return "; ".join(f"no firm of the population at stage {stage} is eligible for "
                         + (f"any of the {len(keys)} instruments" if len(keys) == len(INSTRUMENTS)
                            else ", ".join(keys))
                         for stage, keys in stages.items())
    why = {name: text.split(": ", 1)[1] if text.startswith("instruments.") else text
           for name, text in excluded.items()}
    if len(set(why.values())) == 1:
        return f"{', '.join(why)}: {next(iter(why.values()))}"
    return "; ".join(f"{name}: {text}" for name, text in why.items())


#: Said with every menu: where its figures come from.
MENU_NOTE = ("Each instrument runs alone, added to the base, at the same budget a quarter and "
             "with common random numbers. Cost-effectiveness rests on the model's default "
             "costs and effect sizes (docs/model.md section 4), assumptions to be replaced "
             "by a programme's own where known; a ratio marked not established may divide by "
             "chance.")


def added_instrument(comparison: Comparison, run) -> str:
    """The key of the instrument that ``run``, an alternative of ``comparison``, adds to the
    base."""
    return next(k for k in run.scenario.instruments
                if k not in comparison.base.scenario.instruments)


def menu_notes(table: pd.DataFrame, budget: float, by_stage: bool = False) -> list[str]:
    """What a reader of the menu ``table`` needs beside its figures: the instruments that
    spent nothing at ``budget`` a quarter (their 0 says nothing about what they achieve: the
    budget may not pay one award of theirs) and, where the base has instruments, how much
    their spending changed beside the menu's, which the spending per additional innovation
    counts. Rows are named as the scenarios are (``key.stage`` where ``by_stage``)."""
    notes = []
    idle = [f"{key}.{stages}" if by_stage else key
            for key, stages, spent in zip(table["instrument"], table["stages"], table["spent"],
                                          strict=True) if spent == 0]
    if idle:
        notes.append(f"{', '.join(idle)}: spent nothing at {budget:g} a quarter, so the "
                     "additional figures of 0 say nothing about what the instrument achieves: "
                     "the budget may not pay one award (a joint lab costs 2 a step, a "
                     "collaborative call's consortium 8 from 4 quarters' budget, a cluster "
                     "programme 0.05 for each member of a cluster) or no eligible firm took it "
                     "up; try a larger budget.")
    change = table["base_spending_change"]
    if (change.abs() > 1e-9).any():
        notes.append("The base's own instruments spent more or less beside the menu's "
                     f"(base_spending_change, {change.min():+.4g} to {change.max():+.4g} over "
                     "the horizon): the spending per additional innovation counts all extra "
                     "spending, (spent + base_spending_change) / additional innovations, as "
                     "simulate compare does.")
    return notes


def menu_table(comparison: Comparison, budget: float) -> pd.DataFrame:
    """One row per alternative of ``comparison`` (each a single instrument added to the base):
    :data:`MENU_COLUMNS`, established instruments first by spending per additional innovation,
    then the rest by additional innovations."""
    diffs = comparison.differences()
    horizon = comparison.base.horizon
    rows = []
    for run in comparison.alternatives:
        key = added_instrument(comparison, run)
        d = diffs[run.scenario.name]
        spent = d[f"spend_{key}"]["alt"] - d[f"spend_{key}"]["base"]
        # what the base's own instruments spent more (or less) beside it: the ratio counts
        # all extra spending, as simulate compare does
        base_change = sum((d[f"spend_{k}"]["diff"] for k in comparison.base.scenario.instruments),
                          0.0)
        reach = d[f"reach_{key}"]["alt"] - d[f"reach_{key}"]["base"]
        extra, uir, patents = d["additional_innovations"], d["collab_uir"], d["patents"]
        ratio = d["spending_per_additional_innovation"]
        rows.append({
            "instrument": key, "resource": str(INSTRUMENTS[key].resource),
            "stages": ", ".join(run.scenario.instruments[key].stages),
            "budget_per_quarter": budget, "spent": spent,
            "spent_share": spent / (budget * horizon),
            "reach": reach, "spent_per_reach": spent / reach if reach > 0 else math.nan,
            "base_spending_change": base_change,
            "additional_innovations": extra["diff"],
            "additional_innovations_low": extra["ci95"][0],
            "additional_innovations_high": extra["ci95"][1],
            "spending_per_additional_innovation": (math.nan if ratio["value"] is None
                                                   else ratio["value"]),
            "established": ratio["established"],
            "additional_uir": uir["diff"], "additional_uir_low": uir["ci95"][0],
            "additional_uir_high": uir["ci95"][1], "additional_patents": patents["diff"],
            "additional_patents_low": patents["ci95"][0],
            "additional_patents_high": patents["ci95"][1],
        })
    table = pd.DataFrame(rows, columns=list(MENU_COLUMNS))
    order = table.assign(
        _first=~table["established"],
        _cost=table["spending_per_additional_innovation"].where(table["established"]),
        _more=-table["additional_innovations"],
    ).sort_values(["_first", "_cost", "_more", "instrument"], na_position="last")
    return table.loc[order.index].reset_index(drop=True)


#: Bar colours by the resource an instrument gives.
RESOURCE_COLOURS = {"capital": "#1f77b4", "talent": "#ff7f0e", "technology": "#2ca02c",
                    "policy": "#9467bd"}


def _axes(width: float, height: float):
    """A figure and its axes on the non-interactive backend (pictures are files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def _save(fig, path: str | Path, format: str | None) -> Path:
    """Write ``fig`` to ``path`` (``format`` png, svg, ...; default the suffix) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight",
                    format=format or path.suffix.lstrip(".").lower())
    finally:
        plt.close(fig)
    return path


def plot_stage_grid(menu: InstrumentMenu, path: str | Path, *, budget: float,
                    replications: int, horizon: int, format: str | None = None) -> Path:
    """Draw a by-stage menu (see :meth:`InstrumentMenu.plot`) to ``path``."""
    import numpy as np

    extra = menu.matrix("additional_innovations")
    spent = menu.matrix("spent")
    established = menu.matrix("established")
    per_100 = 100 * extra / spent.where(spent > 0)
    fig, ax = _axes(1.6 * len(extra.columns) + 4, 0.5 * len(extra) + 1.8)
    shown = per_100.where(established.eq(True))  # a pair left out (NaN) is not established
    limit = (float(np.nanmax(np.abs(per_100.to_numpy()))) if per_100.notna().any().any()
             else 0.0) or 1.0
    image = ax.imshow(shown.to_numpy(dtype=float), cmap="RdYlGn", vmin=-limit, vmax=limit,
                      aspect="auto")
    for i, key in enumerate(extra.index):
        for j, stage in enumerate(extra.columns):
            value = per_100.loc[key, stage]
            if np.isnan(value):
                text = "–" if (f"{key}.{stage}" in menu.skipped_) else "n/a"
            else:
                text = f"{value:+.1f}" if established.loc[key, stage] else f"({value:+.1f})"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(extra.columns)), list(extra.columns))
    ax.set_yticks(range(len(extra.index)), list(extra.index))
    ax.set_title(f"Additional innovations per 100 spent, each instrument alone at {budget:g} a "
                 f"quarter for one stage\n({horizon} quarters, {replications} replications; "
                 "(…) not established, – no eligible firm)", fontsize=10)
    fig.colorbar(image, ax=ax, label="additional innovations per 100 spent (established)")
    return _save(fig, path, format)


def plot_menu(table: pd.DataFrame, path: str | Path, *, budget: float, replications: int,
              horizon: int, format: str | None = None) -> Path:
    """Draw the menu (see :meth:`InstrumentMenu.plot`) to ``path`` (``format`` png, svg, ...;
    default the suffix of ``path``)."""
    from matplotlib.patches import Patch

    rows = table.iloc[::-1]  # the first row on top
    fig, ax = _axes(9, 0.45 * len(rows) + 1.8)
    y = range(len(rows))
    mean = rows["additional_innovations"].to_numpy()
    low = mean - rows["additional_innovations_low"].to_numpy()
    high = rows["additional_innovations_high"].to_numpy() - mean
    bars = ax.barh(list(y), mean, xerr=[low, high], capsize=3, ecolor="#333333",
                   color=[RESOURCE_COLOURS.get(r, "#7f7f7f") for r in rows["resource"]])
    for bar, established in zip(bars, rows["established"], strict=True):
        if not established:
            bar.set_hatch("///")
            bar.set_alpha(0.55)
    ax.set_yticks(list(y), [f"{k} ({s:g} spent)" for k, s in zip(rows["instrument"],
                                                                   rows["spent"].round(1),
                                                                   strict=True)])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"additional innovations over {horizon} quarters (95 % interval, "
                  f"{replications} replications)")
    ax.set_title(f"Each instrument alone at {budget:g} a quarter, against the base")
    handles = [Patch(color=c, label=r) for r, c in RESOURCE_COLOURS.items()
               if r in set(rows["resource"])]
    handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="///",
                         label="not established"))
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _save(fig, path, format)
