"""The fused Numba kernels give the array code's outputs, to the bit, for the same seed."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from innoweave.simulation import kernels
from innoweave.simulation.engine import Engine
from innoweave.simulation.government import INSTRUMENT_KEYS
from innoweave.simulation.measures import gini, network_measures, unique_pairs
from innoweave.simulation.params import InstrumentConfig, Mechanisms, ModelParams
from innoweave.simulation.population import synthetic_population
from innoweave.simulation.scenario import example_scenarios, load_scenario

pytest.importorskip("numba")

STATE_ARRAYS = ("ability", "expertise", "mask", "field", "memory", "capital", "employees",
                "awareness", "alive", "kind", "patents", "link_partner", "link_left",
                "second_host", "last_success", "last_uir")


def every_instrument(n_firms: int) -> dict[str, InstrumentConfig]:
    """The policy-mix example's instruments (all of them), budgets scaled to the firms."""
    mix = load_scenario(example_scenarios()["policy_mix"])
    scale = n_firms / mix.population.n_firms
    return {k: replace(v, budget=v.budget * scale) for k, v in mix.instruments.items()}


def both_paths(pop, *, params=None, instruments=None, steps=8, seed=3):
    runs = {}
    for path in ("array", "numba"):
        engine = Engine(params, pop, instruments=instruments, seed=seed, kernels=path)
        engine.run(steps)
        assert engine.kernels_ == path
        runs[path] = engine
    return runs["array"], runs["numba"]


def assert_same_run(a: Engine, b: Engine) -> None:
    pd.testing.assert_frame_equal(a.results_, b.results_, check_exact=True)
    for name in STATE_ARRAYS:
        np.testing.assert_array_equal(getattr(a.state_, name), getattr(b.state_, name),
                                      err_msg=name)


def test_every_mechanism_and_instrument_same_records_and_state():
    pop = synthetic_population(800, seed=21, research_per_firm=1 / 50)
    instruments = every_instrument(pop.n_firms)
    assert set(instruments) == set(INSTRUMENT_KEYS)
    a, b = both_paths(pop, instruments=instruments, steps=12)
    assert (a.results_["spend_total"] > 0).all()
    assert a.results_["radical_innovations"].sum() > 0
    assert a.results_["entries"].sum() > 0 and a.results_["exits"].sum() >= 0
    assert_same_run(a, b)


@pytest.mark.parametrize("rule", ["conservative", "progressive"])
def test_same_outputs_without_instruments_either_match_rule(small_population, rule):
    params = ModelParams()
    params = replace(params, search=replace(params.search, rule=rule))
    assert_same_run(*both_paths(small_population, params=params))


def test_same_outputs_with_mechanisms_off(small_population):
    params = replace(ModelParams(), mechanisms=replace(
        Mechanisms(), learning=False, radical=False, intermediaries=False, market=False))
    assert_same_run(*both_paths(small_population, params=params))
    params = replace(ModelParams(), mechanisms=Mechanisms.none())
    assert_same_run(*both_paths(small_population, params=params, steps=3))


@pytest.mark.parametrize(("nodes", "edges"), [(40, 150), (400, 600), (3000, 2000), (6, 2)])
def test_network_counts_match_the_array_measures(nodes, edges):
    rng = np.random.default_rng(nodes)
    a, b = rng.integers(0, nodes, edges), rng.integers(0, nodes, edges)
    assert network_measures(a, b, fused=True) == network_measures(a, b)


@pytest.mark.parametrize(("nodes", "edges"), [(3, 200), (50, 400), (10_000, 1300), (5, 0)])
def test_unique_pairs_kernel_matches_the_array_code(nodes, edges):
    rng = np.random.default_rng(edges)
    a, b = rng.integers(0, nodes, edges), rng.integers(0, nodes, edges)
    lo, hi = kernels.unique_pairs(a, b)
    assert np.array_equal(np.stack([lo, hi], axis=1).reshape(-1, 2), unique_pairs(a, b))


_RNG = np.random.default_rng(5)


