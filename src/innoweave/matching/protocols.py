"""Runs the evaluation protocols: the ``cordis-de`` preset (P1, P2, P4) and generic files.

This is what ``innoweave match evaluate`` calls. Each protocol fits a
:class:`~innoweave.matching.recommender.PartnerRecommender` on the training projects only
(its ranker chooses its model by validation inside that period), scores the hold-out split
of :mod:`~innoweave.matching.evaluation`, and reports the same metrics for every baseline.
P4 then assigns three partners per SME under capacities with
:func:`~innoweave.matching.assignment.assign` and reports recall with the spread of load.
The generic mode reads three small CSV files (participations, organisations, projects)
into registry frames, with clear errors for missing columns, unknown kinds and bad dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

import innoweave
from innoweave.inequality import gini
from innoweave.matching.assignment import assign, capacity_from_activity, greedy_assign
from innoweave.matching.evaluation import (
    RESEARCH_KINDS,
    EvalSplit,
    baseline_metrics,
    check_k,
    check_score_shape,
    kind_list,
    make_split,
    ranking_metrics,
)
from innoweave.matching.history import project_dates
from innoweave.matching.inputs import (
    InputFileError,
    first_duplicate,
    parse_date_option,
    parse_dates,
    read_csv_lines,
    require_cells,
)
from innoweave.matching.recommender import PartnerRecommender
from innoweave.registry.frames import RegistryFrames
from innoweave.registry.kinds import parse_kind

PRESETS = ("cordis-de",)
P4_CAPACITIES = (2, 3, 5, 10, "activity", None)


class EvaluationInputError(ValueError):
    """An evaluation file or option that cannot be used (the message names what and where)."""


def _fit_recommender(frames, split: EvalSplit, train_projects, *, target_kinds, query_kinds, new_only, seed, ranker,
                     text):  # fmt: skip
    rec = PartnerRecommender(
        modes=("evaluation",), target_kinds={"evaluation": tuple(target_kinds)}, query_kinds=tuple(query_kinds),
        new_only=new_only, ranker=ranker, text=text, seed=seed,
    )  # fmt: skip
    return rec.fit(frames, train_projects=train_projects)


def evaluate_split(
    frames: RegistryFrames,
    train_projects: Sequence[str],
    test_projects: Sequence[str],
    *,
    query_kinds: Sequence[str] = ("sme",),
    target_kinds: Sequence[str] = RESEARCH_KINDS,
    new_only: bool = True,
    k: int = 10,
    seed=0,
    ranker: str = "auto",
    text: str = "tfidf",
    with_scores: bool = False,
) -> dict:
    """Metrics of the recommender and of every baseline on one temporal hold-out."""
    try:
        check_k(k)
        query_kinds, target_kinds = kind_list(query_kinds, "query_kinds"), kind_list(target_kinds, "target_kinds")
    except ValueError as exc:
        raise EvaluationInputError(str(exc)) from None
    split = make_split(frames, train_projects, test_projects, query_kinds=query_kinds,
                       target_kinds=target_kinds, new_only=new_only)  # fmt: skip
    result = {"queries": split.n_queries, "candidates": len(split.candidates), "k": k}
    if split.n_queries == 0:
        result.update(metrics=ranking_metrics(np.zeros((0, 0)), split, k=k), baselines={},
                      note="no query has a test partner of the target kinds")  # fmt: skip
        return result
    rec = _fit_recommender(frames, split, train_projects, target_kinds=target_kinds, query_kinds=query_kinds,
                           new_only=new_only, seed=seed, ranker=ranker, text=text)  # fmt: skip
    # scored in blocks of queries, so that the pair features of one block are in memory at a
    # time (a query's scores do not depend on the others scored with it)
    scores = np.vstack([rec.score_matrix(block.queries, split.candidates, mode="evaluation")
                        for _, block in split.blocks()])  # fmt: skip
    result["metrics"] = ranking_metrics(scores, split, k=k)
    result["baselines"] = baseline_metrics(split, seed=seed, k=k)
    ranker_fit = rec.rankers_.get("evaluation")
    result["model"] = {"fit": rec.fit_notes_.get("evaluation"),
                       "validation": ranker_fit.validation_ if ranker_fit is not None else None}  # fmt: skip
    if with_scores:
        result["_split"], result["_scores"], result["_recommender"] = split, scores, rec
    return result


P4_OBJECTIVES = ("log_probability", "probability")


def assignment_quality(scores: np.ndarray, objective: str = "log_probability") -> np.ndarray:
    """The quality the assignment maximises, from the ranker's probabilities.

    ``"probability"``: the sum of probabilities, i.e. the expected number of hits — under a
    capacity it gives the sure queries everything and leaves the doubtful ones with partners
    they will not take. ``"log_probability"``: the sum of log-probabilities (shifted to be
    positive; the shift does not change a plan that meets every query's demand), the
    proportionally fair plan — a query moves to its second-best partner only where that
    partner is still likely *for it*. Chosen inside the training period (P1 validation slice,
    capacity 5: Recall@3 0.108 against 0.078 with probabilities).
    """
    if objective not in P4_OBJECTIVES:
        raise ValueError(f"unknown assignment objective {objective!r}; choose from {', '.join(P4_OBJECTIVES)}")
    s = np.array(scores, dtype=float, copy=True)
    if objective == "probability":
        return s
    finite = np.isfinite(s)
    positive = finite & (s > 0)
    if not positive.any():
        return s
    floor = float(s[positive].min())
    logs = np.log(np.maximum(s, floor), where=finite, out=np.full(s.shape, -np.inf))
    return logs - np.log(floor) + 1.0


def p4_capacity(split: EvalSplit, scores: np.ndarray, *, k: int = 3, top_n: int | None = None,
                load_penalty: float = 0.0, objective: str = "log_probability") -> dict:  # fmt: skip
    """Recall@k and spread of load when every query gets ``k`` partners under capacities.

    ``scores`` are the ranker's probabilities; the plan maximises :func:`assignment_quality`.
    """
    check_k(k)
    if top_n is not None:
        check_k(top_n, "top_n")
    s = assignment_quality(scores, objective)
    check_score_shape(s, split)
    ex = split.excluded.tocoo()
    s[ex.row, ex.col] = -np.inf
    n = s.shape[1] if top_n is None else min(top_n, s.shape[1])
    top = np.argsort(-s, axis=1, kind="stable")[:, :n]
    q_idx = np.repeat(np.arange(len(s)), n)
    c_idx = top.ravel()
    table = pd.DataFrame({"query": q_idx, "partner": c_idx, "score": s[q_idx, c_idx]})
    table = table[np.isfinite(table["score"])]
    activity = pd.Series(split.history.activity[split.candidates])
    out = {}
    for cap in P4_CAPACITIES:
        if cap is None:
            capacity, name = len(s) * k, "none"
        elif cap == "activity":
            capacity, name = capacity_from_activity(activity, total=2 * k * len(s)), "activity"
        else:
            capacity, name = int(cap), str(cap)
        flow = assign(table, k=k, capacity=capacity, load_penalty=load_penalty)
        greedy = greedy_assign(table, k=k, capacity=capacity)
        out[name] = {"flow": _p4_stats(flow.pairs, split, k), "greedy": _p4_stats(greedy.pairs, split, k)}
    return out


def _p4_stats(pairs: pd.DataFrame, split: EvalSplit, k: int) -> dict:
    load = np.bincount(pairs["partner"].to_numpy(dtype=np.int64), minlength=len(split.candidates))
    recall = []
    for i, t in enumerate(split.truth):
        got = pairs["partner"].to_numpy()[pairs["query"].to_numpy() == i]
        recall.append(len(np.intersect1d(got, t)) / len(t))
    return {f"recall@{k}": float(np.mean(recall)), "partners_used": int((load > 0).sum()),
            "max_load": int(load.max()), "gini_load": gini(load)}  # fmt: skip


def cordis_programme_split(frames: RegistryFrames) -> tuple[list[str], list[str]]:
    """Horizon 2020 projects train, Horizon Europe projects test (``shared/eval/matching.md``)."""
    p = frames.projects
    train = p.loc[p["programme"] == "Horizon 2020", "external_id"].tolist()
    test = p.loc[p["programme"] == "Horizon Europe", "external_id"].tolist()
    if not train or not test:
        raise EvaluationInputError("the cordis-de preset needs Horizon 2020 and Horizon Europe projects")
    return train, test


def evaluate_preset(frames: RegistryFrames, *, protocols: Sequence[str] = ("P1", "P2", "P4"), k: int = 10,
                    seed=0, ranker: str = "auto") -> dict:  # fmt: skip
    """P1, P2 and P4 of ``shared/eval/matching.md`` on the CORDIS registry."""
    if isinstance(protocols, str):
        raise EvaluationInputError(f"protocols must be a list, e.g. ({protocols!r},), got {protocols!r}")
    unknown = sorted(set(protocols) - {"P1", "P2", "P4"})
    if unknown:
        raise EvaluationInputError(f"unknown protocol(s) {unknown}; choose from P1, P2, P4")
    train, test = cordis_programme_split(frames)
    out: dict = {"preset": "cordis-de", "version": innoweave.__version__, "seed": seed,
                 "settings": {"k": k, "ranker": ranker}, "protocols": {}}  # fmt: skip
    if "P1" in protocols or "P4" in protocols:
        p1 = evaluate_split(frames, train, test, new_only=True, k=k, seed=seed, ranker=ranker, with_scores=True)
        split, scores = p1.pop("_split"), p1.pop("_scores")
        p1.pop("_recommender")
        if "P1" in protocols:
            out["protocols"]["P1"] = p1
        if "P4" in protocols:
            out["protocols"]["P4"] = {
                "queries": split.n_queries, "k": 3, "objective": "log_probability",
                "capacities": p4_capacity(split, scores),
                # the former objective beside it, so the effect of the choice stays visible
                "capacities_probability": p4_capacity(split, scores, objective="probability"),
            }  # fmt: skip
    if "P2" in protocols:
        out["protocols"]["P2"] = evaluate_split(frames, train, test, new_only=False, k=k, seed=seed, ranker=ranker)
    return out


# ------------------------------------------------------------------------ generic files
def _read_csv(path: Path, what: str, required: Sequence[str]) -> pd.DataFrame:
    try:
        return read_csv_lines(path, what, required)
    except InputFileError as exc:
        raise EvaluationInputError(str(exc)) from None


def _parse_dates(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A start-date column; an empty cell is an unknown date (``NaT``)."""
    try:
        return parse_dates(values, path, column, allow_empty=True)
    except InputFileError as exc:
        raise EvaluationInputError(str(exc)) from None


def _check_ids(df: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    try:
        require_cells(df, path, columns)
    except InputFileError as exc:
        raise EvaluationInputError(str(exc)) from None


def _unique_ids(df: pd.DataFrame, path: Path, column: str, what: str) -> None:
    dup = first_duplicate(df, [column])
    if dup is not None:
        first, again = dup
        raise EvaluationInputError(f"{path}: {column} {df.loc[again, column]!r} appears on line {first} and "
                                   f"line {again}; list each {what} once")  # fmt: skip


def _unknown(ids: pd.Series, known: set, path: Path, column: str, where: str) -> None:
    bad = ~ids.isin(known).to_numpy()
    if bad.any():
        lines = ids.index[bad]
        more = len(set(ids[bad])) - 1
        raise EvaluationInputError(
            f"{path}, line {lines[0]}: {column} {ids[lines[0]]!r} is not in {where}"
            + (f" (and {more} more unknown {column}s)" if more else ""))


def _numbers(values: pd.Series, path: Path, column: str) -> pd.Series:
    """A numeric column (empty = unknown); a cell that is not a number stops, naming its line."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy() & values.notna().to_numpy()
    if bad.any():
        line = values.index[bad][0]
        raise EvaluationInputError(f"{path}, line {line}: {column} {values[line]!r} is not a number")
    return numbers


def _coordinates(lat, lon, path: Path) -> None:
    """Latitudes in −90..90 and longitudes in −180..180, each given with the other: a cell
    outside stops, naming its line (an impossible coordinate would give wrong distances)."""
    if not isinstance(lat, pd.Series) and not isinstance(lon, pd.Series):
        return
    for column, values, bound in (("lat", lat, 90), ("lon", lon, 180)):
        if isinstance(values, pd.Series):
            bad = ~(values.abs() <= bound) & values.notna()
            if bad.any():
                line = values.index[bad][0]
                raise EvaluationInputError(
                    f"{path}, line {line}: {column} {float(values[line]):g} is outside −{bound}..{bound}"
                )
    if isinstance(lat, pd.Series) != isinstance(lon, pd.Series):
        given, missing = ("lat", "lon") if isinstance(lat, pd.Series) else ("lon", "lat")
        raise EvaluationInputError(f"{path}: a {given} column needs a {missing} column beside it")
    half = lat.isna() != lon.isna()
    if half.any():
        line = lat.index[half][0]
        raise EvaluationInputError(f"{path}, line {line}: lat and lon go together; one of them is empty")


def read_eval_files(participations: Path, organisations: Path, projects: Path | None = None) -> RegistryFrames:
    """Frames from ``P.csv`` (project_id, org_id[, role][, start_date]), ``O.csv`` (org_id, kind
    [, name, region, lat, lon]) and ``PR.csv`` (project_id, start_date[, title]).

    Cells are trimmed; dates are ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (one format per column,
    never guessed value by value); an empty date is unknown (``NaT``: such a project is
    neither training nor test); every error names the file and the line."""
    parts = _read_csv(participations, "participations", ["project_id", "org_id"])
    orgs = _read_csv(organisations, "organisations", ["org_id", "kind"])
    _check_ids(parts, participations, ["project_id", "org_id"])
    _check_ids(orgs, organisations, ["org_id"])
    _unique_ids(orgs, organisations, "org_id", "organisation")
    kinds = []
    for line, value in orgs["kind"].fillna("").items():
        try:
            kinds.append(parse_kind(value).value)
        except ValueError as exc:
            raise EvaluationInputError(f"{organisations}, line {line}: {exc}") from None
    if projects is not None:
        proj = _read_csv(projects, "projects", ["project_id", "start_date"])
        _check_ids(proj, projects, ["project_id"])
        _unique_ids(proj, projects, "project_id", "project")
        proj["start_date"] = _parse_dates(proj["start_date"], projects, "start_date")
    elif "start_date" in parts.columns:
        dates = _parse_dates(parts["start_date"], participations, "start_date")
        proj = pd.DataFrame({"project_id": parts["project_id"], "start_date": dates}).groupby("project_id", as_index=False).min()
    else:
        raise EvaluationInputError(
            f"{participations}: no project dates: pass --projects PR.csv (project_id,start_date) "
            "or add a start_date column to the participations file"
        )
    _unknown(parts["org_id"], set(orgs["org_id"]), participations, "org_id", str(organisations))
    _unknown(parts["project_id"], set(proj["project_id"]), participations, "project_id",
             f"{projects} (no start date)" if projects is not None else "the projects")  # fmt: skip
    coords = {c: _numbers(orgs[c], organisations, c) if c in orgs else np.nan for c in ("lat", "lon")}
    _coordinates(coords["lat"], coords["lon"], organisations)
    org_frame = pd.DataFrame({
        "external_id": orgs["org_id"], "kind": kinds,
        "name": orgs["name"].fillna(orgs["org_id"]) if "name" in orgs else orgs["org_id"],
        "region_code": orgs["region"] if "region" in orgs else None,
        "latitude": coords["lat"], "longitude": coords["lon"],
        "source": "file",
    }).reset_index(drop=True)  # fmt: skip
    project_frame = pd.DataFrame({
        "external_id": proj["project_id"], "start_date": proj["start_date"].dt.date,
        "title": proj["title"].fillna("") if "title" in proj else "", "source": "file",
    }).reset_index(drop=True)  # fmt: skip
    part_frame = pd.DataFrame({
        "project_external_id": parts["project_id"], "org_external_id": parts["org_id"],
        "role": parts["role"] if "role" in parts else None, "source": "file",
    }).reset_index(drop=True)  # fmt: skip
    return RegistryFrames(organisations=org_frame, projects=project_frame, participations=part_frame)


def evaluate_files(
    participations: Path,
    organisations: Path,
    projects: Path | None,
    *,
    train_end: str,
    query_kinds: Sequence[str],
    target_kinds: Sequence[str],
    new_only: bool,
    k: int = 10,
    seed=0,
    ranker: str = "auto",
) -> dict:
    """The generic evaluation of ``innoweave match evaluate`` on three CSV files."""
    for option, kinds in (("--query-kinds", query_kinds), ("--target-kinds", target_kinds)):
        if not len(kinds):  # '' split on commas gives no kind
            raise EvaluationInputError(f"{option}: no kind given (comma-separated kinds, e.g. {option} "
                                       f"{'sme' if option == '--query-kinds' else 'university,research_institute'})")
        for kind in kinds:
            try:
                parse_kind(kind)
            except ValueError as exc:
                raise EvaluationInputError(f"{option}: {exc}") from None
    try:
        cut = parse_date_option(train_end, "--train-end")
    except InputFileError as exc:
        raise EvaluationInputError(str(exc)) from None
    if cut is None:
        raise EvaluationInputError("--train-end: give the date that separates training from test projects")
    frames = read_eval_files(participations, organisations, projects)
    dates = project_dates(frames)
    train = dates.index[dates < cut].tolist()
    test = dates.index[dates >= cut].tolist()
    if not train or not test:
        raise EvaluationInputError(
            f"--train-end {cut.date()} leaves {len(train)} training and {len(test)} test project(s); both must be non-empty"
        )
    result = evaluate_split(frames, train, test, query_kinds=query_kinds, target_kinds=target_kinds,
                            new_only=new_only, k=k, seed=seed, ranker=ranker)  # fmt: skip
    # every option that changes the figures, so two results can be told apart (files by name:
    # a result must not carry a machine's paths)
    settings = {"query_kinds": list(query_kinds), "target_kinds": list(target_kinds), "new_only": new_only,
                "ranker": ranker, "k": k, "participations": Path(participations).name,
                "organisations": Path(organisations).name,
                "projects": None if projects is None else Path(projects).name}  # fmt: skip
    result.update(version=innoweave.__version__, seed=seed, train_end=str(cut.date()), settings=settings)
    undated = dates.index[dates.isna()]
    if len(undated):
        result["undated_projects"] = {"count": len(undated), "first": [str(x) for x in undated[:5]]}
    return result
