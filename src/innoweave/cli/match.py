"""`innoweave match` commands: recommend partners, assign them under capacity, evaluate.

``recommend`` and ``assign`` read the registry database (optionally only up to
``--train-end``) and fit a :class:`~innoweave.matching.recommender.PartnerRecommender`;
``assign`` can also take a ready candidate file. ``evaluate`` runs the ``cordis-de`` preset
or the generic file protocol. ``--json`` prints machine output on stdout; tables and
progress go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

import innoweave
from innoweave.cli.common import (
    JsonOpt,
    UrlOpt,
    check_table_path,
    comma_list,
    err,
    fail,
    note,
    print_json,
    seed_option,
    unknown_organisation,
    write_table,
)

app = typer.Typer(help="Recommend, assign and evaluate collaboration partners.", no_args_is_help=True)

TrainEndOpt = Annotated[str | None, typer.Option("--train-end", help=(
    "Learn only from projects starting before DATE (YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY)."))]
ModeOpt = Annotated[str, typer.Option("--mode", help="research, alliance, intermediary or cluster.")]
SeedOpt = Annotated[int, seed_option()]


def _frames(database_url: str | None):
    from innoweave.cli.registry import open_registry
    from innoweave.registry.frames import load_frames

    frames = load_frames(open_registry(database_url))
    if len(frames.organisations) == 0:
        raise fail("the registry is empty: import organisations first (`innoweave import ...`)")
    return frames


def _train_end(train_end: str | None) -> pd.Timestamp | None:
    """``--train-end`` as a date: YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY, never guessed (exit 2
    otherwise, listing them)."""
    from innoweave.matching.inputs import InputFileError, parse_date_option

    try:
        return parse_date_option(train_end, "--train-end")
    except InputFileError as exc:
        raise fail(str(exc)) from None


def _check_mode(mode: str) -> None:
    from innoweave.matching.recommender import MODES

    if mode not in MODES:
        raise fail(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")


def _fit(frames, mode: str, train_end: pd.Timestamp | None, seed: int):
    from innoweave.matching.recommender import PartnerRecommender

    with err.status(f"fitting the {mode} recommender"):
        try:
            return PartnerRecommender(modes=(mode,), seed=seed).fit(frames, train_end=train_end)
        except ValueError as exc:
            raise fail(str(exc)) from None


def _warn(message: str) -> None:
    err.print(f"[bold yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


class OrgRefs:
    """How ``match`` reads a reference to an organisation — on the command line (``match
    recommend ORG``) and in the ``--forced`` and ``--conflicts`` files of ``match assign``
    alike: an external id, a bare CORDIS PIC (``984450188`` for ``cordis:984450188``), a
    database id or an exact name (case aside; several organisations bearing it is
    ambiguous)."""

    def __init__(self, orgs: pd.DataFrame):
        self.ids = set(orgs["external_id"].astype(str))
        self.by_row_id = (dict(zip(orgs["id"].tolist(), orgs["external_id"].astype(str), strict=True))
                          if "id" in orgs.columns else {})  # fmt: skip
        self.by_name: dict[str, list[str]] = {}
        if "name" in orgs.columns:
            names = orgs["name"].astype(str).str.strip().str.casefold()
            for name, external_id in zip(names, orgs["external_id"].astype(str), strict=True):
                self.by_name.setdefault(name, []).append(external_id)

    def lookup(self, ref: str) -> tuple[str | None, list[str]]:
        """``(external id, [])`` for the organisation ``ref`` names; ``(None, ids)`` where it
        names several (their external ids) or ``(None, [])`` where it names none."""
        ref = str(ref).strip()
        for candidate in (ref, f"cordis:{ref}"):
            if candidate in self.ids:
                return candidate, []
        if ref.isdigit() and int(ref) in self.by_row_id:
            return self.by_row_id[int(ref)], []
        named = self.by_name.get(ref.casefold(), [])
        return (named[0], []) if len(named) == 1 else (None, named)


def _resolve(frames, ref: str) -> str:
    """The external id ``ref`` names (:class:`OrgRefs`); exit 2 where it names none or several."""
    found, named = OrgRefs(frames.organisations).lookup(ref)
    if found is None:
        raise unknown_organisation(ref.strip(), named)
    return found


@app.command("recommend")
def recommend(
    org: Annotated[str, typer.Argument(help="Organisation: id, external id, CORDIS PIC or exact name.")],
    mode: ModeOpt = "research",
    k: Annotated[int, typer.Option("--k", help="How many partners.")] = 10,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the table to this file: .csv or .xlsx.")] = None,
    train_end: TrainEndOpt = None,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """The best partners of ORG in a mode, each with the reasons behind it."""
    if k <= 0:
        raise fail(f"--k must be positive, got {k}")
    _check_mode(mode)
    cut = _train_end(train_end)
    check_table_path(out)
    frames = _frames(database_url)
    org_id = _resolve(frames, org)  # before fitting: a typo should not cost a fit
    rec = _fit(frames, mode, cut, seed)
    try:
        table = rec.recommend(org_id, mode=mode, k=k)
    except ValueError as exc:
        raise fail(str(exc)) from None
    none_because = rec.why_no_partners(org_id, mode=mode) if table.empty and mode != "cluster" else None
    if none_because:
        _warn(f"no partner to recommend for {org_id}: {none_because}")
    # fewer rows than --k came without a word: say that only so many candidates exist
    fewer = rec.why_fewer(org_id, mode=mode, k=k) if 0 < len(table) < k else None
    if fewer:
        note(f"{len(table)} row(s) for {org_id}: {fewer}")
    if out is not None:
        write_table(table, out)
    if json_out:
        print_json({"organisation": org_id, "mode": mode, "k": k, "model": rec.fit_notes_.get(mode),
                    "recommendations": table.to_dict(orient="records"),
                    **({"note": none_because or fewer} if none_because or fewer else {}),
                    **rec.metadata_})  # fmt: skip
        return
    name = rec.history_.names[rec.row_of(org_id)]
    view = Table(title=f"{mode} partners for {name} ({org_id})", show_lines=True)
    id_col = "cluster_id" if mode == "cluster" else "partner_id"
    for col in ("#", "partner", "score", "why"):
        view.add_column(col, overflow="fold")
    for row in table.itertuples(index=False):
        row = row._asdict()
        view.add_row(str(row["rank"]), f"{row['name']}\n{row[id_col]}", f"{row['score']:.3f}", row["explanation"])
    err.print(view)
    err.print(f"model: {rec.fit_notes_.get(mode)}")
    if out is not None:
        err.print(f"table written to {out}")


#: The modes ``match assign`` plans in (cluster mode recommends clusters to join, not partners).
ASSIGN_MODES = ("research", "alliance", "intermediary")


def _read_lines(path: Path, what: str, required: list[str], option: str) -> pd.DataFrame:
    """A CSV file of ``match assign``, indexed by file line, ids present (exit 2 naming the
    file and line otherwise)."""
    from innoweave.matching.inputs import InputFileError, read_csv_lines, require_cells

    try:
        df = read_csv_lines(path, what, required, option=option)
        require_cells(df, path, ["query", "partner"])
    except InputFileError as exc:
        raise fail(str(exc)) from None
    return df


def _candidates_file(path: Path) -> pd.DataFrame:
    """``--candidates``: one row per (query, partner) pair with a finite numeric score, indexed
    by file line. A pair listed twice with the same score counts once (with a warning); with
    two different scores it stops, naming both lines."""
    from innoweave.matching.inputs import first_duplicate

    df = _read_lines(path, "candidates", ["query", "partner", "score"], "--candidates")
    if len(df) == 0:
        raise fail(f"{path} has no candidate pairs (a header only)")
    text = df["score"]
    score = pd.to_numeric(text, errors="coerce")
    for line in df.index[~np.isfinite(score.to_numpy(dtype=float))]:
        pair = f"({df.at[line, 'query']}, {df.at[line, 'partner']})"
        value = text[line]
        if not isinstance(value, str):
            raise fail(f"{path}, line {line} {pair}: empty score")
        kind = "not a finite number" if value.strip().lower().lstrip("+-") in ("inf", "infinity", "nan") \
            else "not a number"
        raise fail(f"{path}, line {line} {pair}: score {value!r} is {kind}")
    df = df.assign(score=score.astype(float))[["query", "partner", "score"]]
    itself = df.index[(df["query"] == df["partner"]).to_numpy()]
    if len(itself):
        raise fail(f"{path}, line {itself[0]}: {df.at[itself[0], 'query']!r} is paired with itself; an "
                   "organisation cannot be its own partner")  # fmt: skip
    dup = first_duplicate(df, ["query", "partner"])
    while dup is not None:
        first, again = dup
        pair = f"({df.at[first, 'query']}, {df.at[first, 'partner']})"
        if df.at[first, "score"] != df.at[again, "score"]:
            raise fail(f"{path}: the pair {pair} is on line {first} (score {df.at[first, 'score']:g}) and line "
                       f"{again} (score {df.at[again, 'score']:g}); give each pair once")  # fmt: skip
        repeats = df.duplicated(["query", "partner", "score"])
        _warn(f"{path}, line {again}: the pair {pair} repeats line {first}; counted once"
              + (f" ({int(repeats.sum()) - 1} more repeated line(s) likewise)" if repeats.sum() > 1 else ""))
        df = df[~repeats]
        dup = first_duplicate(df, ["query", "partner"])
    return df


def _read_pairs(path: Path | None, option: str) -> pd.DataFrame:
    """``--forced`` / ``--conflicts`` as written: (query, partner) pairs indexed by file line."""
    if path is None:
        return pd.DataFrame(columns=["query", "partner"])
    return _read_lines(path, option.lstrip("-"), ["query", "partner"], option)[["query", "partner"]]


def _pairs_file(df: pd.DataFrame, path: Path | None, option: str, refs: OrgRefs | None = None) -> pd.DataFrame:
    """The pairs ``df`` of ``--forced`` / ``--conflicts`` (:func:`_read_pairs`) ready to plan:
    a pair listed twice counts once (forced: with a warning, as it would have used two units).

    With ``refs`` (the registry's organisations) each id is read as ``match recommend``
    reads its ORG — an external id, a bare PIC, a database id or an exact name — and
    replaced by the external id; a name several organisations bear stops, naming the line
    and their ids. An id naming none is kept as written (the checks that follow say what
    it is not)."""
    df = df.copy()
    if refs is not None:
        for column in ("query", "partner"):
            resolved = []
            for line, ref in df[column].items():
                found, named = refs.lookup(ref)
                if found is None and len(named) > 1:
                    listed = ", ".join(named[:5]) + (", …" if len(named) > 5 else "")
                    raise fail(f"{path}, line {line}: {column} {ref!r} names {len(named)} organisations "
                               f"({listed}); give the external id")  # fmt: skip
                resolved.append(ref if found is None else found)
            df[column] = resolved
    repeats = df.duplicated()
    if repeats.any() and option == "--forced":
        again = df.index[np.flatnonzero(repeats.to_numpy())[0]]
        first = df.index[np.flatnonzero((df == df.loc[again]).all(axis=1).to_numpy())[0]]
        more = int(repeats.sum()) - 1
        _warn(f"{path}, line {again}: the forced pair ({df.at[again, 'query']}, {df.at[again, 'partner']}) "
              f"repeats line {first}; counted once" + (f" ({more} more repeated line(s) likewise)" if more else ""))
    return df[~repeats]


def _check_pair_ids(forced: pd.DataFrame, conflicts: pd.DataFrame, paths: dict, *, queries: set, partners: set,
                    query_where: str, partner_where: str, partners_known: bool) -> None:  # fmt: skip
    """Forced pairs must name known queries (an unknown one would become a query of its own),
    and known partners where the registry is the source (``partners_known``); a conflict with
    an unknown id never applies (a warning)."""
    for line, q, p in forced.itertuples():
        if q not in queries:
            raise fail(f"{paths['forced']}, line {line}: query {q!r} is not {query_where}")
        if p not in partners:
            if partners_known:
                raise fail(f"{paths['forced']}, line {line}: partner {p!r} is not {partner_where}")
            _warn(f"{paths['forced']}, line {line}: partner {p!r} is in no candidate pair; "
                  "the forced pair is assigned without a score")  # fmt: skip
    unknown = [(line, q, p) for line, q, p in conflicts.itertuples() if q not in queries or p not in partners]
    if unknown:
        line, q, p = unknown[0]
        what = f"query {q!r} is not {query_where}" if q not in queries else f"partner {p!r} is not {partner_where}"
        more = f" ({len(unknown) - 1} more such line(s))" if len(unknown) > 1 else ""
        _warn(f"{paths['conflicts']}, line {line}: {what}; this conflict never applies{more}")


def _check_forced_room(forced: pd.DataFrame, path: Path | None, *, k: int, cap, capacity: str) -> None:
    """Forced pairs must fit the demand (``k`` per SME) and the partners' capacities (a flat
    number or per partner; ``'activity'`` is checked once known): otherwise stop, naming the
    file's lines, the SME or partner and the limit (the solver said only "forced pairs exceed
    the capacity of partner 'u1'"). A forced pair of an SME with itself stops too."""
    if path is None or len(forced) == 0:
        return
    itself = forced.index[(forced["query"] == forced["partner"]).to_numpy()]
    if len(itself):
        raise fail(f"{path}, line {itself[0]}: {forced.at[itself[0], 'query']!r} is paired with itself; an "
                   "organisation cannot be its own partner")  # fmt: skip

    def lines(rows) -> str:
        shown = ", ".join(map(str, rows[:5])) + (", …" if len(rows) > 5 else "")
        return f"line{'s' if len(rows) > 1 else ''} {shown}"

    for query, rows in forced.groupby("query", sort=False).groups.items():
        if len(rows) > k:
            raise fail(f"{path}, {lines(list(rows))}: {len(rows)} forced partners for {query!r}, more than "
                       f"--k {k} partners per SME")  # fmt: skip
    if isinstance(cap, str):  # 'activity': the capacities are not known yet
        return
    for partner, rows in forced.groupby("partner", sort=False).groups.items():
        room = cap if isinstance(cap, int) else int(pd.Series(cap).get(partner, 0))
        if len(rows) > room:
            raise fail(f"{path}, {lines(list(rows))}: {len(rows)} forced pairs for partner {partner!r}, more "
                       f"than its capacity {room} (--capacity {capacity})")  # fmt: skip


