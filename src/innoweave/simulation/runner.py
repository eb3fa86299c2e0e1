"""Running scenarios over replications and comparing them with common random numbers.

:func:`run_scenario` validates a scenario's population, then runs the engine once per
replication with seeds spawned from the scenario seed; :func:`compare_scenarios` runs a base
and alternatives with the *same* replication seeds (so each replication of every scenario
starts from the same population and consumes the same random blocks: common random
numbers) and reports each output's mean difference from the base with a 95 % confidence
interval over replications, the additional innovations and the spending per additional
innovation. :func:`plot_comparison` draws the time series with confidence bands (PNG and a
self-contained HTML page).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from innoweave import __version__
from innoweave.arguments import real_number
from innoweave.seeding import spawn_seeds
from innoweave.simulation.engine import Engine
from innoweave.simulation.government import INSTRUMENT_KEYS
from innoweave.simulation.params import SIZE_CLASSES
from innoweave.simulation.scenario import Scenario, ScenarioError, comparable, run_setting
from innoweave.writing import write_all

#: Outputs compared at the final step (levels): every per-step column of ``Engine.run`` that
#: is a state (a share, a count of what exists, a mean) rather than what happened this step.
LEVEL_OUTPUTS = (
    "share_sme_project", "share_sme_success", "share_sme_research_partner",
    *[f"innovating_{c}" for c in SIZE_CLASSES], *[f"coop_research_{c}" for c in SIZE_CLASSES],
    "capability_mean", "capability_gini", "knowledge_variety", "knowledge_breadth", "survival",
    "n_firms", "n_smes", "patents_total", "mean_awareness", "mean_talent", "links_active",
    "secondments_active", "net_nodes", "net_edges", "net_density", "net_largest_component",
    "net_clustering", "net_mean_degree", "net_max_degree",
)  # fmt: skip
#: Outputs compared as totals over the horizon (flows: what happened in a step).
FLOW_OUTPUTS = (
    "innovations", "innovations_sme", "radical_innovations", "patents", "new_partnerships",
    "collab_alliance", "collab_uir", "collab_cluster", "collab_total", "entries", "exits",
    "entry_dropped", "spend_total", *[f"spend_{k}" for k in INSTRUMENT_KEYS],
    *[f"reach_{k}" for k in INSTRUMENT_KEYS],
)  # fmt: skip
#: Columns of the per-step results that are not outputs.
INDEX_COLUMNS = ("replication", "step", "scenario")
#: Series drawn by :func:`plot_comparison`.
PLOT_OUTPUTS = ("innovations", "share_sme_research_partner", "capability_mean",
                "patents_total", "survival", "spend_total")

#: The model's money unit, as docs/model.md defines it (a budget or a spend is per step).
MONEY_UNIT = "money units (1 = one quarter's revenue per employee at the start)"
#: Panel title and y-axis label of each plotted series in ``compare.png``; a column not
#: listed is drawn with its own name.
PLOT_LABELS: dict[str, tuple[str, str]] = {
    "innovations": ("Successful innovations per quarter", "count per quarter"),
    "share_sme_research_partner": ("SMEs with a research partner (share)",
                                   "share of alive SMEs (0-1)"),
    "capability_mean": ("Mean innovation capability of firms (0-1)", "capability (0-1)"),
    "patents_total": ("Patents held (all firms)", "count"),
    "survival": ("Initial firms still alive (share)", "share of initial firms (0-1)"),
    "spend_total": ("Government spending per quarter (all instruments)",
                    "money units per quarter"),
}


def plot_label(column: str) -> tuple[str, str]:
    """Panel title and y-axis label of ``column`` in ``compare.png``."""
    return PLOT_LABELS.get(column, (column, "money units per quarter"
                                    if column.startswith("spend_") else ""))


_SHARE = (0.0, 1.0)
_NON_NEGATIVE = (0.0, math.inf)
#: The natural range ``(low, high)`` of every output, per step and so of its final-step level
#: and its horizon total: shares and means of 0..1 attributes in [0, 1], counts, spending and
#: the other measures >= 0. Confidence intervals are clipped to it (a t-interval over a few
#: replications of a share near 0 would reach below 0), those of differences alt - base to
#: ``(low - high, high - low)``: [-1, 1] for a share, unbounded for a count.
OUTPUT_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys((
        "share_sme_project", "share_sme_success", "share_sme_research_partner",
        *[f"innovating_{c}" for c in SIZE_CLASSES], *[f"coop_research_{c}" for c in SIZE_CLASSES],
        "capability_mean", "capability_gini", "survival", "mean_awareness", "mean_talent",
        "net_density", "net_largest_component", "net_clustering"), _SHARE),
    **dict.fromkeys((
        "knowledge_variety", "knowledge_breadth", "n_firms", "n_smes", "patents_total",
        "links_active", "secondments_active", "net_nodes", "net_edges", "net_mean_degree",
        "net_max_degree", *FLOW_OUTPUTS), _NON_NEGATIVE),
}  # fmt: skip


#: Said beside a spending per additional innovation whose additional innovations' 95 %
#: interval does not lie above 0.
NOT_ESTABLISHED = ("not established: the additional innovations' 95 % interval does not lie "
                   "above 0, so the extra innovations may be chance")


def output_range(name: str) -> tuple[float, float]:
    """The natural range of output ``name`` (:data:`OUTPUT_RANGES`; unbounded if unknown)."""
    return OUTPUT_RANGES.get(name, (-math.inf, math.inf))


def difference_range(name: str) -> tuple[float, float]:
    """The range of a difference alt - base of output ``name``: [-1, 1] for a share,
    unbounded where the output has no upper bound."""
    low, high = output_range(name)
    return low - high, high - low


def output_kind(name: str) -> str:
    """``"total"`` for a flow summed over the horizon, ``"final"`` for a final-step level
    (every other output, including columns not in :data:`FLOW_OUTPUTS` or
    :data:`LEVEL_OUTPUTS`)."""
    return "total" if name in FLOW_OUTPUTS else "final"


def mean_ci(values, level: float = 0.95, *,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and the t-interval ``(low, high)`` over replications (NaN bounds for n < 2).

    ``values`` is one number per replication (NaN ones are left out); ``level`` a share in
    (0, 1) — ``95`` gave NaN bounds without a word. ``bounds`` (low, high), where given,
    clips the interval to the quantity's range (:func:`output_range`)."""
    level = real_number("level", level, low=0.0, high=1.0, above_low=True)
    if level >= 1.0:
        raise ValueError(f"level must be a share below 1 (0.95 for 95 %), got {level!r}")
    if bounds is not None:
        try:
            b_low, b_high = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"bounds must be a pair (low, high), got {bounds!r}") from None
        if not b_low <= b_high:
            raise ValueError(f"bounds must be a pair low <= high, got {bounds!r}")
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"values must be numbers, one per replication, got {values!r}") from None
    if v.ndim != 1:
        raise ValueError(f"values must be one number per replication (1-D), got shape {v.shape}")
    v = v[~np.isnan(v)]
    n = v.shape[0]
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(v.mean())
    if n < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    low, high = m - half, m + half
    if bounds is not None:
        low, high = (float(np.clip(x, b_low, b_high)) for x in (low, high))
    return m, low, high


