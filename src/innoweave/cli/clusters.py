"""`innoweave clusters` commands: ``lq``, ``reproduce-uscmp``, ``related``, ``network``, ``spatial``.

Thin wrappers over :mod:`innoweave.clusters`: read files or the registry, fit the analysis,
print JSON on stdout (``--json`` / ``--geojson``) or a table on stderr, and save tables and
pictures where asked. Bad input exits with code 2 and a message naming what and where.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from innoweave.cli.common import (
    CordisOpt,
    JsonOpt,
    UrlOpt,
    check_out_dir,
    check_out_file,
    check_table_path,
    comma_list,
    err,
    fail,
    note,
    print_json,
    seed_option,
    table_job,
    write_table,
)

app = typer.Typer(
    help="Industrial clusters: specialisation, relatedness, networks, spatial.",
    no_args_is_help=True,
)

SeedOpt = Annotated[int, seed_option("Seed for every random choice.")]
DuplicatesOpt = Annotated[
    str, typer.Option(help="Repeated keys with different values: error, sum or first.")
]


def _input_errors():
    from innoweave.clusters.inputs import ClusterInputError
    from innoweave.registry.cordis import CordisFormatError

    return (ClusterInputError, CordisFormatError, FileNotFoundError, ValueError)


def _show_report(report) -> None:
    for text in report.notes:
        note(text)


#: Suffixes of the workbooks ``clusters lq --data`` reads (first sheet) besides CSV.
WORKBOOKS = (".xlsx", ".xlsm")


def _not_utf8(path: Path, workbook_ok: bool) -> Exception:
    from innoweave.clusters.inputs import ClusterInputError

    return ClusterInputError(f"{path}: not UTF-8 text; save it as CSV UTF-8 (in Excel: 'CSV UTF-8')"
                             + (" or as .xlsx" if workbook_ok else ""))  # fmt: skip


def _csv_header(path: Path, *, workbook_ok: bool = False) -> list[str]:
    """The column names of CSV ``path`` (a missing, empty or unreadable file stops, naming it;
    ``workbook_ok``: the messages may suggest a workbook instead)."""
    from innoweave.clusters.inputs import ClusterInputError

    if not path.is_file():
        raise ClusterInputError(
            f"{path}: cannot be read ({'no such file' if not path.exists() else 'not a file'})"
        )
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise ClusterInputError(f"{path}: the file is empty (no header, no rows)") from None
    except UnicodeDecodeError:
        raise _not_utf8(path, workbook_ok) from None
    except (OSError, pd.errors.ParserError) as exc:
        raise ClusterInputError(f"{path}: cannot be read as CSV ({exc})") from exc
    if len(header) == 1 and ";" in header[0]:
        raise ClusterInputError(
            f"{path}: the file looks separated by ';' (header {header[0]!r}): save it "
            "comma-separated (CSV UTF-8)" + (" or as .xlsx" if workbook_ok else "")
        )
    return header


def _read_workbook(path: Path, text_columns: list[str] | None = None, *, header_only: bool = False) -> pd.DataFrame:
    """The first sheet of workbook ``path`` (``text_columns`` kept as text)."""
    from innoweave.clusters.inputs import ClusterInputError

    try:
        return pd.read_excel(path, sheet_name=0, engine="openpyxl", nrows=0 if header_only else None,
                             dtype={c: str for c in text_columns or []})  # fmt: skip
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        raise ClusterInputError(
            f"{path}: not a readable Excel workbook ({type(exc).__name__}); save it again as .xlsx "
            "or as CSV UTF-8"
        ) from None


def _decoded(path: Path, encoding: str | None) -> tuple[str, str]:
    """The text and delimiter of CSV ``path``, detected as the registry's file import
    detects them (UTF-8, UTF-16, plainly Chinese GB18030, or ``encoding``; comma,
    semicolon or tab); a missing, empty or undecodable file stops, naming it."""
    from innoweave.clusters.inputs import ClusterInputError
    from innoweave.registry.files import FileFormatError, decode, detect_delimiter

    if not path.is_file():
        raise ClusterInputError(
            f"{path}: cannot be read ({'no such file' if not path.exists() else 'not a file'})"
        )
    data = path.read_bytes()
    if not data.strip():
        raise ClusterInputError(f"{path}: the file is empty (no header, no rows)")
    try:
        text, _ = decode(data, str(path), encoding)
    except FileFormatError as exc:
        raise ClusterInputError(f"{exc} (or save it as .xlsx)") from None
    return text, detect_delimiter(text)


def _parse_text(path: Path, text: str, delimiter: str, **options) -> pd.DataFrame:
    from innoweave.clusters.inputs import ClusterInputError

    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, **options)
    except pd.errors.EmptyDataError:
        raise ClusterInputError(f"{path}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        raise ClusterInputError(f"{path}: cannot be read as CSV ({exc})") from exc


def _table_header(path: Path, encoding: str | None = None) -> list[str]:
    """The header of CSV ``path`` (:func:`_decoded`), or of a workbook's first sheet."""
    if path.suffix.lower() in WORKBOOKS and path.is_file():
        return [str(c) for c in _read_workbook(path, header_only=True).columns]
    return [str(c) for c in _parse_text(path, *_decoded(path, encoding), nrows=0).columns]