def _check_forced_kinds(forced: pd.DataFrame, path: Path | None, orgs: pd.DataFrame, mode: str) -> None:
    """A forced partner from the registry must be of a kind the mode plans (a research plan
    took an SME as a forced partner, explained as "a university or research institute
    brings technology…", without a score)."""
    from innoweave.matching.recommender import MODES

    if path is None or len(forced) == 0:
        return
    kinds = MODES[mode].target_kinds
    kind_of = pd.Series(orgs["kind"].astype(str).to_numpy(), index=orgs["external_id"].astype(str).to_numpy())
    for line, _, partner in forced.itertuples():
        kind = kind_of.get(partner)
        if kind not in kinds:
            raise fail(f"{path}, line {line}: partner {partner!r} is of kind {kind!r}, which {mode} mode does not "
                       f"plan (its kinds: {', '.join(kinds)}); choose the --mode of that partner, or give the "
                       "pairs with --candidates")  # fmt: skip


def _score_forced(result, rec, mode: str) -> None:
    """Give forced pairs outside the SMEs' top lists their score (``result.pairs`` replaced,
    in the plan's order): they came out with none (null in the plan, left out of
    ``total_score``), although the recommender scores any pair of the mode (a past partner
    included)."""
    pairs = result.pairs
    missing = (pairs["forced"].astype(bool) & pairs["score"].isna()).to_numpy()
    if not missing.any():
        return
    asked = list(zip(pairs.loc[missing, "query"], pairs.loc[missing, "partner"], strict=True))
    pairs.loc[missing, "score"] = rec.score(asked, mode=mode)
    result.pairs = pairs.sort_values(["query", "score"], ascending=[True, False], ignore_index=True)
    result.stats["total_score"] = float(pairs["score"].sum(skipna=True))


