"""The pluggable array module of the engine: NumPy by default, CuPy where a GPU is present.

The engine writes every phase against an ``xp`` module with the NumPy API; the few
operations whose spelling differs between NumPy and CuPy (scatter-add/max/min, moving an array
to the host, the random stream) live here so the phases stay free of branches.
"""

from __future__ import annotations

import math

import numpy

from innoweave.seeding import SeedLike, make_rng


def get_xp(name: str | None = None):
    """``numpy`` (default) or ``cupy`` (``name="cupy"``; ``"auto"`` picks CuPy if importable)."""
    if name in (None, "numpy"):
        return numpy
    if name in ("cupy", "auto"):
        try:
            import cupy
        except ImportError:
            if name == "auto":
                return numpy
            raise ValueError("xp: CuPy is not installed (pip install cupy-cuda12x)") from None
        return cupy
    if hasattr(name, "asarray"):
        return name
    raise ValueError(f"xp: unknown array module {name!r}; use 'numpy' or 'cupy'")


def is_numpy(xp) -> bool:
    """Whether the array module ``xp`` is NumPy (not CuPy)."""
    return xp is numpy


def to_host(a):
    """A NumPy array (no-op for NumPy input)."""
    return a.get() if hasattr(a, "get") else numpy.asarray(a)


def count_true(xp, a):
    """Per-row count of a boolean ``(slots, rows)`` array, as int64 like ``a.sum(axis=0)``.

    Summed in int16 (there are far fewer than 2**15 slots): several times faster than
    NumPy's default reduction of booleans into int64.
    """
    return a.sum(axis=0, dtype=xp.int16).astype(xp.int64)


def scatter_add(xp, target, index, values) -> None:
    """Add ``values`` into ``target`` at ``index`` in place, repeated indices accumulating
    (``numpy.add.at`` or ``cupyx.scatter_add``)."""
    if is_numpy(xp):
        numpy.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


def scatter_max(xp, target, index, values) -> None:
    """Raise ``target`` at ``index`` to the largest of its value and ``values`` in place, repeated
    indices included (``numpy.maximum.at`` or ``cupyx.scatter_max``)."""
    if is_numpy(xp):
        numpy.maximum.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_max(target, index, values)


def scatter_min(xp, target, index, values) -> None:
    """Lower ``target`` at ``index`` to the smallest of its value and ``values`` in place, repeated
    indices included (``numpy.minimum.at`` or ``cupyx.scatter_min``)."""
    if is_numpy(xp):
        numpy.minimum.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_min(target, index, values)


