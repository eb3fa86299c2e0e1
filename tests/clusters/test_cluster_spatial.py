"""Spatial clusters: great-circle DBSCAN with topic similarity, and the GeoJSON export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from innoweave.clusters import SpatialClusters, haversine_km
from innoweave.clusters.spatial import outline_geometry
from innoweave.registry.frames import RegistryFrames


def test_haversine_known_distance():
    # Berlin (52.52, 13.405) to Munich (48.137, 11.575): about 504 km
    assert haversine_km(52.52, 13.405, 48.137, 11.575) == pytest.approx(504, abs=3)
    assert haversine_km([0, 0], [0, 179.5], [0, 0], [0, -179.5]).tolist() == pytest.approx(
        [0, 111.2], abs=0.1
    )


def _towns(rng: np.random.Generator) -> RegistryFrames:
    """Two towns 200 km apart: in town A, 8 battery firms and 8 vaccine firms side by side;
    in town B, 6 battery firms; 5 scattered firms; 2 without coordinates; 25 at a placeholder."""
    rows = []

    def add(n, lat, lon, spread, words, region):
        for _ in range(n):
            rows.append(
                {
                    "external_id": f"o{len(rows)}",
                    "name": f"Firm {len(rows)}",
                    "kind": "sme",
                    "latitude": lat + rng.normal(0, spread),
                    "longitude": lon + rng.normal(0, spread),
                    "region_code": region,
                    "keywords": words,
                }
            )

    add(8, 50.0, 8.0, 0.01, ["battery", "cell", "lithium"], "DE712")
    add(8, 50.0, 8.0, 0.01, ["vaccine", "antigen", "immune"], "DE712")
    add(6, 51.8, 8.0, 0.01, ["battery", "storage"], "DEA47")
    add(5, 49.0, 12.0, 1.0, ["textile"], "DE232")
    for i in range(2):
        rows.append(
            {
                "external_id": f"nowhere{i}",
                "name": "N",
                "kind": "sme",
                "latitude": None,
                "longitude": None,
                "region_code": "DE111",
                "keywords": ["battery"],
            }
        )
    for i in range(25):
        rows.append(
            {
                "external_id": f"centre{i}",
                "name": "C",
                "kind": "sme",
                "latitude": 51.16342,
                "longitude": 10.447683,
                "region_code": ["DE111", "DE212", "DE300"][i % 3],
                "keywords": ["battery"],
            }
        )
    rows.append(
        {
            "external_id": "uni",
            "name": "U",
            "kind": "university",
            "latitude": 50.0,
            "longitude": 8.0,
            "region_code": "DE712",
            "keywords": ["battery"],
        }
    )
    return RegistryFrames(organisations=pd.DataFrame(rows))


def test_topics_split_a_town_and_distance_splits_towns():
    model = SpatialClusters(eps_km=5, min_samples=4, min_similarity=0.1).fit(
        _towns(np.random.default_rng(0))
    )
    points = model.points_.set_index("external_id")
    battery_a = set(points.loc[[f"o{i}" for i in range(8)], "cluster"])
    vaccine_a = set(points.loc[[f"o{i}" for i in range(8, 16)], "cluster"])
    battery_b = set(points.loc[[f"o{i}" for i in range(16, 22)], "cluster"])
    assert len(battery_a) == len(vaccine_a) == len(battery_b) == 1
    assert (
        len(battery_a | vaccine_a | battery_b) == 3 and -1 not in battery_a | vaccine_a | battery_b
    )
    assert (points.loc[[f"o{i}" for i in range(22, 27)], "cluster"] == -1).all()
    assert "uni" not in points.index  # SMEs only by default
    assert model.report_.counts == {
        "organisations_without_coordinates": 2,
        "organisations_at_placeholder_point": 25,
    }
    table = model.clusters_.set_index("cluster")
    assert "vaccine" in table.loc[vaccine_a.pop(), "topics"]
    assert (table["radius_km"] < 5).all()
    only_distance = SpatialClusters(eps_km=5, min_samples=4, min_similarity=0).fit(
        _towns(np.random.default_rng(0))
    )
    assert (
        len(only_distance.clusters_) == 2
    )  # the two groups of town A merge without the topic condition


def test_geojson_follows_rfc7946():
    model = SpatialClusters(eps_km=5, min_samples=4).fit(_towns(np.random.default_rng(1)))
    collection = json.loads(json.dumps(model.to_geojson()))
    assert collection["type"] == "FeatureCollection"
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    outlines = [
        f for f in collection["features"] if f["properties"]["feature"] == "cluster_outline"
    ]
    assert len(points) == len(model.points_) and len(outlines) == len(model.clusters_)
    lon, lat = points[0]["geometry"]["coordinates"]
    assert (lat, lon) == pytest.approx(
        (model.points_["latitude"][0], model.points_["longitude"][0]), abs=1e-6
    )
    for outline in outlines:
        assert outline["geometry"]["type"] == "Polygon"
        ring = np.asarray(outline["geometry"]["coordinates"][0])
        assert (ring[0] == ring[-1]).all() and len(ring) >= 4
        signed_area = 0.5 * np.sum(ring[:-1, 0] * ring[1:, 1] - ring[1:, 0] * ring[:-1, 1])
        assert signed_area > 0  # exterior ring counter-clockwise
    assert len(
        SpatialClusters(eps_km=5, min_samples=4)
        .fit(_towns(np.random.default_rng(1)))
        .to_geojson(include_noise=False)["features"]
    ) < len(collection["features"])


def test_degenerate_outlines():
    assert outline_geometry(np.array([8.0, 8.0]), np.array([50.0, 50.0])) == {
        "type": "Point",
        "coordinates": [8.0, 50.0],
    }
    line = outline_geometry(np.array([8.0, 8.1, 8.2]), np.array([50.0, 50.1, 50.2]))
    assert line == {"type": "LineString", "coordinates": [[8.0, 50.0], [8.2, 50.2]]}


def test_nothing_to_cluster_and_bad_radius():
    empty = SpatialClusters().fit(RegistryFrames())
    assert empty.points_.empty and empty.clusters_.empty
    assert empty.to_geojson() == {"type": "FeatureCollection", "features": []}
    with pytest.raises(ValueError, match="eps_km"):
        SpatialClusters(eps_km=0).fit(RegistryFrames())


def test_planted_registry_texts_come_from_projects(planted):
    model = SpatialClusters(eps_km=10, min_samples=3, min_similarity=0.05).fit(planted)
    points = model.points_.set_index("external_id")
    assert points.loc["a0", "cluster"] == points.loc["a1", "cluster"] >= 0
    assert (
        "ghost" not in points.index
        and model.report_.counts["organisations_without_coordinates"] == 1
    )


def _stacked(rng: np.random.Generator, *, others: int) -> RegistryFrames:
    """A battery town of 8 companies (region DE712), plus the CORDIS placeholder point
    (51.0834, 10.4234) holding 12 companies without a region and ``others`` organisations of
    other kinds from five regions."""
    rows = [
        {
            "external_id": f"town{i}",
            "name": f"Town firm {i}",
            "kind": "company",
            "latitude": 50.0 + rng.normal(0, 0.01),
            "longitude": 8.0 + rng.normal(0, 0.01),
            "region_code": "DE712",
            "keywords": ["battery", "cell"],
        }
        for i in range(8)
    ]
    for i in range(12 + others):
        company = i < 12
        rows.append(
            {
                "external_id": f"stacked{i}",
                "name": f"Stacked {i}",
                "kind": "company" if company else ["large_firm", "sme"][i % 2],
                "latitude": 51.0834196,
                "longitude": 10.4234469,
                "region_code": None if company else f"DE{100 + i % 5}",
                "keywords": ["battery", "cell"],
            }
        )
    return RegistryFrames(organisations=pd.DataFrame(rows))


@pytest.mark.parametrize("kinds", [("company",), ("COMPANY", "sme"), None])
def test_placeholder_point_found_whatever_kinds(kinds):
    # The point holds 30 organisations from five regions, but only 12 companies, none with a
    # region: it used to be a placeholder with every kind and a zero-size cluster with companies.
    model = SpatialClusters(eps_km=5, min_samples=4, kinds=kinds).fit(
        _stacked(np.random.default_rng(0), others=18)
    )
    points = model.points_
    assert not points["external_id"].str.startswith("stacked").any()
    chosen = 30 if kinds is None else 12 if kinds == ("company",) else 21
    assert model.report_.counts["organisations_at_placeholder_point"] == chosen
    assert len(model.clusters_) == 1 and (model.clusters_["radius_km"] > 0.1).all()
    assert model.clusters_.loc[0, "dominant_region"] == "DE712"


def test_many_organisations_stacked_without_a_region_are_a_placeholder():
    # Only the companies are in the registry: 12 stacked without a region (placeholder_min 10).
    model = SpatialClusters(eps_km=5, min_samples=4, kinds=("company",), placeholder_min=10).fit(
        _stacked(np.random.default_rng(0), others=0)
    )
    assert model.report_.counts["organisations_at_placeholder_point"] == 12
    assert "placeholder" in " ".join(model.report_.to_dict()["notes"])
    assert len(model.clusters_) == 1 and model.clusters_.loc[0, "size"] == 8


def test_a_crowded_address_in_one_region_is_not_a_placeholder():
    # 25 organisations at one address of one region (a technology park) stay a cluster.
    rows = [
        {
            "external_id": f"park{i}",
            "name": f"Park {i}",
            "kind": "sme",
            "latitude": 52.4313,
            "longitude": 13.5303,
            "region_code": "DE300",
            "keywords": ["photonics"],
        }
        for i in range(25)
    ]
    model = SpatialClusters(eps_km=5, min_samples=4).fit(
        RegistryFrames(organisations=pd.DataFrame(rows))
    )
    assert "organisations_at_placeholder_point" not in model.report_.counts
    assert model.clusters_["size"].tolist() == [25]
