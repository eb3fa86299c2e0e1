"""Capacity-aware assignment of partners to SMEs: a min-cost flow solved by an auction.

The recommender ranks partners for each SME independently, which sends most SMEs to the
same famous institute. :func:`assign` turns the ranked candidates of many SMEs into one
plan: each SME (query) receives up to ``k`` distinct partners, each partner serves at most
its capacity, conflicting pairs are excluded, forced pairs kept, pairs below a minimum
quality dropped, and the total quality of the chosen pairs is maximised. With quality =
the ranker's probability of collaboration, that total is the expected number of real
collaborations the plan produces. An optional convex ``load_penalty`` (the l-th unit of a
partner's load costs ``load_penalty·(l−1)``) spreads demand further.

As a network this is a min-cost flow source → SME (capacity k) → partner (capacity 1 per
pair, cost −quality) → sink (capacity of the partner, convex cost). It is solved by a
vectorised auction (Bertsekas' auction for transportation problems, Jacobi bidding): every
partner "slot" has a price, SMEs with free demand bid for their best slots, a slot goes to
the highest bid. The result is ε-optimal — its total quality is within ``units·ε`` of the
optimum — and is compared with an exact network-simplex solution in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from innoweave.inequality import gini
from innoweave.matching.evaluation import check_k


@dataclass
class Assignment:
    """The plan: chosen pairs, the load of every partner and summary figures."""

    pairs: pd.DataFrame
    load: pd.Series
    stats: dict = field(default_factory=dict)


def _is_whole(value) -> bool:
    """A whole number ≥ 0 (``5`` or ``5.0``); a bool is a mistake here, not 0 or 1."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return value >= 0
    return isinstance(value, (float, np.floating)) and np.isfinite(value) and value >= 0 and float(value).is_integer()


def _capacities(partners: np.ndarray, capacity) -> np.ndarray:
    if isinstance(capacity, (Mapping, pd.Series)):
        series = pd.Series(capacity, dtype=object)
        missing = [p for p in partners if p not in series.index]
        if missing:
            raise ValueError(f"capacity: no capacity for partner(s) {missing[:5]} (and {max(len(missing) - 5, 0)} more)")
        caps = series.reindex(partners).to_numpy()
        bad = [i for i, c in enumerate(caps) if not _is_whole(c)]
        if bad:
            raise ValueError(f"capacity: the capacity of partner {partners[bad[0]]!r} must be a whole number ≥ 0, "
                             f"got {caps[bad[0]]!r}" + (f" ({len(bad) - 1} more such partner(s))" if len(bad) > 1 else ""))  # fmt: skip
        return caps.astype(np.int64)
    if isinstance(capacity, (bool, np.bool_, int, np.integer, float, np.floating)):
        if not _is_whole(capacity):
            raise ValueError(f"capacity must be a whole number ≥ 0 (or a mapping partner → capacity), got {capacity!r}")
        return np.full(len(partners), int(capacity))
    raise TypeError(f"capacity must be a whole number ≥ 0 or a mapping partner → capacity, got "
                    f"{type(capacity).__name__} {capacity!r}")  # fmt: skip


