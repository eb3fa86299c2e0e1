"""Scenario files: what to simulate, validated before anything runs.

A scenario is a TOML file naming the population (synthetic or the registry), the horizon,
the replications and seed, parameter overrides and mechanism switches, a calibration, and
the government instruments with budgets, eligibility and targeting. :func:`load_scenario`
checks every field and raises :class:`ScenarioError` naming the field (``instruments.
rd_grant.budget``, ``horizon``...) so a bad file fails before any run; eligibility is
checked against the built population by :meth:`Scenario.check_population`. The example
scenarios shipped in ``simulation/scenarios/`` are listed by :func:`example_scenarios`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from innoweave.seeding import SeedLike
from innoweave.simulation.params import (
    INTERMEDIARY,
    SIZE_CLASSES,
    STAGES,
    InstrumentConfig,
    ModelParams,
)
from innoweave.simulation.population import Population, size_class_of

TOP_LEVEL = {"name", "description", "horizon", "replications", "seed", "population", "params",
             "mechanisms", "calibration", "instruments"}
SOURCES = ("synthetic", "synth", "registry", "cordis")
SYNTHETIC_OPTIONS = {"n_regions", "clusters_per_region", "cluster_share", "research_per_firm",
                     "university_share", "intermediaries_per_region"}


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the field."""


@dataclass(frozen=True)
class PopulationSpec:
    """Where the population comes from: ``synthetic`` (the fast columnar generator,
    ``n_firms``, options), ``synth`` (the registry's synthetic ecosystem generator
    :func:`innoweave.registry.synth.synthesize` with ``n_firms`` SMEs, text profiles and
    collaboration history), ``registry`` (a database ``url``) or ``cordis`` (a folder)."""

    source: str = "synthetic"
    n_firms: int = 2000
    options: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    path: str | None = None


@dataclass
class Scenario:
    name: str
    horizon: int
    replications: int
    seed: int
    population: PopulationSpec
    params: ModelParams
    instruments: dict[str, InstrumentConfig]
    description: str = ""
    path: str | None = None

    def build_population(self, *, seed: SeedLike) -> Population:
        from innoweave.simulation.population import population_from_frames, synthetic_population

        spec = self.population
        if spec.source == "synthetic":
            return synthetic_population(spec.n_firms, seed=seed, params=self.params,
                                        **spec.options)
        if spec.source == "synth":
            from innoweave.registry.synth import synthesize
            from innoweave.seeding import make_rng

            rng = make_rng(seed)
            frames = synthesize(n_smes=spec.n_firms, seed=rng)
            return population_from_frames(frames, seed=rng, params=self.params)
        return population_from_frames(_frames(spec), seed=seed, params=self.params)

    def check_population(self, pop: Population) -> None:
        """Fail, naming the field, if the population is empty or an instrument reaches no one."""
        if pop.n_firms == 0:
            raise ScenarioError("population: no firms to simulate (empty population)")
        d = self.params.demography
        stage = np.full(len(pop), 2, dtype=np.int8)
        stage[pop.growth >= d.growth_min_rate] = 1
        stage[(pop.growth < d.transformation_max_growth) & (pop.age >= d.transformation_min_age)] = 3
        stage[(pop.age < d.startup_max_age) & (pop.employees < d.startup_max_employees)] = 0
        size_class = size_class_of(pop.employees)
        for key, cfg in self.instruments.items():
            ok = np.isin(pop.kind, [0 if k == "sme" else 1 for k in cfg.kinds])
            ok &= np.isin(stage, [STAGES.index(s) for s in cfg.stages])
            if cfg.size_classes is not None:
                ok &= np.isin(size_class, [SIZE_CLASSES.index(c) for c in cfg.size_classes])
            if cfg.regions is not None:
                ok &= np.isin(pop.region, list(cfg.regions))
            ok &= pop.kind != INTERMEDIARY
            if not ok.any():
                raise ScenarioError(
                    f"instruments.{key}: eligibility excludes every firm of the population "
                    f"(stages={list(cfg.stages)}, kinds={list(cfg.kinds)}, "
                    f"size_classes={cfg.size_classes}, regions={cfg.regions})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "horizon": self.horizon,
            "replications": self.replications, "seed": self.seed, "path": self.path,
            "population": {"source": self.population.source, "n_firms": self.population.n_firms,
                           "options": self.population.options, "url": self.population.url,
                           "path": self.population.path},
            "params": self.params.to_dict(),
            "instruments": {k: v.to_dict() for k, v in self.instruments.items()},
        }


_FRAMES_CACHE: dict[tuple, Any] = {}


def _frames(spec: PopulationSpec):
    key = (spec.source, spec.url, spec.path)
    if key not in _FRAMES_CACHE:
        if spec.source == "cordis":
            from innoweave.registry.cordis import read_cordis

            _FRAMES_CACHE[key] = read_cordis(spec.path)
        else:
            from sqlalchemy import create_engine

            from innoweave.registry.frames import load_frames

            _FRAMES_CACHE[key] = load_frames(create_engine(spec.url))
    return _FRAMES_CACHE[key]


def _int(data: dict, key: str, default: int | None, *, minimum: int, where: str) -> int:
    value = data.get(key, default)
    if value is None:
        raise ScenarioError(f"{where}{key}: missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}{key}: expected an integer, got {value!r}")
    if value < minimum:
        raise ScenarioError(f"{where}{key}: must be >= {minimum}, got {value}")
    return value


