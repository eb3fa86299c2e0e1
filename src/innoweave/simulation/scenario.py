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

import inspect
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from innoweave.seeding import SeedLike
from innoweave.simulation.params import (
    BUDGET_RANGE,
    COUNT,
    COUNT0,
    INSTRUMENT_RANGES,
    INTERMEDIARY,
    LAYOUT_STEPS,
    NONNEG,
    PARAM_RANGES,
    PROB,
    SIZE_CLASSES,
    STAGES,
    TARGETING,
    InstrumentConfig,
    ModelParams,
    Range,
    check_instrument_table,
)
from innoweave.simulation.population import Population, size_class_of, stage_codes

TOP_LEVEL = {"name", "description", "horizon", "replications", "seed", "population", "params",
             "mechanisms", "calibration", "instruments"}
SOURCES = ("synthetic", "synth", "registry", "cordis")
SYNTHETIC_OPTIONS = {"n_regions", "clusters_per_region", "cluster_share", "research_per_firm",
                     "university_share", "intermediaries_per_region"}
#: The ``[population]`` keys each source reads (besides ``source``).
SOURCE_KEYS = {"synthetic": {"n_firms", *SYNTHETIC_OPTIONS}, "synth": {"n_firms"},
               "registry": {"url"}, "cordis": {"path"}}
#: Characters allowed in a scenario ``name`` besides letters and digits (it names the
#: default output folder, so no path separators).
NAME_EXTRA_CHARS = " -_."

#: The most firms a scenario may ask for, by source: about 1 GB of memory per million
#: firms with the fast ``synthetic`` generator (peak RSS 0.92-0.99 GB at 1 M firms,
#: docs/model.md section 10), so 5 M fit a workstation; the registry's ``synth`` generator
#: writes text profiles and a collaboration history (about 6.5 GB and 30 s per million
#: SMEs), so 1 M. A larger ``population.n_firms`` is refused when the file is read, not by
#: a failed allocation.
MAX_FIRMS = {"synthetic": 5_000_000, "synth": 1_000_000}
_MEMORY = {"synthetic": "about 1 GB", "synth": "about 6.5 GB"}
#: The most organisations (firms, research organisations and intermediaries) and clusters
#: the synthetic generator may make: ``research_per_firm``, ``n_regions`` and the per-region
#: counts multiply ``n_firms``, so they are bounded too.
MAX_ORGANISATIONS = 10_000_000
MAX_CLUSTERS = 1_000_000