def capacity_from_activity(activity: pd.Series, *, total: int, minimum: int = 1) -> pd.Series:
    """Capacities proportional to activity (e.g. training projects) summing to about ``total``."""
    if not isinstance(activity, (pd.Series, Mapping)):
        raise TypeError(f"activity must be a Series or mapping partner → activity, got {type(activity).__name__}")
    activity = pd.Series(activity)
    values = pd.to_numeric(activity, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        value = activity[bad].iloc[0]
        shown = float(value) if isinstance(value, np.number) else value
        raise ValueError(f"activity of partner {bad.index[bad.to_numpy()][0]!r} must be a finite number, got {shown!r}")
    for name, value in (("total", total), ("minimum", minimum)):
        if not _is_whole(value):
            raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    share = values.clip(lower=0) / max(float(values.clip(lower=0).sum()), 1e-12)
    return np.maximum(np.round(share * total), minimum).astype(int)


def _check_pairs_table(queries: pd.DataFrame, k) -> np.ndarray:
    """The checks :func:`assign` and :func:`greedy_assign` share; returns the scores as floats."""
    check_k(k)
    if not isinstance(queries, pd.DataFrame):
        raise TypeError(f"queries must be a DataFrame with columns query, partner, score, got {type(queries).__name__}")
    missing = [c for c in ("query", "partner", "score") if c not in queries.columns]
    if missing:
        raise ValueError(f"queries: missing column(s) {', '.join(missing)} (need query, partner, score)")
    numbers = pd.to_numeric(queries["score"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(numbers)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        value = queries["score"].iloc[row]
        shown = float(value) if isinstance(value, (int, float, np.number)) else value
        raise ValueError(f"queries: scores must be finite numbers, got {shown!r} for "
                         f"({queries['query'].iloc[row]}, {queries['partner'].iloc[row]})")  # fmt: skip
    return numbers


def _pair_list(pairs, name: str) -> pd.DataFrame:
    rows = list(pairs or [])
    for i, pair in enumerate(rows):
        if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise ValueError(f"{name}[{i}] must be a (query, partner) pair, got {pair!r}")
    return pd.DataFrame(rows, columns=["query", "partner"])


def assign(
    queries: pd.DataFrame,
    *,
    k: int,
    capacity,
    conflicts: Iterable[tuple[str, str]] | None = None,
    forced: Iterable[tuple[str, str]] | None = None,
    min_quality: float | Mapping[str, float] | None = None,
    load_penalty: float = 0.0,
    epsilon: float | None = None,
) -> Assignment:
    """Assign up to ``k`` partners to every query under partner capacities.

    ``queries`` is the long table of candidate pairs with columns ``query``, ``partner``,
    ``score`` (e.g. each SME's top-50 from the recommender; higher is better). ``capacity``
    is a flat int or a mapping partner → int (see :func:`capacity_from_activity`).
    ``conflicts`` are (query, partner) pairs never assigned; ``forced`` pairs are always
    assigned (they use up the query's demand and the partner's capacity, and need not be
    in ``queries``; a pair forced twice counts once). ``min_quality`` (scalar or per query)
    drops pairs scoring below it. A pair listed twice counts once, with its best score.

    The plan maximises the sum of the chosen scores, so a pair scoring 0 or less is never
    worth assigning (leaving demand open is worth 0). For a plan that gives every query up
    to ``k`` partners whatever the sign of the scores (z-scores, log-scores), shift them to
    be positive first, e.g. ``score − min + 1`` (what ``innoweave match assign --objective
    score`` does); among plans that assign the same number of pairs the shift changes
    nothing. Scores must be finite.
    """
    score = _check_pairs_table(queries, k)
    if epsilon is not None and not (isinstance(epsilon, (int, float)) and 0 < epsilon < float("inf")):
        raise ValueError(f"epsilon must be a positive number (the auction's bid increment), got {epsilon!r}")
    if isinstance(load_penalty, bool) or not isinstance(load_penalty, (int, float, np.number)) \
            or not 0 <= load_penalty < float("inf"):
        raise ValueError(f"load_penalty must be a finite number ≥ 0 (the cost of each further unit of a "
                         f"partner's load), got {load_penalty!r}")  # fmt: skip
    if min_quality is not None and not isinstance(min_quality, Mapping) and (
            isinstance(min_quality, bool) or not isinstance(min_quality, (int, float, np.number))
            or np.isnan(min_quality)):  # fmt: skip
        raise ValueError(f"min_quality must be a number (or a mapping query → number), got {min_quality!r}")
    # a pair forced twice is forced once (it would use two units of demand and capacity)
    forced_pairs = _pair_list(forced, "forced").drop_duplicates(ignore_index=True)
    conflict_pairs = _pair_list(conflicts, "conflicts")
    clash = forced_pairs.merge(conflict_pairs, on=["query", "partner"])
    if len(clash):
        raise ValueError(f"pair(s) both forced and in conflict: {list(map(tuple, clash.to_numpy()[:5]))}")
    # integer codes once; every later step works on arrays, not on labels
    q_labels, p_labels = queries["query"].to_numpy(), queries["partner"].to_numpy()
    if len(forced_pairs):
        q_labels = np.concatenate([q_labels.astype(object), forced_pairs["query"].to_numpy(dtype=object)])
        p_labels = np.concatenate([p_labels.astype(object), forced_pairs["partner"].to_numpy(dtype=object)])
    q_codes, all_queries = pd.factorize(q_labels)
    p_codes, all_partners = pd.factorize(p_labels)
    n_pairs = len(queries)
    qi, pi = q_codes[:n_pairs], p_codes[:n_pairs]
    caps = _capacities(np.asarray(all_partners), capacity)
    demand = np.full(len(all_queries), k)
    n_p = max(len(all_partners), 1)
    key = qi.astype(np.int64) * n_p + pi
    order = np.lexsort((-score, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    rows = order[first]  # best row of each distinct pair
    best = queries.iloc[rows][["query", "partner", "score"]]
    drop = np.zeros(len(rows), dtype=bool)
    if len(forced_pairs):
        fq, fp = q_codes[n_pairs:], p_codes[n_pairs:]
        np.subtract.at(demand, fq, 1)
        np.subtract.at(caps, fp, 1)
        if (demand < 0).any():
            raise ValueError(f"more than k={k} forced partners for query {all_queries[np.flatnonzero(demand < 0)[0]]!r}")
        if (caps < 0).any():
            raise ValueError(f"forced pairs exceed the capacity of partner {all_partners[np.flatnonzero(caps < 0)[0]]!r}")
        drop |= np.isin(key[rows], fq.astype(np.int64) * n_p + fp)
    if len(conflict_pairs):
        cq = pd.Index(all_queries).get_indexer(conflict_pairs["query"])
        cp = pd.Index(all_partners).get_indexer(conflict_pairs["partner"])
        known = (cq >= 0) & (cp >= 0)
        drop |= np.isin(key[rows], cq[known].astype(np.int64) * n_p + cp[known])
    if min_quality is not None:
        if isinstance(min_quality, Mapping):
            floors = pd.Series(min_quality).reindex(all_queries).fillna(-np.inf).to_numpy(dtype=float)
            drop |= score[rows] < floors[qi[rows]]
        else:
            drop |= score[rows] < float(min_quality)
    rows = rows[~drop]
    table = queries.iloc[rows][["query", "partner", "score"]]
    qi, pi = qi[rows], pi[rows]
    won = _auction(qi, pi, score[rows], demand, caps,
                   load_penalty=load_penalty, epsilon=epsilon)  # fmt: skip
    chosen = table.iloc[np.flatnonzero(won)].assign(forced=False)
    if len(forced_pairs):
        extra = forced_pairs.merge(best, how="left", on=["query", "partner"])
        chosen = pd.concat([chosen, extra.assign(forced=True)], ignore_index=True)
    chosen = chosen.sort_values(["query", "score"], ascending=[True, False]).reset_index(drop=True)
    load = chosen["partner"].value_counts().reindex(pd.Index(all_partners), fill_value=0)
    stats = {
        "queries": len(all_queries),
        "queries_served": int(chosen["query"].nunique()),
        "assigned_pairs": len(chosen),
        "demand": int(k * len(all_queries)),
        "partners_used": int((load > 0).sum()),
        "max_load": int(load.max()) if len(load) else 0,
        "gini_load": gini(load.to_numpy()),
        "total_score": float(chosen["score"].sum(skipna=True)),
    }
    return Assignment(chosen, load, stats)


def _auction(qi, pi, w, demand, caps, *, load_penalty=0.0, epsilon=None) -> np.ndarray:
    """Auction for max-weight b-matching; returns a bool per pair (chosen or not)."""
    m = len(w)
    won = np.zeros(m, dtype=bool)
    if m == 0:
        return won
    nq, npart = len(demand), len(caps)
    span = float(w.max() - min(w.min(), 0.0)) or 1.0
    eps = epsilon if epsilon is not None else span * 1e-4
    # padded per-query layout of the pairs (queries have at most D candidates)
    orig = np.arange(m) if np.all(qi[1:] >= qi[:-1]) else np.argsort(qi, kind="stable")
    qi, pi, w = qi[orig], pi[orig], w[orig]
    counts = np.bincount(qi, minlength=nq)
    D = int(counts.max())
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(m) - starts[qi]
    W = np.full((nq, D), -np.inf)
    P = np.zeros((nq, D), dtype=np.int64)
    W[qi, pos], P[qi, pos] = w, pi
    held = np.zeros((nq, D), dtype=bool)
    free = demand.astype(np.int64).copy()
    # slots: contiguous per partner; effective price = load penalty + auction price
    slot_partner = np.repeat(np.arange(npart), caps)
    slot_start = np.concatenate([[0], np.cumsum(caps)[:-1]]).astype(np.int64)
    slot_rank = np.arange(len(slot_partner)) - slot_start[slot_partner]
    slot_eff = load_penalty * slot_rank.astype(float)
    slot_holder = np.full(len(slot_partner), -1, dtype=np.int64)  # flat index q*D + pos
    has_slots = caps > 0
    ask = np.full(npart, np.inf)
    if len(slot_partner):
        ask[has_slots] = np.minimum.reduceat(slot_eff, slot_start[has_slots])
    k_max = int(demand.max()) if nq else 0
    while True:
        active = np.flatnonzero(free > 0)
        if len(active) == 0:
            break
        V = W[active] - ask[P[active]]
        V[held[active]] = -np.inf
        keep = (V > 0).any(axis=1)
        active, V = active[keep], V[keep]
        if len(active) == 0:
            break
        top = np.argsort(-V, axis=1, kind="stable")[:, : k_max + 1]
        topV = np.take_along_axis(V, top, axis=1)
        r = free[active]
        nxt = np.where(r < topV.shape[1], topV[np.arange(len(active)), np.minimum(r, topV.shape[1] - 1)], -np.inf)
        second = np.maximum(nxt, 0.0)  # opting out of a unit is worth 0
        rank_idx = np.arange(topV.shape[1])[None, :]
        bidding = (rank_idx < r[:, None]) & (topV > 0)
        b_row, b_col = np.nonzero(bidding)
        b_q = active[b_row]
        b_pos = top[b_row, b_col]
        b_part = P[b_q, b_pos]
        b_cap = W[b_q, b_pos] - second[b_row] + eps  # highest effective price worth paying
        # each partner gives its g-th cheapest slot to its g-th highest bid, if the bid beats it
        o = np.lexsort((-b_cap, b_part))
        b_q, b_pos, b_part, b_cap = b_q[o], b_pos[o], b_part[o], b_cap[o]
        first = np.concatenate([[True], b_part[1:] != b_part[:-1]])
        grp_start = np.maximum.accumulate(np.where(first, np.arange(len(b_part)), 0))
        g = np.arange(len(b_part)) - grp_start
        ok = g < caps[b_part]
        b_q, b_pos, b_part, b_cap, g = b_q[ok], b_pos[ok], b_part[ok], b_cap[ok], g[ok]
        bidded = np.unique(b_part)
        slots = np.concatenate([np.arange(slot_start[p], slot_start[p] + caps[p]) for p in bidded]) if len(bidded) < 64 else \
            np.flatnonzero(np.isin(slot_partner, bidded))
        slots = slots[np.lexsort((slot_eff[slots], slot_partner[slots]))]
        s_first = np.concatenate([[True], slot_partner[slots][1:] != slot_partner[slots][:-1]])
        s_start = np.maximum.accumulate(np.where(s_first, np.arange(len(slots)), 0))
        s_rank = np.arange(len(slots)) - s_start
        # index of the g-th cheapest slot of each bid's partner
        part_first_slot = pd.Series(s_start[s_first], index=slot_partner[slots][s_first])
        target = slots[part_first_slot.reindex(b_part).to_numpy() + g]
        del s_rank
        win = b_cap > slot_eff[target]
        target, b_q, b_pos, b_cap = target[win], b_q[win], b_pos[win], b_cap[win]
        if len(target) == 0:
            # no bid can beat any slot: remaining demand opts out
            break
        evicted = slot_holder[target]
        ev = evicted[evicted >= 0]
        held.ravel()[ev] = False
        np.add.at(free, ev // D, 1)
        slot_holder[target] = b_q * D + b_pos
        slot_eff[target] = b_cap
        held[b_q, b_pos] = True
        np.subtract.at(free, b_q, 1)
        ask[has_slots] = np.minimum.reduceat(slot_eff, slot_start[has_slots])
    flat = np.flatnonzero(held.ravel())
    q_of, pos_of = flat // D, flat % D
    won[orig[starts[q_of] + pos_of]] = True
    return won


def greedy_assign(queries: pd.DataFrame, *, k: int, capacity) -> Assignment:
    """The baseline of ``shared/eval/matching.md``: best pairs first, while demand and capacity last."""
    score = _check_pairs_table(queries, k)
    table = queries[["query", "partner"]].assign(score=score).sort_values("score", ascending=False, kind="stable")
    partners = pd.Index(pd.unique(table["partner"]))
    caps = dict(zip(partners, _capacities(partners.to_numpy(), capacity), strict=True))
    taken_q: dict = {}
    keep = np.zeros(len(table), dtype=bool)
    for i, (q, p) in enumerate(zip(table["query"].tolist(), table["partner"].tolist(), strict=True)):
        if taken_q.get(q, 0) < k and caps[p] > 0:
            keep[i] = True
            taken_q[q] = taken_q.get(q, 0) + 1
            caps[p] -= 1
    chosen = table[keep].assign(forced=False).reset_index(drop=True)
    load = chosen["partner"].value_counts().reindex(partners, fill_value=0)
    stats = {"queries": int(table["query"].nunique()), "queries_served": int(chosen["query"].nunique()),
             "assigned_pairs": len(chosen),
             "partners_used": int((load > 0).sum()), "max_load": int(load.max()) if len(load) else 0,
             "gini_load": gini(load.to_numpy()), "total_score": float(chosen["score"].sum())}  # fmt: skip
    return Assignment(chosen, load, stats)
