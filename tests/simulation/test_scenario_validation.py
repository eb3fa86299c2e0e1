"""Scenario validation: every setting range-checked, NaN/inf refused, files and registries
that cannot be read reported naming the field and the file, before any run starts."""

import dataclasses
import json
import math
import re
import sqlite3
from pathlib import Path

import pytest

from innoweave.simulation.engine import Engine
from innoweave.simulation.params import (
    INSTRUMENT_DEFAULTS,
    INSTRUMENT_RANGES,
    PARAM_RANGES,
    STAGES,
    InstrumentConfig,
    ModelParams,
)
from innoweave.simulation.runner import Comparison, _html, compare_scenarios, run_scenario
from innoweave.simulation.scenario import (
    SYNTHETIC_OPTIONS,
    SYNTHETIC_RANGES,
    ScenarioError,
    comparable,
    load_scenario,
    parse_scenario,
    resolve_scenario,
)

SMALL = {"horizon": 2, "replications": 2, "seed": 1,
         "population": {"source": "synthetic", "n_firms": 200}}
DOCS = Path(__file__).parents[2] / "docs" / "model.md"


def scenario(**change):
    return parse_scenario({**SMALL, **change})


# --- one table of ranges, covering everything, and the same in the docs ---------------


def test_every_parameter_and_setting_has_a_range():
    params = ModelParams()
    numeric = {f"{section.name}.{f.name}"
               for section in dataclasses.fields(params) if section.name != "mechanisms"
               for f in dataclasses.fields(getattr(params, section.name))
               if not isinstance(getattr(getattr(params, section.name), f.name), str)}
    assert numeric == set(PARAM_RANGES)
    assert {k: set(v) for k, v in INSTRUMENT_RANGES.items()} == {
        k: set(v) for k, v in INSTRUMENT_DEFAULTS.items()}
    assert set(SYNTHETIC_RANGES) == SYNTHETIC_OPTIONS
    # the defaults themselves are valid
    parse_scenario({**SMALL, "instruments": {k: {"budget": 1.0, **v}
                                             for k, v in INSTRUMENT_DEFAULTS.items()}})


def test_docs_list_the_same_ranges():
    text = DOCS.read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| ([^|]+) \|", text, flags=re.M))
    for key, rng in PARAM_RANGES.items():
        assert rows.get(key, "").strip() == rng.text(), key
    for key, table in INSTRUMENT_RANGES.items():
        for name, rng in table.items():
            assert rows.get(f"{key}.{name}", "").strip() == rng.text(), f"{key}.{name}"
    for name, rng in SYNTHETIC_RANGES.items():
        assert rows.get(f"population.{name}", "").strip() == rng.text(), name


# --- parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("section, values, field", [
    ("search", {"p_previous": -0.5}, r"params\.search\.p_previous: must be a number in \[0, 1\]"),
    ("search", {"n_candidates": 0}, r"params\.search\.n_candidates: must be an integer >= 1"),
    ("search", {"n_candidates": -2}, r"params\.search\.n_candidates"),
    ("search", {"research_seek": [0.1, 0.1, 1.5, 0.1]}, r"params\.search\.research_seek: every"),
    ("search", {"memory": 0}, r"params\.search\.memory"),
    ("search", {"research_density_ref": 0.0}, r"params\.search\.research_density_ref: .*> 0"),
    ("knowledge", {"n_fields": 0}, r"params\.knowledge\.n_fields"),
    ("knowledge", {"n_fields": 4}, r"params\.knowledge\.max_units: must be <= n_fields"),
    ("knowledge", {"idea_size": 9}, r"params\.knowledge\.idea_size: must be <= max_units"),
    ("knowledge", {"units_sme": [4, 2]}, r"params\.knowledge\.units_sme"),
    ("knowledge", {"ability_firm": [1.0, 12.0]}, r"params\.knowledge\.ability_firm"),
    ("knowledge", {"expertise_max": 1}, r"params\.knowledge\.expertise_max"),
    ("intent", {"project_cost_per_employee": 0.0}, r"params\.intent\.project_cost_per_employee"),
    ("outcome", {"radical_prob": 1.2}, r"params\.outcome\.radical_prob"),
    ("outcome", {"patent_prob": math.nan}, r"params\.outcome\.patent_prob: .*NaN"),
    ("market", {"demand_per_employee": math.inf}, r"params\.market\.demand_per_employee"),
    ("market", {"demand_growth": -1.0}, r"params\.market\.demand_growth: must be a number > -1"),
    ("demography", {"exit_after": 0}, r"params\.demography\.exit_after"),
    ("demography", {"entry_rate": -0.1}, r"params\.demography\.entry_rate"),
    ("record", {"network_every": 0}, r"params\.record\.network_every"),
    ("spillover", {"awareness_decay": 2.0}, r"params\.spillover\.awareness_decay"),
])
def test_out_of_range_parameters_name_the_field(section, values, field):
    with pytest.raises(ScenarioError, match=field):
        scenario(params={section: values})


