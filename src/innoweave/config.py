"""Settings for every part of InnoWeave, read once from the environment.

The registry, the analyses and the interfaces all take their database location and data
folder from :class:`Settings`, so one environment variable moves the whole system from the
embedded SQLite file to a PostgreSQL server.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///innoweave.db"


def default_data_dir() -> Path:
    """The shared data folder beside the checkout (``../shared/data``), where it exists."""
    here = Path(__file__).resolve()
    for parent in [Path.cwd(), *here.parents]:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


class Settings(BaseSettings):
    """Environment settings (prefix ``INNOWEAVE_``)."""

    model_config = SettingsConfigDict(env_prefix="INNOWEAVE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @property
    def shared_data(self) -> Path:
        """The data folder to read shared inputs from: ``data_dir`` if set, else
        :func:`default_data_dir`."""
        return self.data_dir or default_data_dir()


def shown_database_url(value: str | None) -> str | None:
    """``value`` as outputs and messages show it: a password replaced by ``***`` (None stays
    None; a string that is not a URL is shown as given)."""
    if value is None:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value


def normalise_database_url(value: str) -> str:
    """``value`` as the engine URL to open (``postgresql://`` gets the psycopg driver).

    Raises ValueError, naming the setting, unless it is an ``sqlite:///`` or
    ``postgresql://`` URL."""
    scheme, sep, _rest = value.partition("://")
    if not sep or scheme.split("+", 1)[0] not in ("sqlite", "postgresql"):
        raise ValueError(
            "the database URL (--database-url or INNOWEAVE_DATABASE_URL) must be an "
            f"sqlite:///PATH or postgresql://USER@HOST:PORT/DB URL, got {value!r}"
        )
    if scheme == "postgresql":
        value = "postgresql+psycopg" + value[len("postgresql") :]
    return value


def get_settings() -> Settings:
    """The settings as the environment gives them now (``INNOWEAVE_*`` variables, or defaults)."""
    return Settings()
