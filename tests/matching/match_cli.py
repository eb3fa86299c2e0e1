"""What the matchmaking CLI tests share: ``innoweave match ...`` run in-process, refusing a
traceback or an unhandled error, and its output read as one line (Rich wraps it)."""

from typer.testing import CliRunner

from innoweave.cli import app

runner = CliRunner()


def one_line(output: str) -> str:
    """``output`` with every run of whitespace, line breaks included, as one space."""
    return " ".join(output.split())


def invoke(*args):
    """``innoweave match ARGS...``; fails the test on a traceback or an unhandled error."""
    out = runner.invoke(app, ["match", *map(str, args)])
    assert "Traceback" not in out.output and not isinstance(
        out.exception, (ValueError, KeyError, IndexError)), out.output
    return out


def write_registry(folder, frames) -> str:
    """An SQLite registry in ``folder`` (a fresh ``tmp_path_factory.mktemp``) holding
    ``frames``: its URL, for ``--database-url``."""
    from innoweave.registry.db import make_engine, upgrade
    from innoweave.registry.writer import write_frames

    url = f"sqlite:///{folder / 'r.db'}"
    engine = make_engine(url)
    upgrade(engine)
    write_frames(engine, frames)
    engine.dispose()
    return url
