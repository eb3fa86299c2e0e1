"""The Python API used from a notebook: every entry point refuses a bad argument by name,
before any run, instead of running on with nonsense, failing deep in NumPy or crashing
the compiled kernels (a region, field or partner index out of range wrote outside the
arrays: a segmentation fault or corrupted memory)."""

import dataclasses
import math

import numpy as np
import pytest

from innoweave.simulation.calibration import Calibration
from innoweave.simulation.docking import run_docking
from innoweave.simulation.engine import Engine
from innoweave.simulation.mesa_reference import ReferenceModel
from innoweave.simulation.params import (
    InstrumentConfig,
    KnowledgeParams,
    ModelParams,
    SearchParams,
)
from innoweave.simulation.population import synthetic_population
from innoweave.simulation.runner import compare_scenarios, mean_ci, plot_comparison, run_scenario
from innoweave.simulation.scenario import parse_scenario
from innoweave.simulation.stylised import StylisedFacts


@pytest.fixture(scope="module")
def pop():
    return synthetic_population(120, seed=3)


def edited(pop, **columns):
    """A copy of ``pop`` with each named column changed by its function."""
    return dataclasses.replace(pop, **{name: change(getattr(pop, name).copy())
                                       for name, change in columns.items()})


def set_first(value):
    def change(a):
        a[0] = value
        return a
    return change


@pytest.mark.parametrize("steps", [True, 2.5, math.nan, "3", None, 0, -1])
def test_run_refuses_steps_that_are_not_a_whole_number_of_at_least_one(pop, steps):
    # True ran one step; 2.5, NaN, "3" and None failed inside Python/NumPy unnamed
    for model in (Engine(None, pop, seed=1), ReferenceModel(None, pop, seed=1)):
        with pytest.raises(ValueError, match="steps"):
            model.run(steps)


@pytest.mark.parametrize(("params", "message"), [
    ({"search": {}}, "params must be a ModelParams"),
    (ModelParams(search="x"), r"params.search: expected a SearchParams"),
    (ModelParams(search=SearchParams(n_candidates=0)), r"params.search.n_candidates: must be an integer >= 1"),
    (ModelParams(search=SearchParams(n_candidates=2.0)), r"params.search.n_candidates: expected an integer"),
    (ModelParams(search=SearchParams(p_region=math.nan)), r"params.search.p_region"),
    (ModelParams(search=SearchParams(rule="bogus")), r"params.search.rule"),
    (ModelParams(search=SearchParams(research_seek=(0.1, 0.1))), r"params.search.research_seek: expected a tuple of 4"),
])  # fmt: skip
def test_hand_built_parameters_are_range_checked_like_a_scenario_file(pop, params, message):
    # each of these ran (or failed with an AttributeError) before
    with pytest.raises(ValueError, match=message):
        Engine(params, pop, seed=1).run(1)
    with pytest.raises(ValueError, match=message):
        ReferenceModel(params, pop, seed=1)


def test_model_params_from_dict_checks_ranges_not_only_types():
    with pytest.raises(ValueError, match=r"params.search.n_candidates: must be an integer >= 1, got 0"):
        ModelParams.from_dict({"search": {"n_candidates": 0}})
    with pytest.raises(ValueError, match=r"params.outcome.patent_prob"):
        ModelParams.from_dict({"outcome": {"patent_prob": math.inf}})


@pytest.mark.parametrize(("columns", "message"), [
    ({"awareness": set_first(math.nan)}, r"population.awareness: .* row 0 has nan"),
    ({"employees": set_first(math.inf)}, r"population.employees: .* row 0 has inf"),
    ({"talent": set_first(-1.0)}, r"population.talent: .*\[0.0, 1.0\]; row 0"),
    ({"capacity": set_first(-1)}, r"population.capacity: .*>= 0; row 0"),
    ({"kind": set_first(9)}, r"population.kind"),
    ({"region": set_first(999)}, r"population.region: .*row 0 has 999"),
    ({"region": set_first(-5)}, r"population.region"),
    ({"cluster": set_first(999)}, r"population.cluster"),
    ({"field": lambda a: np.full_like(a, 99)}, r"population.field: .*\[0, 15\]"),
    ({"field": lambda a: np.zeros_like(a)}, r"population.field: row 0 holds two units in one field"),
    ({"memory": lambda a: np.full_like(a, 10**6)}, r"population.memory"),
    ({"ability": lambda a: np.full_like(a, math.nan)}, r"population.ability"),
    ({"kind": lambda a: a[:-1]}, r"population.region: shape \(125,\), expected \(124,\)"),
    ({"employees": lambda a: a[:-1]}, r"population.employees: shape"),
    ({"mask": lambda a: np.ones((a.shape[0], a.shape[1] + 1), bool)}, r"population.mask: shape .*max_units = 8"),
    ({"memory": lambda a: np.full((a.shape[0], 6), -1, np.int32)}, r"population.memory: shape"),
    ({"employees": list}, r"population.employees: expected a NumPy array"),
    ({"region": lambda a: a.astype(float)}, r"population.region: expected integers"),
])  # fmt: skip
def test_a_hand_made_population_with_bad_rows_is_refused_before_the_run(pop, columns, message):
    # these ran silently, failed in NumPy broadcasting or crashed the process
    bad = edited(pop, **columns)
    with pytest.raises(ValueError, match=message):
        Engine(None, bad, seed=1, kernels="numba").run(1)
    with pytest.raises(ValueError, match=message):
        ReferenceModel(None, bad, seed=1)