@dataclass
class RunResult:
    """Per-step outputs of every replication of one scenario."""

    scenario: Scenario
    steps: pd.DataFrame
    seed: int
    replications: int
    horizon: int
    xp: str
    kernels: str | None = None

    def settings(self) -> dict[str, Any]:
        """The scenario's settings as run: ``seed``, ``replications`` and ``horizon`` are the
        values used (overrides included); ``overrides`` gives, for each one that differs from
        the scenario file, the file's value and the one used."""
        settings = self.scenario.to_dict()
        overrides = {}
        for key, used in (("seed", self.seed), ("replications", self.replications),
                          ("horizon", self.horizon)):
            if settings[key] != used:
                overrides[key] = {"scenario_file": settings[key], "used": used}
                settings[key] = used
        settings["overrides"] = overrides
        return settings

    def per_replication(self) -> pd.DataFrame:
        """One row per replication and a column per output — every per-step column but
        ``replication`` and ``step``: final-step levels (:data:`LEVEL_OUTPUTS`, then any
        column of neither table) and horizon totals of flows (:data:`FLOW_OUTPUTS`)."""
        g = self.steps.groupby("replication")
        last = g.tail(1).set_index("replication")
        columns = [c for c in self.steps.columns if c not in INDEX_COLUMNS]
        known = set(LEVEL_OUTPUTS) | set(FLOW_OUTPUTS)
        level_cols = ([c for c in LEVEL_OUTPUTS if c in columns]
                      + [c for c in columns if c not in known])
        levels = last[level_cols]
        flows = g[[c for c in FLOW_OUTPUTS if c in columns]].sum()
        return pd.concat([levels, flows], axis=1)

    def summary(self) -> dict[str, Any]:
        """The run as plain data: the settings used and, for each output, the mean over replications
        with its 95 % confidence interval (final-step level or horizon total), clipped to the
        output's range (:data:`OUTPUT_RANGES`)."""
        per = self.per_replication()
        outputs = {}
        for col in per.columns:
            m, lo, hi = mean_ci(per[col], bounds=output_range(col))
            outputs[col] = {"mean": m, "ci95": [lo, hi], "kind": output_kind(col)}
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "horizon": self.horizon,
            "xp": self.xp,
            "kernels": self.kernels,
            "version": __version__,
            "settings": self.settings(),
            "outputs": outputs,
        }


