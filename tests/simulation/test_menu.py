"""The instrument menu: each instrument alone at one budget, against the base (CRN)."""

import json
import math

import numpy as np
import openpyxl
import pytest
from typer.testing import CliRunner

from innoweave.cli import app
from innoweave.registry.instruments import INSTRUMENTS
from innoweave.simulation.menu import MENU_COLUMNS, MENU_MEANINGS, InstrumentMenu
from innoweave.simulation.runner import REACH_NOTE
from innoweave.simulation.scenario import ScenarioError, parse_scenario

BASE = {"name": "base", "horizon": 16, "replications": 5, "seed": 7,
        "population": {"source": "synthetic", "n_firms": 1500}}
BUDGET, HORIZON = 10.0, 16
KEYS = ["awareness_campaign", "innovation_voucher", "ip_support", "talent_subsidy"]
runner = CliRunner()


@pytest.fixture(scope="module")
def fitted():
    return InstrumentMenu(BUDGET, instruments=KEYS).fit(parse_scenario(dict(BASE)))


def test_the_menu_tabulates_each_instrument_from_the_comparison(fitted):
    table = fitted.table_
    assert list(table.columns) == list(MENU_COLUMNS) and set(MENU_MEANINGS) == set(MENU_COLUMNS)
    assert sorted(table["instrument"]) == sorted(KEYS)
    diffs = fitted.comparison_.differences()
    for row in table.itertuples():
        d = diffs[row.instrument]
        # each alternative is the base plus that one instrument, at the menu's budget
        scenario = next(r.scenario for r in fitted.comparison_.alternatives
                        if r.scenario.name == row.instrument)
        assert list(scenario.instruments) == [row.instrument]
        assert scenario.instruments[row.instrument].budget == BUDGET
        assert row.spent == d[f"spend_{row.instrument}"]["alt"] <= BUDGET * HORIZON + 1e-9
        assert row.spent_share == pytest.approx(row.spent / (BUDGET * HORIZON))
        assert row.reach == d[f"reach_{row.instrument}"]["alt"]
        assert row.additional_innovations == d["additional_innovations"]["diff"]
        assert [row.additional_innovations_low, row.additional_innovations_high] == \
            d["additional_innovations"]["ci95"]
        assert row.established == (row.additional_innovations_low > 0)
        assert row.additional_patents == d["patents"]["diff"]
        assert row.additional_uir == d["collab_uir"]["diff"]
    by_key = table.set_index("instrument")
    # unit costs: a campaign contact 0.1, a talent award 1, a voucher 1, IP support 0.5
    for key, unit in (("awareness_campaign", 0.1), ("talent_subsidy", 1.0),
                      ("ip_support", 0.5)):
        assert by_key.loc[key, "spent_per_reach"] == pytest.approx(unit)
        assert by_key.loc[key, "spent"] == pytest.approx(BUDGET * HORIZON)  # all of it
    assert by_key.loc["ip_support", "resource"] == "policy"
    assert by_key.loc["innovation_voucher", "resource"] == "technology"


def test_established_instruments_come_first_cheapest_first(fitted):
    table = fitted.table_
    assert 1 <= table["established"].sum() < len(table)  # both kinds to order
    established = table["established"].to_numpy()
    assert not (np.diff(established.astype(int)) > 0).any()  # no established after the rest
    cost = table.loc[table["established"], "spending_per_additional_innovation"].to_numpy()
    assert (np.diff(cost) >= 0).all()
    rest = table.loc[~table["established"], "additional_innovations"].to_numpy()
    assert (np.diff(rest) <= 0).all()


def test_the_record_and_the_picture(fitted, tmp_path):
    data = fitted.to_dict()
    text = json.dumps(data, allow_nan=False)  # no NaN: a ratio without a value is null
    assert json.loads(text)["budget_per_quarter"] == BUDGET
    assert {k: data[k] for k in ("seed", "replications", "horizon")} == \
        {"seed": 7, "replications": 5, "horizon": HORIZON}
    assert data["version"] and "assumptions" in data["note"]
    assert [r["instrument"] for r in data["menu"]] == list(fitted.table_["instrument"])
    png = fitted.plot(tmp_path / "menu.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("menu, base, message", [
    (InstrumentMenu(2.0, instruments=["grant"]), {}, r"instruments: unknown \['grant'\]"),
    (InstrumentMenu(2.0, instruments=["ip_support", "ip_support"]), {}, "each instrument once"),
    (InstrumentMenu(2.0, instruments=[]), {}, "at least one"),
    (InstrumentMenu(2.0, stages=["teen"]), {}, r"stages: unknown \['teen'\]"),
    (InstrumentMenu(0.5), {}, r"innovation_voucher\.budget: 0\.5 a quarter cannot pay one "
                              r"voucher.*leave innovation_voucher off the menu"),
    (InstrumentMenu(2.0, instruments=["ip_support"]),
     {"instruments": {"ip_support": {"budget": 1.0}}}, "the base scenario 'base' has it"),
])
def test_bad_menus_are_refused_before_any_run(menu, base, message):
    with pytest.raises(ScenarioError, match=message):
        menu.scenarios(parse_scenario({**BASE, **base}))


