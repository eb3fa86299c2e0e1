"""`innoweave diagnose`: the EIS reproduction and its uncertainty, SME profiles, stages.

The registry is read from the database (``--database-url``, default the configured one) or,
with ``--cordis DIR``, straight from a CORDIS folder. Exit codes: 0 ok, 1 a failed check
(the EIS reproduction misses its tolerance), 2 bad input (unknown SME, bad answers file,
missing data). Every path given is checked before any work; every input problem is one line
on stderr naming the file (and line, organisation, item or option). Warnings (answers that
match no SME, repeated answers, SMEs founded after the reference year) go to stderr too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from innoweave.cli.common import (
    EXIT_FAILED,
    CordisOpt,
    JsonOpt,
    UrlOpt,
    check_out_file,
    check_table_path,
    err,
    fail,
    note,
    print_json,
    seed_option,
    warn,
    write_table,
)

app = typer.Typer(help="Diagnose: EIS reproduction, SME profiles, growth stages, support.", no_args_is_help=True)

AnswersOpt = Annotated[Path | None, typer.Option("--answers", help="Questionnaire answers (CSV/XLSX/JSON; long or wide).")]
EncodingOpt = Annotated[str | None, typer.Option(
    "--answers-encoding", help="Text encoding of a CSV/JSON answers file (default: detected as `import file` does: UTF-8, UTF-16, plainly Chinese GB18030; e.g. cp1252).")]
InvalidOpt = Annotated[str, typer.Option(
    "--invalid-answers", help="An answer that is not a whole number on the scale: 'raise' (stop, exit 2) "
                              "or 'missing' (treat it as unanswered, with a warning).")]
SeedOpt = Annotated[int, seed_option("Seed of the attribute model (synthetic values).")]
MinPeersOpt = Annotated[int, typer.Option("--min-peers", help="Smallest peer group before widening.")]
YearOpt = Annotated[int, typer.Option("--reference-year", help="Year ages and recent projects count to (1901-2100).")]
RulesOpt = Annotated[Path | None, typer.Option("--stage-rules", help="TOML file with a \\[stages] table of growth-stage thresholds.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write the plot to this .png and an .html beside it.")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="Folder holding eis2023_database/ (default: the shared data).")]


def _fail(message: str) -> typer.Exit:
    """:func:`fail` for a message that may hold square brackets ("[stages]", "['AW1']"), which
    Rich would otherwise take for markup."""
    return fail(escape(message))


def _check_plot(plot: Path | None) -> None:
    """Before any work: the plot is a .png (an .html of the same name goes beside it) that can be written."""
    if plot is None:
        return
    if plot.suffix.lower() != ".png":
        raise _fail(f"--plot must end in .png (an .html with the same name is written beside it), got {plot.name!r}")
    check_out_file(plot, "--plot")
    check_out_file(plot.with_suffix(".html"), "--plot")


def _frames(database_url: str | None, cordis: Path | None):
    if cordis is not None:
        from innoweave.registry.cordis import read_cordis

        if not cordis.is_dir():
            raise fail(f"CORDIS folder not found: {cordis}")
        try:
            return read_cordis(cordis)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    from innoweave.cli.registry import open_registry
    from innoweave.registry.frames import load_frames

    return load_frames(open_registry(database_url))


def _diagnoser(database_url, cordis, answers, seed, min_peers, reference_year, stage_rules=None, *,
               answers_encoding=None, invalid_answers="raise"):
    from innoweave.diagnosis.questionnaire import InvalidAnswer, read_answers
    from innoweave.diagnosis.sme import REFERENCE_YEARS, SMEDiagnoser, read_stage_rules

    lo, hi = REFERENCE_YEARS
    if not lo < reference_year <= hi:
        raise fail(f"--reference-year must be a year after {lo} and at most {hi}, got {reference_year}")
    if invalid_answers not in ("raise", "missing"):
        raise fail(f"--invalid-answers must be 'raise' or 'missing', got {invalid_answers!r}")
    if min_peers < 1:
        raise fail(f"--min-peers must be at least 1, got {min_peers}")
    try:
        rules = read_stage_rules(stage_rules) if stage_rules is not None else None
        table = read_answers(answers, encoding=answers_encoding) if answers is not None else None
    except (OSError, ValueError) as exc:
        raise _fail(f"{exc}") from None
    frames = _frames(database_url, cordis)
    try:
        model = SMEDiagnoser(answers=table, seed=seed, min_peers=min_peers, reference_year=reference_year,
                             stage_rules=rules, on_invalid_answer=invalid_answers).fit(frames)
    except InvalidAnswer as exc:
        raise _fail(f"{exc}; correct them, or give --invalid-answers missing to treat such answers as unanswered") \
            from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _report_warnings(model, answers)
    return model


def _report_warnings(model, answers: Path | None) -> None:
    """What the diagnosis set aside, said on stderr (the JSON carries it in ``report``)."""
    from innoweave.registry.attributes import BARRIERS, SUPPORT_PROGRAMMES

    report = model.report_
    n = report.get("answers_for_unknown_orgs_count", 0)
    if n:
        shown = report["answers_for_unknown_orgs"][:5]
        kinds = report.get("answers_for_other_kinds", {})
        listed = ", ".join(repr(o) + (f" (a {kinds[o]})" if o in kinds else "") for o in shown)
        example = model.scores_.index[0]
        warn(f"{answers}: answers of {n} organisation{'s' if n > 1 else ''} match no diagnosed SME and were "
             f"ignored: {listed}{', …' if n > len(shown) else ''} (give external ids such as {example!r} or "
             "CORDIS PICs)")
    dup = report.get("duplicate_answers_ignored")
    if dup:
        warn(f"{dup['count']} repeated answer{'s' if dup['count'] > 1 else ''} (same organisation, item and "
             f"value) counted once: {'; '.join(dup['examples'])}{' …' if dup['count'] > len(dup['examples']) else ''}")
    bad = report.get("invalid_answers_ignored")
    if bad:
        warn(f"{bad} answer{'s' if bad > 1 else ''} not a whole number on the scale treated as unanswered "
             "(--invalid-answers missing)")
    later = report.get("founded_after_reference_year")
    if later:
        warn(f"{later} SME{'s were' if later > 1 else ' was'} founded after --reference-year "
             f"{model.reference_year}: {'their ages are' if later > 1 else 'its age is'} unknown to the stage rule")
    other = report.get("barriers_not_read")
    if other:
        warn(f"attributes.barriers: {', '.join(other['names'])} (reported by {other['organisations']} SME(s)) "
             f"{'is' if len(other['names']) == 1 else 'are'} not among the barriers the diagnosis reads "
             f"({', '.join(BARRIERS)}): not used")
    other = report.get("support_schemes_not_drawn")
    if other:
        warn(f"attributes.support_use: {', '.join(other['names'])} (used by {other['organisations']} SME(s)) "
             f"counted as support scheme(s) beside {', '.join(SUPPORT_PROGRAMMES)}")


def _stage_basis(model) -> dict[str, int]:
    return {k: int(v) for k, v in model.stage_basis_.value_counts().items()}


def _stage_note(model) -> None:
    """A line for people when stages rest on drawn (synthetic) firm attributes."""
    drawn = int(model.stage_basis_.isin(["synthetic", "partly synthetic"]).sum())
    if drawn:
        warn(f"the growth stage of {drawn:,} of {len(model.stage_basis_):,} SMEs rests on synthetic (drawn) "
             "age, size or growth, not on values the registry records: those stages, and the "
             "support offered for them, are illustrative (see stage_basis)")


@app.command("eis")
def eis(
    json_out: JsonOpt = False,
    data_dir: DataOpt = None,
    meta: Annotated[bool, typer.Option("--meta", help="Add the units, years and version compared to the JSON.")] = False,
) -> None:
    """Recompute the EIS 2023 Summary Innovation Index, dimensions and groups; compare with the published values."""
    from innoweave.diagnosis.eis import reproduce_eis

    try:
        result, _ = reproduce_eis(data_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    ok = (
        result["sii"]["within_0.001"] == result["sii"]["compared"]
        and result["dimensions"]["within_0.001"] == result["dimensions"]["compared"]
        and result["groups"]["matched"] == result["groups"]["compared"]
    )
    if json_out:
        print_json(result if meta else {k: result[k] for k in ("sii", "dimensions", "groups")})
    else:
        table = Table(title="EIS 2023 reproduction")
        for col in ("what", "compared", "within 0.001 / matched", "max abs error"):
            table.add_column(col)
        for key in ("sii", "dimensions"):
            r = result[key]
            table.add_row(key, str(r["compared"]), str(r["within_0.001"]), str(r["max_abs_error"]))
        g = result["groups"]
        table.add_row("groups", str(g["compared"]), str(g["matched"]), "")
        err.print(table)
    if not ok:
        raise typer.Exit(EXIT_FAILED)


def _choices_text(counts: dict[str, int]) -> str:
    """The EIS choice counts in words, e.g. "2 normalisations × ... × 33 exclusions (...)"."""
    parts = []
    for name, n in counts.items():
        word = name.replace("_", " ")
        text = f"{n} {word}{'' if n == 1 else 's'}"
        if name == "exclusion":
            text += f" (none, or each of the {n - 1} indicators left out in turn)"
        parts.append(text)
    return " × ".join(parts)


@app.command("eis-uncertainty")
def eis_uncertainty(
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws.")] = 1000,
    sobol: Annotated[int, typer.Option("--sobol", help="Sobol base sample (power of two; 0 = skip).")] = 256,
    seed: Annotated[int, seed_option("Seed of the Monte Carlo and Sobol draws.")] = 0,
    plot: PlotOpt = None,
    json_out: JsonOpt = False,
    data_dir: DataOpt = None,
) -> None:
    """Median rank and 5-95 % interval of the 38 countries over methodological choices; Sobol indices."""
    from innoweave.diagnosis.eis import eis_uncertainty as run

    _check_plot(plot)
    # checked here so that the message names the options, not the function's arguments
    if draws < 1:
        raise _fail(f"--draws must be at least 1, got {draws}")
    if sobol != 0 and (sobol < 2 or sobol & (sobol - 1)):
        raise _fail(f"--sobol must be 0 (no Sobol indices) or a power of two >= 2, got {sobol}")
    t0 = time.perf_counter()
    try:
        ua, indices = run(data_dir, n_draws=draws, sobol_base=sobol, seed=seed)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    seconds = time.perf_counter() - t0
    if plot is not None:
        from innoweave.diagnosis.plots import ranking_plot, write_html

        png = ranking_plot(ua.summary_, plot.with_suffix(".png"),
                           title=f"EIS 2023 ranking: {draws} draws over methodological choices")
        html_path = write_html(plot.with_suffix(".html"), title="EIS 2023 ranking with uncertainty", png=png,
                               table=ua.summary_, notes=f"{draws} draws over {_choices_text(ua.meta_['choices'])}; seed {seed}.")
        err.print(f"wrote {png} and {html_path}")
    result = {"meta": ua.meta_ | {"seconds": round(seconds, 3)},
              "ranks": ua.summary_.to_dict(orient="records")}
    if indices is not None:
        result["sobol"] = indices.to_dict(orient="records")
        result["sobol_meta"] = ua.sobol_meta_
    if json_out:
        print_json(result)
        return
    table = Table(title=f"EIS 2023 ranks over {draws} draws ({seconds:.1f} s)")
    for col in ("unit", "nominal", "median", "5 %", "95 %"):
        table.add_column(col)
    for r in ua.summary_.itertuples():
        table.add_row(r.unit, f"{r.nominal_rank:.0f}", f"{r.median_rank:.1f}", f"{r.rank_p05:.1f}", f"{r.rank_p95:.1f}")
    err.print(table)
    if indices is not None:
        err.print(indices.round(3).to_string(index=False))


@app.command("sme")
def sme(
    org: Annotated[str, typer.Argument(help="External id, CORDIS PIC or exact name of the SME.")],
    json_out: JsonOpt = False,
    plot: PlotOpt = None,
    answers: AnswersOpt = None,
    answers_encoding: EncodingOpt = None,
    invalid_answers: InvalidOpt = "raise",
    database_url: UrlOpt = None,
    cordis: CordisOpt = None,
    seed: SeedOpt = 0,
    min_peers: MinPeersOpt = 10,
    reference_year: YearOpt = 2024,
    stage_rules: RulesOpt = None,
) -> None:
    """Profile one SME on the six restricting factors against its peers, with the support that fits."""
    from innoweave.diagnosis.sme import UnknownOrganisation

    _check_plot(plot)
    model = _diagnoser(database_url, cordis, answers, seed, min_peers, reference_year, stage_rules,
                       answers_encoding=answers_encoding, invalid_answers=invalid_answers)
    try:
        profile = model.diagnose(org)
    except UnknownOrganisation as exc:
        raise _fail(str(exc)) from None
    if plot is not None:
        from innoweave.diagnosis.plots import radar_notes, radar_plot, write_html

        png = radar_plot(profile, plot.with_suffix(".png"))
        rows = [{"factor": v["label"], "score": v["score"], "peer median": v["peer_median"],
                 "peer percentile": v["peer_percentile"]} for v in profile["factors"].values()]
        import pandas as pd

        html_path = write_html(plot.with_suffix(".html"), title=f"{profile['name']}: six restricting factors",
                               png=png, table=pd.DataFrame(rows), notes=radar_notes(profile))
        err.print(f"wrote {png} and {html_path}")
    if json_out:
        print_json(profile)
        return
    stage = profile["stage"]
    drawn = " (from synthetic values)" if stage["synthetic_attributes"] else ""
    table = Table(title=escape(f"{profile['name']} ({profile['org_id']}) — stage {stage['value']}{drawn}, "
                               f"peers: {profile['peers']['level']} (n={profile['peers']['size']})"))
    for col in ("factor", "score", "peer median", "percentile"):
        table.add_column(col)
    for v in profile["factors"].values():
        table.add_row(v["label"], _fmt(v["score"]), _fmt(v["peer_median"]), _fmt(v["peer_percentile"]))
    err.print(table)
    err.print(f"weakest: {', '.join(profile['weakest'])}")
    for r in profile["recommendations"]:
        err.print(f"  - [bold]{r['name']}[/] ({r['instrument']}): {r['reason']}")
    for r in profile["weakest_without_support"]:
        err.print(escape(f"  - {r['factor']}: {r['reason']}"), highlight=False)
    if profile["synthetic_indicators"]:
        err.print(f"synthetic values: {', '.join(profile['synthetic_indicators'])}")
    if stage.get("note"):
        note(stage["note"])


@app.command("batch")
def batch(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .xlsx.")],
    answers: AnswersOpt = None,
    answers_encoding: EncodingOpt = None,
    invalid_answers: InvalidOpt = "raise",
    database_url: UrlOpt = None,
    cordis: CordisOpt = None,
    seed: SeedOpt = 0,
    min_peers: MinPeersOpt = 10,
    reference_year: YearOpt = 2024,
    stage_rules: RulesOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Diagnose every SME of the registry and write one row per SME (CSV or XLSX)."""
    check_table_path(out)
    t0 = time.perf_counter()
    model = _diagnoser(database_url, cordis, answers, seed, min_peers, reference_year, stage_rules,
                       answers_encoding=answers_encoding, invalid_answers=invalid_answers)
    table = model.transform()
    write_table(table, out)
    summary = {"smes": len(table), "out": str(out), "seconds": round(time.perf_counter() - t0, 3),
               "stages": model.stage_distribution(), "stage_basis": _stage_basis(model),
               "report": model.report_, "meta": model.meta_}
    if json_out:
        print_json(summary)
    else:
        _stage_note(model)
        err.print(f"diagnosed {len(table):,} SMEs in {summary['seconds']} s -> {out}")


