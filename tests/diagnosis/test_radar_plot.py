"""The SME radar speaks in the labels shown on the chart: weakest factors by label, radial
tick labels off the spokes, the score scale stated, synthetic indicators by plain label."""

from __future__ import annotations

import matplotlib.figure
import numpy as np

from innoweave.diagnosis.plots import SCORE_NOTE, radar_notes, radar_plot
from innoweave.diagnosis.sme import INDICATORS, SMEDiagnoser


def _profile(frames):
    model = SMEDiagnoser(min_peers=3, seed=0).fit(frames)
    return model.diagnose(model.peer_level_.index[0])


def test_radar_names_weakest_by_label_keeps_ticks_off_spokes_and_states_the_scale(
        frames, tmp_path, monkeypatch):
    profile = _profile(frames)
    seen = {}
    original = matplotlib.figure.Figure.savefig

    def record(fig, *args, **kwargs):
        ax = fig.axes[0]
        seen["title"] = ax.get_title()
        seen["texts"] = [t.get_text() for t in fig.texts]
        seen["spokes"] = np.degrees(ax.get_xticks()) % 360
        # where the radial tick labels sit: the angle of their transform's offset
        seen["rlabel"] = ax.get_rlabel_position() % 360
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    radar_plot(profile, tmp_path / "r.png")
    weak_line = seen["title"].splitlines()[-1]
    labels = [profile["factors"][k]["label"] for k in profile["weakest"]]
    assert weak_line == "weakest: " + ", ".join(labels)
    assert "_" not in weak_line  # no internal key such as policy_service
    gaps = np.abs((seen["spokes"] - seen["rlabel"] + 180) % 360 - 180)
    assert gaps.min() >= 15, (seen["rlabel"], seen["spokes"])
    assert SCORE_NOTE in seen["texts"] and "0–100" in SCORE_NOTE and "all diagnosed SMEs" in SCORE_NOTE


def test_radar_notes_name_synthetic_indicators_by_their_labels(frames):
    profile = _profile(frames)
    assert profile["synthetic_indicators"], "the fixture should have synthetic indicators"
    notes = radar_notes(profile)
    labels = {i.code: i.label for i in INDICATORS}
    for code in profile["synthetic_indicators"]:
        assert labels[code] in notes
    assert "rd_intensity" not in notes and "eu_funding_per_employee" not in notes
    assert notes.startswith(SCORE_NOTE)


def test_a_failed_radar_leaves_the_earlier_picture(frames, tmp_path, monkeypatch):
    """--plot x.png written in place: a write failing half-way (a full disk) destroyed the
    earlier picture; it is now written under a temporary name and renamed when complete."""
    import pytest

    profile = _profile(frames)
    path = tmp_path / "radar.png"
    path.write_text("earlier picture")

    def half_then_fail(fig, target, *args, **kwargs):
        open(target, "wb").write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_then_fail)
    with pytest.raises(OSError):
        radar_plot(profile, path)
    assert path.read_text() == "earlier picture"
    assert [p.name for p in tmp_path.iterdir()] == ["radar.png"]
