"""The map and network pictures: PNG and self-contained HTML, also for empty results."""

from __future__ import annotations

import pandas as pd

from innoweave.clusters import CollaborationCommunities, SpatialClusters
from innoweave.clusters.pictures import save_map, save_network_picture
from innoweave.registry.frames import RegistryFrames


def test_pictures_of_the_planted_registry(planted, tmp_path):
    network = CollaborationCommunities(max_consortium=8, seed=1).fit(planted)
    png = save_network_picture(network, tmp_path / "net.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = save_network_picture(network, tmp_path / "sub" / "net.html").read_text()
    assert (
        "data:image/png;base64," in page
        and "<table" in page
        and "http" not in page.split("base64,")[0]
    )
    spatial = SpatialClusters(eps_km=10, min_samples=3).fit(planted)
    assert save_map(spatial, tmp_path / "map.png").stat().st_size > 1000
    assert "battery" in save_map(spatial, tmp_path / "map.html").read_text()


def test_pictures_of_nothing(tmp_path):
    frames = RegistryFrames(
        organisations=pd.DataFrame({"external_id": ["x"], "name": ["X"], "kind": ["sme"]})
    )
    assert save_network_picture(
        CollaborationCommunities(seed=0).fit(frames), tmp_path / "n.png"
    ).exists()
    assert save_map(SpatialClusters().fit(frames), tmp_path / "m.png").exists()


def test_a_failed_picture_leaves_the_earlier_one(planted, tmp_path, monkeypatch):
    """A picture whose writing fails half-way (a full disk, an interrupted run) leaves the
    earlier file of that name as it was and no temporary file (savefig wrote in place)."""
    import matplotlib.figure
    import pytest

    network = CollaborationCommunities(max_consortium=8, seed=1).fit(planted)
    spatial = SpatialClusters(eps_km=10, min_samples=3).fit(planted)

    def half_then_fail(fig, target, *args, **kwargs):
        if not hasattr(target, "write"):
            open(target, "wb").write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_fail)
    for name, save, model in (("net.png", save_network_picture, network), ("map.svg", save_map, spatial),
                              ("net.html", save_network_picture, network)):  # fmt: skip
        (tmp_path / name).write_text("earlier picture")
        with pytest.raises(OSError):
            save(model, tmp_path / name)
        assert (tmp_path / name).read_text() == "earlier picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.svg", "net.html", "net.png"]