def test_negative_values_are_allowed_where_they_mean_something():
    sc = scenario(params={"outcome": {"success_base": -3.0},
                          "demography": {"transformation_max_growth": -0.2},
                          "market": {"demand_growth": -0.01}})
    assert sc.params.outcome.success_base == -3.0


# --- instruments -----------------------------------------------------------------------


@pytest.mark.parametrize("key, table, field", [
    ("collaborative_call", {"every": 0}, r"instruments\.collaborative_call\.every: must be an "
                                         r"integer >= 1, got 0"),
    ("collaborative_call", {"every": 2.5}, r"instruments\.collaborative_call\.every"),
    ("collaborative_call", {"duration": 0}, r"instruments\.collaborative_call\.duration"),
    ("collaborative_call", {"grant": 0}, r"instruments\.collaborative_call\.grant: .*> 0"),
    ("collaborative_call", {"n_fields": 99}, r"instruments\.collaborative_call\.n_fields: must "
                                             r"be <= params\.knowledge\.n_fields"),
    ("rd_grant", {"share": 7.5}, r"instruments\.rd_grant\.share: must be a number in \[0, 1\]"),
    ("credit_guarantee", {"duration": 0}, r"instruments\.credit_guarantee\.duration"),
    ("researcher_secondment", {"duration": -1}, r"instruments\.researcher_secondment\.duration"),
    ("innovation_voucher", {"valid": 0}, r"instruments\.innovation_voucher\.valid"),
    ("innovation_voucher", {"learn_use": 0.5},
     r"instruments\.innovation_voucher\.learn_use: must be 0 or 1 \(or false / true\), got 0\.5"),
    ("innovation_voucher", {"learn_use": 2}, r"instruments\.innovation_voucher\.learn_use"),
    ("matchmaking_platform", {"pool": 1}, r"instruments\.matchmaking_platform\.pool"),
    ("matchmaking_platform", {"candidates": 0}, r"instruments\.matchmaking_platform\.candidates"),
    ("intermediary_funding", {"cost_per_introduction": 0},
     r"instruments\.intermediary_funding\.cost_per_introduction: must be a number > 0"),
    ("talent_subsidy", {"boost": math.nan}, r"instruments\.talent_subsidy\.boost: .*NaN"),
    ("ip_support", {"boost": math.inf}, r"instruments\.ip_support\.boost"),
])
def test_out_of_range_instrument_settings_name_the_field(key, table, field):
    with pytest.raises(ScenarioError, match=field):
        scenario(instruments={key: {"budget": 5.0, **table}})


@pytest.mark.parametrize("key, name", [
    ("credit_guarantee", "duration"), ("researcher_secondment", "duration"),
    ("innovation_voucher", "valid"), ("joint_lab", "duration"),
    ("collaborative_call", "duration")])
def test_durations_fit_the_steps_left_that_the_state_holds(key, name, small_population):
    """A commitment's steps left are int16 in the state: a voucher valid 100 000 steps
    passed validation and the run stopped with an OverflowError at its first phase 6."""
    with pytest.raises(ScenarioError, match=rf"instruments\.{key}\.{name}: must be an integer "
                                            r"in \[1, 32767\], got 32768"):
        scenario(instruments={key: {"budget": 5.0, name: 32768}})
    with pytest.raises(ValueError, match=rf"InstrumentConfig\('{key}'\)\.{name}"):
        InstrumentConfig(key=key, budget=5.0, settings={name: 100_000})
    # the longest accepted duration runs
    cfg = InstrumentConfig.from_dict(key, {"budget": 50.0, name: 32767,
                                           "stages": list(STAGES)})
    engine = Engine(None, small_population, instruments={key: cfg}, seed=3)
    assert len(engine.run(5)) == 5


