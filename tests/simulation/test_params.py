"""Parameters, switches and instrument configuration: defaults, overrides, validation."""

import pytest

from innoweave.registry.instruments import INSTRUMENTS
from innoweave.simulation.params import (
    DEFAULT_CALIBRATION,
    INSTRUMENT_DEFAULTS,
    InstrumentConfig,
    Mechanisms,
    ModelParams,
)


def test_defaults_carry_the_shipped_calibration():
    p = ModelParams()
    assert p.intent.intent_bias == DEFAULT_CALIBRATION["intent_bias"]
    assert p.search.research_seek == DEFAULT_CALIBRATION["research_seek"]
    assert all(getattr(p.mechanisms, f) for f in p.mechanisms.__dataclass_fields__)
    assert not any(getattr(Mechanisms.none(), f) for f in Mechanisms.__dataclass_fields__)


def test_every_catalogue_instrument_has_settings():
    assert set(INSTRUMENT_DEFAULTS) == set(INSTRUMENTS)


def test_overrides_by_section():
    p = ModelParams.from_dict({"search": {"n_candidates": 7, "rule": "conservative"},
                               "mechanisms": {"spillovers": False},
                               "intent": {"intent_bias": [-1, -1, -1, -1]}})
    assert p.search.n_candidates == 7 and p.search.rule == "conservative"
    assert p.mechanisms.spillovers is False and p.mechanisms.market is True
    assert p.intent.intent_bias == (-1.0, -1.0, -1.0, -1.0)


@pytest.mark.parametrize("data, field", [
    ({"search": {"n_candidate": 3}}, "params.search.n_candidate"),
    ({"nonsense": {}}, "params.nonsense"),
    ({"search": {"n_candidates": "five"}}, "params.search.n_candidates"),
    ({"intent": {"intent_bias": [1, 2]}}, "params.intent.intent_bias"),
    ({"mechanisms": {"market": 1}}, "params.mechanisms.market"),
])
def test_bad_overrides_name_the_field(data, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        ModelParams.from_dict(data)


def test_instrument_defaults_come_from_the_catalogue():
    cfg = InstrumentConfig.from_dict("joint_lab", {"budget": 3})
    assert set(cfg.stages) == {s.value for s in INSTRUMENTS["joint_lab"].stages}
    assert cfg.kinds == ("sme",) and cfg.targeting == "random"
    assert cfg.setting("duration") == INSTRUMENT_DEFAULTS["joint_lab"]["duration"]


@pytest.mark.parametrize("key, data, message", [
    ("rd_grants", {"budget": 1}, "unknown instrument"),
    ("rd_grant", {"budget": -5}, r"instruments\.rd_grant\.budget: must be >= 0"),
    ("rd_grant", {}, r"instruments\.rd_grant\.budget: missing"),
    ("rd_grant", {"budget": 1, "sharing": 0.3}, r"instruments\.rd_grant\.sharing: unknown"),
    ("rd_grant", {"budget": 1, "stages": []}, r"eligibility excludes everyone \(an empty stages list\)"),
    ("rd_grant", {"budget": 1, "regions": []}, r"excludes everyone \(an empty regions list\)"),
    ("rd_grant", {"budget": 1, "stages": ["teenage"]}, r"instruments\.rd_grant\.stages"),
    ("rd_grant", {"budget": 1, "kinds": ["university"]}, r"instruments\.rd_grant\.kinds"),
    ("rd_grant", {"budget": 1, "targeting": "best"}, r"instruments\.rd_grant\.targeting"),
    ("rd_grant", {"budget": 1, "share": -0.1}, r"instruments\.rd_grant\.share"),
])
def test_bad_instruments_name_the_field(key, data, message):
    with pytest.raises(ValueError, match=message):
        InstrumentConfig.from_dict(key, data)


def test_public_simulation_namespace():
    import innoweave.simulation as sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None
    assert sim.Engine and sim.load_scenario and sim.run_scenario and sim.compare_scenarios


def test_a_recorded_instrument_shows_every_setting_in_use():
    """A run's record once showed ``settings: {}`` for a grant at the default share, so the
    share that was run could not be read from it."""
    grant = InstrumentConfig.from_dict("rd_grant", {"budget": 1})
    assert grant.to_dict()["settings"] == {"share": 0.5}
    call = InstrumentConfig.from_dict("collaborative_call", {"budget": 1, "grant": 2.0})
    assert call.to_dict()["settings"]["grant"] == 2.0
    assert set(call.to_dict()["settings"]) == set(INSTRUMENT_DEFAULTS["collaborative_call"])