class RandomStream:
    """The run's single random source, laid out in fixed blocks.

    ``host`` is the one ``numpy.random.Generator`` (PCG64) of the run (``make_rng(seed)``).
    A draw may *reserve* a block larger than what it needs (``reserve=`` values): after
    drawing, the stream is advanced past the rest of the block. Blocks are sized by the row
    capacity, never by how many agents happen to need them, so every step and phase starts
    at the same stream position in every scenario run with the same seed (common random
    numbers), while only the needed values are generated. Uniforms are drawn as float64
    (one 64-bit output each, which makes the advance exact) and returned as float32.
    With CuPy the arrays come from a device generator seeded by one draw of ``host``;
    reservations are then a no-op (the device stream is not shared across scenarios).

    ``position`` counts the values taken from ``host`` so far. :meth:`draw_ahead` has the
    uniforms of draws to come made elsewhere (on another thread) from a copy of the state;
    the draw at such a position then takes them and only advances the stream.
    """

    def __init__(self, seed: SeedLike, xp):
        self.xp = xp
        self.host = make_rng(seed)
        self._numpy = is_numpy(xp)
        self._blocks: list[int] = []
        self.position = 0
        self._ahead: dict[int, tuple] = {}  # position -> (job, start, size) of draw_ahead
        self.hits_ = 0  # draws taken from draw_ahead
        self._child: numpy.random.Generator | None = None
        if not self._numpy:
            self._device = xp.random.default_rng(self._seed_draw())

    def block(self, size: int) -> _Block:
        """A block of ``size`` values (blocks nest), for ``with``: what its draws leave is
        skipped at the end."""
        self._consume(size)
        self._blocks.append(size)
        return _Block(self)

    def _close_block(self) -> None:
        left = self._blocks.pop()
        if self._numpy and left > 0:
            self._advance(left)

    def _advance(self, n: int) -> None:
        self.host.bit_generator.advance(n)
        self.position += n

    def _consume(self, n: int) -> None:
        if self._blocks:
            if n > self._blocks[-1]:
                raise RuntimeError(f"random block overrun by {n - self._blocks[-1]} values")
            self._blocks[-1] -= n

    def _seed_draw(self) -> int:
        self.position += 1
        return int(self.host.random() * 2**53)

    def random(self, shape, *, reserve: int | None = None):
        """Float32 uniforms on [0, 1) of ``shape``; with ``reserve``, the stream then skips to the
        end of a block of that many values (taken from :meth:`draw_ahead` where prepared)."""
        # math.prod, not numpy.prod (~20 µs a call, some 15 calls a step)
        size = math.prod(shape) if isinstance(shape, tuple) else int(shape)
        if reserve is not None and reserve < size:
            raise ValueError(f"random: block of {reserve} values cannot hold {size}")
        self._consume(reserve if reserve is not None else size)
        if self._numpy:
            ahead = self._ahead.pop(self.position, None) if self._ahead else None
            if ahead is not None and ahead[2] == size:
                job, start, _ = ahead
                out = job.result()[start:start + size].reshape(shape)
                self.hits_ += 1
                self._advance(reserve if reserve is not None else size)
                return out
            out = self.host.random(shape).astype(numpy.float32)
            self.position += size
            if reserve is not None and reserve > size:
                self._advance(reserve - size)
            return out
        return self._device.random(shape, dtype=self.xp.float32)

    def draw_ahead(self, plan, submit) -> None:
        """Have the uniforms of draws to come made by ``submit(function, *args)`` (a job
        with ``result()``, e.g. on a second thread). ``plan`` lists ``(offset, size)``: a
        draw of ``size`` values at ``offset`` values from the current position. The values
        are the stream's own (:func:`kernels.pcg64_uniforms` repeats NumPy's PCG64), so a
        draw takes them only where its position and size match, else it draws as usual."""
        from innoweave.simulation import kernels

        if not self._numpy or not plan:
            return
        self._ahead = {at: entry for at, entry in self._ahead.items() if at >= self.position}
        plan = sorted(plan)
        state = self.host.bit_generator.state["state"]
        low = (1 << 64) - 1
        words = (state["state"] >> 64, state["state"] & low, state["inc"] >> 64,
                 state["inc"] & low)
        offsets = numpy.asarray([at for at, _ in plan], dtype=numpy.int64)
        sizes = numpy.asarray([n for _, n in plan], dtype=numpy.int64)
        job = submit(kernels.pcg64_uniforms, *map(numpy.uint64, words), offsets, sizes)
        start = 0
        for at, n in plan:
            self._ahead[self.position + at] = (job, start, n)
            start += n

    def skip(self, n: int) -> None:
        """Advance past values this run does not use."""
        self._consume(n)
        if self._numpy and n > 0:
            self._advance(n)

    def normal(self, shape, *, reserve: int | None = None):
        """Standard normal by Box-Muller on two uniform blocks (same on NumPy and CuPy)."""
        xp = self.xp
        u1 = self.random(shape, reserve=reserve)
        u2 = self.random(shape, reserve=reserve)
        return xp.sqrt(-2.0 * xp.log(1.0 - u1)) * xp.cos(2.0 * numpy.pi * u2)

    def child(self) -> numpy.random.Generator:
        """A host generator for draws whose number varies (entrants), seeded by one draw: as
        ``numpy.random.default_rng(seed)``. One generator object per stream, re-seeded each
        call (its state set to a fresh ``PCG64(seed)``'s): compiled kernels that take it
        then reuse what they read from it once (~60 µs for a new one, ~20 µs after)."""
        self._consume(1)
        state = numpy.random.PCG64(self._seed_draw()).state
        if self._child is None:
            self._child = numpy.random.Generator(numpy.random.PCG64())
        self._child.bit_generator.state = state
        return self._child


class _Block:
    """The context of :meth:`RandomStream.block` (a plain class: some 30 blocks a step, and a
    generator-based context manager costs several times more to enter and leave)."""

    __slots__ = ("stream",)

    def __init__(self, stream: RandomStream):
        self.stream = stream

    def __enter__(self) -> RandomStream:
        return self.stream

    def __exit__(self, *exc) -> None:
        self.stream._close_block()
