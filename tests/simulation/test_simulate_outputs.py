"""What `simulate run` and `simulate compare` report: every output column, intervals inside
each output's range, unknown figures as n/a in every human-readable form, full output
names in the console tables, help texts shown as written, and population sizes that
could not be allocated refused when the scenario is read."""

import io
import json
import math
import re
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.cli import simulate as simulate_cli
from innoweave.simulation.engine import Engine
from innoweave.simulation.population import synthetic_population
from innoweave.simulation.runner import (
    FLOW_OUTPUTS,
    LEVEL_OUTPUTS,
    OUTPUT_RANGES,
    REACH_NOTE,
    Comparison,
    RunResult,
    _bands,
    _html,
    difference_range,
    mean_ci,
    output_range,
    run_scenario,
)
from innoweave.simulation.scenario import (
    MAX_CLUSTERS,
    MAX_FIRMS,
    MAX_ORGANISATIONS,
    PopulationSpec,
    ScenarioError,
    default_name,
    load_scenario,
    parse_scenario,
)

runner = CliRunner()
DOCS = Path(__file__).parents[2] / "docs" / "model.md"
SMALL = {"horizon": 3, "replications": 3, "seed": 5,
         "population": {"source": "synthetic", "n_firms": 200}}
# every instrument with a small budget: several spends stay near 0 (intervals reaching < 0);
# vouchers of value 0.5, as a voucher budget must pay at least one voucher
MIX = {key: {"budget": 0.5} for key in (
    "rd_grant", "credit_guarantee", "rd_tax_credit", "talent_subsidy", "researcher_secondment",
    "innovation_voucher", "matchmaking_platform", "joint_lab", "intermediary_funding",
    "cluster_programme", "ip_support", "awareness_campaign", "collaborative_call")}
MIX["innovation_voucher"]["value"] = 0.5
TOML_HEAD = ('horizon = 3\nreplications = 3\nseed = 5\n[population]\nn_firms = 200\n')
TOML_MIX = "".join(f"[instruments.{key}]\n" + "".join(f"{name} = {value}\n"
                                                     for name, value in table.items())
                   for key, table in MIX.items())


def strict(text):
    """Parse JSON, refusing NaN / Infinity."""
    def refuse(token):
        raise AssertionError(f"non-standard JSON constant {token}")
    return json.loads(text, parse_constant=refuse)


def inside(low, high, bounds):
    return low is None or (bounds[0] <= low and high <= bounds[1])


@pytest.fixture(scope="module")
def engine_columns():
    pop = synthetic_population(120, seed=3)
    frame = Engine(None, pop, seed=4).run(1)
    return [c for c in frame.columns if c != "step"]


# --- 1. population sizes ---------------------------------------------------------------