def run_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int | None = None,
    horizon: int | None = None,
    xp: Any = None,
    progress: Callable[[], None] | None = None,
) -> RunResult:
    """Run ``scenario`` (its seed, replications and horizon unless overridden).

    Replication ``r`` uses the ``r``-th child of ``SeedSequence(seed)``, split into a
    population seed and a run seed. The first population is checked (empty, eligibility)
    before any step runs.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a Scenario (load_scenario), got {type(scenario).__name__}")
    seed = scenario.seed if seed is None else seed
    reps = run_setting(replications, scenario.replications, "replications")
    steps = run_setting(horizon, scenario.horizon, "horizon")
    frames = []
    xp_name, kernels = "numpy", None
    for r, child in enumerate(spawn_seeds(seed, reps)):
        pop_seed, run_seed = child.spawn(2)
        pop = scenario.build_population(seed=pop_seed)
        if r == 0:
            scenario.check_population(pop)
        engine = Engine(scenario.params, pop, instruments=scenario.instruments_for(pop),
                        seed=run_seed, xp=xp)
        df = engine.run(steps, progress=progress)
        xp_name, kernels = engine.xp_.__name__, engine.kernels_
        df.insert(0, "replication", r)
        frames.append(df)
    return RunResult(scenario, pd.concat(frames, ignore_index=True), seed, reps, steps, xp_name,
                     kernels)


@dataclass
class Comparison:
    """Base and alternative runs with common random numbers, and their differences."""

    base: RunResult
    alternatives: list[RunResult]
    _differences: dict | None = field(default=None, init=False, repr=False, compare=False)

    def all_steps(self) -> pd.DataFrame:
        """Every run's per-step results, base first, with a ``scenario`` column."""
        return pd.concat([r.steps.assign(scenario=r.scenario.name)
                          for r in [self.base, *self.alternatives]])

    def differences(self) -> dict[str, dict[str, dict[str, Any]]]:
        """For each alternative, per output the base and alternative means and the mean paired
        difference with its 95 % interval (clipped to :func:`difference_range`: [-1, 1] for a
        share), plus the additional innovations and the spending per additional innovation.
        Computed once (the table, the record and the page all read it; do not modify it)."""
        if self._differences is None:
            self._differences = self._paired_differences()
        return self._differences

    def _paired_differences(self) -> dict[str, dict[str, dict[str, Any]]]:
        base = self.base.per_replication()
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for alt in self.alternatives:
            per = alt.per_replication()
            rows = {}
            for col in base.columns:
                diff = per[col] - base[col]
                m, lo, hi = mean_ci(diff, bounds=difference_range(col))
                rows[col] = {"base": float(base[col].mean()), "alt": float(per[col].mean()),
                             "diff": m, "ci95": [lo, hi], "kind": output_kind(col)}
            extra = per["innovations"] - base["innovations"]
            spend = per["spend_total"] - base["spend_total"]
            m, lo, hi = mean_ci(extra)
            mean_extra = float(extra.mean())
            rows["additional_innovations"] = {"diff": m, "ci95": [lo, hi], "kind": "total"}
            # established only where the additional innovations' interval lies above 0: else
            # the ratio divides by a difference that may be noise (or none at all)
            established = bool(lo > 0)
            rows["spending_per_additional_innovation"] = {
                "value": float(spend.mean() / mean_extra) if mean_extra > 0 else None,
                "kind": "ratio of mean totals",
                "established": established,
                **({} if established else {"note": NOT_ESTABLISHED}),
            }
            out[alt.scenario.name] = rows
        return out

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain data: scenario names, the shared seed, replications and horizon,
        each run's settings, the :meth:`differences` and a note on reading many intervals."""
        diffs = self.differences()
        return {
            "base": self.base.scenario.name,
            "alternatives": [a.scenario.name for a in self.alternatives],
            "seed": self.base.seed,
            "replications": self.base.replications,
            "horizon": self.base.horizon,
            "common_random_numbers": True,
            "kernels": self.base.kernels,
            "version": __version__,
            "settings": {r.scenario.name: r.settings() for r in [self.base, *self.alternatives]},
            "differences": diffs,
            "note": many_outputs_note(diffs),
        }


