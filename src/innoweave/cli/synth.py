"""``innoweave synth`` and ``innoweave complete``: synthetic ecosystems and attribute completion.

``synth`` writes a seeded synthetic ecosystem (:func:`innoweave.registry.synth.synthesize`)
into the registry; ``complete`` fills the attributes the registry's organisations lack
(employees, finance, talent, IP, stage, …) with the calibrated attribute model, flagging
every drawn value as synthetic.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

import typer

from innoweave.cli.common import EXIT_BAD_INPUT, err, fail, print_json, progress_bar, seed_option
from innoweave.cli.registry import JsonOpt, UrlOpt, open_registry, registry_errors

SeedOpt = Annotated[int, seed_option()]


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add ``synth`` and ``complete`` to the main app."""
    app.command("synth")(synth)
    app.command("complete")(complete)


def _write(engine, frames, quiet: bool, delete=None) -> dict[str, int]:
    from innoweave.registry.writer import write_frames

    totals = {"cluster": len(frames.clusters), "organisation": len(frames.organisations),
              "project": len(frames.projects), "participation": len(frames.participations)}  # fmt: skip
    with progress_bar(quiet=quiet) as progress:
        tasks = {name: progress.add_task(f"writing {name}s", total=n) for name, n in totals.items() if n}

        def advance(table: str, n: int) -> None:
            if table in tasks:
                progress.advance(tasks[table], n)

        with registry_errors(engine):
            return write_frames(engine, frames, progress=advance, delete=delete)


