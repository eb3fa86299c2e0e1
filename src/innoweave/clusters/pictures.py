"""Pictures of clusters for people: a map of spatial clusters and a picture of the network.

The interfaces layer's view of the cluster analyses: the CLI saves these next to its JSON.
Both are drawn with matplotlib (Agg backend) to PNG (or SVG / PDF, by the file's suffix); an
``.html`` path gets a self-contained page with the PNG inlined and the cluster table beside it
(no external scripts). Labels are placed by :mod:`innoweave.clusters.labels` so that none
covers another, and each legend sits beside its picture.
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
from innoweave.writing import write_all

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
    """Save ``fig`` to ``path`` (its format from the suffix; ``.html`` a page with the picture
    inlined and ``table``) under a temporary name, renamed when complete: a failed write
    leaves no half-written picture, and an earlier one of that name as it was."""
    plt = _figure()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()

    def write(target: Path) -> None:
        if suffix == ".html":
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
            image = base64.b64encode(buffer.getvalue()).decode("ascii")
            target.write_text(
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
            fig.savefig(target, format=suffix.lstrip("."), dpi=120, bbox_inches="tight")

    try:
        write_all([(path, write)])
    finally:
        plt.close(fig)
    return path


#: Colours of the largest spatial clusters, each its own (matplotlib's tab10 with its grey,
#: the colour of organisations in no cluster, replaced by black), and their names.
CLUSTER_COLOURS = (
    ("#1f77b4", "blue"), ("#ff7f0e", "orange"), ("#2ca02c", "green"), ("#d62728", "red"),
    ("#9467bd", "purple"), ("#8c564b", "brown"), ("#e377c2", "pink"), ("#000000", "black"),
    ("#bcbd22", "olive"), ("#17becf", "cyan"),
)  # fmt: skip
#: The one style of the smaller clusters (hollow dots, dashed outline, their number beside).
SMALL_CLUSTER_COLOUR = "#6f6f6f"
NOISE_COLOUR = "#cccccc"


def _cluster_label(row) -> str:
    return f"{row.cluster}: {', '.join(row.topics[:2])}" if len(row.topics) else str(row.cluster)


def save_map(spatial: SpatialClusters, path: str | Path, *, label_top: int = 10) -> Path:
    """Organisations as dots (noise light grey), each cluster with its hull outline.

    The ``label_top`` largest clusters (at most one per colour of :data:`CLUSTER_COLOURS`)
    each get a colour of their own and a label with their number and first two topic words;
    the smaller ones are drawn in one muted style (hollow grey dots, dashed outline) with
    their number beside them, so every cluster on the map can be found in the table. Labels
    are placed so that none covers another (:func:`~innoweave.clusters.labels.place_labels`);
    the legend, outside the map, says which is which. An ``.html`` page lists every cluster
    with how it is drawn.
    """
    from innoweave.clusters.labels import Anchor, place_labels

    check_picture_path(path)
    plt = _figure()
    points = spatial.points_
    clusters = spatial.clusters_
    named = min(max(int(label_top), 0), len(CLUSTER_COLOURS))
    fig, ax = plt.subplots(figsize=(8, 9))
    noise = points[points["cluster"] < 0]
    ax.scatter(noise["longitude"], noise["latitude"], s=4, c=NOISE_COLOUR, zorder=1,
               label=f"in no cluster ({len(noise):,})" if len(noise) else None)  # fmt: skip
    anchors, texts, drawn_as = [], [], []
    small = clusters.iloc[named:]  # clusters_ is ordered by size, largest first
    for rank, row in enumerate(clusters.itertuples(index=False)):
        members = points[points["cluster"] == row.cluster]
        lon, lat = members["longitude"].to_numpy(), members["latitude"].to_numpy()
        if rank < named:
            colour, name = CLUSTER_COLOURS[rank]
            ax.scatter(lon, lat, s=8, color=colour, zorder=2,
                       label=f"{_cluster_label(row)} ({row.size:,})")  # fmt: skip
            style = {"color": colour, "linewidth": 1.2}
            drawn_as.append(name)
        else:
            colour = SMALL_CLUSTER_COLOUR
            ax.scatter(
                lon, lat, s=10, facecolors="none", edgecolors=colour, linewidths=0.6, zorder=2
            )
            style = {"color": colour, "linewidth": 0.8, "linestyle": "--"}
            drawn_as.append("grey, numbered")
        outline = outline_geometry(lon, lat)
        if outline["type"] == "Polygon":
            ring = np.asarray(outline["coordinates"][0])
            ax.plot(ring[:, 0], ring[:, 1], zorder=2, **style)
        anchors.append(Anchor(float(np.mean([lon.min(), lon.max()])), float(np.mean([lat.min(), lat.max()])),
                              half=(2.5, 2.5), extent=(lon.min(), lat.min(), lon.max(), lat.max())))  # fmt: skip
        texts.append(_cluster_label(row) if rank < named else str(row.cluster))
    if len(small):
        first, last = int(small["cluster"].min()), int(small["cluster"].max())
        numbers = f"{first}" if first == last else f"{first}–{last}"
        least, most = int(small["size"].min()), int(small["size"].max())
        sizes = f"{least}" if least == most else f"{least}–{most}"
        ax.scatter([], [], s=10, facecolors="none", edgecolors=SMALL_CLUSTER_COLOUR, linewidths=0.6,
                   label=f"{numbers}: the {len(small)} smaller cluster{'s' if len(small) > 1 else ''}\n"
                         f"({sizes} organisations), in grey,\nnumbered on the map")  # fmt: skip
    if len(points):
        ax.set_aspect(1 / np.cos(np.radians(points["latitude"].mean())))
        ax.margins(0.04)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    shown = (
        f"the {named} largest in colour, named by their first topic words"
        if named < len(clusters)
        else "each in its colour, named by its first topic words"
    )
    if len(small):
        shown += f"; the {len(small)} smaller in grey, numbered"
    ax.set_title(
        f"{len(clusters)} spatial clusters of {len(points):,} organisations "
        f"(ε = {spatial.eps_km:g} km, min. similarity {spatial.min_similarity:g})"
        + (f"\n{shown}" if len(clusters) else ""),
        fontsize=10,
    )
    if ax.get_legend_handles_labels()[0]:  # beside the map, covering nothing
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7.5, frameon=False,
                  title="cluster: topics (organisations)", title_fontsize=8)  # fmt: skip
    # every cluster labelled, the named first (largest first), then the smaller ones' numbers
    styles = [
        {} if rank < named else {"fontsize": 6.5, "color": "#333333"} for rank in range(len(texts))
    ]
    place_labels(ax, anchors, texts, styles=styles, leaders=[True] * len(texts),
                 gap=4, fontsize=7, zorder=4)  # fmt: skip
    table = clusters.assign(topics=clusters["topics"].map(", ".join), drawn_as=drawn_as)
    return _save(fig, Path(path), "Spatial clusters", table)


def save_network_picture(
    network: CollaborationCommunities, path: str | Path, *, communities: int = 30, seed: int = 0
) -> Path:
    """The largest communities as discs (area ∝ members, colour = dominant helix sphere),
    joined by the weight of the links between them.

    Each disc is labelled with its community's number and first two topic words, placed so
    that no label covers another (:func:`~innoweave.clusters.labels.place_labels`); the
    legend, beside the picture, lists the helix spheres of the discs drawn."""
    import networkx as nx

    from innoweave.clusters.labels import Anchor, place_labels

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
    to_pixels = fig.dpi / 72.0
    anchors, texts, present = [], [], []
    for row in table.itertuples(index=False):
        dominant = max(spheres, key=lambda s: getattr(row, f"helix_{s}"))
        present.append(dominant)
        x, y = layout[int(row.community)]
        area = 30 + 2000 * row.size / largest  # points², as scatter's s
        ax.scatter([x], [y], s=area, color=HELIX_COLOURS[dominant], alpha=0.8, zorder=2,
                   edgecolors="white")  # fmt: skip
        radius = np.sqrt(area) / 2 * to_pixels
        anchors.append(Anchor(float(x), float(y), half=(radius, radius), disc=True))
        texts.append(f"{row.community}: {', '.join(row.topics[:2])}")
    # the kinds of disc drawn, in the usual order, outside the picture (it covers nothing)
    for sphere in [s for s in spheres if s in present]:
        ax.scatter([], [], color=HELIX_COLOURS[sphere], alpha=0.8, label=f"mostly {sphere}")
    if present:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
                  title="disc: a community\n(area ∝ members)\ncolour: its largest\nhelix sphere",
                  title_fontsize=8, alignment="left")  # fmt: skip
    ax.set_axis_off()
    ax.margins(0.06)
    ax.set_title(
        f"{len(table)} of the {communities} largest of {len(network.communities_)} communities "
        f"(modularity {network.modularity_:.3f}; {len(detached)} without links to these left out)\n"
        "lines: link weight between communities",
        fontsize=10,
    )
    # the largest first: they get the nearest places
    place_labels(ax, anchors, texts, fontsize=7, zorder=3,
                 bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none",
                       "alpha": 0.6})  # fmt: skip
    listing = table.drop(columns=["kinds"]).assign(
        topics=table["topics"].map(", ".join),
        hubs=table["hubs"].map("; ".join),
        brokers=table["brokers"].map("; ".join),
    )
    return _save(fig, Path(path), "Collaboration-network communities", listing)
