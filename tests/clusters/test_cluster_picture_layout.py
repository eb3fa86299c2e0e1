"""The pictures read well: labels do not cover each other, the legend covers no label and
lists only what is drawn, and every spatial cluster can be told apart (own colour or number).

The figures are caught just before they are saved (``pictures._save`` wrapped), then drawn
again and measured in display pixels with matplotlib's renderer.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.text import Text

from innoweave.clusters import CollaborationCommunities, SpatialClusters, pictures
from innoweave.clusters.labels import Anchor, place_labels
from innoweave.registry.frames import RegistryFrames

WORDS = [
    "electrochemistry", "nanophotonics", "biomanufacturing", "geothermal", "cryogenics",
    "hydroponics", "aeroelasticity", "metamaterials", "bioinformatics", "tribology",
    "microfluidics", "agroforestry", "superconductors", "neuroprosthetics", "desalination",
    "photocatalysis", "thermoelectrics", "spectroscopy", "biopolymers", "magnetocalorics",
    "ferroelectrics", "exoskeletons", "geospatial", "piezoelectrics", "astrochemistry",
    "glycobiology", "rheology", "ultrasonics", "permafrost", "hydrometallurgy",
]  # fmt: skip


@pytest.fixture
def caught(monkeypatch):
    """The figures the picture functions save, in order."""
    figures = []
    save = pictures._save

    def keep(fig, path, title, table):
        figures.append(fig)
        saved = save(fig, path, title, table)
        FigureCanvasAgg(fig)  # closing it took its canvas away; measured on a fresh one
        return saved

    monkeypatch.setattr(pictures, "_save", keep)
    return figures


def _boxes(fig):
    """The labels on the figure's first axes and their pixel boxes (the text itself only)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text() and t.get_visible()]
    return labels, [Text.get_window_extent(t, renderer) for t in labels]


def _shared_area(a, b) -> float:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def _overlapping(labels, boxes, tolerance=0.5):
    return [
        (labels[i].get_text(), labels[j].get_text())
        for i, j in itertools.combinations(range(len(boxes)), 2)
        if _shared_area(boxes[i], boxes[j]) > tolerance
    ]


def _legend_clashes(fig, boxes):
    renderer = fig.canvas.get_renderer()
    legend = fig.axes[0].get_legend()
    assert legend is not None
    frame = legend.get_window_extent(renderer)
    return [box for box in boxes if _shared_area(frame, box) > 0.5]


# -- the network picture ------------------------------------------------------------------


def crowded_network() -> RegistryFrames:
    """30 groups of firms (one group of research institutes) that each work among themselves,
    every group linked to every other by a two-member project: a picture of 30 discs with
    long topic words, crowded in the middle."""
    rng = np.random.default_rng(3)
    orgs, projects, parts = [], [], []

    def project(pid, title, members):
        projects.append({"external_id": pid, "title": title})
        parts.extend(
            {"external_id": f"{pid}:{m}", "project_external_id": pid, "org_external_id": m}
            for m in members
        )

    groups = []
    for g, word in enumerate(WORDS):
        size = 4 + (len(WORDS) - g) // 4
        kind = "research_institute" if g == 5 else "sme"
        members = [f"g{g}m{i}" for i in range(size)]
        for m in members:
            orgs.append({"external_id": m, "name": m.upper(), "kind": kind, "region_code": "DE300"})
        for rep, k in itertools.product(range(3), range(size)):
            trio = [members[k], members[(k + 1) % size], members[(k + 2) % size]]
            project(f"p{g}_{rep}_{k}", f"{word} {WORDS[(g + 7) % 30]}x {word} advances", trio)
        groups.append(members)
    for g, h in itertools.combinations(range(len(groups)), 2):
        a, b = rng.choice(groups[g]), rng.choice(groups[h])
        project(f"b{g}_{h}", "joint workshop", [a, b])
    return RegistryFrames(
        organisations=pd.DataFrame(orgs), projects=pd.DataFrame(projects),
        participations=pd.DataFrame(parts),
    )  # fmt: skip


@pytest.fixture(scope="module")
def network():
    return CollaborationCommunities(seed=0).fit(crowded_network())


def test_network_labels_do_not_overlap(network, caught, tmp_path):
    pictures.save_network_picture(network, tmp_path / "net.png", seed=0)
    labels, boxes = _boxes(caught[0])
    assert len(labels) >= 25
    assert _overlapping(labels, boxes) == []


def test_network_legend_covers_no_label_and_lists_only_the_kinds_drawn(network, caught, tmp_path):
    pictures.save_network_picture(network, tmp_path / "net.png", seed=0)
    fig = caught[0]
    _, boxes = _boxes(fig)
    assert _legend_clashes(fig, boxes) == []
    entries = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert entries == ["mostly firms", "mostly research"]