@pytest.mark.parametrize("population, message", [
    ({"n_firms": 100_000_000_000},
     r"^population\.n_firms: at most 5,000,000 firms with source 'synthetic', "
     r"got 100,000,000,000"),
    ({"n_firms": MAX_FIRMS["synthetic"] + 1}, r"^population\.n_firms: at most 5,000,000"),
    ({"source": "synth", "n_firms": 2_000_000},
     r"^population\.n_firms: at most 1,000,000 firms with source 'synth'"),
    ({"n_firms": 1000, "research_per_firm": 1e6},
     r"^population\.research_per_firm: .* organisations .*; at most 10,000,000"),
    ({"n_firms": 1000, "n_regions": 10, "intermediaries_per_region": 10**7},
     r"^population\.intermediaries_per_region: .*; at most 10,000,000"),
    ({"n_firms": 1000, "n_regions": 10**8, "intermediaries_per_region": 0},
     r"^population\.n_regions: .* clusters .*; at most 1,000,000"),
    ({"n_firms": 1000, "clusters_per_region": 10**7},
     r"^population\.clusters_per_region: .* clusters"),
])
def test_populations_too_large_to_allocate_are_refused_when_read(population, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({**SMALL, "population": population})


def test_the_largest_allowed_populations_are_accepted_when_read():
    for source, most in MAX_FIRMS.items():  # parsed only: nothing is built
        assert parse_scenario({**SMALL, "population": {"source": source, "n_firms": most}})
    assert MAX_ORGANISATIONS >= 2 * MAX_FIRMS["synthetic"] and MAX_CLUSTERS >= 400 * 2
    rows = dict(re.findall(r"^\| `(population\.n_firms)` \| ([^|]+) \|", DOCS.read_text(),
                           flags=re.M))
    assert "5 000 000" in rows["population.n_firms"]
    assert "1 000 000" in rows["population.n_firms"]


def test_a_huge_population_given_by_hand_is_refused_before_allocating():
    sc = parse_scenario(SMALL)
    sc.population = PopulationSpec(source="synthetic", n_firms=100_000_000_000)
    with pytest.raises(ScenarioError, match=r"^population\.n_firms: at most 5,000,000"):
        run_scenario(sc)


def test_cli_refuses_a_huge_population_with_one_line_before_running(tmp_path, monkeypatch):
    def no_run(*a, **k):
        raise AssertionError("ran a population that cannot be allocated")

    monkeypatch.setattr("innoweave.simulation.runner.run_scenario", no_run)
    scen = tmp_path / "huge.toml"
    scen.write_text(TOML_HEAD.replace("n_firms = 200", "n_firms = 100000000000"))
    res = runner.invoke(app, ["simulate", "run", str(scen), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "MemoryError" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "huge.toml" in lines[0] and "population.n_firms" in lines[0]
    assert "at most 5,000,000" in lines[0]
    assert not (tmp_path / "o").exists()


# --- 7. default names ------------------------------------------------------------------


@pytest.mark.parametrize("stem, name", [
    (".hidden", "hidden"), ("..x.y", "x.y"), ("-_ a", "a"), ("...", "scenario"),
    ("my run (v2)", "my run _v2_"), ("2025 plan", "2025 plan"), ("x" * 150, "x" * 100),
])
def test_default_names_come_from_the_file_stem(stem, name):
    assert default_name(stem) == name


def test_a_hidden_file_without_name_is_named_without_a_prefix(tmp_path):
    scen = tmp_path / ".hidden.toml"
    scen.write_text("horizon = 1\n[population]\nn_firms = 50\n")
    assert load_scenario(scen).name == "hidden"


# --- 6. every output in summary and comparison ------------------------------------------


def test_every_engine_column_is_classified_and_has_a_range(engine_columns):
    assert not set(LEVEL_OUTPUTS) & set(FLOW_OUTPUTS)
    assert set(engine_columns) == set(LEVEL_OUTPUTS) | set(FLOW_OUTPUTS)
    assert set(OUTPUT_RANGES) == set(engine_columns)
    for name, (low, high) in OUTPUT_RANGES.items():
        assert (low, high) in ((0.0, 1.0), (0.0, math.inf)), name


@pytest.fixture(scope="module")
def mixed_comparison():
    base = run_scenario(parse_scenario({**SMALL, "name": "base"}))
    alt = run_scenario(parse_scenario({**SMALL, "name": "mix", "instruments": MIX}))
    return Comparison(base, [alt])


def test_summary_and_comparison_cover_every_output_column(mixed_comparison, engine_columns):
    run = mixed_comparison.alternatives[0]
    outputs = run.summary()["outputs"]
    assert list(outputs) == [*[c for c in LEVEL_OUTPUTS], *[c for c in FLOW_OUTPUTS]]
    assert set(outputs) == set(engine_columns)
    for name in ("share_sme_project", "innovating_medium", "coop_research_medium",
                 "innovating_large", "coop_research_large", "knowledge_breadth",
                 "net_nodes", "links_active", "entry_dropped"):
        assert name in outputs
    for name, o in outputs.items():
        assert o["kind"] == ("total" if name in FLOW_OUTPUTS else "final"), name
    rows = mixed_comparison.differences()["mix"]
    assert set(rows) == set(engine_columns) | {"additional_innovations",
                                               "spending_per_additional_innovation"}
    # a final level is the last step's value, a flow the horizon's total
    steps = run.steps
    last = steps[steps["step"] == steps["step"].max()]
    assert outputs["share_sme_project"]["mean"] == pytest.approx(last["share_sme_project"].mean())
    assert outputs["entry_dropped"]["mean"] == pytest.approx(
        steps.groupby("replication")["entry_dropped"].sum().mean())


def test_a_column_of_neither_table_is_reported_as_a_final_level(mixed_comparison):
    run = mixed_comparison.base
    steps = run.steps.assign(new_measure=run.steps["step"] * 2.0)
    result = RunResult(run.scenario, steps, run.seed, run.replications, run.horizon, run.xp)
    out = result.summary()["outputs"]["new_measure"]
    assert out["kind"] == "final" and out["mean"] == 2.0 * steps["step"].max()


def test_differences_are_paired_by_replication_by_hand(mixed_comparison):
    """Replications share their random numbers, so a difference is the mean of the paired
    differences with a t-interval on them; set by hand: final survival and per-step
    innovations and spending of each replication."""
    run = mixed_comparison.base

    def made(name, survival, innovations, spend):
        steps = run.steps.copy()
        final = steps["step"] == steps["step"].max()
        steps.loc[final, "survival"] = steps.loc[final, "replication"].map(survival)
        steps["innovations"] = steps["replication"].map(innovations).astype(float)
        steps["spend_total"] = float(spend)
        return RunResult(parse_scenario({**SMALL, "name": name}), steps, 5, 3, 3, "numpy")

    base = made("base", {0: 0.9, 1: 0.6, 2: 0.8}, {0: 1, 1: 1, 2: 1}, 0.0)
    alt = made("alt", {0: 0.95, 1: 0.7, 2: 0.8}, {0: 3, 1: 3, 2: 2}, 2.0)
    rows = Comparison(base, [alt]).differences()["alt"]
    t_2 = 4.302652729749462  # the t-table's 97.5 % point with 2 degrees of freedom
    # survival: paired differences 0.05, 0.1, 0 -> mean 0.05, SD 0.05
    survival = rows["survival"]
    assert survival["base"] == pytest.approx(2.3 / 3) and survival["alt"] == pytest.approx(2.45 / 3)
    assert survival["diff"] == pytest.approx(0.05)
    half = t_2 * 0.05 / math.sqrt(3)
    assert survival["ci95"] == pytest.approx([0.05 - half, 0.05 + half])
    # innovations over the 3 steps: base 3 each, alternative 9, 9, 6 -> 6, 6, 3 more (SD sqrt 3)
    for key in ("innovations", "additional_innovations"):
        assert rows[key]["diff"] == pytest.approx(5.0)
        assert rows[key]["ci95"] == pytest.approx([5.0 - t_2, 5.0 + t_2])
    # 6 more spent by each replication over 5 more innovations, the interval above 0
    ratio = rows["spending_per_additional_innovation"]
    assert ratio["value"] == pytest.approx(6.0 / 5.0) and ratio["established"] is True
    # the same alternative with its replications in another order is another comparison
    shuffled = made("alt", {0: 0.8, 1: 0.95, 2: 0.7}, {0: 2, 1: 3, 2: 3}, 2.0)
    other = Comparison(base, [shuffled]).differences()["alt"]["survival"]
    assert other["diff"] == pytest.approx(0.05) and other["ci95"] != pytest.approx(survival["ci95"])


# --- 5. intervals within each output's range --------------------------------------------


def test_mean_ci_clips_to_bounds_and_keeps_the_mean():
    values = [0.8, 1.0, 1.0]
    m, lo, hi = mean_ci(values)
    assert hi > 1  # the plain t-interval leaves the range
    m2, lo2, hi2 = mean_ci(values, bounds=(0.0, 1.0))
    assert (m2, lo2, hi2) == (m, lo, 1.0)
    assert mean_ci([0.0, 0.0, 0.01], bounds=(0.0, 1.0))[1] == 0.0
    assert mean_ci([-44.8, 56.8, 0.0], bounds=(0.0, math.inf))[1:] == (
        0.0, mean_ci([-44.8, 56.8, 0.0])[2])
    assert all(math.isnan(x) for x in mean_ci([0.5], bounds=(0.0, 1.0))[1:])
    for bad in [(1.0, 0.0), (0.0,), "ab", (0.0, None)]:
        with pytest.raises(ValueError, match="bounds"):
            mean_ci(values, bounds=bad)


def test_ranges_of_outputs_and_of_their_differences():
    assert output_range("survival") == (0.0, 1.0)
    assert output_range("share_sme_research_partner") == (0.0, 1.0)
    assert output_range("spend_innovation_voucher") == (0.0, math.inf)
    assert output_range("unknown") == (-math.inf, math.inf)
    assert difference_range("survival") == (-1.0, 1.0)
    assert difference_range("innovations") == (-math.inf, math.inf)


def test_summary_and_differences_clip_intervals_of_bounded_outputs(mixed_comparison):
    base_run = mixed_comparison.base
    steps = base_run.steps.copy()
    final = steps["step"] == steps["step"].max()
    steps.loc[final, "survival"] = np.array([0.8, 1.0, 1.0])
    steps.loc[final, "share_sme_research_partner"] = np.array([0.0, 0.0, 0.01])
    steps["spend_innovation_voucher"] = 0.0
    steps.loc[final, "spend_innovation_voucher"] = np.array([0.0, 0.0, 5.0])
    made = RunResult(base_run.scenario, steps, 5, 3, 3, "numpy")
    out = made.summary()["outputs"]
    assert out["survival"]["ci95"][1] == 1.0 and out["survival"]["ci95"][0] < 1.0
    assert out["share_sme_research_partner"]["ci95"][0] == 0.0
    assert out["spend_innovation_voucher"]["ci95"][0] == 0.0
    # a difference of shares stays within [-1, 1]
    alt_steps = steps.copy()
    alt_steps.loc[final, "survival"] = np.array([0.0, 1.0, 0.0])
    alt_steps.loc[final, "share_sme_research_partner"] = np.array([1.0, 1.0, 0.0])
    alt = RunResult(parse_scenario({**SMALL, "name": "alt"}), alt_steps, 5, 3, 3, "numpy")
    rows = Comparison(made, [alt]).differences()["alt"]
    assert rows["share_sme_research_partner"]["ci95"][1] == 1.0
    assert rows["survival"]["ci95"][0] == -1.0
    # the PNG's bands too
    bands = _bands(made, "survival")
    assert bands["high"].max() <= 1.0 and bands["low"].min() >= 0.0


def test_run_and_compare_files_keep_every_interval_in_range(tmp_path):
    base = tmp_path / "base.toml"
    mix = tmp_path / "mix.toml"
    base.write_text('name = "base"\n' + TOML_HEAD)
    mix.write_text('name = "mix"\n' + TOML_HEAD + TOML_MIX)
    res = runner.invoke(app, ["simulate", "run", str(mix), "--out", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 0, res.output
    summary = strict((tmp_path / "r" / "summary.json").read_text())
    clipped = 0
    for name, o in summary["outputs"].items():
        assert inside(*o["ci95"], output_range(name)), (name, o)
        clipped += o["ci95"][0] == output_range(name)[0] and o["mean"] > output_range(name)[0]
    assert clipped  # some interval met its range's end (so this tests the clipping)
    book = pd.read_excel(tmp_path / "r" / "summary.xlsx", sheet_name="outputs")
    for row in book.itertuples():
        if not math.isnan(row.ci95_low):
            assert inside(row.ci95_low, row.ci95_high, output_range(row.output)), row
    res = runner.invoke(app, ["simulate", "compare", str(base), str(mix), "--out",
                              str(tmp_path / "c"), "-q"])
    assert res.exit_code == 0, res.output
    data = strict((tmp_path / "c" / "compare.json").read_text())
    for name, r in data["differences"]["mix"].items():
        if "ci95" in r and name in OUTPUT_RANGES:
            assert inside(*r["ci95"], difference_range(name)), (name, r)
    book = pd.read_excel(tmp_path / "c" / "compare.xlsx", sheet_name="differences")
    for row in book.itertuples():
        if row.output in OUTPUT_RANGES and not math.isnan(row.ci95_low):
            assert inside(row.ci95_low, row.ci95_high, difference_range(row.output)), row
    # the workbook carries the ratio's verdict as the JSON does (it once held only the value)
    ratio = book[book["output"] == "spending_per_additional_innovation"].iloc[0]
    verdict = data["differences"]["mix"]["spending_per_additional_innovation"]
    assert bool(ratio["established"]) == verdict["established"]
    assert (ratio["note"] == verdict["note"]) if "note" in verdict else pd.isna(ratio["note"])


# --- 3. unknown figures as n/a on the comparison page -----------------------------------


def test_comparison_page_shows_unknown_figures_as_n_a(mixed_comparison):
    page = _html(mixed_comparison, "")
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells and not [c for c in cells if "nan" in c.lower() or "inf" in c.lower()]
    row = re.search(r"<tr><td>additional_innovations</td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[1:3] == ["n/a", "n/a"]
    one = Comparison(run_scenario(mixed_comparison.base.scenario, replications=1, horizon=1),
                     [run_scenario(mixed_comparison.alternatives[0].scenario, replications=1,
                                   horizon=1)])
    cells = re.findall(r"<td>([^<]*)</td>", _html(one, ""))
    assert "n/a" in cells and not [c for c in cells if "nan" in c.lower()]


# --- 2. full output names in the console tables -----------------------------------------


def table_names(text: str) -> set[str]:
    """The first word of each table row (box-drawn or not)."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"^[│ ]*([a-z][a-z0-9_]+)\b", line)
        if m:
            names.add(m.group(1))
    return names


@pytest.mark.parametrize("terminal", [False, True])
def test_console_tables_show_full_output_names_at_80_columns(tmp_path, monkeypatch, terminal):
    buf = io.StringIO()
    if terminal:  # an 80-column terminal; otherwise piped output (CliRunner), COLUMNS=80
        monkeypatch.setattr(simulate_cli, "err", Console(file=buf, width=80,
                                                         force_terminal=True,
                                                         color_system=None))
    base = tmp_path / "base.toml"
    mix = tmp_path / "mix.toml"
    base.write_text('name = "base"\n' + TOML_HEAD)
    mix.write_text('name = "mix"\n' + TOML_HEAD + TOML_MIX)
    env = {"COLUMNS": "80"}
    res = runner.invoke(app, ["simulate", "run", str(mix), "--out", str(tmp_path / "r"),
                              "-q"], env=env)
    assert res.exit_code == 0, res.output
    text = buf.getvalue() if terminal else res.stderr
    summary = strict((tmp_path / "r" / "summary.json").read_text())
    shown = {n for n, o in summary["outputs"].items()
             if not (n.startswith(("spend_", "reach_")) and n != "spend_total"
                     and o["mean"] == 0)}
    assert shown <= table_names(text), shown - table_names(text)
    assert "…" not in text
    buf.seek(0)
    buf.truncate(0)
    res = runner.invoke(app, ["simulate", "compare", str(base), str(mix), "--out",
                              str(tmp_path / "c"), "-q"], env=env)
    assert res.exit_code == 0, res.output
    text = buf.getvalue() if terminal else res.stderr
    rows = strict((tmp_path / "c" / "compare.json").read_text())["differences"]["mix"]
    shown = {n for n, r in rows.items() if "value" not in r
             and not (n.startswith(("spend_", "reach_")) and r.get("alt") == 0
                      and r.get("base") == 0)}
    assert shown <= table_names(text), shown - table_names(text)
    assert "…" not in text
    assert re.search(r"^spending_per_additional_innovation \(ratio of mean totals\): ",
                     text, flags=re.M)
    if terminal:
        assert max(len(line) for line in text.splitlines()) <= 80
    else:  # piped: one line per output, the interval beside its name
        assert re.search(r"^survival +final .*\[", text, flags=re.M), text


# --- 4. help texts shown as written ----------------------------------------------------


def test_help_texts_keep_their_square_brackets():
    """Typer renders help as Rich markup: a bare ``[population]`` is read as a style tag and
    vanishes, so every bracketed word of a docstring or option help must be escaped."""
    group = typer.main.get_group(simulate_cli.app)
    tag = re.compile(r"(?<!\\)\[([a-zA-Z#/@][^\[\]]*)\]")
    escaped = re.compile(r"\\\[([^\[\]]*)\]")
    checked = 0
    for name, command in group.commands.items():
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        bare = [m for t in texts for m in tag.findall(t)]
        assert not bare, f"{name}: unescaped {bare}"
        wanted = [f"[{m}]" for t in texts for m in escaped.findall(t)]
        res = runner.invoke(app, ["simulate", name, "--help"], env={"COLUMNS": "300"})
        assert res.exit_code == 0, res.output
        for text in wanted:
            assert text in res.output, (name, text)
            checked += 1
    assert checked  # compare's [population] at least
    res = runner.invoke(app, ["simulate", "compare", "--help"], env={"COLUMNS": "300"})
    assert "base's [population] table" in res.output


def test_spending_per_additional_innovation_says_when_it_is_not_established(mixed_comparison):
    """A QA pass saw a cost per extra innovation of 12.0 reported beside additional innovations
    with interval [-5.9, 6.9]: the ratio is flagged unless that interval lies above 0."""
    from innoweave.simulation.runner import NOT_ESTABLISHED

    rows = mixed_comparison.differences()["mix"]
    extra, ratio = rows["additional_innovations"], rows["spending_per_additional_innovation"]
    assert ratio["established"] == (extra["ci95"][0] > 0)
    assert (ratio.get("note") == NOT_ESTABLISHED) != ratio["established"]
    # the same scenario under another name adds nothing (common random numbers): the
    # difference is 0 in every replication, its interval [0, 0] — not established
    twin = run_scenario(parse_scenario({**SMALL, "name": "twin"}))
    nothing = Comparison(mixed_comparison.base, [twin]).differences()["twin"]
    assert nothing["additional_innovations"]["diff"] == 0
    assert nothing["spending_per_additional_innovation"] == {
        "value": None, "kind": "ratio of mean totals", "established": False, "note": NOT_ESTABLISHED}


# --- 4. the comparison page and figure say what the scenarios are and the units ---------


def test_comparison_page_lists_scenarios_with_descriptions_budgets_and_money_unit(tmp_path):
    base = run_scenario(parse_scenario({**SMALL, "name": "base", "description": "No policy"}),
                        replications=2, horizon=1)
    alt = run_scenario(parse_scenario({**SMALL, "name": "grants", "description": "R&D grants",
                                       "instruments": {"rd_grant": {"budget": 2.5}}}),
                       replications=2, horizon=1)
    page = _html(Comparison(base, [alt]), "")
    assert "<b>base</b>: No policy — no instruments" in page
    assert "<b>grants</b>: R&amp;D grants — instruments (budget per quarter): rd_grant 2.5" in page
    assert "one quarter&#x27;s revenue per employee" in page and "per quarter" in page


def test_comparison_page_tells_apart_scenarios_that_differ_in_an_instruments_terms():
    """Vouchers of value 1 and 5, learning the rate of use or not, for start-ups or by need:
    the page listed each as 'innovation_voucher 20' and the reader could not tell which
    table was which scenario's."""
    def voucher(name, **terms):
        return run_scenario(parse_scenario({
            **SMALL, "name": name,
            "instruments": {"innovation_voucher": {"budget": 20.0, **terms}}}),
            replications=2, horizon=1)

    alts = [voucher("learned"), voucher("fixed", learn_use=0), voucher("big", value=5.0),
            voucher("young", stages=["start-up"], targeting="need", size_classes=["micro"])]
    page = _html(Comparison(voucher("base"), alts), "")
    items = re.findall(r"<li><b>(\w+)</b>.*?</li>", page)
    assert items == ["base", "learned", "fixed", "big", "young"]
    lines = {name: re.search(rf"<li><b>{name}</b>.*?</li>", page).group(0) for name in items}
    assert len(set(line.split("</b>", 1)[1] for line in lines.values())) == 4  # base = learned
    assert ("innovation_voucher 20 (value 1, valid 4, learn_use 1; stages start-up, growth; "
            "firms sme; targeting random)") in lines["learned"]
    assert "learn_use 0;" in lines["fixed"] and "value 5," in lines["big"]
    assert ("stages start-up; firms sme; size classes micro; targeting need"
            in lines["young"])


def test_comparison_page_leaves_out_instruments_neither_scenario_has_as_the_console_does():
    """The page listed 24 rows of zeros (the spending and reach of the twelve instruments
    neither scenario had) in every table, which the console leaves out."""
    base = run_scenario(parse_scenario({**SMALL, "name": "base"}), replications=2, horizon=8)
    alt = run_scenario(parse_scenario({
        **SMALL, "name": "vouchers", "instruments": {"innovation_voucher": {"budget": 20.0}}}),
        replications=2, horizon=8)
    comparison = Comparison(base, [alt])
    page = _html(comparison, "")
    shown = set(re.findall(r"<tr><td>(\w+)</td>", page))
    rows = comparison.differences()["vouchers"]
    assert rows["spend_innovation_voucher"]["alt"] > 0
    assert {"spend_total", "spend_innovation_voucher", "reach_innovation_voucher",
            "innovations", "spending_per_additional_innovation"} <= shown
    unused = {f"{kind}_{key}" for kind in ("spend", "reach") for key in MIX
              if key != "innovation_voucher"}
    assert unused <= set(rows) and not unused & shown  # the JSON keeps them
    assert shown == set(rows) - unused


def test_comparison_figure_has_plain_titles_and_y_labels_with_units(tmp_path, monkeypatch):
    import matplotlib.figure

    from innoweave.simulation.runner import PLOT_OUTPUTS, plot_comparison, plot_label

    seen = {}
    original = matplotlib.figure.Figure.savefig

    def record(fig, *args, **kwargs):
        seen.update({ax.get_title(): ax.get_ylabel() for ax in fig.axes if ax.get_title()})
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    base = run_scenario(parse_scenario({**SMALL, "name": "base"}), replications=2, horizon=1)
    plot_comparison(Comparison(base, [base]), tmp_path / "c.png")
    assert seen["SMEs with a research partner (share)"] == "share of alive SMEs (0-1)"
    assert seen["Government spending per quarter (all instruments)"] == "money units per quarter"
    assert set(seen) == {plot_label(c)[0] for c in PLOT_OUTPUTS}
    assert all(seen.values()) and not set(seen) & set(PLOT_OUTPUTS)


def test_a_comparison_says_how_to_read_many_intervals(mixed_comparison):
    """About 50 outputs are compared per scenario with uncorrected 95 % intervals: a tiny budget
    once showed 'significant' changes that vanished with more replications, unremarked."""
    data = mixed_comparison.to_dict()
    n = sum("ci95" in r and r["ci95"][0] < r["ci95"][1]
            for r in data["differences"]["mix"].values())
    assert 5 <= n < sum("ci95" in r for r in data["differences"]["mix"].values())
    assert f"with {n} outputs compared" in data["note"]
    assert f"about {round(n / 20)} may exclude 0 by chance" in data["note"]
    assert "by chance alone" in _html(mixed_comparison, "")


def test_reach_totals_are_explained_where_shown(tmp_path):
    """reach_<key> summed over a horizon counts firm-quarters (the tax credit 'reached' 2,752
    firms of a population of ~2,000 in a QA run): the console and the page say so, and only
    where a reach row is shown."""
    base, mix, same = (tmp_path / f"{n}.toml" for n in ("base", "mix", "same"))
    base.write_text('name = "base"\n' + TOML_HEAD)
    same.write_text('name = "same"\n' + TOML_HEAD)
    mix.write_text('name = "mix"\n' + TOML_HEAD + TOML_MIX)
    res = runner.invoke(app, ["simulate", "compare", str(base), str(mix), "--out",
                              str(tmp_path / "c"), "-q"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert REACH_NOTE in " ".join(res.stderr.split())  # as wrapped for the terminal
    assert escape(REACH_NOTE) in (tmp_path / "c" / "compare.html").read_text()
    res = runner.invoke(app, ["simulate", "run", str(mix), "--out", str(tmp_path / "r"), "-q"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0 and REACH_NOTE in " ".join(res.stderr.split())
    res = runner.invoke(app, ["simulate", "compare", str(base), str(same), "--out",
                              str(tmp_path / "n"), "-q"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert not re.search(r"^reach_", res.stderr, flags=re.M)
    assert "firms the instrument paid for" not in " ".join(res.stderr.split())
    assert "reach_" not in (tmp_path / "n" / "compare.html").read_text()