@pytest.mark.parametrize("budget, value", [(0.5, None), (20.0, 30.0), (0.99, 1.0)])
def test_a_voucher_budget_that_cannot_pay_one_voucher_is_refused(budget, value):
    """A budget below one voucher's value never paid a voucher (payments stay within each
    step's budget) while the programme kept vouchers out: 20 a quarter for vouchers of 30
    spent 0 in 24 quarters and 'changed' UIR collaborations by +7.4 [2.7, 12.1] (QA)."""
    table = {"budget": budget, **({} if value is None else {"value": value})}
    shown = 1 if value is None else value
    with pytest.raises(ScenarioError, match=(
            rf"instruments\.innovation_voucher\.budget: {budget:g} a quarter cannot pay one "
            rf"voucher of value {shown:g} .* so no voucher would ever be paid")):
        scenario(instruments={"innovation_voucher": table})
    with pytest.raises(ValueError, match=r"InstrumentConfig\('innovation_voucher'\)\.budget: "
                                         r".* cannot pay one voucher"):
        InstrumentConfig(key="innovation_voucher", budget=budget,
                         settings={} if value is None else {"value": value})


@pytest.mark.parametrize("budget, value", [(0.0, 1.0), (0.0, 30.0), (1.0, 1.0), (2.5, 1.0),
                                           (5.0, 0.01)])
def test_voucher_budgets_of_one_voucher_or_more_or_none_are_accepted(budget, value):
    sc = scenario(instruments={"innovation_voucher": {"budget": budget, "value": value}})
    assert sc.instruments["innovation_voucher"].budget == budget
    InstrumentConfig(key="innovation_voucher", budget=budget, settings={"value": value})


def test_a_voucher_of_no_value_is_refused():
    """A voucher of value 0 cost nothing yet waived its holder's transaction cost and added a
    research candidate: a QA run showed 'spending per additional innovation 0.0, established'
    (2,000 firms, +89 innovations for nothing spent)."""
    with pytest.raises(ScenarioError, match=r"instruments\.innovation_voucher\.value: must be "
                                            r"a number > 0, got 0"):
        scenario(instruments={"innovation_voucher": {"budget": 5.0, "value": 0}})
    with pytest.raises(ValueError, match=r"innovation_voucher'\)\.value: must be a number > 0"):
        InstrumentConfig(key="innovation_voucher", budget=5.0, settings={"value": 0.0})


@pytest.mark.parametrize("given, kept", [(True, 1), (False, 0), (1, 1), (0, 0)])
def test_learn_use_takes_a_switch_as_the_mechanisms_do(given, kept):
    sc = scenario(instruments={"innovation_voucher": {"budget": 5.0, "learn_use": given}})
    cfg = sc.instruments["innovation_voucher"]
    assert cfg.setting("learn_use") == kept and type(cfg.setting("learn_use")) is int
    assert cfg.to_dict()["settings"]["learn_use"] == kept


@pytest.mark.parametrize("settings", [{"candidates": 256}, {"candidates": 100_000_000},
                                      {"candidates": 5, "pool": 5}])
def test_more_platform_candidates_than_the_pool_holds_are_refused(settings):
    """A user gets the best of the pool, itself excluded: 10^8 candidates passed validation
    and the run stopped allocating 130 GiB."""
    with pytest.raises(ScenarioError, match=r"instruments\.matchmaking_platform\.candidates: "
                                            r"must be below pool \("):
        scenario(instruments={"matchmaking_platform": {"budget": 1.0, **settings}})
    ok = scenario(instruments={"matchmaking_platform": {"budget": 1.0, "candidates": 4,
                                                        "pool": 5}})
    assert ok.instruments["matchmaking_platform"].setting("candidates") == 4


@pytest.mark.parametrize("budget, message", [
    (math.nan, "NaN"), (math.inf, "infinity"), (-math.inf, "infinity"), (-5, ">= 0|in \\[0"),
    (1e13, "in \\[0, 1e\\+12\\]"), ("lots", "expected a number"), (True, "expected a number"),
])
def test_budgets_must_be_finite_numbers(budget, message):
    with pytest.raises(ScenarioError, match=rf"instruments\.rd_grant\.budget: .*({message})"):
        scenario(instruments={"rd_grant": {"budget": budget}})


def test_integral_floats_are_integers():
    sc = scenario(instruments={"collaborative_call": {"budget": 1.0, "every": 2.0}})
    assert sc.instruments["collaborative_call"].setting("every") == 2


