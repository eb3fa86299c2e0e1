"""Labels that keep out of each other's way on a matplotlib picture.

:func:`place_labels` puts each label beside its anchor (a point, a disc or a box on the
axes), trying positions on rings around the anchor, nearest first, and keeps the first one
that overlaps no label placed before it, stays inside the axes and covers the least of the
obstacles (by default the other anchors: other discs, other clusters). A label moved away
from its anchor gets a thin leader line. The work is done in display coordinates (pixels),
so the figure's limits and aspect must be final first: the function draws the figure once
and then fixes the axes' limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Penalty per square pixel of a label over another label or outside the axes, and of a
#: label over an obstacle; and per ring the label is moved out (in square pixels).
_CLASH, _COVER, _RING = 1e4, 1.0, 60.0


@dataclass
class Anchor:
    """What a label names. ``(x, y)`` is its centre in data coordinates; ``extent``, where
    given, the data box ``(x0, y0, x1, y1)`` it covers; ``half`` the pixels it reaches beyond
    that, across and up (a disc's radius, a dot's; 0 for a bare point); ``disc`` whether it
    is round (a leader line then stops at its rim rather than at its box)."""

    x: float
    y: float
    half: tuple[float, float] = (0.0, 0.0)
    extent: tuple[float, float, float, float] | None = None
    disc: bool = False

    def pixels(self, transform) -> tuple[np.ndarray, tuple[float, float]]:
        """Centre and half sides in display pixels under the data ``transform``."""
        centre = transform.transform((self.x, self.y))
        half_x, half_y = self.half
        if self.extent is not None:
            (x0, y0), (x1, y1) = transform.transform([self.extent[:2], self.extent[2:]])
            lo, hi = np.minimum((x0, y0), (x1, y1)), np.maximum((x0, y0), (x1, y1))
            centre = (lo + hi) / 2
            half_x += (hi[0] - lo[0]) / 2
            half_y += (hi[1] - lo[1]) / 2
        return np.asarray(centre, dtype=float), (float(half_x), float(half_y))


def _directions(count: int, *, round_: bool = False) -> np.ndarray:
    """``count`` directions starting to the right and going anticlockwise, as steps reaching
    the edge of a box (the larger coordinate is 1) or, ``round_``, of a circle (length 1)."""
    angles = np.arange(count) * 2 * np.pi / count
    steps = np.column_stack([np.cos(angles), np.sin(angles)])
    steps[np.abs(steps) < 1e-12] = 0.0
    return steps if round_ else steps / np.abs(steps).max(axis=1, keepdims=True)


def _overlap(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The area each of ``boxes`` (n × 4: x0, y0, x1, y1) shares with ``others`` (m × 4),
    summed over ``others``: an n-vector."""
    if len(others) == 0:
        return np.zeros(len(boxes))
    width = np.minimum(boxes[:, None, 2], others[None, :, 2]) - np.maximum(
        boxes[:, None, 0], others[None, :, 0]
    )
    height = np.minimum(boxes[:, None, 3], others[None, :, 3]) - np.maximum(
        boxes[:, None, 1], others[None, :, 1]
    )
    return (np.clip(width, 0, None) * np.clip(height, 0, None)).sum(axis=1)


