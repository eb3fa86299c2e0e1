"""Writing a set of files all or nothing.

Every file is written under a temporary name beside its final one, and the files are moved
into place only when all of them are complete: a failure (a full disk, a bad value met
half-way, an interrupted run) leaves the earlier files of those names, or nothing, never
half of a new set. The registry's exports, the simulation's plots and the CLI's result
folders write through :func:`write_all`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path


def temporary_path(path: Path) -> Path:
    """The name a file is written under before it is moved to ``path``."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_all(jobs: Iterable[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Run each ``write(temporary)`` of ``(final path, write)``, then move every temporary
    file to its final path; temporaries are removed whatever happens. Returns the paths."""
    jobs = [(Path(final), write) for final, write in jobs]
    temporaries = [temporary_path(final) for final, _ in jobs]
    try:
        for (_final, write), temporary in zip(jobs, temporaries, strict=True):
            write(temporary)
        for (final, _write), temporary in zip(jobs, temporaries, strict=True):
            os.replace(temporary, final)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return [final for final, _ in jobs]