def _read_csv(path: Path, text_columns: list[str], encoding: str | None = None, *,
              numbers: tuple[str, ...] = (), counts: tuple[str, ...] = ()) -> pd.DataFrame:
    """CSV (or workbook: first sheet) ``path`` with ``text_columns`` kept as text and the
    text cells of ``numbers`` read as numbers as the registry's import reads them (a
    decimal comma; ``1.250`` by the file's decimal mark, refused in ``counts`` where the
    file shows none); a file without rows stops, naming it. Rows keep their file line
    numbers in the messages (the header is line 1 in both)."""
    from innoweave.clusters.inputs import ClusterInputError, text_numbers

    if path.suffix.lower() in WORKBOOKS and path.is_file():
        table = _read_workbook(path, text_columns)  # one read: absent text columns are ignored
        table.columns = [str(c) for c in table.columns]
    else:
        text, delimiter = _decoded(path, encoding)
        table = _parse_text(path, text, delimiter, dtype=str)
        table.columns = [str(c) for c in table.columns]
    if table.empty:
        raise ClusterInputError(f"{path}: no rows (only a header)")
    return text_numbers(table, list(numbers), str(path), counts=counts)


def _check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    """Stop (exit 2) unless ``value`` is one of ``choices``: before any work."""
    if value not in choices:
        raise fail(f"{option} must be {', '.join(choices[:-1])} or {choices[-1]}, not {value!r}")


def _check_positive(value: float, option: str) -> None:
    if not value > 0:
        raise fail(f"{option} must be positive, not {value:g}")


def _check_picture(path: Path | None, option: str) -> None:
    """Stop (exit 2) unless a picture can be written at ``path``: suffix and folder."""
    if path is None:
        return
    from innoweave.clusters.pictures import PICTURE_SUFFIXES

    if path.suffix.lower() not in PICTURE_SUFFIXES:
        raise fail(
            f"{option} must end in {', '.join(PICTURE_SUFFIXES[:-1])} or {PICTURE_SUFFIXES[-1]}, "
            f"got {path.name!r}"
        )
    check_out_file(path, option)


def _parse_kinds(kinds: str) -> tuple[str, ...] | None:
    """``--kinds`` as registry kinds (None for 'all'); an unknown kind stops (exit 2)."""
    from innoweave.registry.kinds import check_kinds

    names = comma_list(kinds)
    if [n.lower() for n in names] == ["all"]:
        return None
    if "all" in (n.lower() for n in names):
        raise fail("--kinds: 'all' stands alone (every kind); leave it out or give only kinds")
    try:
        return check_kinds(names)
    except ValueError as exc:
        raise fail(f"--kinds: {exc} (or all)") from None