#: The options of the synthetic generator (``population.<name>``).
SYNTHETIC_RANGES: dict[str, Range] = {
    "n_regions": COUNT,
    "clusters_per_region": COUNT,
    "cluster_share": PROB,
    "research_per_firm": NONNEG,
    "university_share": PROB,
    "intermediaries_per_region": COUNT0,
}


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
    """A validated scenario: its name, horizon, replications and seed, the population to start from,
    the model parameters and the government instruments."""

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
        """The initial population the scenario names, built with ``seed``: the fast synthetic
        generator, the registry's synthetic ecosystem, a registry database or a CORDIS folder."""
        from innoweave.simulation.population import population_from_frames, synthetic_population

        spec = self.population
        if spec.source in MAX_FIRMS and isinstance(spec.n_firms, (int, np.integer)):
            # a spec made by hand has not been through the parser
            _check_firms(spec.source, spec.n_firms)
        if spec.source == "synthetic":
            return synthetic_population(spec.n_firms, seed=seed, params=self.params,
                                        **spec.options)
        if spec.source == "synth":
            from innoweave.registry.synth import synthesize
            from innoweave.seeding import make_rng

            rng = make_rng(seed)
            frames = synthesize(n_smes=spec.n_firms, seed=rng)
            return population_from_frames(frames, seed=rng, params=self.params)
        field_name = "population.url" if spec.source == "registry" else "population.path"
        try:
            return population_from_frames(_frames(spec), seed=seed, params=self.params)
        except ScenarioError:
            raise
        except ValueError as exc:
            raise ScenarioError(f"{field_name}: {exc}") from None

    def check_population(self, pop: Population) -> None:
        """Fail, naming the field, if the population is empty or an instrument reaches no one."""
        if pop.n_firms == 0:
            raise ScenarioError("population: no firms to simulate (empty population)")
        instruments = self.instruments_for(pop)
        stage = stage_codes(pop.age, pop.employees, pop.growth, self.params.demography)
        size_class = size_class_of(pop.employees)
        for key, cfg in instruments.items():
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
                    f"size_classes={cfg.size_classes}, "
                    f"regions={self.instruments[key].regions})")

    def instruments_for(self, pop: Population) -> dict[str, InstrumentConfig]:
        """The instruments with ``regions`` as the population's region indices: region codes
        (``"DE11"``, where the population has codes: registry, CORDIS, synth) are looked up,
        numbers checked against the regions there are. Unchanged when nothing needs it."""
        names = getattr(pop, "region_names", None)
        out = dict(self.instruments)
        for key, cfg in self.instruments.items():
            if cfg.regions is None:
                continue
            where = f"instruments.{key}.regions"
            resolved = []
            for r in cfg.regions:
                if isinstance(r, str):
                    if not names:
                        raise ScenarioError(
                            f"{where}: {r!r} is a region code, but this population's regions "
                            f"are numbered 0..{pop.n_regions - 1}: give numbers")
                    if r not in names:
                        shown = ", ".join(sorted(names)[:12])
                        more = ", ..." if len(names) > 12 else ""
                        raise ScenarioError(f"{where}: no region {r!r} in the population "
                                            f"(regions: {shown}{more})")
                    resolved.append(list(names).index(r))
                else:
                    if not 0 <= r < pop.n_regions:
                        hint = (f" (or region codes: {', '.join(sorted(names)[:6])}, ...)"
                                if names else "")
                        raise ScenarioError(f"{where}: no region {r}; this population has "
                                            f"regions 0..{pop.n_regions - 1}{hint}")
                    resolved.append(int(r))
            if tuple(resolved) != cfg.regions:
                out[key] = replace(cfg, regions=tuple(resolved))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (population, parameters and instruments as mappings), as
        recorded with every run. ``path`` (and ``population.path``) is recorded without the
        machine's folders (:func:`innoweave.provenance.recorded_path`: a shipped example as
        ``innoweave:simulation/scenarios/NAME.toml``, a path given relative as given) and
        ``sha256`` is the digest of the scenario file's contents (None without a file); a
        registry's ``population.url`` is recorded with its password hidden."""
        from innoweave.config import shown_database_url
        from innoweave.provenance import file_sha256, recorded_path

        return {
            "name": self.name, "description": self.description, "horizon": self.horizon,
            "replications": self.replications, "seed": self.seed,
            "path": recorded_path(self.path), "sha256": file_sha256(self.path),
            "population": {"source": self.population.source, "n_firms": self.population.n_firms,
                           "options": self.population.options,
                           "url": shown_database_url(self.population.url),
                           "path": recorded_path(self.population.path)},
            "params": self.params.to_dict(),
            "instruments": {k: v.to_dict() for k, v in self.instruments.items()},
        }


_FRAMES_CACHE: dict[tuple, Any] = {}


def _frames(spec: PopulationSpec):
    """The registry's or the CORDIS folder's frames (cached); a registry or folder that
    cannot be read is a :class:`ScenarioError` naming ``population.url`` / ``.path``."""
    key = (spec.source, spec.url, spec.path)
    if key not in _FRAMES_CACHE:
        if spec.source == "cordis":
            from innoweave.registry.cordis import read_cordis

            try:
                _FRAMES_CACHE[key] = read_cordis(spec.path)
            except (ValueError, KeyError, OSError) as exc:
                raise ScenarioError(f"population.path: cannot read the CORDIS folder "
                                    f"{spec.path}: {_one_line(exc)}") from None
        else:
            _FRAMES_CACHE[key] = _registry_frames(spec.url)
    return _FRAMES_CACHE[key]


def _registry_frames(url: str):
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.exc import SQLAlchemyError

    from innoweave.config import normalise_database_url
    from innoweave.registry.frames import load_frames

    engine = create_engine(normalise_database_url(url))
    where = engine.url.render_as_string(hide_password=True)
    try:
        if not inspect(engine).has_table("organisation"):
            raise ScenarioError(f"population.url: the registry at {where} is not initialised "
                                "(no tables): run `innoweave db init` and import data")
        return load_frames(engine)
    except SQLAlchemyError as exc:
        raise ScenarioError(f"population.url: cannot read the registry at {where}: "
                            f"{_one_line(getattr(exc, 'orig', None) or exc)}") from None
    finally:
        engine.dispose()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