@pytest.mark.parametrize("regions, message", [
    (5, "expected a list of region numbers or codes, got 5"),
    ("12", "expected a list of region numbers or codes, got '12'"),
    (["R01"], "region codes .* need a population with coded regions"),
    ([-1], "region numbers start at 0"),
    ([True], "expected a list of region numbers"),
    ([0, "R01"], "expected a list of region numbers"),
    ([1.5], "expected a list of region numbers"),
])
def test_regions_are_type_checked(regions, message):
    with pytest.raises(ScenarioError, match=rf"instruments\.rd_grant\.regions: {message}"):
        scenario(instruments={"rd_grant": {"budget": 5.0, "regions": regions}})


@pytest.mark.parametrize("name, value", [("stages", "growth"), ("kinds", "sme"),
                                         ("size_classes", ["micro", 3]), ("targeting", 1)])
def test_eligibility_lists_are_type_checked(name, value):
    with pytest.raises(ScenarioError, match=rf"instruments\.rd_grant\.{name}"):
        scenario(instruments={"rd_grant": {"budget": 5.0, name: value}})


def test_region_numbers_are_checked_against_the_population():
    sc = scenario(instruments={"rd_grant": {"budget": 5.0, "regions": [0, 999]}})
    with pytest.raises(ScenarioError, match=r"instruments\.rd_grant\.regions: no region 999; "
                                            r"this population has regions 0\.\.3"):
        run_scenario(sc)


def test_region_codes_select_the_regions_of_a_coded_population():
    sc = scenario(population={"source": "synth", "n_firms": 150})
    pop = sc.build_population(seed=1)
    assert pop.region_names and len(pop.region_names) == pop.n_regions
    code = pop.region_names[2]
    coded = scenario(population={"source": "synth", "n_firms": 150},
                     instruments={"awareness_campaign": {"budget": 5.0, "regions": [code]}})
    assert coded.instruments_for(pop)["awareness_campaign"].regions == (2,)
    result = run_scenario(coded, replications=1)
    assert result.steps["spend_awareness_campaign"].sum() > 0
    unknown = scenario(population={"source": "synth", "n_firms": 150},
                       instruments={"awareness_campaign": {"budget": 5.0, "regions": ["ZZ9"]}})
    with pytest.raises(ScenarioError, match=r"instruments\.awareness_campaign\.regions: no "
                                            r"region 'ZZ9' in the population \(regions: "):
        run_scenario(unknown, replications=1)


# --- population ------------------------------------------------------------------------


@pytest.mark.parametrize("population, field", [
    ({"n_firms": 200, "cluster_share": 1.5}, r"population\.cluster_share"),
    ({"n_firms": 200, "n_regions": 0}, r"population\.n_regions"),
    ({"n_firms": 200, "university_share": math.nan}, r"population\.university_share"),
    ({"n_firms": 200, "clusters_per_region": 1.5}, r"population\.clusters_per_region"),
    ({"n_firms": 200, "url": "sqlite:///x.db"}, r"population\.url: not used with source "
                                                r"'synthetic'"),
    ({"source": "registry", "url": "sqlite:///x.db", "n_firms": 50},
     r"population\.n_firms: not used with source 'registry'"),
    ({"source": "registry", "url": "notaurl"}, r"population\.url: 'notaurl' is not a database"),
    ({"source": "registry", "url": "sqlite://"}, r"population\.url: .* names no registry file"),
])
def test_population_options_are_checked(population, field):
    with pytest.raises(ScenarioError, match=field):
        scenario(population=population)


def test_a_missing_registry_file_is_refused_and_not_created(tmp_path):
    db = tmp_path / "missing.db"
    with pytest.raises(ScenarioError, match=r"population\.url: there is no registry file"):
        scenario(population={"source": "registry", "url": f"sqlite:///{db}"})
    assert not db.exists()


@pytest.mark.parametrize("make", ["empty_file", "empty_database"])
def test_an_uninitialised_registry_fails_before_the_run_untouched(tmp_path, make):
    db = tmp_path / "empty.db"
    if make == "empty_file":
        db.write_bytes(b"")
    else:
        sqlite3.connect(db).execute("create table other (x int)").connection.close()
    before = db.read_bytes()
    sc = scenario(population={"source": "registry", "url": f"sqlite:///{db}"})
    with pytest.raises(ScenarioError, match=r"population\.url: the registry at .* is not "
                                            r"initialised"):
        run_scenario(sc)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_a_cordis_path_must_be_a_folder(tmp_path):
    (tmp_path / "ok.csv").write_text("a,b\n")
    with pytest.raises(ScenarioError, match=r"population\.path: .*ok\.csv is a file"):
        parse_scenario({**SMALL, "population": {"source": "cordis", "path": "ok.csv"}},
                       base_dir=tmp_path)