DUPLICATES = ("error", "sum", "first")


def _load_frames(cordis: Path | None, database_url: str | None):
    if cordis is not None:
        from innoweave.registry.cordis import read_cordis

        return read_cordis(cordis)
    from innoweave.cli.registry import open_registry
    from innoweave.registry.frames import load_frames

    frames = load_frames(open_registry(database_url))
    if frames.organisations.empty:
        raise fail(
            "the registry holds no organisations: import some (`innoweave import ...`) or pass --cordis DIR"
        )
    return frames


#: Columns of the ``lq`` table that count (people, establishments): written as whole numbers.
COUNT_COLUMNS = ("employment", "establishments", "region_type_employment", "national_employment",
                 "national_type_employment")  # fmt: skip


def _whole_counts(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each count column whose values are all whole numbers as integers
    (gaps stay empty), so that a file shows 1200, not 1200.00 or 1200.0; counts with
    fractions (full-time equivalents) stay as they are."""
    table = table.copy()
    for column in COUNT_COLUMNS:
        if column in table.columns and pd.api.types.is_float_dtype(table[column]):
            given = table[column].dropna()
            if given.map(float.is_integer).all():
                table[column] = table[column].astype("Int64")
    return table


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", force_ascii=False))


def _file_quotients(data: Path, region, cluster, code, type_column, employment, establishments, crosswalk,
                    crosswalk_code, crosswalk_cluster, crosswalk_name, crosswalk_type, duplicates,
                    encoding=None):
    """``clusters lq --data``: the file's rows (mapped through a crosswalk with ``--code``)
    fitted by :class:`LocationQuotients`; returns ``(quotients, report)``."""
    from innoweave.clusters import Columns, Crosswalk, LocationQuotients
    from innoweave.clusters.inputs import InputReport
    from innoweave.clusters.specialisation import USCMP_COLUMNS
    from innoweave.clusters.uscmp import with_cluster_type

    header = set(_table_header(data, encoding))
    preset = USCMP_COLUMNS if USCMP_COLUMNS.cluster in header and code is None else Columns()
    source = None
    report = InputReport()
    if code is not None:
        walk = (
            Crosswalk.from_csv(
                crosswalk,
                code=crosswalk_code,
                cluster=crosswalk_cluster,
                cluster_name=crosswalk_name,
                type=crosswalk_type,
            )
            if crosswalk
            else Crosswalk.uscmp_2016()
        )
        counted = (employment or "employment", establishments or "establishments")
        raw = _read_csv(data, [region or "region", code], encoding, numbers=counted, counts=counted)
        rows, report = walk.aggregate(
            raw,
            region=region or "region",
            code=code,
            employment=employment or "employment",
            establishments=establishments or "establishments",
            duplicates=duplicates,
            source=str(data),
        )
        columns = Columns()
    else:
        columns = Columns(
            region=region or preset.region,
            cluster=cluster or preset.cluster,
            type=type_column or preset.type,
            employment=employment or preset.employment,
            establishments=establishments or preset.establishments,
            national_share=preset.national_share,
            cluster_name=preset.cluster_name,
            region_name=preset.region_name,
        )
        counted = (columns.employment, columns.establishments)
        rows = with_cluster_type(_read_csv(data, [columns.region, columns.cluster], encoding,
                                           numbers=(*counted, columns.national_share), counts=counted))
        source = str(data)  # rows are the file's own, so the file lines named are right
    quotients = LocationQuotients(columns=columns, duplicates=duplicates, source=source).fit(
        rows
    )
    return quotients, report


@app.command("lq")
def lq(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="CSV (or .xlsx: first sheet) of region × cluster (or × industry code) rows."),
    ] = None,
    registry: Annotated[
        bool,
        typer.Option("--registry", help="Instead of --data: the registry's firms by region × sector (first NACE division)."),
    ] = False,
    measure: Annotated[
        str,
        typer.Option(help="With --registry: employment (firms' employees) or establishments (firm counts)."),
    ] = "employment",
    region_prefix: Annotated[
        int | None,
        typer.Option(min=1, help="With --registry: compare regions by this many leading characters (4 = NUTS-2)."),
    ] = None,
    cordis: CordisOpt = None,
    database_url: UrlOpt = None,
    region: Annotated[
        str | None,
        typer.Option(help="Region column (default: region, or the U.S. Cluster Mapping name)."),
    ] = None,
    cluster: Annotated[
        str | None, typer.Option(help="Cluster column of cluster-level rows.")
    ] = None,
    code: Annotated[
        str | None,
        typer.Option(
            help="Industry-code column: rows are mapped to clusters through the crosswalk."
        ),
    ] = None,
    type_column: Annotated[str | None, typer.Option("--type", help="Traded/local column.")] = None,
    employment: Annotated[str | None, typer.Option(help="Employment column.")] = None,
    establishments: Annotated[str | None, typer.Option(help="Establishments column.")] = None,
    crosswalk: Annotated[
        Path | None, typer.Option(help="Crosswalk CSV (default: 2012 NAICS → U.S. 2016 clusters).")
    ] = None,
    crosswalk_code: Annotated[str, typer.Option(help="Code column of the crosswalk.")] = "naics",
    crosswalk_cluster: Annotated[
        str, typer.Option(help="Cluster-code column of the crosswalk.")
    ] = "cluster_code",
    crosswalk_name: Annotated[
        str, typer.Option(help="Cluster-name column of the crosswalk.")
    ] = "cluster_name",
    crosswalk_type: Annotated[
        str, typer.Option(help="Traded/local column of the crosswalk.")
    ] = "traded_local",
    duplicates: DuplicatesOpt = "error",
    min_regions: Annotated[
        int, typer.Option(min=2, help="Fewest regions with employment for flags.")
    ] = 10,
    top: Annotated[
        int, typer.Option(min=1, help="Rows shown / listed in JSON, highest LQ first.")
    ] = 20,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the full table (LQ, flags, stars) to this .csv or .xlsx file."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding of a --data CSV, e.g. cp1252 (default: detected as "
                     "`import file` does: UTF-8, UTF-16, plainly Chinese GB18030)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Location quotients, strong-cluster flags and European stars by region × cluster.

    From a file of region × cluster (or industry-code) rows (--data), or from the registry's
    firms by region × sector (--registry, read from the database or --cordis)."""
    _check_choice(duplicates, DUPLICATES, "--duplicates")
    check_table_path(out, "--out")
    if (data is None) == (not registry and cordis is None):
        raise fail("give --data FILE or --registry (the registry's firms), not both" if data is not None
                   else "give --data FILE (region × cluster rows) or --registry (the registry's firms)")  # fmt: skip
    if data is None:
        from innoweave.clusters.specialisation import REGISTRY_MEASURES

        _check_choice(measure, REGISTRY_MEASURES, "--measure")
    from innoweave.clusters import ClusterStars, LocationQuotients, StrongClusters
    from innoweave.clusters.specialisation import specialisation_table

    try:
        if data is None:
            from innoweave.clusters.specialisation import REGISTRY_COLUMNS, registry_employment

            rows, report = registry_employment(_load_frames(cordis, database_url), measure=measure,
                                               region_prefix=region_prefix)  # fmt: skip
            quotients = LocationQuotients(columns=REGISTRY_COLUMNS, duplicates=duplicates).fit(rows)
        else:
            quotients, report = _file_quotients(data, region, cluster, code, type_column, employment,
                                                establishments, crosswalk, crosswalk_code, crosswalk_cluster,
                                                crosswalk_name, crosswalk_type, duplicates, encoding)  # fmt: skip
        flags = StrongClusters(min_regions=min_regions).fit(quotients)
        stars = ClusterStars().fit(quotients)
    except _input_errors() as exc:
        raise fail(str(exc)) from None
    report.merge(quotients.report_)
    table = specialisation_table(quotients, flags, stars).drop(columns=["line"])
    if out:
        write_table(_whole_counts(table), out)
    best = table.sort_values("lq", ascending=False).head(top)
    result = {
        "rows": len(table),
        "regions": int(table["region"].nunique()),
        "clusters": int(table["cluster"].nunique()),
        "flags": flags.summary(),
        "flags_skipped_clusters": _records(flags.skipped_),
        "stars": {str(k): int(v) for k, v in table["stars"].value_counts().sort_index().items()},
        "top": _records(best),
        "input_report": report.to_dict(),
    }
    if json_out:
        print_json(result)
        return
    _show_report(report)
    shown = Table(title=f"Highest location quotients ({len(table):,} rows)")
    for column in ("region", "cluster", "type", "employment", "lq", "strong", "stars"):
        shown.add_column(column)
    for row in best.itertuples(index=False):
        shown.add_row(
            str(getattr(row, "region_name", None) or row.region),
            str(getattr(row, "cluster_name", None) or row.cluster),
            str(row.type),
            f"{row.employment:,.0f}",
            f"{row.lq:.2f}",
            str(row.strong),
            str(row.stars),
        )
    err.print(shown)
    if len(flags.skipped_):
        err.print(
            f"flags not computed for {len(flags.skipped_)} cluster(s) with fewer than {min_regions} regions with employment"
        )


@app.command("reproduce-uscmp")
def reproduce(
    data: Annotated[
        Path, typer.Option("--data", help="U.S. Cluster Mapping CSV (e.g. state_cluster_2016.csv).")
    ],
    min_regions: Annotated[
        int, typer.Option(min=2, help="Fewest regions with employment for flags.")
    ] = 10,
    duplicates: DuplicatesOpt = "error",
    json_out: JsonOpt = False,
) -> None:
    """Recompute published LQs and strong-cluster flags; count agreements."""
    _check_choice(duplicates, DUPLICATES, "--duplicates")
    from innoweave.clusters.uscmp import read_uscmp, reproduce_uscmp

    try:
        _csv_header(data)
        result, report = reproduce_uscmp(
            read_uscmp(data), min_regions=min_regions, duplicates=duplicates, source=str(data)
        )
    except _input_errors() as exc:
        raise fail(str(exc)) from None
    _show_report(report)
    for text in result.get("notes", []):
        note(text)
    if json_out:
        print_json(result)
        return
    flags = result["flags"]
    err.print(
        f"LQ reproduced within 1e-6 for {result['lq_within_1e-6']:,} of {result['rows']:,} rows "
        f"(max relative error {result['lq_max_rel_error']:.2e})"
    )
    err.print(
        "flags agreeing on "
        + ", ".join(
            f"{k} {flags[k]:,}" for k in ("strong", "strong10", "significant", "qualifying")
        )
        + f" of {flags['compared']:,} rows compared"
    )


@app.command("related")
def related(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="related_clusters.json (default: the shared data copy)."),
    ] = None,
    percentile: Annotated[
        float | None,
        typer.Option(
            help="Link pairs whose measure percentile (0-100) reaches this "
            "(default: the published flag)."
        ),
    ] = None,
    measure: Annotated[
        str,
        typer.Option(
            help="Relatedness measure used as weight (cr_all, cr_lc, cr_lcemp, "
            "cr_lcest, cr_io, cr_occ)."
        ),
    ] = "cr_all",
    resolution: Annotated[float, typer.Option(help="Louvain resolution (positive).")] = 1.0,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Related cluster categories as a weighted graph, with groups of related clusters."""
    if percentile is not None and not 0 <= percentile <= 100:
        raise fail(f"--percentile must lie between 0 and 100, not {percentile:g}")
    _check_positive(resolution, "--resolution")
    from innoweave.clusters.relatedness import MEASURES, ClusterRelatedness, read_related_clusters

    _check_choice(measure, MEASURES, "--measure")
    try:
        model = ClusterRelatedness(
            measure=measure, percentile=percentile, resolution=resolution, seed=seed
        ).fit(read_related_clusters(data))
    except _input_errors() as exc:
        raise fail(str(exc)) from None
    groups = model.groups_
    result = {
        "settings": model.settings_,
        "clusters": model.graph_.number_of_nodes(),
        "links": model.graph_.number_of_edges(),
        "modularity": model.modularity_,
        "agreement_with_published_flag": model.agreement_,
        "groups": [
            {"group": int(g), "clusters": rows["name"].tolist()}
            for g, rows in groups.groupby("group")
        ],
        "links_list": [
            {"a": a, "b": b, "weight": d["weight"]} for a, b, d in model.graph_.edges(data=True)
        ],
    }
    if model.report_.notes:
        result["notes"] = list(model.report_.notes)
    _show_report(model.report_)
    if json_out:
        print_json(result)
        return
    for group in result["groups"]:
        if len(group["clusters"]) > 1:
            err.print(f"[bold]group {group['group']}[/]: " + "; ".join(group["clusters"]))
    err.print(
        f"{sum(len(g['clusters']) == 1 for g in result['groups'])} cluster(s) without related clusters"
    )


@app.command("network")
def network(
    cordis: CordisOpt = None,
    database_url: UrlOpt = None,
    method: Annotated[
        str, typer.Option(help="louvain (NetworkX) or leiden (igraph, for large graphs).")
    ] = "louvain",
    resolution: Annotated[float, typer.Option(help="Modularity resolution.")] = 1.0,
    max_consortium: Annotated[
        int, typer.Option(min=2, help="Projects with more members are not linked.")
    ] = 40,
    weighting: Annotated[
        str, typer.Option(help="inverse: 1/(n-1) per project pair; count: 1.")
    ] = "inverse",
    betweenness_samples: Annotated[
        int, typer.Option(min=1, help="Source nodes sampled for betweenness.")
    ] = 256,
    seed: SeedOpt = 0,
    top: Annotated[int, typer.Option(min=1, help="Communities and brokers listed.")] = 10,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for communities.csv, centrality.csv, policy_targets.csv."),
    ] = None,
    picture: Annotated[
        Path | None, typer.Option(help="Save the network picture (.png, .svg, .pdf or .html).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Communities of the collaboration network, positions, brokers and SMEs left out."""
    from innoweave.clusters.network import METHODS, WEIGHTINGS, CollaborationCommunities

    _check_choice(method, METHODS, "--method")
    _check_choice(weighting, WEIGHTINGS, "--weighting")
    _check_positive(resolution, "--resolution")
    check_out_dir(out, "--out")
    _check_picture(picture, "--picture")
    try:
        frames = _load_frames(cordis, database_url)
        model = CollaborationCommunities(
            method=method,
            resolution=resolution,
            max_consortium=max_consortium,
            weighting=weighting,
            betweenness_samples=betweenness_samples,
            seed=seed,
        ).fit(frames)
    except _input_errors() as exc:
        raise fail(str(exc)) from None
    _show_report(model.report_)
    if out:
        from innoweave.writing import write_all

        write_all([  # the three files or none of them
            table_job(model.communities_, out / "communities.csv"),
            table_job(model.centrality_, out / "centrality.csv", index=True),
            table_job(model.policy_targets_, out / "policy_targets.csv", index=True),
        ])
    if picture:
        from innoweave.clusters.pictures import save_network_picture

        save_network_picture(model, picture, seed=seed)
        err.print(f"network picture saved to {picture}")
    summary = model.summary(top=top)
    summary["policy_targets"]["first"] = _records(model.policy_targets_.head(top).reset_index())
    if json_out:
        print_json(summary)
        return
    shown = Table(
        title=f"{summary['communities']} communities of {summary['organisations']:,} organisations "
        f"(modularity {summary['modularity']:.3f})"
    )
    for column in ("community", "size", "SMEs", "region", "topics", "firms/research/gov/interm."):
        shown.add_column(column)
    for row in model.communities_.head(top).itertuples(index=False):
        shown.add_row(
            str(row.community),
            str(row.size),
            str(row.smes),
            f"{row.dominant_region} ({row.dominant_region_share:.0%})",
            ", ".join(row.topics[:4]),
            f"{row.helix_firms:.0%}/{row.helix_research:.0%}/{row.helix_government:.0%}/{row.helix_intermediaries:.0%}",
        )
    err.print(shown)
    targets = summary["policy_targets"]
    err.print(
        f"policy targets: {targets['isolated_smes']:,} isolated and {targets['peripheral_smes']:,} peripheral SMEs"
    )