def _capacity(capacity: str) -> int | str:
    if capacity.strip().casefold() == "activity":  # any case, as the kinds and modes of files
        return "activity"
    try:
        cap = int(capacity)
    except ValueError:
        raise fail(f"--capacity must be an integer or 'activity', got {capacity!r}") from None
    if cap <= 0:
        raise fail(f"--capacity must be a positive integer or 'activity', got {capacity!r}")
    return cap


@app.command("assign")
def assign_cmd(
    mode: Annotated[str | None, typer.Option("--mode", help=(
        "research, alliance or intermediary (default research). Not with --candidates. Cluster mode "
        "recommends clusters to join (`match recommend --mode cluster`) and has no plan."))] = None,
    k: Annotated[int, typer.Option("--k", help="Partners per SME.")] = 3,
    capacity: Annotated[str, typer.Option("--capacity", help=(
        "Flat capacity per partner, or 'activity': proportional to the partner's activity, twice the "
        "demand in all — its projects in the registry's history, or, with --candidates, the number "
        "of candidate pairs naming it in the file."))] = "5",
    top: Annotated[int | None, typer.Option("--top", help=(
        "Candidates per SME given to the assignment (default 50). Not with --candidates."))] = None,
    candidates: Annotated[Path | None, typer.Option("--candidates", help=(
        "CSV (UTF-8) or .xlsx with query,partner,score instead of the registry."))] = None,
    conflicts: Annotated[Path | None, typer.Option("--conflicts", help=(
        "CSV or .xlsx query,partner of excluded pairs; ids as ORG of `match recommend` (external id, "
        "CORDIS PIC, id or exact name), or those of --candidates."))] = None,
    forced: Annotated[Path | None, typer.Option("--forced", help=(
        "CSV or .xlsx query,partner of pairs to keep; ids as for --conflicts."))] = None,
    min_quality: Annotated[float | None, typer.Option("--min-quality", help="Drop pairs scoring below this.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the chosen pairs to this file: .csv or .xlsx.")] = None,
    objective: Annotated[str, typer.Option("--objective", help=(
        "What the plan maximises: 'log-probability' (the sum of log-probabilities, the "
        "proportionally fair plan chosen by validation; scores must be probabilities), "
        "'score' (the sum of the scores as given, shifted so the lowest is 1: every SME still "
        "gets up to K partners where scores are negative), or 'auto': log-probability where the "
        "scores are a learned ranker's probabilities, else score."))] = "auto",
    train_end: Annotated[str | None, typer.Option("--train-end", help=(
        "Learn only from projects starting before DATE (YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY). Not with "
        "--candidates."))] = None,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
    database_url: UrlOpt = None,
) -> None:
    """Assign K partners to every SME under partner capacities (min-cost flow)."""
    from innoweave.matching.assignment import capacity_from_activity

    # every option is checked before any work, whether it applies or not
    if k <= 0:
        raise fail(f"--k must be positive, got {k}")
    if top is not None and top <= 0:
        raise fail(f"--top must be positive, got {top}")
    if mode is not None and mode not in ASSIGN_MODES:
        if mode == "cluster":
            raise fail("--mode cluster recommends clusters to join (`innoweave match recommend ORG --mode "
                       "cluster`), not partners; match assign takes research, alliance or intermediary")  # fmt: skip
        raise fail(f"unknown mode {mode!r}; match assign takes {', '.join(ASSIGN_MODES)}")
    cut = _train_end(train_end)
    if objective not in ASSIGN_OBJECTIVES:
        raise fail(f"--objective must be one of {', '.join(ASSIGN_OBJECTIVES)}, got {objective!r}")
    cap_option = _capacity(capacity)
    if min_quality is not None and not np.isfinite(min_quality):
        raise fail(f"--min-quality must be a finite number, got {min_quality}")
    check_table_path(out)
    forced_lines, conflict_lines = _read_pairs(forced, "--forced"), _read_pairs(conflicts, "--conflicts")
    frames = _frames(database_url) if candidates is None else None
    # ids of the registry are read as `match recommend` reads ORG (a PIC, an exact name, ...)
    refs = OrgRefs(frames.organisations) if frames is not None else None
    forced_pairs = _pairs_file(forced_lines, forced, "--forced", refs)
    conflict_pairs = _pairs_file(conflict_lines, conflicts, "--conflicts", refs)
    paths = {"forced": forced, "conflicts": conflicts}
    _check_forced_room(forced_pairs, forced, k=k, cap=cap_option, capacity=capacity)  # flat: before any fit
    rec = None  # the recommender, where the scores come from the registry
    without: list[str] = []  # SMEs of the registry without any candidate pair
    if candidates is not None:
        ignored = [name for name, value in (("--mode", mode), ("--top", top), ("--train-end", train_end),
                                            ("--database-url", database_url)) if value is not None]  # fmt: skip
        if ignored:
            _warn(f"{', '.join(ignored)} {'does' if len(ignored) == 1 else 'do'} not apply with --candidates "
                  "(the file gives the pairs and their scores): ignored")  # fmt: skip
        table = _candidates_file(candidates)
        _check_pair_ids(forced_pairs, conflict_pairs, paths, queries=set(table["query"]),
                        partners=set(table["partner"]), query_where=f"a query of {candidates}",
                        partner_where=f"a partner of {candidates}", partners_known=False)  # fmt: skip
        activity = table.groupby("partner").size()
    else:
        mode = mode or "research"
        orgs = frames.organisations
        sme_ids = set(orgs.loc[orgs["kind"].astype(str) == "sme", "external_id"].astype(str))
        if not sme_ids:
            raise fail("the registry has no SMEs to assign partners to")
        _check_pair_ids(forced_pairs, conflict_pairs, paths, queries=sme_ids,
                        partners=set(orgs["external_id"].astype(str)), query_where="an SME of the registry",
                        partner_where="an organisation of the registry", partners_known=True)  # fmt: skip
        _check_forced_kinds(forced_pairs, forced, orgs, mode)
        rec = _fit(frames, mode, cut, seed)
        h = rec.history_
        smes = np.flatnonzero(h.kinds == "sme")
        try:
            idx, scores = rec.top_k(smes, mode=mode, k=top or 50)
        except ValueError as exc:
            raise fail(str(exc)) from None
        table = pd.DataFrame({"query": np.repeat(h.org_ids[smes], idx.shape[1]), "partner": h.org_ids[idx.ravel()],
                              "score": scores.ravel()})  # fmt: skip
        table = table[np.isfinite(table["score"])]
        activity = pd.Series(h.activity, index=h.org_ids)
        without = sorted(set(h.org_ids[smes]) - set(table["query"]))
        if without:  # every candidate already a partner: no pair to plan, but still SMEs to count
            _warn(f"{len(without):,} of {len(smes):,} SMEs have no candidate partner in {mode} mode (every "
                  f"candidate is already a partner), e.g. {', '.join(map(repr, without[:3]))}: they count in "
                  "queries and demand, unserved")  # fmt: skip
    if cap_option == "activity":
        partners = pd.unique(pd.concat([table["partner"], forced_pairs["partner"]], ignore_index=True))
        cap = capacity_from_activity(activity.reindex(partners).fillna(0),
                                     total=2 * k * table["query"].nunique())  # fmt: skip
        _check_forced_room(forced_pairs, forced, k=k, cap=cap, capacity=capacity)
    else:
        cap = cap_option
    asked = objective
    if objective == "auto":  # the fair plan where the scores are a learned ranker's probabilities
        objective = ("log-probability" if rec is not None and rec.rankers_.get(mode) is not None
                     else "score")
    source = str(candidates) if candidates is not None else None
    try:
        result = _assign_by(table, objective, source, k=k, capacity=cap,
                            conflicts=list(conflict_pairs.itertuples(index=False, name=None)),
                            forced=list(forced_pairs.itertuples(index=False, name=None)),
                            min_quality=min_quality)  # fmt: skip
    except (ValueError, TypeError) as exc:
        message = str(exc)
        raise fail(f"{forced}: {message}" if "forced" in message and forced is not None else message) from None
    if rec is not None:
        _score_forced(result, rec, mode)
        _describe_pairs(result.pairs, rec, mode)
    more = "--capacity" if candidates is not None else "--capacity or --top"
    _explain_shortfall(result.stats, pd.concat([table, forced_pairs], ignore_index=True), cap, capacity,
                       more=more)  # fmt: skip
    if candidates is None and without:
        result.stats["queries"] += len(without)
        result.stats["demand"] += k * len(without)
        result.stats["smes_without_candidates"] = len(without)
    if out is not None:
        write_table(result.pairs, out)
    if json_out:
        record = _assign_record(seed=seed, mode=mode, k=k, capacity=cap_option, top=top, objective=asked,
                                min_quality=min_quality, cut=cut, candidates=candidates, forced=forced,
                                conflicts=conflicts, model=rec.fit_notes_.get(mode) if rec is not None else None)  # fmt: skip
        print_json({"stats": result.stats, "pairs": result.pairs.to_dict(orient="records") if out is None else str(out),
                    **record})  # fmt: skip
        return
    view = Table(title=f"assignment: k={k}, capacity={capacity}")
    view.add_column("figure")
    view.add_column("value", justify="right")
    for key, value in result.stats.items():
        view.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    err.print(view)
    if out is not None:
        err.print(f"pairs written to {out}")


