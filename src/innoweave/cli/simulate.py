"""`innoweave simulate` commands: run, compare and calibrate scenarios of the model."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from innoweave.cli.common import (
    EXIT_FAILED,
    JsonOpt,
    check_out_dir,
    check_out_file,
    comma_list,
    err,
    json_text,
    note,
    print_json,
    progress_bar,
    seed_option,
)
from innoweave.cli.common import fail as _fail
from innoweave.writing import write_all

app = typer.Typer(
    help="Policy simulation: run and compare scenarios, dock against Mesa, calibrate.",
    no_args_is_help=True,
)

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-r", min=1,
                                             help="Override the scenario's replications.")]
HorizonOpt = Annotated[int | None, typer.Option("--horizon", min=1,
                                                help="Override the scenario's horizon (steps).")]
XpOpt = Annotated[str, typer.Option("--xp", help="Array module: numpy or cupy.")]

#: The files ``run`` and ``compare`` write into their folder.
RUN_FILES = ("steps.parquet", "summary.json", "summary.xlsx")
COMPARE_FILES = ("steps.parquet", "compare.json", "compare.png", "compare.html", "compare.xlsx")


def fail(message: str) -> typer.Exit:
    """Exit 2 with ``message`` shown as written (``[population]`` is not Rich markup)."""
    return _fail(escape(message))


def _load(ref: str):
    from innoweave.simulation.scenario import ScenarioError, load_scenario, resolve_scenario

    try:
        return load_scenario(resolve_scenario(ref))
    except ScenarioError as exc:
        raise fail(_where(str(exc), ref)) from None


def _where(message: str, ref: str) -> str:
    """``message`` with the scenario file named (once)."""
    return message if ref in message else f"{ref}: {message}"


def _check_xp(xp: str) -> None:
    from innoweave.simulation.arrays import get_xp

    try:
        get_xp(xp)
    except ValueError as exc:
        raise fail(f"--xp: {exc}".replace("xp: ", "", 1)) from None


def _out_folder(out: Path | None, default: str) -> tuple[Path, Path | None]:
    """The output folder (``--out`` or ``simulation_runs/<default>``), checked before any
    work (made here where missing); and the outermost folder made here (None: none)."""
    folder = out if out is not None else Path("simulation_runs") / default
    if out is None and (Path(default).name != default or default in ("", ".", "..")):
        raise fail(f"name: {default!r} cannot name an output folder; give --out")
    made = None
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        made = candidate
    check_out_dir(folder, "--out")
    return folder, made


def _note_overwrite(folder: Path, names: tuple[str, ...]) -> None:
    present = [n for n in names if (folder / n).exists()]
    if present:
        note(f"overwriting the earlier results in {folder} ({', '.join(present)})")


def _run_settings(replications: int | None, horizon: int | None, sc) -> tuple[int, int]:
    """The replications and horizon to run: the options where given, else the scenario's;
    each within the scenario limits (``--replications``/``--horizon`` named where refused)."""
    from innoweave.simulation.scenario import run_setting

    try:
        return (run_setting(replications, sc.replications, "replications"),
                run_setting(horizon, sc.horizon, "horizon"))
    except ValueError as exc:
        raise fail(f"--{exc}") from None


def _after_run(folder: Path, names: tuple[str, ...], replications: int) -> None:
    _note_overwrite(folder, names)
    if replications < 2:
        note("1 replication: a 95 % confidence interval needs at least 2 (reported as n/a)")


def _forget(folder: Path, made: Path | None) -> None:
    """Remove the folders this command made for its output again, where still empty."""
    if made is None:
        return
    for candidate in (folder, *folder.parents):
        try:
            candidate.rmdir()
        except OSError:
            return
        if candidate == made:
            return


def _write_all(folder: Path, writers: dict[str, Callable[[Path], None]]) -> None:
    """Write every file to a temporary name beside it, then move them all into place, so a
    failure leaves the earlier results (or nothing), never half of a new set."""
    write_all((folder / name, write) for name, write in writers.items())


def _text_writer(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text, encoding="utf-8")


def _fmt(value) -> str:
    from innoweave.simulation.runner import format_number

    return format_number(value)


def _ci(low, high) -> str:
    from innoweave.simulation.runner import format_interval

    return format_interval(low, high)


def _results_table(title: str, columns: tuple[str, ...], *, compact: bool = False) -> Table:
    """A table of results whose first column (the output's name) is never wrapped nor cut:
    on a narrow terminal the other columns wrap (an interval at its comma) or fold instead,
    so no two rows end up looking alike. ``compact``: no vertical rules (more room for the
    six columns of a comparison)."""
    style = {"box": box.SIMPLE_HEAD, "show_edge": False, "pad_edge": False,
             "collapse_padding": True} if compact else {}
    table = Table(title=title, **style)
    table.add_column(columns[0], no_wrap=True)
    for name in columns[1:]:
        table.add_column(name, overflow="fold",
                         justify="left" if name in ("kind", "95 % CI") else "right")
    return table


def _print_table(table: Table) -> None:
    """Print a results table on stderr: on a terminal at its width; piped or redirected at
    the table's full width, so every row stays on one line (for logs and grep) instead of
    being wrapped to Rich's default of 80 columns."""
    if err.is_terminal:
        err.print(table)
        return
    natural = err.measure(table, options=err.options.update_width(10_000)).maximum
    Console(file=err.file, width=max(natural, err.width), highlight=False).print(table)


@app.command("examples")
def examples(json_out: JsonOpt = False) -> None:
    """List the example scenarios shipped with the package (on stdout)."""
    from innoweave.simulation.scenario import example_scenarios

    found = {name: str(path) for name, path in sorted(example_scenarios().items())}
    if json_out:
        print_json(found)
        return
    for name, path in found.items():
        typer.echo(f"{name}: {path}")


@app.command("run")
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario TOML file or example name.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "simulation_runs/NAME).")] = None,
    replications: RepsOpt = None,
    horizon: HorizonOpt = None,
    seed: Annotated[int | None, seed_option("Override the scenario's seed.")] = None,
    xp: XpOpt = "numpy",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run a scenario: per-step outputs to Parquet, a JSON summary (seed, settings, version)."""
    from innoweave.simulation.runner import REACH_NOTE, run_scenario
    from innoweave.simulation.scenario import ScenarioError

    sc = _load(scenario)
    _check_xp(xp)
    reps, steps = _run_settings(replications, horizon, sc)
    folder, made = _out_folder(out, sc.name)
    try:
        with progress_bar(quiet or json_out) as bar:
            task = bar.add_task(f"{sc.name}", total=reps * steps)
            result = run_scenario(sc, seed=seed, replications=reps, horizon=steps, xp=xp,
                                  progress=lambda: bar.advance(task))
    except (ScenarioError, ValueError) as exc:
        _forget(folder, made)
        raise fail(_where(str(exc), scenario)) from None
    except BaseException:
        _forget(folder, made)
        raise
    _after_run(folder, RUN_FILES, reps)
    summary = result.summary()
    summary["files"] = {"steps": str(folder / "steps.parquet"),
                        "summary": str(folder / "summary.json"),
                        "workbook": str(folder / "summary.xlsx")}
    outputs = [{"output": name, "kind": o["kind"], "mean": o["mean"], "ci95_low": o["ci95"][0],
                "ci95_high": o["ci95"][1]} for name, o in summary["outputs"].items()]  # fmt: skip
    about = {"scenario": sc.name, "seed": result.seed, "replications": reps, "horizon": steps,
             "kernels": result.kernels, "version": summary.get("version")}
    _write_all(folder, {
        "steps.parquet": lambda path: result.steps.to_parquet(path, index=False),
        "summary.json": _text_writer(json_text(summary) + "\n"),
        "summary.xlsx": lambda path: _workbook(path, "outputs", outputs, result.steps,
                                               ["step"], about),
    })
    if json_out:
        print_json(summary)
        return
    table = _results_table(f"{sc.name}: {reps} replications × {steps} steps (seed "
                           f"{result.seed})", ("output", "kind", "mean", "95 % CI"))
    reach = False
    for name, o in summary["outputs"].items():
        if name.startswith(("spend_", "reach_")) and name != "spend_total" and o["mean"] == 0:
            continue
        reach |= name.startswith("reach_")
        table.add_row(name, o["kind"], _fmt(o["mean"]), _ci(*o["ci95"]))
    _print_table(table)
    if reach:
        err.print(REACH_NOTE, markup=False, highlight=False)
    err.print(f"wrote {folder / 'steps.parquet'}, {folder / 'summary.json'} and "
              f"{folder / 'summary.xlsx'}")


@app.command("compare")
def compare(
    base: Annotated[str, typer.Argument(help="Base scenario (file or example name).")],
    alternatives: Annotated[list[str], typer.Argument(help="Alternative scenarios.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "simulation_runs/compare_BASE).")] = None,
    replications: RepsOpt = None,
    horizon: HorizonOpt = None,
    xp: XpOpt = "numpy",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    r"""Compare scenarios with a base under common random numbers (95 % CIs, plots).

    Every scenario runs with the base's seed, replications and horizon (a note on stderr
    names each alternative's own value that is replaced); all need distinct names and the
    base's \[population] table."""
    # "\[": typer renders help as Rich markup, which takes a bare [population] for a style tag
    from innoweave.simulation.runner import (
        REACH_NOTE,
        compare_scenarios,
        plot_comparison,
        unused_instrument_row,
    )
    from innoweave.simulation.scenario import ScenarioError, comparable

    base_sc = _load(base)
    alts = [_load(a) for a in alternatives]
    reps, steps = _run_settings(replications, horizon, base_sc)
    try:
        notes = comparable(base_sc, alts, replications=replications, horizon=horizon)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    for text in notes:
        note(text)
    _check_xp(xp)
    folder, made = _out_folder(out, f"compare_{base_sc.name}")
    try:
        with progress_bar(quiet or json_out) as bar:
            task = bar.add_task("scenarios", total=reps * steps * (1 + len(alts)))
            comparison = compare_scenarios(base_sc, alts, replications=reps, horizon=steps,
                                           xp=xp, progress=lambda: bar.advance(task))
    except (ScenarioError, ValueError) as exc:
        _forget(folder, made)
        raise fail(str(exc)) from None
    except BaseException:
        _forget(folder, made)
        raise
    _after_run(folder, COMPARE_FILES, reps)
    steps_df = comparison.all_steps()
    data = comparison.to_dict()
    data["files"] = {name: str(folder / name) for name in COMPARE_FILES}

    def plots(png: Path) -> None:  # the PNG and the page showing it, written together
        plot_comparison(comparison, png, html_tmp)

    html_tmp = folder / f".compare.html.{os.getpid()}.plot"
    try:
        _write_all(folder, {
            "steps.parquet": lambda path: steps_df.to_parquet(path, index=False),
            "compare.png": plots,
            "compare.html": lambda path: os.replace(html_tmp, path),
            "compare.json": _text_writer(json_text(data) + "\n"),
            "compare.xlsx": lambda path: _workbook(
                path, "differences", _difference_rows(data), steps_df, ["scenario", "step"],
                {key: data[key] for key in ("base", "seed", "replications", "horizon",
                                            "common_random_numbers", "kernels", "version")}
                | {"alternatives": ", ".join(data["alternatives"])}),
        })
    finally:
        html_tmp.unlink(missing_ok=True)
    if json_out:
        print_json(data)
        return
    reach = False
    for name, rows in data["differences"].items():
        table = _results_table(f"{name} − {base_sc.name} ({reps} replications, CRN)",
                               ("output", "kind", "base", "alternative", "difference",
                                "95 % CI"), compact=True)
        ratios = []
        for col, r in rows.items():
            if "value" in r:  # below the table: its long name would widen the first column
                caveat = f" — {r['note']}" if r.get("note") else ""
                ratios.append(f"{col} ({r['kind']}): {_fmt(r['value'])}{caveat}")
            elif not unused_instrument_row(col, r):
                reach |= col.startswith("reach_")
                table.add_row(col, r["kind"], _fmt(r.get("base")), _fmt(r.get("alt")),
                              _fmt(r["diff"]), _ci(*r["ci95"]))
        _print_table(table)
        for text in ratios:
            err.print(text, markup=False, highlight=False)
    err.print(data["note"], markup=False, highlight=False)
    if reach:
        err.print(REACH_NOTE, markup=False, highlight=False)
    err.print(f"wrote {folder}/compare.json, compare.xlsx, compare.png, compare.html, "
              "steps.parquet")