@pytest.mark.parametrize("budget", [0.0, -1.0, math.inf, math.nan, 1e13])
def test_a_budget_must_be_positive_and_finite(budget):
    """Above a scenario's largest budget (1e12) the menu named the first instrument's
    InstrumentConfig and asked to leave it off the menu, as if that one refused it."""
    with pytest.raises(ScenarioError, match=r"^budget: a number > 0 a quarter, at most 1e\+12"):
        InstrumentMenu(budget, instruments=["ip_support"]).fit(parse_scenario(dict(BASE)))


def test_stages_given_apply_to_every_instrument():
    scenarios = InstrumentMenu(2.0, instruments=KEYS, stages=["start-up"]).scenarios(
        parse_scenario(dict(BASE)))
    assert all(s.instruments[s.name].stages == ("start-up",) for s in scenarios)


def test_the_cli_writes_the_menu_and_refuses_bad_options(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('name = "base"\nhorizon = 3\nreplications = 2\nseed = 3\n[population]\n'
                    'n_firms = 300\n')
    out = tmp_path / "m"
    res = runner.invoke(app, ["simulate", "menu", str(base), "--budget", "2", "--instruments",
                              "awareness_campaign,ip_support", "--out", str(out), "-q"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["menu.json", "menu.png", "menu.xlsx",
                                                     "steps.parquet"]
    data = json.loads((out / "menu.json").read_text())
    assert [r["instrument"] for r in data["menu"]][0] in ("awareness_campaign", "ip_support")
    book = openpyxl.load_workbook(out / "menu.xlsx")
    assert book.sheetnames == ["menu", "columns", "run"]
    assert [c.value for c in book["menu"][1]] == list(MENU_COLUMNS)
    stderr = " ".join(res.stderr.split())
    assert "awareness_campaign" in stderr and REACH_NOTE in stderr
    # IP support aims at patents: the console shows them beside the innovations
    assert "UIR / patents" in stderr and "patents are what IP support aims at" in stderr
    for args, message in ((["--instruments", "grant"], "--instruments: unknown"),
                          (["--stages", "teen"], "--stages: unknown"),
                          (["--budget", "0"], "--budget: a number > 0"),
                          (["--budget", "1e13"], "--budget: a number > 0 a quarter, at most "
                                                 "1e+12, got 10000000000000.0"),
                          (["--instruments", " , "], "--instruments: give one or more")):
        bad = tmp_path / "bad"
        res = runner.invoke(app, ["simulate", "menu", str(base), "--out", str(bad), "-q",
                                  *args])
        assert res.exit_code == 2 and message in " ".join(res.output.split()), res.output
        assert not bad.exists()


def test_by_stage_puts_each_instrument_once_per_stage_and_leaves_out_unreached_ones(tmp_path):
    """20 firms, seed 1: no SME in transformation at the start, so that stage's pairs are
    left out (named in skipped_), not an error for the whole menu."""
    base = parse_scenario({"name": "base", "horizon": 3, "replications": 2, "seed": 1,
                           "population": {"source": "synthetic", "n_firms": 20}})
    menu = InstrumentMenu(1.0, instruments=["talent_subsidy", "ip_support"], by_stage=True)
    names = [s.name for s in menu.scenarios(base)]
    assert names == [f"{k}.{s}" for k in ("talent_subsidy", "ip_support")
                     for s in ("start-up", "growth", "maturity", "transformation")]
    assert all(s.instruments[s.name.split(".")[0]].stages == (s.name.split(".")[1],)
               for s in menu.scenarios(base))
    menu.fit(base)
    assert set(menu.skipped_) == {"talent_subsidy.transformation", "ip_support.transformation"}
    assert all("reaches no firm" in why or "eligib" in why for why in menu.skipped_.values())
    assert len(menu.table_) == 6 and set(menu.table_["stages"]) == {"start-up", "growth",
                                                                     "maturity"}
    grid = menu.matrix("spent")
    assert list(grid.index) == ["talent_subsidy", "ip_support"]
    # the stage no firm is at stays a column, empty: the grid says so rather than dropping it
    assert list(grid.columns) == ["start-up", "growth", "maturity", "transformation"]
    assert grid["transformation"].isna().all() and grid.drop(columns="transformation").notna().all().all()
    row = menu.table_.set_index(["instrument", "stages"]).loc[("ip_support", "growth"), "spent"]
    assert grid.loc["ip_support", "growth"] == row
    assert menu.to_dict()["skipped"] == menu.skipped_ and menu.to_dict()["by_stage"] is True
    assert menu.plot(tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


def test_by_stage_with_no_stage_reached_is_refused():
    base = parse_scenario({"name": "base", "horizon": 3, "replications": 2, "seed": 1,
                           "population": {"source": "synthetic", "n_firms": 20}})
    with pytest.raises(ScenarioError, match="no instrument and stage of the menu reaches"):
        InstrumentMenu(1.0, instruments=["talent_subsidy"], stages=["transformation"],
                       by_stage=True).fit(base)


def test_the_cli_by_stage_writes_the_grid_sheets(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('name = "base"\nhorizon = 3\nreplications = 2\nseed = 1\n[population]\n'
                    'n_firms = 20\n')
    out = tmp_path / "g"
    res = runner.invoke(app, ["simulate", "menu", str(base), "--budget", "1", "--by-stage",
                              "--instruments", "talent_subsidy", "--out", str(out), "-q"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "talent_subsidy.transformation: left out" in " ".join(res.stderr.split())
    book = openpyxl.load_workbook(out / "menu.xlsx")
    assert book.sheetnames == ["menu", "by_stage_innovations", "by_stage_cost",
                               "by_stage_established", "columns", "run"]
    assert [c.value for c in book["by_stage_innovations"][1]] == [
        "instrument", "start-up", "growth", "maturity", "transformation"]


def test_the_ratio_counts_what_the_base_instruments_spend_more_and_says_so():
    """A base with a grant call: an awareness campaign brings more applicants, so the base's
    grants pay more beside the campaign. The ratio (all extra spending, as compare gives it)
    is reconciled by base_spending_change; without it spent / additional was not the ratio."""
    base = parse_scenario({**BASE, "instruments": {"rd_grant": {"budget": 200.0}}})
    menu = InstrumentMenu(BUDGET, instruments=["awareness_campaign", "ip_support"]).fit(base)
    row = menu.table_.set_index("instrument").loc["awareness_campaign"]
    d = menu.comparison_.differences()["awareness_campaign"]
    assert row["base_spending_change"] == pytest.approx(d["spend_rd_grant"]["diff"])
    assert row["base_spending_change"] > 0  # more grants paid beside the campaign
    assert row["spending_per_additional_innovation"] == pytest.approx(
        (row["spent"] + row["base_spending_change"]) / row["additional_innovations"])
    assert row["spending_per_additional_innovation"] != pytest.approx(
        row["spent"] / row["additional_innovations"])
    assert "base_spending_change" in MENU_MEANINGS["spending_per_additional_innovation"]
    notes = menu.to_dict()["notes"]
    assert len(notes) == 1 and "base_spending_change" in notes[0]
    plain = InstrumentMenu(BUDGET, instruments=["ip_support"]).fit(parse_scenario(dict(BASE)))
    assert (plain.table_["base_spending_change"] == 0).all() and plain.to_dict()["notes"] == []


def test_the_record_keeps_the_base_settings_and_each_instruments_terms(tmp_path):
    """Two menus on bases that differ only in a parameter (the price elasticity) give other
    figures: menu.json must say which base it ran, with -r / --horizon recorded as overrides
    (it had the budget, stages and seed only)."""
    base = tmp_path / "base.toml"
    base.write_text('name = "base"\nhorizon = 3\nreplications = 2\nseed = 3\n[population]\n'
                    'n_firms = 300\n[params.intent]\nprice_elasticity = 0.5\n')
    out = tmp_path / "m"
    res = runner.invoke(app, ["simulate", "menu", str(base), "--budget", "2", "--instruments",
                              "rd_grant,ip_support", "--stages", "growth", "--out", str(out),
                              "-q", "--horizon", "4"])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "menu.json").read_text())
    settings = data["settings"]
    assert settings["params"]["intent"]["price_elasticity"] == 0.5
    assert settings["sha256"] and settings["population"]["n_firms"] == 300
    assert settings["overrides"] == {"horizon": {"scenario_file": 3, "used": 4}}
    assert set(data["instruments"]) == {"rd_grant", "ip_support"}
    assert data["instruments"]["rd_grant"]["settings"] == {"share": 0.5}
    assert data["instruments"]["rd_grant"]["budget"] == 2.0
    assert data["instruments"]["ip_support"]["stages"] == ["growth"]


def test_an_instrument_that_spent_nothing_is_named_in_a_note(tmp_path):
    """At 1 a quarter a joint lab (2 a step) is never paid: its row of zeros read as 'no
    effect' without a word; the note says it spent nothing and why that says nothing."""
    base = parse_scenario({"name": "base", "horizon": 3, "replications": 2, "seed": 3,
                           "population": {"source": "synthetic", "n_firms": 300}})
    menu = InstrumentMenu(1.0, instruments=["joint_lab", "ip_support"]).fit(base)
    spent = menu.table_.set_index("instrument")["spent"]
    assert spent["joint_lab"] == 0 and spent["ip_support"] > 0
    notes = menu.to_dict()["notes"]
    assert len(notes) == 1 and notes[0].startswith("joint_lab: spent nothing at 1 a quarter")
    staged = InstrumentMenu(1.0, instruments=["joint_lab"], stages=["growth"],
                            by_stage=True).fit(base)
    assert staged.to_dict()["notes"][0].startswith("joint_lab.growth: spent nothing")
    base_file = tmp_path / "base.toml"
    base_file.write_text('name = "base"\nhorizon = 3\nreplications = 2\nseed = 3\n'
                         '[population]\nn_firms = 300\n')
    res = runner.invoke(app, ["simulate", "menu", str(base_file), "--budget", "1",
                              "--instruments", "joint_lab,ip_support", "--out",
                              str(tmp_path / "m"), "-q"])
    assert res.exit_code == 0, res.output
    assert "note: joint_lab: spent nothing at 1 a quarter" in " ".join(res.stderr.split())


def test_a_base_with_several_menu_instruments_is_refused_naming_them_all():
    """The capital example has three instruments: the menu named the first alone, so an
    analyst was refused three times before finding the 10 instruments left to compare."""
    base = parse_scenario({**BASE, "instruments": {"rd_grant": {"budget": 1.0},
                                                   "rd_tax_credit": {"budget": 1.0}}})
    with pytest.raises(ScenarioError) as caught:
        InstrumentMenu(2.0).scenarios(base)
    message = str(caught.value)
    assert message.startswith("rd_grant, rd_tax_credit: the base scenario 'base' has them")
    rest = [k for k in INSTRUMENTS if k not in ("rd_grant", "rd_tax_credit")]
    assert f"--instruments {','.join(rest)}" in message
    assert [s.name for s in InstrumentMenu(2.0, instruments=rest).scenarios(base)] == rest


def test_stages_that_no_firm_is_at_are_refused_in_one_readable_line():
    """20 firms, seed 1: no SME in transformation at the start. The menu named a scenario
    'talent_subsidy' the analyst never wrote and only the first instrument; by stage it
    printed a dict of one long error per instrument (13 with every instrument)."""
    base = parse_scenario({"name": "base", "horizon": 3, "replications": 2, "seed": 1,
                           "population": {"source": "synthetic", "n_firms": 20}})
    keys = ["talent_subsidy", "ip_support"]
    with pytest.raises(ScenarioError) as caught:
        InstrumentMenu(1.0, instruments=keys, stages=["transformation"]).fit(base)
    assert str(caught.value) == (
        "talent_subsidy, ip_support: eligibility excludes every firm of the population "
        "(stages=['transformation'], kinds=['sme'], size_classes=None, regions=None); give "
        "other --stages or leave them off the menu")
    with pytest.raises(ScenarioError) as caught:
        InstrumentMenu(1.0, instruments=keys, stages=["transformation"], by_stage=True).fit(base)
    assert str(caught.value) == (
        "no instrument and stage of the menu reaches a firm at the start: no firm of the "
        "population at stage transformation is eligible for talent_subsidy, ip_support")
