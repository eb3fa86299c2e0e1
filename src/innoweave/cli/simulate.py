"""`innoweave simulate` commands: run, compare and calibrate scenarios of the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from innoweave.cli.common import EXIT_FAILED, err, fail, print_json, progress_bar

app = typer.Typer(
    help="Policy simulation: run and compare scenarios, dock against Mesa, calibrate.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine output on stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-r", min=1,
                                             help="Override the scenario's replications.")]
HorizonOpt = Annotated[int | None, typer.Option("--horizon", min=1,
                                                help="Override the scenario's horizon (steps).")]
XpOpt = Annotated[str, typer.Option("--xp", help="Array module: numpy or cupy.")]


def _load(ref: str):
    from innoweave.simulation.scenario import ScenarioError, load_scenario, resolve_scenario

    try:
        return load_scenario(resolve_scenario(ref))
    except ScenarioError as exc:
        raise fail(str(exc)) from None


@app.command("examples")
def examples(json_out: JsonOpt = False) -> None:
    """List the example scenarios shipped with the package."""
    from innoweave.simulation.scenario import example_scenarios

    found = {name: str(path) for name, path in sorted(example_scenarios().items())}
    if json_out:
        print_json(found)
        return
    for name, path in found.items():
        err.print(f"{name}: {path}")


@app.command("run")
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario TOML file or example name.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    replications: RepsOpt = None,
    horizon: HorizonOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the seed.")] = None,
    xp: XpOpt = "numpy",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a scenario: per-step outputs to Parquet, a JSON summary (seed, settings, version)."""
    from innoweave.simulation.runner import run_scenario
    from innoweave.simulation.scenario import ScenarioError

    sc = _load(scenario)
    reps = replications or sc.replications
    steps = horizon or sc.horizon
    folder = out or Path("simulation_runs") / sc.name
    try:
        with progress_bar(quiet or json_out) as bar:
            task = bar.add_task(f"{sc.name}", total=reps * steps)
            result = run_scenario(sc, seed=seed, replications=reps, horizon=steps, xp=xp,
                                  progress=lambda: bar.advance(task))
    except (ScenarioError, ValueError) as exc:
        raise fail(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    result.steps.to_parquet(folder / "steps.parquet", index=False)
    summary = result.summary()
    summary["files"] = {"steps": str(folder / "steps.parquet"),
                        "summary": str(folder / "summary.json"),
                        "workbook": str(folder / "summary.xlsx")}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    outputs = [{"output": name, "kind": o["kind"], "mean": o["mean"], "ci95_low": o["ci95"][0],
                "ci95_high": o["ci95"][1]} for name, o in summary["outputs"].items()]  # fmt: skip
    _workbook(folder / "summary.xlsx", "outputs", outputs, result.steps, ["step"],
              {"scenario": sc.name, "seed": result.seed, "replications": reps,
               "horizon": steps, "version": summary.get("version")})
    if json_out:
        print_json(summary)
        return
    table = Table(title=f"{sc.name}: {reps} replications × {steps} steps (seed {result.seed})")
    for col in ("output", "kind", "mean", "95 % CI"):
        table.add_column(col)
    for name, o in summary["outputs"].items():
        if name.startswith("spend_") and name != "spend_total" and o["mean"] == 0:
            continue
        lo, hi = o["ci95"]
        table.add_row(name, o["kind"], f"{o['mean']:.4g}", f"[{lo:.4g}, {hi:.4g}]")
    err.print(table)
    err.print(f"wrote {folder / 'steps.parquet'}, {folder / 'summary.json'} and "
              f"{folder / 'summary.xlsx'}")


@app.command("compare")
def compare(
    base: Annotated[str, typer.Argument(help="Base scenario (file or example name).")],
    alternatives: Annotated[list[str], typer.Argument(help="Alternative scenarios.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    replications: RepsOpt = None,
    horizon: HorizonOpt = None,
    xp: XpOpt = "numpy",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Compare scenarios with a base under common random numbers (95 % CIs, plots)."""
    from innoweave.simulation.runner import compare_scenarios, plot_comparison
    from innoweave.simulation.scenario import ScenarioError

    base_sc = _load(base)
    alts = [_load(a) for a in alternatives]
    reps = replications or base_sc.replications
    steps = horizon or base_sc.horizon
    folder = out or Path("simulation_runs") / f"compare_{base_sc.name}"
    try:
        with progress_bar(quiet or json_out) as bar:
            task = bar.add_task("scenarios", total=reps * steps * (1 + len(alts)))
            comparison = compare_scenarios(base_sc, alts, replications=reps, horizon=steps,
                                           xp=xp, progress=lambda: bar.advance(task))
    except (ScenarioError, ValueError) as exc:
        raise fail(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    steps_df = pd.concat([r.steps.assign(scenario=r.scenario.name)
                          for r in [comparison.base, *comparison.alternatives]])
    steps_df.to_parquet(folder / "steps.parquet", index=False)
    plot_comparison(comparison, folder / "compare.png", folder / "compare.html")
    data = comparison.to_dict()
    data["files"] = {name: str(folder / name) for name in
                     ("steps.parquet", "compare.json", "compare.png", "compare.html",
                      "compare.xlsx")}
    (folder / "compare.json").write_text(json.dumps(data, indent=2, default=str))
    _workbook(folder / "compare.xlsx", "differences", _difference_rows(data), steps_df,
              ["scenario", "step"],
              {key: data[key] for key in ("base", "seed", "replications", "horizon",
                                          "common_random_numbers", "version")}
              | {"alternatives": ", ".join(data["alternatives"])})
    if json_out:
        print_json(data)
        return
    for name, rows in data["differences"].items():
        table = Table(title=f"{name} − {base_sc.name} ({reps} replications, CRN)")
        for col in ("output", "kind", "base", "alternative", "difference", "95 % CI"):
            table.add_column(col)
        for col, r in rows.items():
            if "value" in r:
                v = "n/a" if r["value"] is None else f"{r['value']:.4g}"
                table.add_row(col, r["kind"], "", "", v, "")
            elif not (col.startswith("spend_") and r.get("alt") == 0 and r.get("base") == 0):
                lo, hi = r["ci95"]
                table.add_row(col, r["kind"], f"{r.get('base', float('nan')):.4g}",
                              f"{r.get('alt', float('nan')):.4g}", f"{r['diff']:.4g}",
                              f"[{lo:.4g}, {hi:.4g}]")
        err.print(table)
    err.print(f"wrote {folder}/compare.json, compare.xlsx, compare.png, compare.html, "
              "steps.parquet")


def _difference_rows(data: dict) -> list[dict]:
    """One row per alternative and output of a comparison: base, alternative, difference and
    its 95 % CI (or the value of a ratio)."""
    rows = []
    for alternative, outputs in data["differences"].items():
        for output, r in outputs.items():
            low, high = r.get("ci95", (None, None))
            rows.append({"alternative": alternative, "output": output, "kind": r["kind"],
                         "base": r.get("base"), "alternative_value": r.get("alt"),
                         "difference": r.get("diff"), "ci95_low": low, "ci95_high": high,
                         "value": r.get("value")})  # fmt: skip
    return rows


def _workbook(path: Path, name: str, rows: list[dict], steps, keys: list[str], about: dict) -> None:
    """A run's or a comparison's workbook: the figures (sheet ``name``), the outputs per step
    averaged over replications by ``keys`` (``mean_per_step``) and the settings (``run``)."""
    import pandas as pd

    means = (steps.drop(columns=["replication"]).groupby(keys, sort=False)
             .mean(numeric_only=True).reset_index())
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        pd.DataFrame(rows).to_excel(book, sheet_name=name, index=False)
        means.to_excel(book, sheet_name="mean_per_step", index=False)
        pd.DataFrame({"setting": list(about), "value": [str(v) for v in about.values()]}).to_excel(
            book, sheet_name="run", index=False)



@app.command("calibrate")
def calibrate(
    check: Annotated[bool, typer.Option("--check", help="Only compare the shipped calibration "
                                        "with the targets.")] = False,
    n_firms: Annotated[int, typer.Option("--firms", min=100, help="Population size.")] = 20000,
    replications: Annotated[int, typer.Option("--replications", "-r", min=1)] = 2,
    iterations: Annotated[int, typer.Option("--iterations", min=1)] = 8,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Points.")] = 3.0,
    write: Annotated[Path | None, typer.Option("--write", help="Write the fitted values as a "
                                               "calibration TOML.")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit intent bias and research seeking by size class to NCSES tables 2609 and 4446."""
    from innoweave.simulation.calibration import Calibration

    cal = Calibration(n_firms=n_firms, replications=replications, iterations=iterations,
                      seed=seed, tolerance=tolerance)
    with progress_bar(quiet or json_out) as bar:
        task = bar.add_task("calibration", total=None)
        if check:
            report = cal.check(progress=lambda: bar.advance(task))
        else:
            report = cal.fit(progress=lambda: bar.advance(task)).report_
    if write is not None and not check:
        write.write_text(cal.to_toml())
        report["written"] = str(write)
    passed = report["max_gap_points"] <= tolerance
    if json_out:
        print_json(report)
    else:
        table = Table(title=f"NCSES calibration ({'check' if check else 'fit'})")
        for col in ("target", "size class", "observed %", "simulated %", "gap (points)"):
            table.add_column(col)
        for t in report["targets"]:
            table.add_row(t["target"], t["size_class"], f"{t['observed']:.1f}",
                          f"{t['simulated']:.1f}", f"{t['gap_points']:+.1f}")
        err.print(table)
        err.print(f"largest gap {report['max_gap_points']:.2f} points "
                  f"({'within' if passed else 'outside'} {tolerance} points)")
    if not passed:
        raise typer.Exit(EXIT_FAILED)


@app.command("dock")
def dock(
    seeds: Annotated[int, typer.Option("--seeds", min=2, help="Replications per scenario.")] = 30,
    n_firms: Annotated[int | None, typer.Option("--firms", min=10, help="Firms per population "
                                                "(default 400).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Steps per run "
                                              "(default 24).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Root seed of the replications.")] = 20240601,
    details: Annotated[Path | None, typer.Option("--details", help="Write the full report "
                                                 "(every test) as JSON here.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes running "
                                         "replications (results do not depend on it).")] = 2,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Dock the engine against the Mesa reference: 3 scenarios x SEEDS runs in each, KS tests
    of the key final-step outputs, Bonferroni-corrected; fails (exit 1) if any p <= 0.01."""
    from innoweave.simulation.docking import DEFAULT_FIRMS, DEFAULT_STEPS, SCENARIOS, run_docking

    n_firms = n_firms or DEFAULT_FIRMS
    steps = steps or DEFAULT_STEPS
    with progress_bar(quiet or json_out) as bar:
        task = bar.add_task("docking (engine + Mesa)", total=seeds * len(SCENARIOS))
        try:
            report = run_docking(seeds=seeds, n_firms=n_firms, steps=steps, seed=seed,
                                 workers=workers, progress=lambda: bar.advance(task))
        except RuntimeError as exc:  # the Mesa extra is missing
            raise fail(str(exc)) from None
    if details is not None:
        details.write_text(json.dumps(report, indent=2))
    if json_out:
        print_json({k: report[k] for k in ("scenarios", "outputs", "seeds", "min_p", "passed")})
    else:
        table = Table(title=f"docking: {seeds} seeds, {n_firms} firms, {steps} steps")
        for col in ("scenario", "output", "engine mean", "Mesa mean", "KS", "p (Bonferroni)"):
            table.add_column(col)
        for d in report["details"]:
            table.add_row(d["scenario"], d["output"], f"{d['engine_mean']:.4g}",
                          f"{d['mesa_mean']:.4g}", f"{d['ks']:.3f}", f"{d['p_corrected']:.3g}")
        err.print(table)
        err.print(f"min corrected p {report['min_p']:.3g}: "
                  f"{'PASSED' if report['passed'] else 'FAILED'} (alpha {report['alpha']})")
    if not report["passed"]:
        raise typer.Exit(EXIT_FAILED)