@app.command("spatial")
def spatial(
    cordis: CordisOpt = None,
    database_url: UrlOpt = None,
    eps_km: Annotated[float, typer.Option(min=0.001, help="Neighbourhood radius in km.")] = 15.0,
    min_samples: Annotated[
        int, typer.Option(min=1, help="Neighbours (itself included) for a core organisation.")
    ] = 5,
    min_similarity: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Least topic cosine similarity of neighbours (0: off)."
        ),
    ] = 0.05,
    kinds: Annotated[
        str,
        typer.Option(
            help="Comma-separated kinds clustered: sme, large_firm, company, university, "
            "research_institute, government, intermediary, other ('all' for every kind)."
        ),
    ] = "sme",
    out: Annotated[
        Path | None, typer.Option(help="Folder for clusters.geojson, points.csv, clusters.csv.")
    ] = None,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Save the map (.png, .svg, .pdf or .html).")
    ] = None,
    geojson: Annotated[
        bool,
        typer.Option(
            "--geojson",
            help="Print the GeoJSON FeatureCollection on stdout (not with --json: use --out "
            "for both).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Spatial clusters of SMEs (great-circle DBSCAN with topic similarity); GeoJSON and map."""
    if geojson and json_out:
        raise fail(
            "--geojson and --json both print on stdout: choose one (--out DIR also writes "
            "clusters.geojson, so `--json --out DIR` gives both)"
        )
    kind_list = _parse_kinds(kinds)
    check_out_dir(out, "--out")
    _check_picture(map_path, "--map")
    from innoweave.clusters.spatial import SpatialClusters

    try:
        frames = _load_frames(cordis, database_url)
        model = SpatialClusters(
            eps_km=eps_km, min_samples=min_samples, min_similarity=min_similarity, kinds=kind_list
        ).fit(frames)
    except _input_errors() as exc:
        raise fail(str(exc)) from None
    _show_report(model.report_)
    if out:
        from innoweave.writing import write_all

        geojson_text = json.dumps(model.to_geojson(), ensure_ascii=False)
        write_all([  # the three files or none of them
            (out / "clusters.geojson", lambda target: target.write_text(geojson_text, encoding="utf-8")),
            table_job(model.points_, out / "points.csv"),
            table_job(model.clusters_, out / "clusters.csv"),
        ])
    if map_path:
        from innoweave.clusters.pictures import save_map

        save_map(model, map_path)
        err.print(f"map saved to {map_path}")
    if geojson:
        print_json(model.to_geojson())
        return
    located = model.points_
    result = {
        "settings": model.settings_,
        "organisations_placed": len(located),
        "in_clusters": int((located["cluster"] >= 0).sum()),
        "clusters": len(model.clusters_),
        "cluster_table": _records(model.clusters_),
        "input_report": model.report_.to_dict(),
    }
    if json_out:
        print_json(result)
        return
    shown = Table(
        title=f"{result['clusters']} spatial clusters; {result['in_clusters']:,} of {len(located):,} organisations in one"
    )
    for column in ("cluster", "size", "region", "radius km", "topics"):
        shown.add_column(column)
    for row in model.clusters_.head(20).itertuples(index=False):
        shown.add_row(
            str(row.cluster),
            str(row.size),
            str(row.dominant_region),
            f"{row.radius_km:.1f}",
            ", ".join(row.topics),
        )
    err.print(shown)