def parse_scenario(data: dict[str, Any], *, name: str = "scenario",
                   base_dir: Path | None = None) -> Scenario:
    """Validate a scenario mapping (as read from TOML); errors name the field."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a table")
    unknown = sorted(set(data) - TOP_LEVEL)
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown scenario key; allowed: {sorted(TOP_LEVEL)}")
    horizon = _int(data, "horizon", None, minimum=1, where="")
    replications = _int(data, "replications", 1, minimum=1, where="")
    seed = _int(data, "seed", 0, minimum=0, where="")
    population = _parse_population(data.get("population", {}), base_dir)
    overrides = dict(data.get("params", {}))
    if not isinstance(overrides, dict):
        raise ScenarioError("params: expected a table")
    if "mechanisms" in data:
        overrides["mechanisms"] = data["mechanisms"]
    calibration = data.get("calibration")
    if calibration is not None:
        _apply_calibration(overrides, calibration, base_dir)
    try:
        params = ModelParams.from_dict(overrides)
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("params.mechanisms"):
            msg = msg[len("params."):]
        raise ScenarioError(msg) from None
    if params.search.rule not in ("conservative", "progressive"):
        raise ScenarioError(f"params.search.rule: {params.search.rule!r}; allowed: "
                            "conservative, progressive")
    instruments_data = data.get("instruments", {})
    if not isinstance(instruments_data, dict):
        raise ScenarioError("instruments: expected a table of instrument tables")
    instruments = {}
    for key, table in instruments_data.items():
        try:
            instruments[key] = InstrumentConfig.from_dict(key, table)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
    return Scenario(
        name=str(data.get("name", name)), description=str(data.get("description", "")),
        horizon=horizon, replications=replications, seed=seed, population=population,
        params=params, instruments=instruments,
    )


def _parse_population(data: Any, base_dir: Path | None) -> PopulationSpec:
    if not isinstance(data, dict):
        raise ScenarioError("population: expected a table")
    source = data.get("source", "synthetic")
    if source not in SOURCES:
        raise ScenarioError(f"population.source: {source!r}; allowed: {list(SOURCES)}")
    known = {"source", "n_firms", "url", "path"} | SYNTHETIC_OPTIONS
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"population.{unknown[0]}: unknown key; allowed: {sorted(known)}")
    if source in ("synthetic", "synth"):
        n_firms = data.get("n_firms", 2000)
        if isinstance(n_firms, bool) or not isinstance(n_firms, int):
            raise ScenarioError(f"population.n_firms: expected an integer, got {n_firms!r}")
        if n_firms < 1:
            raise ScenarioError(f"population.n_firms: empty population ({n_firms} firms); "
                                "need at least 1")
        options = {k: data[k] for k in SYNTHETIC_OPTIONS if k in data}
        if options and source == "synth":
            raise ScenarioError(f"population.{sorted(options)[0]}: only for source 'synthetic'")
        return PopulationSpec(source=source, n_firms=n_firms, options=options)
    if source == "registry":
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise ScenarioError("population.url: a database URL is required for source 'registry'")
        return PopulationSpec(source=source, url=url)
    path = data.get("path")
    if not isinstance(path, str) or not path:
        raise ScenarioError("population.path: a CORDIS folder is required for source 'cordis'")
    resolved = Path(path) if base_dir is None or Path(path).is_absolute() else base_dir / path
    if not resolved.exists():
        raise ScenarioError(f"population.path: {resolved} does not exist")
    return PopulationSpec(source=source, path=str(resolved))


def _apply_calibration(overrides: dict, calibration: Any, base_dir: Path | None) -> None:
    """``calibration = "file.toml"`` or a table with ``intent_bias`` / ``research_seek``."""
    if isinstance(calibration, str):
        path = Path(calibration)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        if not path.exists():
            raise ScenarioError(f"calibration: file {path} does not exist")
        with open(path, "rb") as fh:
            calibration = tomllib.load(fh)
    if not isinstance(calibration, dict):
        raise ScenarioError("calibration: expected a file name or a table")
    allowed = {"intent_bias": "intent", "research_seek": "search"}
    for key, value in calibration.items():
        if key not in allowed:
            raise ScenarioError(f"calibration.{key}: unknown; allowed: {sorted(allowed)}")
        section = allowed[key]
        overrides.setdefault(section, {})
        if not isinstance(overrides[section], dict):
            raise ScenarioError(f"params.{section}: expected a table")
        overrides[section] = {**overrides[section], key: value}


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"scenario: file {path} does not exist")
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario: {path} is not valid TOML ({exc})") from None
    scenario = parse_scenario(data, name=path.stem, base_dir=path.parent)
    scenario.path = str(path)
    return scenario


def example_scenarios() -> dict[str, Path]:
    """The example scenario files shipped with the package, by name."""
    folder = resources.files("innoweave.simulation") / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def resolve_scenario(ref: str | Path) -> Path:
    """A path as given, or the shipped example of that name (``baseline``)."""
    path = Path(ref)
    if path.exists():
        return path
    examples = example_scenarios()
    if str(ref) in examples:
        return examples[str(ref)]
    raise ScenarioError(f"scenario: {ref} is neither a file nor an example "
                        f"({', '.join(sorted(examples))})")