@pytest.mark.parametrize("values", [
    _RNG.random(9000),                                   # spread: the bucket pass
    _RNG.random(2000).astype(np.float32),                # float32 in, float64 out
    np.round(_RNG.random(5000), 2),                      # many ties
    _RNG.normal(size=3000),                              # negative values
    np.r_[np.zeros(3000), _RNG.random(500)],             # one crowded bucket: NumPy's sort
    _RNG.exponential(size=4000) ** 6,                    # skewed
    np.array([0.0, -0.0, 1e-300, 3.0, 2.0]),
    np.array([np.inf, 1.0, -np.inf, 0.5]),               # not finite: NumPy's sort
    np.array([np.nan, 1.0, 0.5]),
    np.array([1e308, -1e308, 0.0]),                      # a span past the float range
    np.full(7, 0.25), np.array([2.0]), np.zeros(0),
])
def test_sorted_values_is_numpys_sort(values):
    out = kernels.sorted_values(values)
    assert out.dtype == np.float64
    assert np.array_equal(out, np.sort(values).astype(float), equal_nan=True)
    if values.size and np.isfinite(values).all() and (values >= 0).all():
        assert gini(values, fused=True) == gini(values)


def test_network_of_self_loops_only_is_empty():
    loops = np.arange(5)
    assert network_measures(loops, loops, fused=True) == network_measures(loops, loops)
    assert network_measures(loops, loops, fused=True)["net_edges"] == 0.0


def test_kernel_path_choice(monkeypatch):
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    assert kernels.resolve_kernels(None, True) == "numba"
    assert kernels.resolve_kernels(None, False) == "array"
    assert kernels.resolve_kernels("array", True) == "array"
    monkeypatch.setenv(kernels.ENV_VAR, "array")
    assert kernels.resolve_kernels(None, True) == "array"
    assert kernels.resolve_kernels("numba", True) == "numba"


def test_kernel_path_bad_choices_name_the_option(monkeypatch, small_population):
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    with pytest.raises(ValueError, match="kernels: unknown kernel path 'fortran'"):
        Engine(None, small_population, kernels="fortran").run(1)
    with pytest.raises(ValueError, match="run on NumPy arrays"):
        kernels.resolve_kernels("numba", False)
    monkeypatch.setenv(kernels.ENV_VAR, "fast")
    with pytest.raises(ValueError, match="INNOWEAVE_KERNELS: unknown kernel path 'fast'"):
        kernels.resolve_kernels(None, True)


def test_overlapped_next_phases_give_the_step_by_step_run(monkeypatch):
    """run() computes phases 0-1 of each next step and its draw pools on the second thread
    while the current step records (Numba path): the records and the final state are
    those of step() one by one, and of a run timing its phases (which never overlaps)."""
    pop = synthetic_population(800, seed=5, research_per_firm=1 / 50)
    instruments = every_instrument(pop.n_firms)
    submitted = []
    pool = kernels.second_thread()

    class Counting:
        def submit(self, fn, *args, **kwargs):
            submitted.append(fn.__name__)
            return pool.submit(fn, *args, **kwargs)

    monkeypatch.setattr(kernels, "second_thread", lambda: Counting())
    overlapped = Engine(None, pop, instruments=instruments, seed=4, kernels="numba")
    overlapped.run(10)
    # each step: its draw pools and later uniforms while phase 2 runs, and (but the last)
    # the next step's phases 0-1 while it records
    assert submitted == ["pools", "pcg64_uniforms", "_next_phases"] * 9 + [
        "pools", "pcg64_uniforms"]
    # phases 4 and 7 of every step and phases 2-3 of all but the first took drawn-ahead
    # uniforms (a few miss where entrants grew the rows)
    assert 5 * 10 + 2 * 9 - 6 <= overlapped.rng_.hits_ <= 5 * 10 + 2 * 9
    stepped = Engine(None, pop, instruments=instruments, seed=4, kernels="numba")
    stepped._setup(10)
    for _ in range(10):
        stepped.step()
    stepped.results_ = pd.DataFrame(stepped.records_)
    assert len(submitted) == 29 and stepped.rng_.hits_ == 0  # step() never overlaps
    assert_same_run(overlapped, stepped)
    assert stepped.rng_.position == overlapped.rng_.position
    # a run timing its phases runs each phase in place (its time is the phase's own)
    timed = Engine(None, pop, instruments=instruments, seed=4, kernels="numba")
    timed.run(10, timing=True)
    assert len(submitted) == 29 and timed.phase_seconds_["derive"] > 0
    assert_same_run(overlapped, timed)


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_pcg64_uniforms_repeat_numpys_stream(seed):
    """The compiled PCG64 gives NumPy's uniforms (as float32) at any distance ahead."""
    rng = np.random.default_rng(seed)
    rng.random(13)  # a state that is not a fresh seed's
    state = rng.bit_generator.state["state"]
    low = (1 << 64) - 1
    words = [np.uint64(w) for w in (state["state"] >> 64, state["state"] & low,
                                    state["inc"] >> 64, state["inc"] & low)]
    offsets = np.array([0, 3, 3, 70_000, 2**41], dtype=np.int64)
    sizes = np.array([2, 0, 5, 20_000, 9], dtype=np.int64)
    got = kernels.pcg64_uniforms(*words, offsets, sizes)
    expected, at = [], 0
    for offset, size in zip(offsets, sizes, strict=True):
        rng.bit_generator.advance(int(offset - at))
        expected.append(rng.random(int(size)).astype(np.float32))
        at = offset + size
    np.testing.assert_array_equal(got, np.concatenate(expected))


