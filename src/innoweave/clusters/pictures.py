"""Pictures of clusters for people: a map of spatial clusters and a picture of the network.

The interfaces layer's view of the cluster analyses: the CLI saves these next to its JSON.
Both are drawn with matplotlib (Agg backend) to PNG (or SVG / PDF, by the file's suffix); an
``.html`` path gets a self-contained page with the PNG inlined and the cluster table beside it
(no external scripts).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd

from innoweave.clusters.network import HELIX, CollaborationCommunities
from innoweave.clusters.spatial import SpatialClusters, outline_geometry

HELIX_COLOURS = {
    "firms": "#1f77b4",
    "research": "#d62728",
    "government": "#2ca02c",
    "intermediaries": "#ff7f0e",
    "other": "#7f7f7f",
}


#: Picture files the CLI writes, by suffix (any case): matplotlib's formats and the page.
PICTURE_SUFFIXES = (".png", ".svg", ".pdf", ".html")


def check_picture_path(path: str | Path) -> None:
    """Raise ``ValueError`` unless ``path`` ends in one of :data:`PICTURE_SUFFIXES`."""
    if Path(path).suffix.lower() not in PICTURE_SUFFIXES:
        raise ValueError(
            f"a picture must end in {', '.join(PICTURE_SUFFIXES[:-1])} or "
            f"{PICTURE_SUFFIXES[-1]}, got {Path(path).name!r}"
        )


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, title: str, table: pd.DataFrame) -> Path:
    plt = _figure()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".html":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        image = base64.b64encode(buffer.getvalue()).decode("ascii")
        path.write_text(
            "<!doctype html><html><head><meta charset='utf-8'><title>"
            + html.escape(title)
            + "</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><img alt='{html.escape(title)}' src='data:image/png;base64,{image}'>"
            + table.to_html(index=False, escape=True, border=0)
            + "</body></html>",
            encoding="utf-8",
        )
    else:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def save_map(spatial: SpatialClusters, path: str | Path, *, label_top: int = 10) -> Path:
    """Organisations as dots (noise grey), each cluster in colour with its hull outline."""
    check_picture_path(path)
    plt = _figure()
    points = spatial.points_
    fig, ax = plt.subplots(figsize=(8, 9))
    noise = points[points["cluster"] < 0]
    ax.scatter(noise["longitude"], noise["latitude"], s=4, c="#bbbbbb", label="not in a cluster")
    colours = plt.get_cmap("tab20")
    for row in spatial.clusters_.itertuples(index=False):
        members = points[points["cluster"] == row.cluster]
        colour = colours(row.cluster % 20)
        ax.scatter(members["longitude"], members["latitude"], s=8, color=colour)
        outline = outline_geometry(members["longitude"].to_numpy(), members["latitude"].to_numpy())
        if outline["type"] == "Polygon":
            ring = np.asarray(outline["coordinates"][0])
            ax.plot(ring[:, 0], ring[:, 1], color=colour, linewidth=1)
        if row.cluster < label_top:
            ax.annotate(
                f"{row.cluster}: {', '.join(row.topics[:2])}",
                (row.longitude, row.latitude),
                fontsize=7,
            )
    if len(points):
        ax.set_aspect(1 / np.cos(np.radians(points["latitude"].mean())))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(
        f"{len(spatial.clusters_)} spatial clusters of {len(points)} organisations "
        f"(ε = {spatial.eps_km:g} km, min. similarity {spatial.min_similarity:g})"
    )
    ax.legend(loc="lower left", fontsize=8)
    table = spatial.clusters_.assign(topics=spatial.clusters_["topics"].map(", ".join))
    return _save(fig, Path(path), "Spatial clusters", table)


def save_network_picture(
    network: CollaborationCommunities, path: str | Path, *, communities: int = 30, seed: int = 0
) -> Path:
    """The largest communities as discs (area ∝ members, colour = dominant helix sphere),
    joined by the weight of the links between them."""
    import networkx as nx

    check_picture_path(path)
    plt = _figure()
    table = network.communities_.head(communities)
    shown = set(table["community"])
    graph = network.graph_
    membership = network.membership_.to_numpy()
    a, b = membership[graph.source], membership[graph.target]
    between = (a != b) & np.isin(a, list(shown)) & np.isin(b, list(shown))
    links = pd.DataFrame(
        {"a": np.minimum(a, b)[between], "b": np.maximum(a, b)[between], "w": graph.weight[between]}
    )
    links = links.groupby(["a", "b"], as_index=False)["w"].sum()
    meta = nx.Graph()
    meta.add_nodes_from(int(c) for c in shown)
    meta.add_weighted_edges_from(links.itertuples(index=False, name=None))
    # Log weights keep the few heavy links from collapsing the layout into one knot.
    for _, _, data in meta.edges(data=True):
        data["spring"] = float(np.log1p(data["weight"]))
    # Communities with no link to another shown one would fill the page with empty space.
    detached = [c for c in meta.nodes if meta.degree(c) == 0]
    meta.remove_nodes_from(detached)
    table = table[~table["community"].isin(detached)]
    layout = nx.spring_layout(meta, weight="spring", seed=seed)
    largest = max(int(table["size"].max()), 1) if len(table) else 1
    fig, ax = plt.subplots(figsize=(10, 8))
    biggest = links["w"].max() if len(links) else 1.0
    for u, v, w in meta.edges(data="weight"):
        ax.plot(
            *zip(layout[u], layout[v], strict=True),
            color="#999999",
            linewidth=0.3 + 4 * w / biggest,
            zorder=1,
        )
    spheres = [s for s in (*HELIX, "other")]
    for row in table.itertuples(index=False):
        dominant = max(spheres, key=lambda s: getattr(row, f"helix_{s}"))
        x, y = layout[int(row.community)]
        ax.scatter(
            [x],
            [y],
            s=30 + 2000 * row.size / largest,
            color=HELIX_COLOURS[dominant],
            alpha=0.8,
            zorder=2,
            edgecolors="white",
        )
        ax.annotate(f"{row.community}: {', '.join(row.topics[:2])}", (x, y), fontsize=7, zorder=3)
    for sphere in spheres:
        ax.scatter([], [], color=HELIX_COLOURS[sphere], label=f"mostly {sphere}")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_axis_off()
    ax.set_title(
        f"{len(table)} of the {communities} largest of {len(network.communities_)} communities "
        f"(modularity {network.modularity_:.3f}; {len(detached)} without links to these left out)\n"
        "lines: link weight between communities",
        fontsize=10,
    )
    listing = table.drop(columns=["kinds"]).assign(
        topics=table["topics"].map(", ".join),
        hubs=table["hubs"].map("; ".join),
        brokers=table["brokers"].map("; ".join),
    )
    return _save(fig, Path(path), "Collaboration-network communities", listing)