#: The longest horizon a scenario may ask for (steps: 100 years of quarters, the steps the
#: random layout provisions, ``params.LAYOUT_STEPS``) and the most replications: beyond them a
#: mistyped number would run for days or exhaust memory rather than fail.
MAX_HORIZON = LAYOUT_STEPS
MAX_REPLICATIONS = 10_000
#: The most a run may ask for, by setting (file fields and the --horizon / -r options alike).
RUN_LIMITS = {"horizon": MAX_HORIZON, "replications": MAX_REPLICATIONS}


def _int(data: dict, key: str, default: int | None, *, minimum: int, where: str,
         maximum: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        raise ScenarioError(f"{where}{key}: missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{where}{key}: expected an integer, got {value!r}")
    if value < minimum:
        raise ScenarioError(f"{where}{key}: must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ScenarioError(f"{where}{key}: must be <= {maximum:,}, got {value:,}")
    return value


def check_name(name: Any, where: str = "name") -> str:
    """A scenario name: it names the default output folder and the rows of a comparison, so
    letters, digits, spaces, ``-``, ``_`` and ``.``, starting with a letter or digit."""
    if not isinstance(name, str):
        raise ScenarioError(f"{where}: expected a text, got {name!r}")
    if not name or len(name) > 100 or not name[0].isalnum() or not all(
            c.isalnum() or c in NAME_EXTRA_CHARS for c in name):
        raise ScenarioError(f"{where}: {name!r} is not a valid scenario name: use 1-100 "
                            "letters, digits, spaces, '-', '_' or '.', starting with a letter "
                            "or digit")
    return name


def default_name(stem: str) -> str:
    """The name of a scenario file without ``name``: its stem, made a valid name (it names
    the default output folder): other characters than :data:`NAME_EXTRA_CHARS`, letters
    and digits become ``_``, leading ones that cannot start a name are dropped
    (``.hidden.toml`` is ``hidden``), at most 100 characters; ``scenario`` if none is left."""
    safe = "".join(c if c.isalnum() or c in NAME_EXTRA_CHARS else "_" for c in str(stem))
    start = next((i for i, c in enumerate(safe) if c.isalnum()), len(safe))
    return safe[start:start + 100] or "scenario"


def parse_scenario(data: dict[str, Any], *, name: str = "scenario",
                   base_dir: Path | None = None) -> Scenario:
    """Validate a scenario mapping (as read from TOML); errors name the field."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a table")
    unknown = sorted(set(data) - TOP_LEVEL)
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown scenario key; allowed: {sorted(TOP_LEVEL)}")
    if "name" in data:
        scenario_name = check_name(data["name"])
    else:
        scenario_name = default_name(name)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"description: expected a text, got {description!r}")
    horizon = _int(data, "horizon", None, minimum=1, where="", maximum=RUN_LIMITS["horizon"])
    replications = _int(data, "replications", 1, minimum=1, where="",
                        maximum=RUN_LIMITS["replications"])
    seed = _int(data, "seed", 0, minimum=0, where="")
    population = _parse_population(data.get("population", {}), base_dir)
    overrides = data.get("params", {})
    if not isinstance(overrides, dict):
        raise ScenarioError("params: expected a table of parameter sections")
    overrides = dict(overrides)
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
    instruments_data = data.get("instruments", {})
    if not isinstance(instruments_data, dict):
        raise ScenarioError("instruments: expected a table of instrument tables")
    instruments = {key: _parse_instrument(key, table, population, params)
                   for key, table in instruments_data.items()}
    return Scenario(
        name=scenario_name, description=description,
        horizon=horizon, replications=replications, seed=seed, population=population,
        params=params, instruments=instruments,
    )


def _parse_instrument(key: str, table: Any, population: PopulationSpec,
                      params: ModelParams) -> InstrumentConfig:
    """One ``[instruments.<key>]`` table: types and :data:`INSTRUMENT_RANGES` first (so
    every error names its field), then :meth:`InstrumentConfig.from_dict`."""
    where = f"instruments.{key}"
    try:
        check_instrument_table(key, table, where)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    problem = BUDGET_RANGE.problem(table["budget"])
    if problem:
        raise ScenarioError(f"{where}.budget: {problem}")
    for name in ("stages", "kinds", "size_classes"):
        if name in table:
            value = table[name]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ScenarioError(f"{where}.{name}: expected a list of names, got {value!r}")
    if "regions" in table:
        _check_regions(table["regions"], f"{where}.regions", population)
    if "targeting" in table and (not isinstance(table["targeting"], str)
                                 or table["targeting"] not in TARGETING):
        raise ScenarioError(f"{where}.targeting: {table['targeting']!r}; allowed: "
                            f"{list(TARGETING)}")
    for name, rng in INSTRUMENT_RANGES[key].items():
        if name in table:
            problem = rng.problem(table[name])
            if problem:
                raise ScenarioError(f"{where}.{name}: {problem}")
    if key == "collaborative_call" and table.get("n_fields", 0) > params.knowledge.n_fields:
        raise ScenarioError(f"{where}.n_fields: must be <= params.knowledge.n_fields "
                            f"({params.knowledge.n_fields}), got {table['n_fields']}")
    try:
        return InstrumentConfig.from_dict(key, table, where=where)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def _check_regions(regions: Any, where: str, population: PopulationSpec) -> None:
    """A list of region numbers (0, 1, ...) or, where the population has them (registry,
    CORDIS, synth), of region codes; checked against the built population later."""
    if not isinstance(regions, list):
        raise ScenarioError(f"{where}: expected a list of region numbers or codes, "
                            f"got {regions!r}")
    numbers = [isinstance(r, int) and not isinstance(r, bool) for r in regions]
    codes = [isinstance(r, str) and r != "" for r in regions]
    if not (all(numbers) or all(codes)):
        raise ScenarioError(f"{where}: expected a list of region numbers (0, 1, ...) or of "
                            f"region codes, got {regions!r}")
    if regions and all(numbers) and min(regions) < 0:
        raise ScenarioError(f"{where}: region numbers start at 0, got {min(regions)}")
    if regions and all(codes) and population.source == "synthetic":
        raise ScenarioError(f"{where}: region codes ({regions[0]!r}) need a population with "
                            "coded regions (registry, cordis or synth); the synthetic "
                            "generator's regions are numbered 0, 1, ...")


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
    foreign = sorted(set(data) - SOURCE_KEYS[source] - {"source"})
    if foreign:
        users = [repr(s) for s in SOURCES if foreign[0] in SOURCE_KEYS[s]]
        raise ScenarioError(f"population.{foreign[0]}: not used with source {source!r} (only "
                            f"with {' or '.join(users)})")
    if source in ("synthetic", "synth"):
        n_firms = data.get("n_firms", 2000)
        if isinstance(n_firms, bool) or not isinstance(n_firms, int):
            raise ScenarioError(f"population.n_firms: expected an integer, got {n_firms!r}")
        if n_firms < 1:
            raise ScenarioError(f"population.n_firms: empty population ({n_firms} firms); "
                                "need at least 1")
        _check_firms(source, n_firms)
        options = {k: data[k] for k in sorted(SYNTHETIC_OPTIONS) if k in data}
        for key, value in options.items():
            problem = SYNTHETIC_RANGES[key].problem(value)
            if problem:
                raise ScenarioError(f"population.{key}: {problem}")
        if source == "synthetic":
            _check_synthetic_size(n_firms, options)
        return PopulationSpec(source=source, n_firms=n_firms, options=options)
    if source == "registry":
        url = data.get("url")
        if not isinstance(url, str) or not url:
            raise ScenarioError("population.url: a database URL is required for source 'registry'")
        _check_registry_url(url)
        return PopulationSpec(source=source, url=url)
    path = data.get("path")
    if not isinstance(path, str) or not path:
        raise ScenarioError("population.path: a CORDIS folder is required for source 'cordis'")
    resolved = Path(path) if base_dir is None or Path(path).is_absolute() else base_dir / path
    resolved = resolved.resolve()
    if not resolved.exists():
        raise ScenarioError(f"population.path: {resolved} does not exist")
    if not resolved.is_dir():
        raise ScenarioError(f"population.path: {resolved} is a file; a CORDIS folder is "
                            "expected")
    return PopulationSpec(source=source, path=str(resolved))


def _check_firms(source: str, n_firms: int) -> None:
    """Refuse more firms than :data:`MAX_FIRMS` allows for ``source``, naming the field."""
    if n_firms > MAX_FIRMS[source]:
        raise ScenarioError(f"population.n_firms: at most {MAX_FIRMS[source]:,} firms with "
                            f"source {source!r}, got {n_firms:,} ({_MEMORY[source]} of "
                            "memory per million firms)")


def _check_synthetic_size(n_firms: int, options: dict[str, Any]) -> None:
    """Refuse synthetic-generator options that would make more than
    :data:`MAX_ORGANISATIONS` organisations or :data:`MAX_CLUSTERS` clusters, naming the
    option (the counts as :func:`~innoweave.simulation.population.synthetic_population`
    makes them, its defaults where an option is not given)."""
    from innoweave.simulation.population import synthetic_counts, synthetic_population

    defaults = {name: p.default for name, p in
                inspect.signature(synthetic_population).parameters.items()}
    given = {**{k: defaults[k] for k in SYNTHETIC_OPTIONS}, **options}
    regions, clusters, research, intermediaries = synthetic_counts(
        n_firms, **{k: given[k] for k in ("n_regions", "clusters_per_region", "research_per_firm",
                                          "intermediaries_per_region")})  # fmt: skip
    total = n_firms + research + intermediaries
    if total > MAX_ORGANISATIONS:
        culprit = ("research_per_firm" if research >= intermediaries else
                   "n_regions" if "n_regions" in options
                   and regions > given["intermediaries_per_region"]
                   else "intermediaries_per_region")
        raise ScenarioError(
            f"population.{culprit}: the synthetic population would have {total:,} "
            f"organisations ({n_firms:,} firms, {research:,} research organisations, "
            f"{intermediaries:,} intermediaries); at most {MAX_ORGANISATIONS:,}")
    if clusters > MAX_CLUSTERS:
        culprit = ("n_regions" if "n_regions" in options and regions > given["clusters_per_region"]
                   else "clusters_per_region")
        raise ScenarioError(
            f"population.{culprit}: the synthetic population would have {clusters:,} "
            f"clusters ({regions:,} regions × {given['clusters_per_region']:,}); "
            f"at most {MAX_CLUSTERS:,}")


def _check_registry_url(url: str) -> None:
    """A registry URL that can be opened: ``sqlite:///PATH`` to an existing file (never
    created here) or ``postgresql://...``. Whether it holds a registry is checked when the
    population is built, before the first run."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from innoweave.config import normalise_database_url

    expected = "expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    try:
        parsed = make_url(normalise_database_url(url))
    except (ValueError, ArgumentError):
        raise ScenarioError(f"population.url: {url!r} is not a database URL; "
                            f"{expected}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            raise ScenarioError(f"population.url: {url!r} names no registry file; {expected}")
        if not Path(database).is_file():
            raise ScenarioError(f"population.url: there is no registry file {database} "
                                "(create one with `innoweave db init` and an import, or "
                                "`make demo`)")


def _apply_calibration(overrides: dict, calibration: Any, base_dir: Path | None) -> None:
    """``calibration = "file.toml"`` or a table with ``intent_bias`` / ``research_seek``."""
    source = ""
    if isinstance(calibration, str):
        path = Path(calibration)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        source = f" (in {path})"
        calibration = _read_toml(path, "calibration")
    if not isinstance(calibration, dict):
        raise ScenarioError("calibration: expected a file name or a table")
    allowed = {"intent_bias": "intent", "research_seek": "search"}
    for key, value in calibration.items():
        label = f"calibration.{key}{source}"
        if key not in allowed:
            raise ScenarioError(f"{label}: unknown; allowed: {sorted(allowed)}")
        section = allowed[key]
        if not isinstance(value, list) or len(value) != len(SIZE_CLASSES):
            raise ScenarioError(f"{label}: expected a list of {len(SIZE_CLASSES)} numbers "
                                f"({', '.join(SIZE_CLASSES)}), got {value!r}")
        for v in value:
            problem = PARAM_RANGES[f"{section}.{key}"].problem(v)
            if problem:
                raise ScenarioError(f"{label}: every value {problem}")
        overrides.setdefault(section, {})
        if not isinstance(overrides[section], dict):
            raise ScenarioError(f"params.{section}: expected a table")
        overrides[section] = {**overrides[section], key: value}


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a mapping; a missing, unreadable or invalid file is a ScenarioError
    naming ``what`` and the file."""
    if not path.exists():
        raise ScenarioError(f"{what}: file {path} does not exist")
    if path.is_dir():
        raise ScenarioError(f"{what}: {path} is a folder, not a TOML file")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{what}: {path} is not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{what}: {path} is not UTF-8 text ({exc.reason} at byte "
                            f"{exc.start}): save it as UTF-8") from None
    except OSError as exc:
        raise ScenarioError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    path = Path(path)
    data = _read_toml(path, "scenario")
    scenario = parse_scenario(data, name=path.stem, base_dir=path.parent)
    scenario.path = str(path)
    return scenario


def run_setting(value: int | None, default: int, name: str) -> int:
    """The ``replications`` or ``horizon`` a run uses: ``value`` where given (a whole number
    >= 1, else ValueError naming it), the scenario's ``default`` where None."""
    if value is None:
        return default
    top = RUN_LIMITS.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if top is not None and value > top:
        raise ValueError(f"{name} must be at most {top:,}, got {int(value):,}")
    return int(value)


def comparable(base: Scenario, alternatives: list[Scenario], *, replications: int | None = None,
               horizon: int | None = None) -> list[str]:
    """Check that ``alternatives`` can be compared with ``base`` under common random numbers.

    Raises :class:`ScenarioError` when two scenarios share a ``name`` (results are keyed by
    it) or an alternative's ``[population]`` differs from the base's (common random numbers
    need the same population). Returns a warning for each alternative's ``seed``,
    ``replications`` or ``horizon`` that the comparison replaces with the base's (the
    ``replications`` / ``horizon`` given here, where not None, replace every scenario's)."""
    seen: dict[str, Scenario] = {}
    for sc in [base, *alternatives]:
        if sc.name in seen:
            first = seen[sc.name]
            raise ScenarioError(
                f"name: {_label(first)} and {_label(sc)} are both named {sc.name!r}; results "
                "are kept by scenario name, so give each scenario its own `name`")
        seen[sc.name] = sc
    warnings = []
    for alt in alternatives:
        if alt.population != base.population:
            raise ScenarioError(
                f"population: {_label(alt)} has another population than the base "
                f"{_label(base)} ({_population_text(alt.population)} vs "
                f"{_population_text(base.population)}); common random numbers need the same "
                "population: give both the same [population] table")
        used = {"seed": base.seed,
                "replications": run_setting(replications, base.replications, "replications"),
                "horizon": run_setting(horizon, base.horizon, "horizon")}
        given = {"replications": replications, "horizon": horizon}
        changed = [f"{key} {getattr(alt, key)} -> {value}" for key, value in used.items()
                   if getattr(alt, key) != value and given.get(key) is None]
        if changed:
            warnings.append(f"{_label(alt)}: compared with the base's settings "
                            f"({', '.join(changed)})")
    return warnings


def _label(sc: Scenario) -> str:
    return f"{sc.path}" if sc.path else f"scenario {sc.name!r}"


def _population_text(spec: PopulationSpec) -> str:
    if spec.source in ("synthetic", "synth"):
        options = "".join(f", {k}={v}" for k, v in spec.options.items())
        return f"{spec.source}, n_firms={spec.n_firms}{options}"
    return f"{spec.source} {spec.url or spec.path}"


def example_scenarios() -> dict[str, Path]:
    """The example scenario files shipped with the package, by name."""
    folder = resources.files("innoweave.simulation") / "scenarios"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def resolve_scenario(ref: str | Path) -> Path:
    """A path as given, or the shipped example of that name (``baseline``)."""
    path = Path(ref)
    if path.exists():
        if path.is_dir():
            raise ScenarioError(f"scenario: {path} is a folder, not a scenario file")
        return path
    examples = example_scenarios()
    if str(ref) in examples:
        return examples[str(ref)]
    raise ScenarioError(f"scenario: {ref} is neither a file nor an example "
                        f"({', '.join(sorted(examples))})")