def _difference_rows(data: dict) -> list[dict]:
    """One row per alternative and output of a comparison: base, alternative, difference and
    its 95 % CI (or the value of a ratio, with whether it is established and why not)."""
    rows = []
    for alternative, outputs in data["differences"].items():
        for output, r in outputs.items():
            low, high = r.get("ci95", (None, None))
            rows.append({"alternative": alternative, "output": output, "kind": r["kind"],
                         "base": r.get("base"), "alternative_value": r.get("alt"),
                         "difference": r.get("diff"), "ci95_low": low, "ci95_high": high,
                         "value": r.get("value"), "established": r.get("established"),
                         "note": r.get("note")})  # fmt: skip
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
        _settings_sheet(book, about)



#: The files ``menu`` writes into its folder.
MENU_FILES = ("steps.parquet", "menu.json", "menu.png", "menu.xlsx")


def _names(text: str | None, option: str) -> list[str] | None:
    """A comma-separated option as a list of names (None where not given)."""
    if text is None:
        return None
    names = comma_list(text)
    if not names:
        raise fail(f"{option}: give one or more names separated by commas, got {text!r}")
    return names


@app.command("menu")
def menu(
    base: Annotated[str, typer.Argument(help="Base scenario (file or example name), "
                                             "usually without instruments.")],
    budget: Annotated[float, typer.Option("--budget", help="Budget a quarter for each "
                                          "instrument, in the model's money unit.")] = 10.0,
    instruments: Annotated[str | None, typer.Option(
        "--instruments", help="Instrument keys, comma-separated (default: all 13).")] = None,
    stages: Annotated[str | None, typer.Option(
        "--stages", help="Growth stages eligible for every instrument, comma-separated "
                         "(default: each instrument's own).")] = None,
    by_stage: Annotated[bool, typer.Option(
        "--by-stage", help="Each instrument once per growth stage (of --stages, default "
                           "all four), eligible for that stage alone: instrument x stage.")
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default "
                                             "simulation_runs/menu_BASE).")] = None,
    replications: RepsOpt = None,
    horizon: HorizonOpt = None,
    xp: XpOpt = "numpy",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Each instrument alone at one budget against the base: spending, reach, additional innovations.

    Every instrument is added alone to the base at the same budget a quarter and run with it
    under common random numbers; the table gives what it spent, whom it reached, what it
    added (with 95 % intervals) and the spending per additional innovation."""
    import pandas as pd

    from innoweave.simulation.menu import MENU_MEANINGS, InstrumentMenu
    from innoweave.simulation.runner import REACH_NOTE
    from innoweave.simulation.scenario import ScenarioError

    base_sc = _load(base)
    reps, steps = _run_settings(replications, horizon, base_sc)
    model = InstrumentMenu(budget, instruments=_names(instruments, "--instruments"),
                           stages=_names(stages, "--stages"), by_stage=by_stage)
    try:
        alternatives = model.scenarios(base_sc)
    except ScenarioError as exc:
        raise fail(f"--{exc}" if str(exc).startswith(("instruments:", "stages:", "budget:"))
                   else str(exc)) from None
    _check_xp(xp)
    folder, made = _out_folder(out, f"menu_{base_sc.name}")
    try:
        with progress_bar(quiet or json_out) as bar:
            task = bar.add_task("instruments", total=reps * steps * (1 + len(alternatives)))
            model.fit(base_sc, replications=reps, horizon=steps, xp=xp,
                      progress=lambda: bar.advance(task))
    except (ScenarioError, ValueError) as exc:
        _forget(folder, made)
        raise fail(str(exc)) from None
    except BaseException:
        _forget(folder, made)
        raise
    _after_run(folder, MENU_FILES, reps)
    steps_df = model.comparison_.all_steps()
    data = model.to_dict()
    data["files"] = {name: str(folder / name) for name in MENU_FILES}
    about = {key: data[key] for key in ("base", "budget_per_quarter", "stages", "by_stage", "seed",
                                        "replications", "horizon", "common_random_numbers",
                                        "kernels", "version", "money_unit", "note")}

    def workbook(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as book:
            model.table_.to_excel(book, sheet_name="menu", index=False)
            if by_stage:  # instrument x stage, as the picture shows it
                for value, sheet in (("additional_innovations", "by_stage_innovations"),
                                     ("spending_per_additional_innovation",
                                      "by_stage_cost"),
                                     ("established", "by_stage_established")):
                    model.matrix(value).to_excel(book, sheet_name=sheet)
            pd.DataFrame({"column": list(MENU_MEANINGS), "meaning": list(MENU_MEANINGS.values())}
                         ).to_excel(book, sheet_name="columns", index=False)
            _settings_sheet(book, about)

    _write_all(folder, {
        "steps.parquet": lambda path: steps_df.to_parquet(path, index=False),
        "menu.png": lambda path: model.plot(path, format="png"),
        "menu.json": _text_writer(json_text(data) + "\n"),
        "menu.xlsx": workbook,
    })
    if json_out:
        print_json(data)
        return
    for name, why in model.skipped_.items():
        note(f"{name}: left out, {why}")
    table = _results_table(f"Each instrument alone at {budget:g} a quarter − {base_sc.name} "
                           f"({reps} replications × {steps} quarters, CRN)",
                           ("instrument", "stages", "spent", "reach (firm-quarters)",
                            "additional innovations",
                            "95 % CI", "per additional innovation", "UIR / patents"),
                           compact=True)
    for row in model.table_.itertuples():
        ratio = row.spending_per_additional_innovation
        table.add_row(row.instrument, row.stages, _fmt(row.spent), _fmt(row.reach),
                      _fmt(row.additional_innovations),
                      _ci(row.additional_innovations_low, row.additional_innovations_high),
                      ("n/a" if math.isnan(ratio) else _fmt(ratio))
                      + ("" if row.established else " (not established)"),
                      f"{_fmt(row.additional_uir)} / {_fmt(row.additional_patents)}")
    _print_table(table)
    err.print("UIR / patents: additional industry-university-research collaborations and "
              "patents over the horizon (their 95 % intervals in menu.json and menu.xlsx; "
              "patents are what IP support aims at).", markup=False, highlight=False)
    for text in data["notes"]:
        note(text)
    err.print(data["note"], markup=False, highlight=False)
    err.print(REACH_NOTE, markup=False, highlight=False)
    err.print(f"wrote {folder}/menu.json, menu.xlsx, menu.png, steps.parquet")


def _settings_sheet(book, about: dict) -> None:
    """A workbook's ``run`` sheet: one row per setting of the run, its value as text."""
    import pandas as pd

    pd.DataFrame({"setting": list(about), "value": [str(v) for v in about.values()]}).to_excel(
        book, sheet_name="run", index=False)