# --- files -----------------------------------------------------------------------------


def test_unreadable_scenario_files_name_the_file(tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    with pytest.raises(ScenarioError, match=r"scenario: .*adir is a folder"):
        resolve_scenario(folder)
    with pytest.raises(ScenarioError, match=r"scenario: .*adir is a folder"):
        load_scenario(folder)
    latin = tmp_path / "latin.toml"
    latin.write_bytes('name = "Förderung"\nhorizon = 2\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"scenario: .*latin\.toml is not UTF-8 text"):
        load_scenario(latin)
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon = [\n")
    with pytest.raises(ScenarioError, match=r"scenario: .*bad\.toml is not valid TOML"):
        load_scenario(bad)


@pytest.mark.parametrize("content, message", [
    ("intent_bias = [\n", r"calibration: .*cal\.toml is not valid TOML"),
    (b"# \xe9t\xe9\nintent_bias = [1, 1, 1, 1]\n", r"calibration: .*cal\.toml is not UTF-8"),
    ("intent_bias = [1.0]\n", r"calibration\.intent_bias \(in .*cal\.toml\): expected a list "
                              r"of 4 numbers"),
    ("research_seek = [0.1, 0.1, 0.1, 2.0]\n", r"calibration\.research_seek \(in .*cal\.toml\)"
                                               r": every value must be a number in \[0, 1\]"),
    ("intent_bias = [nan, 1, 1, 1]\n", r"calibration\.intent_bias .*NaN"),
    (None, r"calibration: .*cal\.toml is a folder"),
])
def test_bad_calibration_files_name_the_file(tmp_path, content, message):
    cal = tmp_path / "cal.toml"
    if content is None:
        cal.mkdir()
    elif isinstance(content, bytes):
        cal.write_bytes(content)
    else:
        cal.write_text(content)
    scen = tmp_path / "s.toml"
    scen.write_text('horizon = 2\ncalibration = "cal.toml"\n[population]\nn_firms = 200\n')
    with pytest.raises(ScenarioError, match=message):
        load_scenario(scen)


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "<img src=x onerror=alert(1)>", "",
                                  ".hidden", "x" * 101, 5])
def test_names_that_cannot_name_a_folder_are_refused(name):
    with pytest.raises(ScenarioError, match=r"^name: "):
        scenario(name=name)


def test_good_names_and_file_stems(tmp_path):
    assert scenario(name="Förderung 2025_v1.2-b").name == "Förderung 2025_v1.2-b"
    scen = tmp_path / "my run (v2).toml"
    scen.write_text("horizon = 1\n[population]\nn_firms = 50\n")
    assert load_scenario(scen).name == "my run _v2_"


# --- comparisons -----------------------------------------------------------------------


def test_scenarios_with_the_same_name_are_not_compared(tmp_path):
    base = scenario(name="b")
    base.path = str(tmp_path / "base.toml")
    alt = scenario(name="b", instruments={"rd_grant": {"budget": 5.0}})
    alt.path = str(tmp_path / "alt.toml")
    with pytest.raises(ScenarioError, match=r"name: .*base\.toml and .*alt\.toml are both "
                                            r"named 'b'"):
        comparable(base, [alt])
    with pytest.raises(ScenarioError, match="both named"):
        compare_scenarios(base, [alt])
    other = scenario(name="c")
    with pytest.raises(ScenarioError, match="both named 'c'"):
        comparable(base, [other, scenario(name="c")])


def test_compared_scenarios_need_the_base_population():
    base = scenario(name="b")
    bigger = scenario(name="c", population={"n_firms": 300})
    with pytest.raises(ScenarioError, match=r"population: scenario 'c' has another population "
                                            r"than the base .*n_firms=300 vs .*n_firms=200"):
        comparable(base, [bigger])


def test_replaced_settings_of_an_alternative_are_reported():
    base = scenario(name="b")
    alt = scenario(name="c", seed=99, horizon=5, replications=3)
    notes = comparable(base, [alt])
    assert len(notes) == 1
    assert "seed 99 -> 1" in notes[0] and "horizon 5 -> 2" in notes[0]
    assert "replications 3 -> 2" in notes[0]
    # what the command line sets for every scenario is not a difference
    notes = comparable(base, [alt], replications=4, horizon=2)
    assert "replications" not in notes[0] and "horizon" not in notes[0]
    assert comparable(base, [scenario(name="d")]) == []


def test_summary_records_the_settings_used():
    sc = scenario(name="b")
    result = run_scenario(sc, seed=99, replications=1, horizon=1)
    summary = result.summary()
    assert summary["kernels"] in ("numba", "array")
    settings = summary["settings"]
    assert (settings["seed"], settings["replications"], settings["horizon"]) == (99, 1, 1)
    assert settings["overrides"] == {
        "seed": {"scenario_file": 1, "used": 99},
        "replications": {"scenario_file": 2, "used": 1},
        "horizon": {"scenario_file": 2, "used": 1}}
    assert run_scenario(sc).summary()["settings"]["overrides"] == {}


def test_comparison_settings_are_the_ones_used():
    base, alt = scenario(name="b"), scenario(name="c", seed=7)
    data = compare_scenarios(base, [alt], replications=1).to_dict()
    assert data["settings"]["c"]["seed"] == 1
    assert data["settings"]["c"]["overrides"]["seed"] == {"scenario_file": 7, "used": 1}
    assert data["kernels"] in ("numba", "array")
    json.dumps(data)  # plain values


def test_comparison_page_escapes_names():
    base = run_scenario(scenario(name="b"), replications=1, horizon=1)
    alt = run_scenario(scenario(name="c"), replications=1, horizon=1)
    base.scenario.name = "<b>base</b>"
    alt.scenario.name = "<script>alert(1)</script>"
    page = _html(Comparison(base, [alt]), "")
    assert "<script>" not in page and "<b>base" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;base" in page


def test_overrides_of_zero_are_refused_not_ignored():
    """horizon=0 or replications=0 used to fall back to the scenario's own values."""
    scenario = parse_scenario(SMALL)
    for option in ("horizon", "replications"):
        for bad in (0, -1, 1.5, True):
            with pytest.raises(ValueError, match=f"{option} must be a whole number >= 1, got {bad!r}"):
                run_scenario(scenario, **{option: bad})
            with pytest.raises(ValueError, match=f"{option} must be a whole number >= 1"):
                compare_scenarios(scenario, [dataclasses.replace(scenario, name="alt")], **{option: bad})
    assert len(run_scenario(scenario, horizon=1, replications=1).steps) == 1  # one step, one replication


def test_instruments_given_to_the_engine_by_hand_are_checked(small_population):
    from innoweave.registry.instruments import INSTRUMENTS
    from innoweave.simulation.engine import Engine
    from innoweave.simulation.params import InstrumentConfig

    grant = InstrumentConfig(key="rd_grant", budget=50.0)  # stages as the catalogue's
    assert grant.stages == tuple(s.value for s in INSTRUMENTS["rd_grant"].stages)
    spent = Engine(ModelParams(), small_population, instruments={"rd_grant": grant}, seed=1).run(2)
    assert spent["spend_rd_grant"].sum() > 0
    with pytest.raises(ValueError, match="'rd_grnat' must name a known instrument"):
        Engine(ModelParams(), small_population, instruments={"rd_grnat": grant}, seed=1).run(2)
    with pytest.raises(ValueError, match=r"budget: must be a number in \[0, 1e\+12\], got -50"):
        InstrumentConfig(key="rd_grant", budget=-50.0)
    with pytest.raises(ValueError, match="unknown instrument 'grant'"):
        InstrumentConfig(key="grant", budget=1.0)


def test_a_seed_sequence_gives_the_same_replications_every_time():
    """A SeedSequence used to be consumed by spawn: the second run with it differed."""
    import numpy as np

    from innoweave.seeding import spawn_seeds

    scenario = parse_scenario(SMALL)
    ss = np.random.SeedSequence(5)
    first = run_scenario(scenario, seed=ss).steps
    again = run_scenario(scenario, seed=ss).steps
    assert first.equals(again) and first.equals(run_scenario(scenario, seed=5).steps)
    assert [c.spawn_key for c in spawn_seeds(ss, 2)] == [(0,), (1,)]
    for bad in (-1, np.random.default_rng(3), 1.5, None):
        with pytest.raises(ValueError, match="seed must be a whole number >= 0 or a numpy SeedSequence"):
            spawn_seeds(bad, 2)