def test_a_population_built_with_wider_dtypes_runs_exactly_as_the_generated_one(pop):
    """float64 and int64 columns (what NumPy gives by default) ran with results ~1e-8 apart."""
    wide = dataclasses.replace(pop, **{name: value.astype(np.float64 if value.dtype.kind == "f" else
                                                         np.int64 if value.dtype.kind == "i" else bool)
                                       for name, value in pop.arrays().items()})  # fmt: skip
    assert wide.capital.dtype == np.float64 and wide.field.dtype == np.int64
    a = Engine(None, pop, seed=4, kernels="numba").run(3)
    b = Engine(None, wide, seed=4, kernels="numba").run(3)
    assert a.equals(b)
    assert wide.capital.dtype == np.float64  # the caller's population is not changed
    with pytest.raises(ValueError, match=r"population.capacity: row 0 has 40000, beyond what int16 holds"):
        Engine(None, edited(wide, capacity=set_first(40_000)), seed=1).run(1)
    with pytest.raises(ValueError, match=r"population.capital: row 0 has 1e\+39, beyond what float32 holds"):
        Engine(None, edited(wide, capital=set_first(1e39)), seed=1).run(1)


def test_population_and_params_must_agree_and_hold_firms(pop):
    with pytest.raises(ValueError, match=r"population.n_fields: 16, but params.knowledge.n_fields is 8"):
        Engine(ModelParams(knowledge=KnowledgeParams(n_fields=8)), pop, seed=1).run(1)
    with pytest.raises(ValueError, match=r"population.n_regions"):
        Engine(None, dataclasses.replace(pop, n_regions=0), seed=1).run(1)
    research_only = dataclasses.replace(pop, **{k: v[pop.kind >= 2] for k, v in pop.arrays().items()})
    with pytest.raises(ValueError, match="no firms"):  # ran and reported NaN shares
        Engine(None, research_only, seed=1).run(1)
    with pytest.raises(ValueError, match="population must be a Population"):
        Engine(None, {"kind": [0]}, seed=1).run(1)


def test_instruments_built_by_hand_are_checked_when_made_or_run(pop):
    with pytest.raises(ValueError, match=r"instruments must be a dict"):
        Engine(None, pop, seed=1, instruments=[InstrumentConfig("rd_grant", 1.0)]).run(1)
    far = {"rd_grant": InstrumentConfig("rd_grant", 1.0, regions=(99,))}
    with pytest.raises(ValueError, match=r"instruments.rd_grant.regions: \[99\]"):  # spent nothing, silently
        Engine(None, pop, seed=1, instruments=far).run(1)
    for change, message in (({"stages": ("bogus",)}, r"\.stages"), ({"kinds": ("university",)}, r"\.kinds"),
                            ({"targeting": "bogus"}, r"\.targeting"),
                            ({"settings": {"bogus": 1.0}}, "unknown setting 'bogus'"),
                            ({"settings": {"share": 5.0}}, r"rd_grant'\).share: must be a number in \[0, 1\]")):
        with pytest.raises(ValueError, match=message):
            InstrumentConfig("rd_grant", 1.0, **change)
    with pytest.raises(ValueError, match=r"every: must be an integer >= 1"):  # divided by zero mid-run
        InstrumentConfig("collaborative_call", 1.0, settings={"every": 0})


@pytest.mark.parametrize(("options", "message"), [
    ({"n_firms": True}, "n_firms"), ({"n_firms": 2.5}, "n_firms"), ({"n_firms": "10"}, "n_firms"),
    ({"n_firms": math.nan}, "n_firms"), ({"n_firms": 0}, "n_firms"),
    ({"n_regions": 0}, "n_regions"), ({"n_regions": 2.5}, "n_regions"),
    ({"clusters_per_region": 0}, "clusters_per_region"), ({"cluster_share": 1.5}, "cluster_share"),
    ({"cluster_share": math.nan}, "cluster_share"), ({"research_per_firm": -1}, "research_per_firm"),
    ({"university_share": 2}, "university_share"), ({"intermediaries_per_region": -1}, "intermediaries_per_region"),
    ({"size_mix": (0, 0, 0, 0)}, "size_mix"), ({"size_mix": (1, 1, 1)}, "size_mix"),
    ({"params": {}}, "params must be a ModelParams"),
    ({"params": ModelParams(knowledge=KnowledgeParams(max_units=20))}, r"params.knowledge.max_units"),
])  # fmt: skip
def test_synthetic_population_names_a_bad_setting(options, message):
    # n_regions=0 silently meant the default; 1.5 and -1 shares ran; the rest failed in NumPy
    with pytest.raises(ValueError, match=message):
        synthetic_population(**{"n_firms": 50, "seed": 1, **options})