def _assign_record(*, seed: int, mode: str | None, k: int, capacity, top: int | None, objective: str,
                   min_quality: float | None, cut: pd.Timestamp | None, candidates: Path | None,
                   forced: Path | None, conflicts: Path | None, model: str | None) -> dict:
    """What a plan was made with, for its JSON: the version, the seed and every setting, so
    that the plan can be made again. Files are named without their folder (a result must not
    carry a machine's paths); with ``--candidates`` the registry options do not apply (None)."""
    from_file = candidates is not None
    settings = {
        "mode": None if from_file else mode, "k": k, "capacity": capacity,
        "top": None if from_file else (top or 50), "objective": objective, "min_quality": min_quality,
        "train_end": None if from_file or cut is None else str(cut.date()),
        **{name: None if path is None else path.name
           for name, path in (("candidates", candidates), ("forced", forced), ("conflicts", conflicts))},
    }  # fmt: skip
    return {"version": innoweave.__version__, "seed": seed, "settings": settings, "model": model}


def _explain_shortfall(stats: dict, table: pd.DataFrame, cap, capacity: str, *, more: str) -> None:
    """Say so when the capacities of the candidate partners cannot meet the demand: a plan
    that assigns a fraction of the pairs otherwise looks like a failure of the method.
    ``table`` holds the candidate pairs and the forced ones (whose partners take load too)."""
    partners = pd.unique(table["partner"])
    room = len(partners) * cap if isinstance(cap, int) else int(pd.Series(cap).reindex(partners).fillna(0).sum())
    if stats["assigned_pairs"] < stats["demand"] and room < stats["demand"]:
        _warn(f"{stats['assigned_pairs']} of {stats['demand']} pairs assigned ({stats['queries_served']:,} of "
              f"{stats['queries']:,} SMEs get a partner): the {len(partners)} partner(s) among "
              f"the candidates can take {room} in all (--capacity {capacity}); a larger {more}, or a smaller "
              "--k, assigns more")  # fmt: skip