def _outside(boxes: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The area of each box that lies outside ``frame`` (x0, y0, x1, y1)."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return area - _overlap(boxes, frame[None, :])


def _reach(direction: np.ndarray, half: tuple[float, float], disc: bool) -> float:
    """How far from its centre a box (or disc) of ``half`` sides ends along the unit vector
    ``direction``."""
    if disc:
        return float(half[0])
    with np.errstate(divide="ignore"):
        return float(min(half[0] / abs(direction[0]), half[1] / abs(direction[1])))


def _leader(label: np.ndarray, label_half: tuple[float, float], point: np.ndarray,
            half: tuple[float, float], disc: bool) -> np.ndarray:  # fmt: skip
    """The two ends, in pixels, of a line from a label's box to its anchor's edge."""
    towards = point - label
    length = float(np.hypot(*towards))
    if length == 0:
        return np.vstack([label, point])
    unit = towards / length
    start = label + unit * _reach(unit, label_half, disc=False)
    end = point - unit * min(_reach(unit, half, disc), length)
    return np.vstack([start, end])


def place_labels(
    ax,
    anchors: Sequence[Anchor],
    texts: Sequence[str],
    *,
    obstacles: Sequence[Anchor] | None = None,
    owners: Sequence[int] | None = None,
    styles: Sequence[dict] | None = None,
    leaders: Sequence[bool] | None = None,
    gap: float = 2.0,
    rings: int = 30,
    pad: float = 1.5,
    leader: str = "#555555",
    **text_style,
) -> list:
    """Annotate ``ax`` with ``texts`` beside ``anchors`` (the first placed first), none over
    another; returns the annotations.

    ``obstacles`` are what labels avoid covering where they can (default: the anchors);
    ``owners[k]`` is the index of the label obstacle ``k`` belongs to, which may touch it
    (default: obstacle ``k`` is anchor ``k``'s; -1: nobody's). ``gap`` is the distance in
    points between an anchor and its label, ``rings`` how many rings of positions are tried
    further out (a label that finds no free place takes the least crowded one), ``pad`` the
    pixels kept clear around each label. ``text_style`` goes to
    :meth:`~matplotlib.axes.Axes.annotate` (``fontsize``, ``color``, ``zorder``...), updated
    for label ``i`` by ``styles[i]`` where given. A label gets a leader line to its anchor
    when it had to move out of the first ring, or always where ``leaders[i]`` is true.
    """
    if obstacles is None:
        obstacles = anchors
        owners = range(len(anchors)) if owners is None else owners
    fig = ax.figure
    fig.canvas.draw()  # the axes' final position (an aspect ratio moves them) and limits
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    renderer = fig.canvas.get_renderer()
    to_pixels = fig.dpi / 72.0
    frame = np.asarray(ax.get_window_extent(renderer).extents, dtype=float)
    blocks = np.empty((len(obstacles), 4))
    for k, obstacle in enumerate(obstacles):
        (ox, oy), (hx, hy) = obstacle.pixels(ax.transData)
        blocks[k] = (ox - hx, oy - hy, ox + hx, oy + hy)
    owned = np.asarray(list(owners) if owners is not None else [-1] * len(blocks), dtype=int)
    placed = np.empty((0, 4))
    # where a label's box sits on a direction: its near edge (or corner) faces the anchor,
    # at the anchor's edge (or rim) plus the gap and the ring
    boxed = {count: _directions(count) for count in (8, 16)}
    rounded = {count: _directions(count, round_=True) for count in (8, 16)}
    gap_px = gap * to_pixels
    annotations = []
    for i, (anchor, text) in enumerate(zip(anchors, texts, strict=True)):
        style = text_style | (styles[i] if styles is not None else {})
        zorder = style.get("zorder", 3)
        point, (hx, hy) = anchor.pixels(ax.transData)
        probe = ax.text(anchor.x, anchor.y, text, ha="center", va="center", **style)
        extent = probe.get_window_extent(renderer)
        probe.remove()
        half_w, half_h = extent.width / 2 + pad, extent.height / 2 + pad
        step = max(extent.height, 6.0)
        centres, ring_of = [], []
        for ring in range(rings + 1):
            count = 8 if ring == 0 else 16
            reach = gap_px + ring * step
            out = (rounded if anchor.disc else boxed)[count] * np.array([hx + reach, hy + reach])
            centres.append(point + out + boxed[count] * np.array([half_w, half_h]))
            ring_of.append(np.full(count, ring))
        centre = np.vstack(centres)
        ring_no = np.concatenate(ring_of)
        boxes = np.column_stack([centre[:, 0] - half_w, centre[:, 1] - half_h,
                                 centre[:, 0] + half_w, centre[:, 1] + half_h])  # fmt: skip
        cost = (
            _CLASH * (_overlap(boxes, placed) + _outside(boxes, frame))
            + _COVER * _overlap(boxes, blocks[owned != i])
            + _RING * ring_no
        )
        best = int(np.argmin(cost))  # the first of equals: nearest, then from the right round
        placed = np.vstack([placed, boxes[best]])
        if ring_no[best] > 0 or (
            leaders is not None and leaders[i]
        ):  # moved out: a thin line from the label's edge to the anchor's
            ends = _leader(centre[best], (half_w, half_h), point, (hx, hy), anchor.disc)
            xs, ys = ax.transData.inverted().transform(ends).T
            ax.plot(xs, ys, color=leader, linewidth=0.5, zorder=zorder - 0.1)
        offset = (centre[best] - point) / to_pixels
        at = ax.transData.inverted().transform(point)
        annotations.append(
            ax.annotate(
                text,
                (float(at[0]), float(at[1])),
                xytext=(float(offset[0]), float(offset[1])),
                textcoords="offset points",
                ha="center",
                va="center",
                annotation_clip=False,
                **style,
            )  # fmt: skip
        )
    return annotations