def test_network_labels_stay_off_the_legend_on_cordis(cordis_dir, caught, tmp_path):
    """The demo's picture (CORDIS Germany, seed 42), where labels used to overlap."""
    from innoweave.registry.cordis import read_cordis

    model = CollaborationCommunities(seed=42).fit(read_cordis(cordis_dir))
    pictures.save_network_picture(model, tmp_path / "net.png", seed=42)
    fig = caught[0]
    labels, boxes = _boxes(fig)
    assert _overlapping(labels, boxes) == []
    assert _legend_clashes(fig, boxes) == []
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "mostly firms", "mostly intermediaries",
    ]  # fmt: skip


# -- the map ----------------------------------------------------------------------------


def many_spatial_clusters(n: int = 26) -> RegistryFrames:
    """``n`` tight groups of SMEs on a grid about 30 km apart (sizes 30 down to 5), each with
    its own keywords: ``n`` spatial clusters at ``eps_km=8, min_samples=3``."""
    rng = np.random.default_rng(7)
    orgs = []
    for c in range(n):
        lat0, lon0 = 48.0 + 0.28 * (c // 6), 8.0 + 0.4 * (c % 6)
        for i in range(max(30 - c, 5)):
            orgs.append({
                "external_id": f"c{c}s{i}", "name": f"C{c}S{i}", "kind": "sme",
                "latitude": lat0 + rng.normal(0, 0.01), "longitude": lon0 + rng.normal(0, 0.015),
                "region_code": f"DE{c:03d}", "keywords": [WORDS[c], WORDS[(c + 11) % 30]],
            })  # fmt: skip
    return RegistryFrames(organisations=pd.DataFrame(orgs))


@pytest.fixture(scope="module")
def spatial():
    model = SpatialClusters(eps_km=8, min_samples=3).fit(many_spatial_clusters())
    assert len(model.clusters_) == 26
    return model


def _cluster_colours(ax, spatial) -> dict[int, set[str]]:
    """Each cluster's colours on the map, from the dots drawn at its members' places."""
    where = {
        (round(lon, 6), round(lat, 6)): c
        for lon, lat, c in spatial.points_[["longitude", "latitude", "cluster"]].itertuples(
            index=False
        )
    }
    colours: dict[int, set[str]] = {}
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) == 0:
            continue
        faces = collection.get_facecolor()
        paint = faces if len(faces) and faces[0][3] > 0 else collection.get_edgecolor()
        for (lon, lat), colour in zip(offsets, itertools.cycle(paint)):
            cluster = where.get((round(float(lon), 6), round(float(lat), 6)), -1)
            if cluster >= 0:
                colours.setdefault(cluster, set()).add(to_hex(colour))
    return colours


def test_every_spatial_cluster_can_be_told_apart(spatial, caught, tmp_path):
    pictures.save_map(spatial, tmp_path / "map.png")
    ax = caught[0].axes[0]
    colours = _cluster_colours(ax, spatial)
    assert sorted(colours) == list(range(26))
    named = [next(iter(colours[c])) for c in range(10)]
    assert len(set(named)) == 10  # the ten largest: ten colours
    others = set().union(*(colours[c] for c in range(10, 26)))
    assert others.isdisjoint(named)  # ... that no smaller cluster shares
    # every cluster is labelled: its number (and, for the named, its topic words)
    texts = {t.get_text().split(":")[0] for t in ax.texts}
    assert texts >= {str(c) for c in range(26)}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("10–25: the 16 smaller clusters") for text in legend)
    assert "the 10 largest in colour" in ax.get_title()


def test_map_labels_do_not_overlap_each_other_or_the_legend(spatial, caught, tmp_path):
    pictures.save_map(spatial, tmp_path / "map.png")
    fig = caught[0]
    labels, boxes = _boxes(fig)
    assert len(labels) == 26
    assert _overlapping(labels, boxes) == []
    assert _legend_clashes(fig, boxes) == []


def test_map_page_says_how_each_cluster_is_drawn(spatial, tmp_path):
    page = pictures.save_map(spatial, tmp_path / "map.html").read_text()
    assert "drawn_as" in page and "grey, numbered" in page
    for _, name in pictures.CLUSTER_COLOURS:
        assert f"<td>{name}</td>" in page


# -- the placement routine itself ---------------------------------------------------------


def test_labels_on_one_point_are_spread_without_overlap():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter([0, 1], [0, 1])
    anchors = [Anchor(0.5, 0.5, half=(4, 4), disc=True) for _ in range(12)]
    texts = [f"{i}: a label of some length" for i in range(12)]
    placed = place_labels(ax, anchors, texts, fontsize=7)
    labels, boxes = _boxes(fig)
    assert len(placed) == 12 and len(labels) == 12
    assert _overlapping(labels, boxes) == []
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    assert all(frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 for b in boxes)
    plt.close(fig)