def _describe_pairs(pairs: pd.DataFrame, rec, mode: str) -> None:
    """Names, the partner's kind and the recommender's explanation beside each chosen pair
    (in place), so a plan can be handed out as it is."""
    h = rec.history_
    index = pd.Index(h.org_ids)
    q_rows, p_rows = index.get_indexer(pairs["query"]), index.get_indexer(pairs["partner"])

    def of(values, rows):  # None for an id the registry does not hold (a forced pair's)
        return [values[r] if r >= 0 else None for r in rows]

    pairs.insert(1, "query_name", of(h.names, q_rows))
    pairs.insert(3, "partner_name", of(h.names, p_rows))
    pairs.insert(4, "partner_kind", of(h.kinds, p_rows))
    pairs["explanation"] = [rec.explain(q, p, mode=mode)["explanation"] if q >= 0 and p >= 0
                            else None for q, p in zip(q_rows, p_rows, strict=True)]


#: What ``match assign`` maximises (``--objective``).
ASSIGN_OBJECTIVES = ("auto", "log-probability", "score")


def _assign_by(table: pd.DataFrame, objective: str, source: str | None, *, min_quality,
               **options):
    """:func:`~innoweave.matching.assignment.assign` of ``table`` maximising ``objective``
    (``log-probability`` or ``score``); the chosen pairs keep their scores as given, and
    ``min_quality`` applies to them. ``stats`` gain the objective (and, for log-probability,
    ``total_quality``, the sum it maximised). ``source``: the candidate file the table was
    read from (its index is the file's lines; its scores are checked, errors name the line),
    or None for the recommender's probabilities.

    ``score`` maximises the sum of ``score − min + 1`` (the lowest score counts 1), so that
    every SME gets up to k partners whatever the sign of the scores (z-scores, log-scores:
    a pair worth ≤ 0 would never be assigned); among plans that assign the same number of
    pairs — those that meet every SME's demand — it is the plan of the largest sum of scores,
    and adding a constant to every score changes nothing. ``log-probability`` is the same
    shift of log p (:func:`~innoweave.matching.protocols.assignment_quality`)."""
    from innoweave.matching.assignment import assign
    from innoweave.matching.protocols import assignment_quality

    score = table["score"].to_numpy(dtype=float)
    # a file must hold probabilities; the ranker's are (a 0 that underflowed takes the
    # smallest positive one's quality)
    bad = np.flatnonzero(~((score > 0) & (score <= 1))) if source is not None and objective != "score" else []
    if len(bad):
        row = int(bad[0])
        raise ValueError(f"{source}, line {table.index[row]} ({table['query'].iloc[row]}, "
                         f"{table['partner'].iloc[row]}): score {float(score[row])!r} is not a "
                         "probability in (0, 1], which --objective log-probability needs "
                         "(--objective score maximises the scores as given)")
    # the qualities are those of the pairs kept by --min-quality (the shift counts them only);
    # a dropped pair stays in the table with quality -1, below the floor of 0 handed to
    # assign(), so every SME and partner of the table counts in the demand and the loads
    keep = np.ones(len(score), dtype=bool) if min_quality is None else score >= min_quality
    kept = score[keep]
    quality = np.full(len(score), -1.0)
    if objective == "score":
        quality[keep] = kept - kept.min() + 1.0 if len(kept) else kept
    else:
        quality[keep] = assignment_quality(kept, "log_probability")
    if min_quality is not None:  # an SME with a forced pair gets that partner whatever its score
        forced_smes = {query for query, _ in options.get("forced") or ()}
        smes = set(table["query"]) | forced_smes
        unserved = len(smes - set(table.loc[keep, "query"]) - forced_smes)
        if unserved:
            _warn(f"--min-quality {min_quality:g} leaves {unserved:,} of {len(smes):,} SMEs without a "
                  "pair at or above it" + (" or a forced pair" if forced_smes else "") + ": they get no partner")
    given = table.groupby(["query", "partner"], sort=False)["score"].max()
    result = assign(table.assign(score=quality), min_quality=None if min_quality is None else 0.0, **options)
    pairs = result.pairs
    total_quality = result.stats.pop("total_score")
    if objective != "score":
        result.stats["total_quality"] = total_quality
    pairs["score"] = given.reindex(pd.MultiIndex.from_frame(pairs[["query", "partner"]])).to_numpy()
    result.stats["total_score"] = float(pairs["score"].sum(skipna=True))
    result.stats["objective"] = objective
    return result