def test_a_failed_record_leaves_the_next_phases_to_the_next_step(monkeypatch):
    """If phase 8 fails while the next step's phases 0-1 run beside it, they finish and the
    next step takes them: phase 1 (which writes the state) runs once, and the state goes on
    as in an uninterrupted run."""
    from innoweave.simulation.measures import Recorder

    pop = synthetic_population(600, seed=8)
    whole = Engine(None, pop, seed=2, kernels="numba")
    whole.run(6)
    broken = Engine(None, pop, seed=2, kernels="numba")
    broken._setup(6)
    broken.advance(2)
    record = Recorder.record
    monkeypatch.setattr(Recorder, "record",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError, match="disk full"):
        broken.advance(2)
    assert broken._ahead is not None and broken._ahead.done()
    monkeypatch.setattr(Recorder, "record", record)
    broken.t_ += 1  # the failed step's record is lost; its phases 0-7 ran
    broken.step()
    broken.advance(2)
    for name in STATE_ARRAYS:  # phase 1 of the step after the failure ran once
        np.testing.assert_array_equal(getattr(whole.state_, name),
                                      getattr(broken.state_, name), err_msg=name)
    later = pd.DataFrame(broken.records_[2:])
    pd.testing.assert_series_equal(later["innovations"], whole.results_["innovations"][3:]
                                   .reset_index(drop=True), check_exact=True)


def _run_in_child(pop, queue):
    engine = Engine(None, pop, seed=2, kernels="numba")
    queue.put(engine.run(3)["n_firms"].tolist())


def test_a_forked_process_runs_with_its_own_second_thread():
    """A process forked after a run (the parent's helper thread then exists, but not in the
    child) still runs: the child makes its own helper thread instead of queueing forever."""
    import multiprocessing

    pop = synthetic_population(300, seed=3)
    expected = Engine(None, pop, seed=2, kernels="numba").run(3)["n_firms"].tolist()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_run_in_child, args=(pop, queue))
    child.start()
    try:
        assert queue.get(timeout=60) == expected
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


@pytest.mark.parametrize("n_fields", [8, 40])
def test_entrants_fields_match_the_array_path_for_few_and_many_fields(n_fields):
    """The compiled entrants keep the smallest-key fields by insertion instead of a full sort:
    the same fields in the same order as the array path's argsort, whether every field is held
    (as many fields as knowledge slots) or few of many."""
    from innoweave.simulation.population import synthetic_population

    params = ModelParams()
    params = replace(params, knowledge=replace(params.knowledge, n_fields=n_fields),
                     demography=replace(params.demography, entry_rate=0.05))
    pop = synthetic_population(400, seed=2, params=params)
    a, b = both_paths(pop, params=params, steps=6)
    assert a.results_["entries"].sum() > 50
    assert_same_run(a, b)
