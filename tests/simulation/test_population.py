"""Columnar populations: synthetic generator and registry frames."""

import numpy as np
import pandas as pd
import pytest

from innoweave.registry.frames import RegistryFrames
from innoweave.simulation.params import KIND_CODES, ModelParams
from innoweave.simulation.population import (
    NCSES_SIZE_MIX,
    population_from_frames,
    size_class_of,
    synthetic_population,
    technology_fields,
)


def test_synthetic_shapes_and_knowledge_invariants():
    pop = synthetic_population(3000, seed=1)
    n, M = len(pop), ModelParams().knowledge.max_units
    assert pop.field.shape == pop.ability.shape == pop.mask.shape == (n, M)
    assert pop.field.dtype == np.int16 and pop.ability.dtype == np.float32
    assert pop.expertise.dtype == np.int8 and pop.mask.dtype == bool
    # at most one unit per field in a row; masked-out slots are empty
    for row in range(0, n, 97):
        held = pop.field[row][pop.mask[row]]
        assert len(set(held.tolist())) == len(held)
    assert np.all(pop.ability[~pop.mask] == 0)
    assert np.all((pop.ability[pop.mask] >= 1) & (pop.ability[pop.mask] <= 9))
    assert pop.n_firms == 3000
    assert (pop.kind == KIND_CODES["intermediary"]).sum() == pop.n_regions


def test_synthetic_size_mix_is_ncses():
    pop = synthetic_population(20000, seed=3)
    firm = pop.kind <= 1
    share = np.bincount(size_class_of(pop.employees[firm]), minlength=4) / firm.sum()
    assert np.allclose(share, NCSES_SIZE_MIX, atol=0.01)


def test_synthetic_is_seeded():
    a, b = synthetic_population(500, seed=5), synthetic_population(500, seed=5)
    c = synthetic_population(500, seed=6)
    assert np.array_equal(a.ability, b.ability) and np.array_equal(a.region, b.region)
    assert not np.array_equal(a.ability, c.ability)


def test_empty_population_is_refused():
    with pytest.raises(ValueError, match="n_firms"):
        synthetic_population(0, seed=1)


def _frames():
    orgs = pd.DataFrame({
        "external_id": ["a", "b", "c", "u", "g", "i"],
        "name": list("abcugi"),
        "kind": ["sme", "company", "large_firm", "university", "government", "intermediary"],
        "region_code": ["DE1", "DE1", "DE2", "DE2", "DE1", None],
        "latitude": [48.1, 48.2, 52.5, 52.4, None, None],
        "longitude": [11.5, 11.6, 13.4, 13.3, None, None],
        "employees": [12, 800, 3000, None, None, None],
        "cluster": ["c1", "c1", None, None, None, None],
    })
    projects = pd.DataFrame({
        "external_id": ["p1", "p2", "p3"],
        "title": ["battery cell chemistry", "battery recycling lithium", "machine learning vision"],
        "start_date": pd.to_datetime(["2018-01-01", "2020-01-01", "2021-01-01"]),
    })
    parts = pd.DataFrame({
        "project_external_id": ["p1", "p1", "p2", "p2", "p3", "p3"],
        "org_external_id": ["a", "u", "a", "b", "c", "u"],
    })
    return RegistryFrames(organisations=orgs, projects=projects, participations=parts)


def test_population_from_frames_maps_kinds_fields_and_history():
    pop = population_from_frames(_frames(), seed=1, complete=False)
    # government dropped; "company" with 800 employees becomes a large firm
    assert list(pop.external_id) == ["a", "b", "c", "u", "i"]
    assert list(pop.kind) == [0, 1, 1, 2, 4]
    assert pop.n_regions == 3 and pop.region[0] == pop.region[1]
    assert pop.cluster[0] == pop.cluster[1] >= 0 and pop.cluster[2] == -1
    # a's most recent partner is b (2020), then u (2018)
    assert list(pop.memory[0][:2]) == [1, 3]
    assert pop.openness[3] > 0 and pop.capacity[3] > 0
    # a and u share the field of project p1
    fa = set(pop.field[0][pop.mask[0]].tolist())
    fu = set(pop.field[3][pop.mask[3]].tolist())
    assert fa & fu


def test_text_profile_places_an_organisation_without_projects():
    frames = _frames()
    orgs = frames.organisations.copy()
    extra = orgs.iloc[[0]].assign(external_id="p", name="p", capabilities="battery chemistry cells",
                                  keywords=[["battery", "lithium"]], cluster=None)
    orgs = pd.concat([orgs, extra], ignore_index=True)
    frames = RegistryFrames(organisations=orgs, projects=frames.projects,
                            participations=frames.participations)
    pop = population_from_frames(frames, seed=2, complete=False)
    row = list(pop.external_id).index("p")
    battery_field = set(pop.field[0][pop.mask[0]].tolist()) & set(pop.field[3][pop.mask[3]].tolist())
    assert battery_field & set(pop.field[row][pop.mask[row]].tolist())
    assert np.all(pop.field[~pop.mask] == 0)


def test_technology_fields_groups_similar_titles():
    titles = pd.Series(["battery cell chemistry", "battery cell recycling", "deep learning vision",
                        "deep learning speech"] * 5)
    labels, names = technology_fields(titles, n_fields=2, seed=0)
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert len(names) == 2


def test_registry_population_from_cordis(cordis_dir):
    from innoweave.registry.cordis import read_cordis

    frames = read_cordis(cordis_dir)
    # a slice of the real registry keeps the test short; the code path is the full one
    projects = frames.projects.head(1500)
    parts = frames.participations[frames.participations["project_external_id"].isin(
        projects["external_id"])]
    orgs = frames.organisations[frames.organisations["external_id"].isin(parts["org_external_id"])]
    frames = RegistryFrames(organisations=orgs, projects=projects, participations=parts)
    pop = population_from_frames(frames, seed=1, complete=False)
    assert pop.n_firms > 50 and (pop.kind == 2).sum() > 10
    assert pop.mask.any(axis=1).all()
    assert pop.field_labels and len(pop.field_labels) == ModelParams().knowledge.n_fields