@app.command("evaluate")
def evaluate(
    preset: Annotated[str | None, typer.Option("--preset", help="cordis-de: protocols P1, P2, P4.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Folder of the CORDIS files (preset).")] = None,
    participations: Annotated[Path | None, typer.Option("--participations", help="P.csv (or .xlsx): project_id,org_id[,role]")] = None,
    organisations: Annotated[Path | None, typer.Option("--organisations", help="O.csv (or .xlsx): org_id,kind[,name,region,lat,lon]")] = None,
    projects: Annotated[Path | None, typer.Option("--projects", help="PR.csv (or .xlsx): project_id,start_date[,title]")] = None,
    train_end: Annotated[str | None, typer.Option("--train-end", help=(
        "Projects starting before DATE train; the rest test (YYYY-MM-DD, YYYY/MM/DD or DD.MM.YYYY)."))] = None,
    query_kinds: Annotated[str, typer.Option("--query-kinds", help="Comma-separated kinds of the queries.")] = "sme",
    target_kinds: Annotated[str, typer.Option("--target-kinds", help="Comma-separated kinds of the partners.")] = "university,research_institute",
    new_only: Annotated[bool, typer.Option("--new-only", help="Only partners new in the test period count.")] = False,
    k: Annotated[int, typer.Option("--k", help="Cut-off of the ranking metrics.")] = 10,
    ranker: Annotated[str, typer.Option("--ranker", help=(
        "auto (chosen by validation inside the training period), logistic, hgb, or none (the "
        "linear combination with default weights)."))] = "auto",
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate recommendations on a temporal hold-out, beside every baseline."""
    from innoweave.matching.protocols import (
        PRESETS,
        EvaluationInputError,
        evaluate_files,
        evaluate_preset,
    )
    from innoweave.matching.recommender import RANKER_CHOICES

    if k <= 0:
        raise fail(f"--k must be positive, got {k}")
    if ranker not in RANKER_CHOICES:
        raise fail(f"--ranker: unknown {ranker!r}; choose from {', '.join(RANKER_CHOICES)}")
    try:
        if preset is not None:
            if preset not in PRESETS:
                raise fail(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
            from innoweave.config import default_data_dir
            from innoweave.registry.cordis import CordisFormatError, read_cordis

            folder = data_dir or default_data_dir() / "cordis_de"
            try:
                frames = read_cordis(folder)
            except CordisFormatError as exc:
                raise fail(str(exc)) from None
            with err.status("evaluating P1, P2, P4 (fitting rankers inside the training period)"):
                result = evaluate_preset(frames, k=k, seed=seed, ranker=ranker)
        else:
            if participations is None or organisations is None or train_end is None:
                raise fail("give --preset cordis-de, or --participations, --organisations and --train-end")
            kinds_q, kinds_t = comma_list(query_kinds), comma_list(target_kinds)
            with err.status("evaluating"):
                result = evaluate_files(participations, organisations, projects, train_end=train_end,
                                        query_kinds=kinds_q, target_kinds=kinds_t, new_only=new_only,
                                        k=k, seed=seed, ranker=ranker)  # fmt: skip
            undated = result.get("undated_projects")
            if undated:
                note(f"{undated['count']} project(s) without a start date are neither training nor test "
                     f"(first: {', '.join(undated['first'])})")  # fmt: skip
    except EvaluationInputError as exc:
        raise fail(str(exc)) from None
    if "protocols" not in result and result.get("queries", 0) == 0:
        # a property of the files and options, told the same way with or without --json
        raise fail(f"nothing to evaluate: {result.get('note', 'no queries')} (--query-kinds {','.join(kinds_q)}, "
                   f"--target-kinds {','.join(kinds_t)}, --train-end {result.get('train_end', train_end)}"
                   f"{', --new-only' if new_only else ''})")  # fmt: skip
    if json_out:
        print_json(result)
        return
    blocks = result["protocols"].items() if "protocols" in result else [("evaluation", result)]
    for name, block in blocks:
        if "metrics" in block:
            _metrics_table(name, block)
        elif "capacities" in block:
            _p4_table(block)


def _metrics_table(name: str, block: dict) -> None:
    view = Table(title=f"{name}: {block['queries']} queries, {block.get('candidates', '?')} candidates")
    keys = list(block["metrics"])
    view.add_column("method")
    for key in keys:
        view.add_column(key, justify="right")
    view.add_row("recommender", *(f"{block['metrics'][m]:.3f}" for m in keys), style="bold")
    for base, metrics in block["baselines"].items():
        view.add_row(base, *(f"{metrics[m]:.3f}" for m in keys))
    err.print(view)
    model = block.get("model") or {}
    validation = model.get("validation") or {}
    if model.get("fit"):
        recall = {candidate: next((v for key, v in m.items() if key.startswith("recall@")), None)
                  for candidate, m in validation.get("models", {}).items()}  # fmt: skip
        scores = ", ".join(f"{candidate} {v:.3f}" for candidate, v in recall.items() if v is not None)
        rule = (validation.get("selection") or {}).get("rule", "")
        note(f"{name}: {model['fit']}" + (f" (validation recall inside the training period: {scores}; {rule})"
                                         if scores else ""))  # fmt: skip


def _p4_table(block: dict) -> None:
    view = Table(title=f"P4: {block['queries']} queries, k={block['k']} under capacity")
    for col in ("capacity", "method", "recall@3", "partners used", "max load", "Gini of load"):
        view.add_column(col, justify="right")
    for cap, res in block["capacities"].items():
        for method, s in res.items():
            view.add_row(cap, method, f"{s['recall@3']:.3f}", str(s["partners_used"]), str(s["max_load"]),
                         f"{s['gini_load']:.3f}")  # fmt: skip
    err.print(view)