def synth(
    smes: Annotated[int, typer.Option("--smes", help="Number of SMEs to generate.")] = 1000,
    seed: SeedOpt = 0,
    regions: Annotated[int | None, typer.Option(help="Number of regions (default scales with --smes).")] = None,
    clusters: Annotated[int | None, typer.Option(help="Number of clusters (default scales with --smes).")] = None,
    projects_per_sme: Annotated[float, typer.Option(help="Projects in the collaboration history per SME.")] = 0.2,
    first_year: Annotated[int, typer.Option(help="First start year of the history.")] = 2014,
    last_year: Annotated[int, typer.Option(help="Last start year of the history.")] = 2023,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a synthetic ecosystem of another run "
                           "(its records that this run does not rewrite are deleted).")
    ] = False,  # fmt: skip
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Generate a synthetic ecosystem and write it into the registry (upsert by id).

    The same command twice leaves the registry as it was. A registry that holds synthetic
    records of another run (another size, seed or history) is refused, so that two
    ecosystems are not mixed, unless --replace is given."""
    from innoweave.registry.stages import stage_distribution
    from innoweave.registry.synth import MAX_REGIONS, YEAR_RANGE, synthesize

    if smes < 1:
        raise fail(f"--smes must be at least 1, got {smes}", EXIT_BAD_INPUT)
    if regions is not None and not 1 <= regions <= MAX_REGIONS:
        raise fail(f"--regions must be between 1 and {MAX_REGIONS}, got {regions}", EXIT_BAD_INPUT)
    if clusters is not None and clusters < 0:
        raise fail(f"--clusters must be >= 0, got {clusters}", EXIT_BAD_INPUT)
    if not math.isfinite(projects_per_sme) or projects_per_sme < 0:
        raise fail(f"--projects-per-sme must be a finite number >= 0, got {projects_per_sme}", EXIT_BAD_INPUT)
    if last_year < first_year:
        raise fail(f"--last-year ({last_year}) must not precede --first-year ({first_year})", EXIT_BAD_INPUT)
    for flag, year in (("--first-year", first_year), ("--last-year", last_year)):
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise fail(f"{flag} must lie in {YEAR_RANGE[0]}..{YEAR_RANGE[1]}, got {year}", EXIT_BAD_INPUT)
    start = time.perf_counter()
    engine = open_registry(database_url, create=True)
    if not json_out:
        err.print(f"generating {smes:,} SMEs (seed {seed}) …")
    frames = synthesize(n_smes=smes, seed=seed, n_regions=regions, n_clusters=clusters,
                        projects_per_sme=projects_per_sme, years=(first_year, last_year))
    generated = time.perf_counter() - start
    stale = _stale_synthetic(engine, frames, replace)
    written = _write(engine, frames, json_out, delete=stale)
    result = {
        "seed": seed,
        "settings": frames.settings,
        "written": written,
        "deleted": {table: len(ids) for table, ids in stale.items()},
        "stage_distribution": stage_distribution(frames),
        "seconds_generate": round(generated, 2),
        "seconds": round(time.perf_counter() - start, 2),
    }
    if json_out:
        print_json(result)
    else:
        err.print(f"wrote {written['organisations']:,} organisations, {written['projects']:,} projects, "
                  f"{written['participations']:,} participations, {written['clusters']:,} clusters "
                  f"in {result['seconds']} s")  # fmt: skip


def _stale_synthetic(engine, frames, replace: bool) -> dict[str, list[str]]:
    """The synthetic records of another run that this one would leave beside its own: none,
    or refused (exit 2) without ``replace``; with it, those to delete (checked first that no
    record from another source refers to them)."""
    from innoweave.registry.synth import SOURCE
    from innoweave.registry.writer import leftovers, references_to

    with registry_errors(engine, writing=False):
        stale = leftovers(engine, frames, SOURCE)
        if not any(stale.values()):
            return {}
        counts = ", ".join(f"{len(ids):,} {table}(s)" for table, ids in stale.items() if ids)
        if not replace:
            raise fail(
                f"the registry already holds a synthetic ecosystem from another run ({counts} "
                "that this run would not overwrite): give --replace to replace it, or use another "
                "--database-url; nothing written", EXIT_BAD_INPUT)  # fmt: skip
        blocking = references_to(engine, stale)
    if blocking:
        raise fail(f"--replace would delete synthetic records that {len(blocking)} record(s) from "
                   f"other sources refer to (e.g. {blocking[0]}); nothing written", EXIT_BAD_INPUT)  # fmt: skip
    err.print(f"replacing the synthetic ecosystem of another run: deleting {counts}", highlight=False)
    return stale


def complete(
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Fill missing attributes of the registry's firms and research organisations."""
    import numpy as np

    from innoweave.registry import RegistryFrames, load_frames
    from innoweave.registry.attributes import AttributeModel
    from innoweave.registry.stages import stage_distribution

    start = time.perf_counter()
    engine = open_registry(database_url)
    frames = load_frames(engine)
    if frames.organisations.empty:
        raise fail("the registry has no organisations: import or synthesise some first", EXIT_BAD_INPUT)
    def flagged(table):  # the synthetic fields of each organisation, as sets
        return [set(v) if isinstance(v, (list, tuple)) else set() for v in table["synthetic_fields"]]

    before = flagged(frames.organisations)
    model = AttributeModel()
    completed = model.complete(frames, seed=seed)
    orgs = completed.organisations
    after = flagged(orgs)
    # drawn now, and cleared (a stage an older model drew on a firm that is not an SME)
    drawn = np.array([len(a - b) for a, b in zip(after, before, strict=True)])
    cleared = np.array([len(b - a) for a, b in zip(after, before, strict=True)])
    changed = (drawn > 0) | (cleared > 0)
    written = _write(engine, RegistryFrames(organisations=orgs[changed]), json_out)
    result = {
        "seed": seed,
        "organisations": len(orgs),
        "completed": int(changed.sum()),
        "completed_by_kind": {k: int(v) for k, v in orgs.loc[changed, "kind"].value_counts().items()},
        "values_drawn": int(drawn.sum()),
        "drawn_values_cleared": int(cleared.sum()),
        "written": written["organisations"],
        "stage_distribution": stage_distribution(completed),
        "shares_source": model.shares_.provenance,
        "seconds": round(time.perf_counter() - start, 2),
    }
    if json_out:
        print_json(result)
    else:
        err.print(f"completed {result['completed']:,} of {len(orgs):,} organisations "
                  f"({result['values_drawn']:,} values drawn, flagged synthetic) in {result['seconds']} s")  # fmt: skip
