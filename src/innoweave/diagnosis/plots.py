"""Plots an analyst expects from the diagnosis, as PNG and as self-contained HTML.

Two pictures carry the diagnosis to people: an SME's radar of the six restricting factors
against its peers' medians (from :meth:`SMEDiagnoser.diagnose`), and the EIS ranking with
each country's 5–95 % rank interval from the uncertainty analysis. Both are drawn with
matplotlib (Agg backend) to PNG; :func:`write_html` wraps a PNG (inlined as base64) and a
table into one HTML file with no outside resources. The CLI calls these; nothing here
reads the registry.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from innoweave.writing import write_all  # noqa: E402

#: What the radar's scores mean (docs/diagnosis.md, "Scores").
SCORE_NOTE = ("Scores 0–100, relative to all diagnosed SMEs (min–max: 0 = lowest, "
              "100 = highest SME)")


def radar_notes(profile: dict) -> str:
    """The note of the radar's HTML page: the score scale, the synthetic indicators by their
    plain labels (not their codes) and the growth stage's note."""
    from innoweave.diagnosis.sme import INDICATORS

    labels = {i.code: i.label for i in INDICATORS}
    synthetic = [labels.get(c, c) for c in profile.get("synthetic_indicators", [])]
    notes = f"{SCORE_NOTE}. Synthetic indicator values: " + ("; ".join(synthetic) or "none")
    if profile.get("stage", {}).get("note"):
        notes += f". Growth stage: {profile['stage']['note']}"
    return notes


def radar_plot(profile: dict, path: str | Path) -> Path:
    """Radar of the six factor scores (0..100) of one SME against its peer medians."""
    factors = profile["factors"]
    labels = [v["label"] for v in factors.values()]
    own = [v["score"] if v["score"] is not None else 0.0 for v in factors.values()]
    peers = [v["peer_median"] if v["peer_median"] is not None else 0.0 for v in factors.values()]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False).tolist()
    fig, ax = plt.subplots(figsize=(6.5, 6.5), subplot_kw={"polar": True})
    for values, name, style in ((peers, f"peer median ({profile['peers']['level']}, n={profile['peers']['size']})", "--"),
                                (own, profile["name"], "-")):
        ax.plot(angles + angles[:1], values + values[:1], style, linewidth=2, label=name)
        ax.fill(angles + angles[:1], values + values[:1], alpha=0.12)
    ax.set_xticks(angles)
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_ylim(0, 100)
    # radial tick labels halfway between the first two spokes, off the spokes and the data
    ax.set_rlabel_position(np.degrees(angles[1]) / 2 if len(angles) > 1 else 45)
    ax.tick_params(axis="y", labelsize=7, labelcolor="grey")
    weak = ", ".join(factors[k]["label"] if k in factors else k for k in profile["weakest"]) or "none"
    stage = profile["stage"]
    drawn = " (from synthetic values)" if stage.get("synthetic_attributes") else ""
    ax.set_title(f"{profile['name']} — stage: {stage['value']}{drawn}\nweakest: {weak}", fontsize=10)
    fig.text(0.5, 0.01, SCORE_NOTE, ha="center", fontsize=7.5, color="dimgrey")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.2), fontsize=8)
    return _save(fig, path)


def ranking_plot(summary: pd.DataFrame, path: str | Path, *, title: str = "EIS 2023 ranking") -> Path:
    """Median rank with the 5–95 % interval per unit (best at top), nominal rank marked."""
    s = summary.sort_values(["median_rank", "nominal_rank"]).reset_index(drop=True)
    y = np.arange(len(s))[::-1]
    fig, ax = plt.subplots(figsize=(7, max(4, 0.26 * len(s) + 1)))
    ax.hlines(y, s["rank_p05"], s["rank_p95"], color="tab:blue", linewidth=3, alpha=0.5, label="5–95 % interval")
    ax.plot(s["median_rank"], y, "o", color="tab:blue", label="median rank")
    ax.plot(s["nominal_rank"], y, "x", color="black", label="nominal rank")
    ax.set_yticks(y)
    ax.set_yticklabels(s["unit"], fontsize=8)
    ax.set_xlabel("rank (1 = best)")
    ax.invert_xaxis()
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def _number(value: float) -> str:
    """A float for a table cell: whole numbers without decimals (ranks), else at most two."""
    if value != value:  # NaN
        return ""
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def write_html(path: str | Path, *, title: str, png: str | Path, table: pd.DataFrame | None = None,
               notes: str = "") -> Path:
    """One self-contained HTML page: a heading, the PNG inlined, notes and a table."""
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    parts = [
        "<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style>",
        "</head><body>", f"<h1>{html.escape(title)}</h1>",
        f"<img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>",
    ]
    if notes:
        parts.append(f"<p>{html.escape(notes)}</p>")
    if table is not None:
        parts.append(table.to_html(index=False, float_format=_number, border=0))
    parts.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(parts)
    write_all([(path, lambda target: target.write_text(text, encoding="utf-8"))])
    return path


def _save(fig, path: str | Path) -> Path:
    """Save ``fig`` to ``path`` (its format from the suffix) under a temporary name, renamed
    when complete: a failed write leaves no half-written picture."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    try:
        write_all([(path, lambda target: fig.savefig(target, dpi=110, format=path.suffix.lstrip(".").lower()))])
    finally:
        plt.close(fig)
    return path