def many_outputs_note(differences: dict) -> str:
    """How to read the many 95 % intervals of ``Comparison.differences()`` at once: each is
    for one output, not corrected for comparing all of them, so about one in twenty excludes
    0 by chance alone. Counted are the outputs whose interval has a width (those that vary
    over the replications) in the alternative with most of them; one that is the same
    constant in both scenarios (the spending and reach of an instrument neither has) cannot
    differ by chance."""
    n_outputs = max((sum("ci95" in row and row["ci95"][0] < row["ci95"][1]
                         for row in rows.values()) for rows in differences.values()),
                    default=0)
    return (f"Each 95 % interval is for one output; with {n_outputs} outputs compared per "
            f"scenario, about {max(1, round(n_outputs / 20))} may exclude 0 by chance alone even "
            "where a policy changes nothing. Read a single surprising difference with more "
            "replications before acting on it.")


def first_population(scenario: Scenario):
    """The population of ``scenario``'s first replication (built from its seed as
    :func:`run_scenario` builds it): what a comparison checks each scenario against before
    any run."""
    return scenario.build_population(seed=spawn_seeds(scenario.seed, 1)[0].spawn(2)[0])


def unreached(alternatives: list[Scenario], pop) -> list[tuple[Scenario, str]]:
    """The scenarios of ``alternatives`` that population ``pop`` refuses
    (:meth:`~innoweave.simulation.scenario.Scenario.check_population`: an instrument no firm
    is eligible for, an empty population), each with the check's error."""
    out = []
    for sc in alternatives:
        try:
            sc.check_population(pop)
        except ScenarioError as exc:
            out.append((sc, str(exc)))
    return out


def compare_scenarios(
    base: Scenario,
    alternatives: list[Scenario],
    *,
    replications: int | None = None,
    horizon: int | None = None,
    xp: Any = None,
    progress: Callable[[], None] | None = None,
    population=None,
) -> Comparison:
    """Run base and alternatives with the base's seed, replications and horizon (CRN).

    Scenarios must have distinct names and the base's population
    (:func:`~innoweave.simulation.scenario.comparable`: a ScenarioError otherwise), and every
    alternative must reach a firm of its first replication's population (``population``:
    that population where the caller has built it, :func:`first_population` of the base)."""
    if not isinstance(base, Scenario) or not isinstance(alternatives, (list, tuple)) or not (
            alternatives and all(isinstance(a, Scenario) for a in alternatives)):
        raise ValueError("compare_scenarios needs a base Scenario and a non-empty list of "
                         f"alternative Scenarios, got {base!r:.60} and {alternatives!r:.60}")
    reps = run_setting(replications, base.replications, "replications")
    steps = run_setting(horizon, base.horizon, "horizon")
    comparable(base, alternatives, replications=replications, horizon=horizon)
    # one population for all (comparable checked it): every alternative checked on it
    refused = unreached(alternatives, first_population(base) if population is None
                        else population)
    if refused:
        sc, error = refused[0]
        raise ScenarioError(f"{sc.path or f'scenario {sc.name!r}'}: {error}")
    runs = [run_scenario(s, seed=base.seed, replications=reps, horizon=steps, xp=xp,
                         progress=progress) for s in [base, *alternatives]]
    return Comparison(runs[0], runs[1:])