@app.command("questionnaire")
def questionnaire(
    out: Annotated[Path, typer.Option("--out", help="The answer form: .xlsx (answers, items, scale) or .csv (answers).")],
    blank: Annotated[bool, typer.Option("--blank", help="No rows: do not list the registry's SMEs.")] = False,
    database_url: UrlOpt = None,
    cordis: CordisOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the self-assessment questionnaire as an answer form to send out: a row per SME of
    the registry (id, name), a column per item; filled in, it is read back by --answers."""
    from innoweave.diagnosis.questionnaire import load_questionnaire, write_answer_form

    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise fail(f"--out must end in .xlsx or .csv, got {out.name!r}")
    check_out_file(out)
    orgs = None
    if not blank:
        table = _frames(database_url, cordis).organisations
        smes = table[table["kind"] == "sme"].sort_values("name", kind="stable")
        orgs = smes.rename(columns={"external_id": "org_id"})
    form = load_questionnaire()
    write_answer_form(form, out, orgs)
    rows = 0 if orgs is None else len(orgs)
    summary = {"out": str(out), "questionnaire": form.version, "items": len(form.items), "smes": rows,
               "scale": list(form.scale)}  # fmt: skip
    if json_out:
        print_json(summary)
        return
    err.print(f"answer form of questionnaire v{form.version} ({len(form.items)} items, answers "
              f"{form.scale[0]}-{form.scale[1]}) for {rows:,} SMEs -> {out}")
    note(f"fill it in and give it back with: innoweave diagnose sme|batch --answers {out.name}")


@app.command("stages")
def stages(
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
    cordis: CordisOpt = None,
    seed: SeedOpt = 0,
    reference_year: YearOpt = 2024,
    stage_rules: RulesOpt = None,
) -> None:
    """Distribution of the registry's SMEs over the growth stages."""
    model = _diagnoser(database_url, cordis, None, seed, 10, reference_year, stage_rules)
    dist = model.stage_distribution() | {"stage_basis": _stage_basis(model), "stage_rules": model.meta_["stage_rules"]}
    if json_out:
        print_json(dist)
        return
    table = Table(title=f"Growth stages of {dist['total']:,} SMEs")
    table.add_column("stage")
    table.add_column("SMEs", justify="right")
    table.add_column("share", justify="right")
    for s, n in dist["counts"].items():
        table.add_row(s, f"{n:,}", f"{dist['shares'][s]:.1%}")
    err.print(table)
    _stage_note(model)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"