def test_mean_ci_refuses_a_level_given_in_percent_and_non_numbers():
    assert mean_ci([1.0, 2.0, 3.0])[1] < 2.0
    with pytest.raises(ValueError, match=r"level must be a finite number above 0 and at most 1, got 95"):
        mean_ci([1.0, 2.0, 3.0], 95)  # NaN bounds, silently
    for level in (math.nan, 1.0):
        with pytest.raises(ValueError, match="level"):
            mean_ci([1.0, 2.0], level)
    with pytest.raises(ValueError, match="values must be numbers"):
        mean_ci(["a", "b"])
    with pytest.raises(ValueError, match="1-D"):
        mean_ci([[1.0, 2.0], [3.0, 4.0]])


@pytest.fixture(scope="module")
def comparison():
    small = {"horizon": 2, "replications": 2, "seed": 1, "population": {"n_firms": 100}}
    return compare_scenarios(parse_scenario({**small, "name": "base"}),
                             [parse_scenario({**small, "name": "alt"})])


def test_plot_comparison_checks_outputs_and_paths_before_writing_either_file(comparison, tmp_path):
    png = tmp_path / "c.png"
    with pytest.raises(ValueError, match=r"html_path: .* must be a file in an existing folder"):
        plot_comparison(comparison, png, tmp_path / "missing" / "c.html")
    assert list(tmp_path.iterdir()) == []  # the PNG used to be left behind alone
    with pytest.raises(ValueError, match="png_path"):
        plot_comparison(comparison, tmp_path)
    for outputs, message in ((("bogus",), r"unknown column\(s\) \['bogus'\]"), ((), "non-empty"),
                             ("innovations", "non-empty tuple")):
        with pytest.raises(ValueError, match=message):
            plot_comparison(comparison, png, outputs=outputs)
    plot_comparison(comparison, png, tmp_path / "c.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.html", "c.png"]


def test_run_and_compare_name_arguments_of_the_wrong_kind(comparison):
    base = comparison.base.scenario
    with pytest.raises(ValueError, match="scenario must be a Scenario"):
        run_scenario("base.toml")
    for alternatives in (comparison.alternatives[0].scenario, []):
        with pytest.raises(ValueError, match="non-empty list of alternative Scenarios"):
            compare_scenarios(base, alternatives)


@pytest.mark.parametrize(("settings", "message"), [
    ({"steps": 4.5}, "steps"), ({"n_firms": True}, "n_firms"), ({"replications": 1}, "replications"),
    ({"params": "x"}, "params must be a ModelParams"),
])  # fmt: skip
def test_stylised_facts_names_a_bad_setting(settings, message):
    with pytest.raises(ValueError, match=message):
        StylisedFacts(**{"n_firms": 20, "steps": 4, "replications": 2, **settings}).fit()


@pytest.mark.parametrize(("settings", "message"), [
    ({"replications": 0}, "replications"), ({"iterations": 0}, "iterations"),
    ({"n_firms": 2.5}, "n_firms"), ({"tolerance": -1}, "tolerance"),
    ({"tolerance": math.nan}, "tolerance"), ({"inner_tolerance": -1}, "inner_tolerance"),
    ({"replications": True}, "replications"), ({"seed": -1}, "seed"),
    ({"params": "x"}, "params must be a ModelParams"),
])  # fmt: skip
def test_calibration_names_a_bad_setting_before_simulating(settings, message):
    # replications=0 divided by zero, iterations=0 failed unpacking None, a negative or NaN
    # tolerance made every check fail or pass
    calibration = Calibration(**{"n_firms": 50, "steps": 1, "replications": 1, **settings})
    for entry in (calibration.check, calibration.fit):
        with pytest.raises(ValueError, match=message):
            entry()


@pytest.mark.parametrize(("settings", "message"), [
    ({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"), ({"alpha": math.nan}, "alpha"),
    ({"seeds": 2.5}, "seeds"), ({"seeds": True}, "seeds"), ({"workers": 0}, "workers"),
    ({"n_firms": 2.5}, "n_firms"), ({"steps": True}, "steps"), ({"seed": -1}, "seed"),
    ({"scenarios": "baseline"}, "scenarios must be a tuple of names"),
])  # fmt: skip
def test_docking_names_a_bad_setting_before_running(settings, message):
    # alpha=0 searched for a number of seeds for ever; steps=True ran one step
    with pytest.raises(ValueError, match=message):
        run_docking(**{"seeds": 8, "n_firms": 30, "steps": 1, "scenarios": ("baseline",),
                       "outputs": ("innovations",), **settings})


def test_every_run_of_a_comparison_has_a_style_of_its_own():
    """Eleven scenarios once drew the base and the eleventh in the same blue (matplotlib's
    ten-colour cycle): the base is black, and no two of 37 runs share colour and line style."""
    from innoweave.simulation.runner import comparison_styles

    styles = comparison_styles(36)
    assert styles[0] == ("black", "solid")
    assert len(set(styles)) == 37
    assert all(color not in ("black", "C7") for color, _ in styles[1:])  # nothing grey/black
    assert comparison_styles(0) == [("black", "solid")]
