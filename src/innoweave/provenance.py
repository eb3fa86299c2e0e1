"""Where an output's inputs came from, written without the details of the machine it ran on.

Results (JSON, workbooks) name the files they were made from, so that a run can be traced
and repeated. An absolute path names one machine's folders (``/home/ana/...``) and means
nothing on another, so :func:`recorded_path` writes

* a file shipped in the package as ``innoweave:<its path in the package>`` (for example
  ``innoweave:simulation/scenarios/baseline.toml``; ``importlib.resources.files("innoweave")``
  finds it in any installation);
* a path given relative as it was given;
* an absolute path beneath the current folder relative to that folder;
* any other path as it was given.

:func:`file_sha256` gives the digest of a file's contents, which names the file's version
wherever it lies.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: How a file shipped in the package is recorded: this prefix and its path in the package.
PACKAGE_PREFIX = "innoweave:"


def _package_root() -> Path:
    return Path(__file__).resolve().parent


def recorded_path(path: str | Path | None) -> str | None:
    """``path`` as an output records it (see the module's notes); None stays None."""
    if path is None:
        return None
    given = Path(path)
    try:
        resolved = given.resolve()
    except (OSError, RuntimeError):  # a loop of links: keep what was given
        return given.as_posix()
    package = _package_root()
    if resolved.is_relative_to(package):
        return PACKAGE_PREFIX + resolved.relative_to(package).as_posix()
    if not given.is_absolute():
        return given.as_posix()
    here = Path.cwd().resolve()
    if resolved.is_relative_to(here):
        return resolved.relative_to(here).as_posix()
    return given.as_posix()


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of the file's contents (hex), or None where there is no file to read."""
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