@app.command("calibrate")
def calibrate(
    check: Annotated[bool, typer.Option("--check", help="Only compare the shipped calibration "
                                        "with the targets.")] = False,
    n_firms: Annotated[int, typer.Option("--firms", min=100, help="Population size (the shipped fit's: "
                                         "smaller ones sample the large firms' shares coarsely).")] = 100000,
    replications: Annotated[int, typer.Option("--replications", "-r", min=1)] = 2,
    iterations: Annotated[int, typer.Option("--iterations", min=1)] = 8,
    seed: Annotated[int, seed_option("Seed of the calibration runs.")] = 7,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0, help="Points.")] = 3.0,
    write: Annotated[Path | None, typer.Option("--write", help="Write the fitted values as a "
                                               "calibration TOML (not with --check).")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fit intent bias and research seeking by size class to NCSES tables 2609 and 4446."""
    from innoweave.simulation.calibration import Calibration

    if check and write is not None:
        raise fail("--write: --check fits nothing, so there is nothing to write; leave out "
                   "--check to fit and write, or --write to check")
    if not math.isfinite(tolerance):
        raise fail(f"--tolerance: expected a finite number of points, got {tolerance}")
    check_out_file(write, "--write")
    cal = Calibration(n_firms=n_firms, replications=replications, iterations=iterations,
                      seed=seed, tolerance=tolerance)
    with progress_bar(quiet or json_out) as bar:
        task = bar.add_task("calibration", total=None)
        try:
            if check:
                report = cal.check(progress=lambda: bar.advance(task))
            else:
                report = cal.fit(progress=lambda: bar.advance(task)).report_
        except ValueError as exc:
            raise fail(str(exc)) from None
    if write is not None:
        try:
            _write_all(write.parent, {write.name: _text_writer(cal.to_toml())})
        except OSError as exc:
            raise fail(f"--write: cannot write {str(write)!r}: {exc.strerror or exc}") from None
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
    seeds: Annotated[int, typer.Option("--seeds", min=2, help="Replications per scenario "
                                       "(at least 8 with the 42 default tests).")] = 30,
    n_firms: Annotated[int | None, typer.Option("--firms", min=10, help="Firms per population "
                                                "(default 400).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", min=1, help="Steps per run "
                                              "(default 24).")] = None,
    seed: Annotated[int, seed_option("Root seed of the replications.")] = 20240601,
    details: Annotated[Path | None, typer.Option("--details", help="Write the full report "
                                                 "(every test) as JSON here.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes running "
                                         "replications (results do not depend on it).")] = 2,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Dock the engine against the Mesa reference (KS tests, Bonferroni-corrected).

    3 scenarios x SEEDS runs in each; two-sample KS tests of the key final-step outputs,
    Bonferroni-corrected; fails (exit 1) if any corrected p <= 0.01. SEEDS must be large
    enough that a total mismatch could be detected (8 for the 42 tests)."""
    from innoweave.simulation.docking import (
        DEFAULT_FIRMS,
        DEFAULT_STEPS,
        KEY_OUTPUTS,
        SCENARIOS,
        min_seeds,
        run_docking,
    )

    needed = min_seeds(len(SCENARIOS) * len(KEY_OUTPUTS))
    if seeds < needed:
        raise fail(f"--seeds: {seeds} seeds cannot detect even a total mismatch over "
                   f"{len(SCENARIOS) * len(KEY_OUTPUTS)} Bonferroni-corrected KS tests at "
                   f"alpha 0.01 (the test would always pass); use at least {needed}")
    check_out_file(details, "--details")
    n_firms = n_firms or DEFAULT_FIRMS
    steps = steps or DEFAULT_STEPS
    with progress_bar(quiet or json_out) as bar:
        task = bar.add_task("docking (engine + Mesa)", total=seeds * len(SCENARIOS))
        try:
            report = run_docking(seeds=seeds, n_firms=n_firms, steps=steps, seed=seed,
                                 workers=workers, progress=lambda: bar.advance(task))
        except (RuntimeError, ValueError) as exc:  # the Mesa extra is missing; bad input
            raise fail(str(exc)) from None
    if details is not None:
        _write_all(details.parent, {details.name: _text_writer(json_text(report) + "\n")})
    if json_out:
        print_json({k: report[k] for k in ("scenarios", "outputs", "seeds", "min_p", "passed")})
    else:
        table = Table(title=f"docking: {seeds} seeds, {n_firms} firms, {steps} steps")
        for col in ("scenario", "output", "engine mean", "Mesa mean", "KS", "p (Bonferroni)"):
            table.add_column(col)
        for d in report["details"]:
            table.add_row(d["scenario"], d["output"], _fmt(d["engine_mean"]),
                          _fmt(d["mesa_mean"]), f"{d['ks']:.3f}", f"{d['p_corrected']:.3g}")
        err.print(table)
        err.print(f"min corrected p {report['min_p']:.3g}: "
                  f"{'PASSED' if report['passed'] else 'FAILED'} (alpha {report['alpha']})")
    if not report["passed"]:
        raise typer.Exit(EXIT_FAILED)