def _bands(result: RunResult, column: str) -> pd.DataFrame:
    """Per step the mean of ``column`` over replications and its 95 % band, clipped to the
    output's range (the mean where the band is unknown)."""
    rows = []
    for step, g in result.steps.groupby("step"):
        m, lo, hi = mean_ci(g[column], bounds=output_range(column))
        rows.append((step, m, lo if not math.isnan(lo) else m, hi if not math.isnan(hi) else m))
    return pd.DataFrame(rows, columns=["step", "mean", "low", "high"])


def comparison_styles(n_alternatives: int) -> list[tuple[str, str]]:
    """``(colour, line style)`` of the base (black, solid) and of each alternative: the ten
    colours of matplotlib's tab10 (its grey left out, black being the base's), then the same
    colours dashed, dotted and dash-dotted: 36 alternatives before a style comes again."""
    palette = [c for i, c in enumerate(f"C{k}" for k in range(10)) if i != 7]  # C7 is grey
    dashes = ("solid", "dashed", "dotted", "dashdot")
    alternatives = [(palette[i % len(palette)], dashes[(i // len(palette)) % len(dashes)])
                    for i in range(n_alternatives)]
    return [("black", "solid"), *alternatives]


def plot_comparison(comparison: Comparison, png_path, html_path=None,
                    outputs: tuple[str, ...] = PLOT_OUTPUTS) -> None:
    """Time series of ``outputs`` per scenario with 95 % bands; PNG and optional HTML.

    ``outputs`` (columns of the per-step results) and the two paths (a file in an existing
    folder) are checked before anything is drawn, and both files are written only once
    both are made, so a bad path leaves no half of the pair behind."""
    if isinstance(outputs, str) or not outputs:
        raise ValueError(f"outputs must be a non-empty tuple of column names, got {outputs!r}")
    unknown = [c for c in outputs if c not in comparison.base.steps.columns]
    if unknown:
        raise ValueError(f"outputs: unknown column(s) {unknown}")
    paths = [Path(png_path)] + ([Path(html_path)] if html_path is not None else [])
    for name, path in zip(("png_path", "html_path"), paths, strict=False):
        if path.is_dir() or not path.parent.is_dir():
            raise ValueError(f"{name}: {path} must be a file in an existing folder")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [comparison.base, *comparison.alternatives]
    cols = 3
    rows = math.ceil(len(outputs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
    styles = comparison_styles(len(comparison.alternatives))
    for ax, column in zip(axes.ravel(), outputs, strict=False):
        for run, (color, dash) in zip(runs, styles, strict=True):
            b = _bands(run, column)
            ax.plot(b["step"], b["mean"], label=run.scenario.name, color=color, linestyle=dash)
            ax.fill_between(b["step"], b["low"], b["high"], alpha=0.2, color=color)
        title, ylabel = plot_label(column)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("step (quarter)")
    for ax in axes.ravel()[len(outputs):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Scenarios vs {comparison.base.scenario.name}: mean and 95 % CI over "
                 f"{comparison.base.replications} replications (common random numbers)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = buf.getvalue()
    contents = [data] + ([_html(comparison, base64.b64encode(data).decode("ascii")).encode()]
                         if html_path is not None else [])
    write_all((path, lambda temp, content=content: temp.write_bytes(content))
              for path, content in zip(paths, contents, strict=True))  # fmt: skip


def format_number(value: Any) -> str:
    """A figure for people: 4 significant digits, a whole number of 10 000 or more written out
    with spaces between thousands (``24 000``, not ``2.4e+04``; a comma would read as the
    separator of an interval's bounds), ``n/a`` for an unknown one (None, NaN) — the console
    tables and ``compare.html`` alike (the JSON files hold ``null``)."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "n/a"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
            and 1e4 <= abs(value) < 1e15:
        return f"{round(float(value)):,}".replace(",", " ")
    return f"{value:.4g}"


def format_interval(low: Any, high: Any) -> str:
    """A confidence interval for people, ``[low, high]``; ``n/a`` where a bound is unknown."""
    shown = format_number(low), format_number(high)
    if "n/a" in shown:
        return "n/a"
    return f"[{shown[0]}, {shown[1]}]"


def _instrument_terms(cfg) -> str:
    """An instrument's terms for the comparison page: every setting in use (defaults
    included, as the records list them), who is eligible and in what order."""
    settings = cfg.to_dict()["settings"]
    terms = [", ".join(f"{name} {format_number(value)}" for name, value in settings.items())]
    terms.append(f"stages {', '.join(cfg.stages)}")
    terms.append(f"firms {', '.join(cfg.kinds)}")
    if cfg.size_classes is not None:
        terms.append(f"size classes {', '.join(cfg.size_classes)}")
    if cfg.regions is not None:
        terms.append(f"regions {', '.join(str(r) for r in cfg.regions)}")
    terms.append(f"targeting {cfg.targeting}")
    return "; ".join(t for t in terms if t)


def _scenario_item(scenario: Scenario) -> str:
    """A list item for the comparison page: name, description and instruments with budgets
    and terms (settings, eligibility, targeting), so two scenarios that differ only in an
    instrument's settings can be told apart."""
    esc = html.escape
    text = f"<li><b>{esc(scenario.name)}</b>"
    if scenario.description:
        text += f": {esc(scenario.description)}"
    budgets = [f"{esc(key)} {format_number(cfg.budget)} ({esc(_instrument_terms(cfg))})"
               for key, cfg in scenario.instruments.items()]
    text += (f" — instruments (budget per quarter): {', '.join(budgets)}" if budgets
             else " — no instruments")
    return text + "</li>"


#: Said below tables that show a ``reach_<key>`` total: what its number counts.
REACH_NOTE = ("reach_<instrument> (total): firms the instrument paid for or served in a "
              "quarter, summed over the quarters — a firm reached in four quarters counts "
              "four; spend / reach is the spending per firm and quarter.")


def unused_instrument_row(column: str, row: dict) -> bool:
    """Whether a row of :meth:`Comparison.differences` is the spending or reach of an
    instrument neither scenario has (0 in both): the console tables and the comparison page
    leave such rows out (the JSON and the workbook keep every output)."""
    return (column.startswith(("spend_", "reach_")) and column != "spend_total"
            and row.get("base") == 0 and row.get("alt") == 0)


def _html(comparison: Comparison, png_b64: str) -> str:
    diffs = comparison.differences()
    esc = html.escape
    base = esc(comparison.base.scenario.name)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Scenario comparison</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}"
        "td:first-child{text-align:left}</style></head><body>",
        f"<h1>Scenarios compared with {base}</h1>",
        f"<p>{comparison.base.replications} replications, horizon {comparison.base.horizon} "
        f"steps, seed {comparison.base.seed}, common random numbers; innoweave "
        f"{esc(__version__)}.</p>",
        "<h2>Scenarios</h2><ul>",
        *[_scenario_item(run.scenario) for run in (comparison.base, *comparison.alternatives)],
        "</ul>",
        f"<p>Money (budgets, spending) is in the model's {esc(MONEY_UNIT)}; budgets and "
        "spending are per quarter (one step).</p>",
        f"<img alt='time series' src='data:image/png;base64,{png_b64}'>",
        f"<p>{esc(many_outputs_note(diffs))}</p>",
    ]
    if any(col.startswith("reach_") and not unused_instrument_row(col, r)
           for rows in diffs.values() for col, r in rows.items()):
        parts.append(f"<p>{esc(REACH_NOTE)}</p>")
    for name, rows in diffs.items():
        parts.append(f"<h2>{esc(name)} − {base}</h2><table>"
                     "<tr><th>output</th><th>kind</th><th>base</th><th>alternative</th>"
                     "<th>difference</th><th>95 % CI</th></tr>")
        for col, r in rows.items():
            if "value" in r:
                parts.append(f"<tr><td>{esc(col)}</td><td>{esc(r['kind'])}</td><td></td>"
                             f"<td></td><td>{format_number(r['value'])}</td>"
                             f"<td>{esc(r.get('note', ''))}</td></tr>")
                continue
            if unused_instrument_row(col, r):
                continue
            parts.append(
                f"<tr><td>{esc(col)}</td><td>{esc(r['kind'])}</td>"
                f"<td>{format_number(r.get('base'))}</td><td>{format_number(r.get('alt'))}</td>"
                f"<td>{format_number(r['diff'])}</td><td>{format_interval(*r['ci95'])}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
