"""The fast engine of the collaborative innovation model: columnar state, vectorised phases.

This is the executable form of ``docs/model.md``: a :class:`Population` becomes a
:class:`State` of arrays (knowledge stored unit-major, ``(M, N)``, because the per-unit
column operations are several times faster than row-wise ones on small ``M``), and each
of the eight phases of a step is a handful of whole-array operations — no per-agent Python
loop. The array module is pluggable (``xp``: NumPy, or CuPy on a GPU). Every random array
is drawn with a size fixed by the row capacity, in a fixed order, from the run's one
generator, so scenarios run with the same seed share their random numbers (common random
numbers). The government phase lives in ``government.py``, the per-step measures in
``measures.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from innoweave import __version__
from innoweave.arguments import whole_number
from innoweave.seeding import SeedLike
from innoweave.simulation import kernels
from innoweave.simulation.arrays import (
    RandomStream,
    count_true,
    get_xp,
    is_numpy,
    scatter_add,
    scatter_max,
    scatter_min,
    to_host,
)
from innoweave.simulation.kernels import resolve_kernels
from innoweave.simulation.params import (
    INTERMEDIARY,
    LARGE_FIRM,
    RESEARCH_INSTITUTE,
    SIZE_CLASS_BOUNDS,
    SME,
    UNIVERSITY,
    InstrumentConfig,
    ModelParams,
    row_capacity,
)
from innoweave.simulation.population import (
    Population,
    check_run_inputs,
    draw_firm_attributes,
    stage_codes,
)

NEVER = -(10**6)
_SIZE_BOUNDS = np.asarray(SIZE_CLASS_BOUNDS, dtype=np.float64)
LINK_NONE, LINK_LAB, LINK_CONSORTIUM = 0, 1, 2

def _headroom(n: int) -> int:
    """Spare rows allocated beyond ``n`` rows in use (growing copies every array)."""
    return max(64, n // 16)


#: Columns copied from the population, per row.
_ROW_COLUMNS = (
    "kind", "region", "cluster", "x", "y", "age", "employees", "capital", "growth",
    "awareness", "ip_awareness", "talent", "credit_access", "capacity", "openness",
    "match_quality", "patents",
)  # fmt: skip


class State:
    """The columnar state of one run: ``N`` rows allocated, rows beyond ``n_used`` empty.

    ``max_rows`` is the most rows the run may use (it sizes the random blocks). Arrays are
    allocated for the rows in use plus some headroom and grown by :meth:`grow` as entrants
    arrive, so the whole-array work of a step covers the rows in use rather than the
    capacity; empty rows are all alike, and growing copies the last (empty) row.
    """

    def __init__(self, pop: Population, capacity: int, xp):
        n = len(pop)
        self.xp = xp
        self.max_rows = max(capacity, n)
        self.N = N = min(self.max_rows, n + _headroom(n))
        self.n_used = n
        self.n_regions = pop.n_regions
        self.n_clusters = max(pop.n_clusters, 1)
        self.n_fields = pop.n_fields

        def column(values, dtype, fill=0):
            out = np.full(N, fill, dtype=dtype)
            out[:n] = values
            return xp.asarray(out)

        for name in _ROW_COLUMNS:
            value = getattr(pop, name)
            fill = -1 if name == "cluster" else (1 if name == "employees" else 0)
            setattr(self, name, column(value, value.dtype, fill))
        self.employees = self.employees.astype(xp.float32)
        self.alive = column(np.ones(n, bool), bool, False)
        self.stage = xp.zeros(N, dtype=xp.int8)
        self.neg_spell = xp.zeros(N, dtype=xp.int16)
        self.initial_firm = column(np.isin(pop.kind, (SME, LARGE_FIRM)), bool, False)
        # the kind tests of every phase, kept with ``kind`` (it changes only as entrants arrive)
        self._firm = (self.kind == SME) | (self.kind == LARGE_FIRM)
        self._research = (self.kind == UNIVERSITY) | (self.kind == RESEARCH_INSTITUTE)

        def knowledge(values, dtype):
            out = np.zeros((values.shape[1], N), dtype=dtype)
            out[:, :n] = values.T
            return xp.asarray(out)

        self.field = knowledge(pop.field, np.int32)
        self.ability = knowledge(pop.ability, np.float32)
        self.expertise = knowledge(pop.expertise, np.int8)
        self.mask = knowledge(pop.mask, bool)
        self.memory = knowledge(pop.memory, np.int32)
        self.memory[:, n:] = -1

        # lasting links, secondments and instrument flags
        self.link_partner = xp.full(N, -1, dtype=xp.int32)
        self.link_type = xp.zeros(N, dtype=xp.int8)
        self.link_left = xp.zeros(N, dtype=xp.int16)
        self.second_host = xp.full(N, -1, dtype=xp.int32)
        self.second_left = xp.zeros(N, dtype=xp.int16)
        self.guarantee_left = xp.zeros(N, dtype=xp.int16)
        self.guarantee_cost = xp.zeros(N, dtype=xp.float32)
        self.grant_offer = xp.zeros(N, dtype=bool)  # open to next step's R&D grant call
        self.grant_rank = xp.zeros(N, dtype=xp.int32)  # its place in the call's ranking
        self.tax_eligible = xp.zeros(N, dtype=bool)
        self.voucher_left = xp.zeros(N, dtype=xp.int16)
        self.platform_user = xp.zeros(N, dtype=bool)
        self.ip_supported = xp.zeros(N, dtype=bool)
        self.cluster_boost = xp.zeros(self.n_clusters, dtype=bool)
        self.extra_intro = xp.zeros(self.n_regions, dtype=xp.int64)
        self.last_success = xp.full(N, NEVER, dtype=xp.int32)
        self.last_uir = xp.full(N, NEVER, dtype=xp.int32)
        self._row_arrays = tuple(
            name for name, value in vars(self).items()
            if name not in ("cluster_boost", "extra_intro")
            and isinstance(getattr(value, "shape", None), tuple) and value.shape[-1:] == (N,))

    def grow(self, rows: int) -> None:
        """Make room for ``rows`` more rows in use, keeping a spare (empty) row, up to capacity."""
        need = self.n_used + rows + 1
        if need <= self.N or self.N == self.max_rows:
            return
        extra = min(self.max_rows, need + _headroom(need)) - self.N
        xp = self.xp
        for name in self._row_arrays:
            a = getattr(self, name)
            setattr(self, name, xp.concatenate([a, xp.repeat(a[..., -1:], extra, axis=-1)],
                                               axis=-1))
        self.N += extra

    @property
    def rows(self):
        """Indices ``0..N-1`` of all allocated rows (in use or empty), in the state's ``xp``."""
        return self.xp.arange(self.N)

    def set_kind(self, rows, kind: int) -> None:
        """Give ``rows`` the organisation kind code ``kind``, keeping the firm and research masks in
        step."""
        self.kind[rows] = kind
        self._firm[rows] = kind in (SME, LARGE_FIRM)
        self._research[rows] = kind in (UNIVERSITY, RESEARCH_INSTITUTE)

    def is_firm(self):
        """Firm rows (a shared array: read it, never write to it)."""
        return self._firm

    def is_research(self):
        """Research rows (a shared array: read it, never write to it)."""
        return self._research


@dataclass
class Derived:
    """Phase 0: quantities recomputed from the state at the start of each step."""

    idea: Any  # (M, N) bool
    quality: Any  # (N,)
    niche: Any  # (N,)
    vec: Any  # (N, F + 1) knowledge vectors (last column always 0)
    norm: Any  # (N,)
    depth: Any  # (N,) research depth in 0..1 (0 for others)
    competence: Any  # (N,) mean held ability / ability_max, every row
    size_class: Any  # (N,)


@dataclass
class Collaborations:
    """The realised collaborations of a step (each pair once: ``a`` the firm with the project)."""

    a: Any
    b: Any
    lab: Any  # bool: a joint-lab link
    intermediated: Any  # bool


class Engine:
    """Run the model on a population under a set of instruments.

    ``Engine(params, population, instruments=..., seed=...).run(steps)`` returns one row per
    step with the outputs of ``docs/model.md`` section 5 (also in ``results_``); the final
    state is ``state_``. ``xp`` is ``None``/``"numpy"`` or ``"cupy"``. ``kernels`` is
    ``"numba"`` (fused compiled kernels for the hot phases, NumPy only) or ``"array"`` (the
    whole-array code, which is also the CuPy path); ``None`` takes the ``INNOWEAVE_KERNELS``
    environment variable, else Numba where installed (``kernels.resolve_kernels``). Both
    paths give the same outputs for the same seed; ``kernels_`` records the one used.
    """

    def __init__(
        self,
        params: ModelParams | None = None,
        population: Population | None = None,
        *,
        instruments: dict[str, InstrumentConfig] | None = None,
        seed: SeedLike = None,
        xp: Any = None,
        kernels: str | None = None,
    ):
        self.params = params
        self.population = population
        self.instruments = instruments
        self.seed = seed
        self.xp = xp
        self.kernels = kernels

    # --- set-up --------------------------------------------------------------------------

    def _setup(self, steps: int) -> None:
        from innoweave.simulation.government import Government
        from innoweave.simulation.measures import Recorder

        p, pop, instruments = check_run_inputs(self.params, self.population, self.instruments)
        self.params_ = p
        xp = self.xp_ = get_xp(self.xp)
        self.kernels_ = resolve_kernels(self.kernels, is_numpy(xp))
        self._fused = self.kernels_ == "numba"
        self.state_ = State(pop, row_capacity(p, len(pop), pop.n_firms, steps), xp)
        self.rng_ = RandomStream(self.seed, xp)
        self.t_ = 0
        s = self.state_
        s.stage = self._stage(s)
        self._init_demand()
        self.government_ = Government(instruments, self)
        self.recorder_ = Recorder(self)
        self.records_: list[dict[str, float]] = []
        self.steps_ = steps
        self._ahead: kernels.Job | None = None  # phases 0-1 of the next step, on the second thread
        self.phase_seconds_: dict[str, float] | None = None

    def _init_demand(self) -> None:
        xp, s, p = self.xp_, self.state_, self.params_
        dv = self.derive()
        firm = s.is_firm() & s.alive
        F = s.n_fields
        e_f = xp.bincount(dv.niche[firm], weights=s.employees[firm], minlength=F)[:F]
        total = float(e_f.sum())
        self.demand0_ = (p.market.demand_per_employee * (0.5 * e_f + 0.5 * total / F)).astype(
            xp.float32
        )

    # --- run -----------------------------------------------------------------------------

    def run(self, steps: int, *, progress=None, timing: bool = False) -> pd.DataFrame:
        """Run ``steps`` steps from the population; returns the per-step outputs.

        ``steps`` (a whole number >= 1), the parameters, the population and the instruments
        are checked once here, before the first step (:func:`check_run_inputs`)."""
        steps = whole_number("steps", steps, least=1)
        self._setup(steps)
        self.phase_seconds_ = {} if timing else None
        self.advance(steps, progress=progress)
        self.results_ = pd.DataFrame(self.records_)
        return self.results_

    def advance(self, steps: int, *, progress=None) -> list[dict[str, float]]:
        """Run ``steps`` more steps (after :meth:`run` or ``_setup``); returns their records.

        The same steps as :meth:`step`, with work handed to a second thread on the Numba
        path (phase timing off), each job one compiled call that releases the GIL: while
        phase 2 runs, the draw pools of phase 3 (phase 2 writes nothing they read) and the
        uniforms of later draws (:meth:`RandomStream.draw_ahead`); while phase 8 records,
        phases 0 and 1 of the next step, which read and write nothing phase 8 reads
        (nothing else runs between the end of phase 7 and the next phase 0). The outputs
        are identical; ``docs/model.md`` sections 8 and 10.
        """
        records = []
        for k in range(steps):
            records.append(self._step(helper=True, ahead=k < steps - 1))
            if progress is not None:
                progress()
        return records

    def step(self) -> dict[str, float]:
        """One step (phases 0-8); appends and returns its record.

        With ``timing=True`` passed to :meth:`run` (or ``phase_seconds_`` set to a dict), the
        wall time of each phase is added to ``phase_seconds_`` (synchronising the GPU).
        Phases 0-1 already run beside the last record (an :meth:`advance` stopped by an
        error there) are taken, not run again: phase 1 writes the state.
        """
        return self._step(helper=False, ahead=False)

    def _next_phases(self, t: int):
        """Phases 0 and 1 of step ``t``."""
        dv = self.derive()
        if self.params_.mechanisms.market:
            self.market(dv, t)
        return dv

    def _search_block(self) -> int:
        """Values of the random stream that phase 3 reserves."""
        sp = self.params_.search
        return (3 * sp.n_candidates + sp.intermediary_pool + 5) * self.state_.max_rows

    def _draws_ahead(self) -> list[tuple[int, int]]:
        """``(offset, size)`` of the draws of this step and the next that can be made when
        this step starts (offsets from its first draw; the random blocks of section 7 of
        docs/model.md): phase 4's four uniforms and phase 7's of this step, and phase 2's
        and phase 3's acceptance draw of the next step at the present number of rows."""
        s, M = self.state_, self.state_.max_rows
        gov = self.government_.block_size() if self.params_.mechanisms.government else 0
        outcome = M + self._search_block()
        demography = outcome + 4 * M + gov
        following = demography + M + 1
        return ([(outcome + k * M, s.N) for k in range(4)]
                + [(demography, s.N), (following, s.N), (following + M, s.N)])

    def _step(self, *, helper: bool, ahead: bool) -> dict[str, float]:
        p = self.params_
        mech = p.mechanisms
        gov = self.government_
        timed = self._timed
        gov.begin_step()
        n_rows = self.state_.N
        self.alive_at_start_ = self.state_.alive.copy()
        if self._ahead is not None:
            # phases 0-1 already run beside the last record; cleared only once taken, so a
            # wait interrupted here leaves them to the next step
            dv = self._ahead.result()
            self._ahead = None
        else:
            dv = timed("derive", self.derive)
            if mech.market:
                timed("market", self.market, dv)
        # the second thread's submit, where this step hands it work (phase timing off)
        submit = (kernels.second_thread().submit
                  if helper and self._fused and self.phase_seconds_ is None else None)
        pools = None  # phase 3's draw pools, when made on the second thread
        if submit is not None:
            # while phase 2 runs here: the pools (phase 2 writes nothing they read) and the
            # uniforms of later draws, which a compiled PCG64 makes from the stream's state
            if mech.partner_search:
                pools = submit(self.pools)
            self.rng_.draw_ahead(self._draws_ahead(), submit)
        project, cost, _ = timed("intent", self.intent, dv)
        collab = timed("partner_search", self.partner_search, dv, project, cost, pools)
        success, partner_success = timed("outcome", self.outcome_and_learning, dv, project,
                                         collab)
        timed("spillovers", self.spillovers_and_awareness, dv, success, partner_success)
        if mech.government:
            timed("government", gov.act, dv, collab)
        entries, exits, dropped = timed("demography", self.demography, success, collab)
        if self.state_.N != n_rows:  # grown for entrants: extend this step's row arrays
            dv, project, success, self.alive_at_start_ = self._pad_rows(
                dv, project, success, self.alive_at_start_)
        if ahead and submit is not None:
            self._ahead = submit(self._next_phases, self.t_ + 1)
        try:
            record = timed("record", self.recorder_.record, dv, project, success, collab,
                           entries, exits, dropped)
        except BaseException:
            # let phases 0-1 of the next step finish (phase 1 writes the state), so the
            # state is whole and the next step takes them
            if self._ahead is not None:
                self._ahead.wait()
            raise
        self.records_.append(record)
        self.t_ += 1
        return record

    def _pad_rows(self, dv: Derived, *arrays):
        """``dv`` and ``arrays`` extended to the grown state by repeating their last row (an
        empty one at the start of the step, as the new rows were)."""
        xp, n = self.xp_, self.state_.N

        def pad(a, axis=-1):
            last = a[-1:] if axis == 0 else a[..., -1:]
            return xp.concatenate([a, xp.repeat(last, n - a.shape[axis], axis=axis)], axis=axis)

        fields = {f.name: pad(getattr(dv, f.name), 0 if f.name == "vec" else -1)
                  for f in dataclasses.fields(dv)}
        return (Derived(**fields), *(pad(a) for a in arrays))

    def _timed(self, name, fn, *args):
        if self.phase_seconds_ is None:
            return fn(*args)
        import time

        sync = getattr(getattr(self.xp_, "cuda", None), "Stream", None)
        start = time.perf_counter()
        out = fn(*args)
        if sync is not None:
            self.xp_.cuda.Stream.null.synchronize()
        self.phase_seconds_[name] = self.phase_seconds_.get(name, 0.0) + time.perf_counter() - start
        return out

    # --- phase 0 -------------------------------------------------------------------------

    def derive(self) -> Derived:
        """Phase 0: each row's idea (its ``idea_size`` strongest units), idea quality, market niche,
        knowledge vector and norm, competence, research depth and size class."""
        xp, s, kp = self.xp_, self.state_, self.params_.knowledge
        if self._fused:
            idea, total, niche, vec, norm, competence, depth, size_class = kernels.derive(
                s.expertise, s.ability, s.mask, s.field, s.is_research(), s.employees,
                kp.idea_size, np.float32(1.0 / kp.expertise_max),
                np.float32(1.0 / kp.ability_max), s.n_fields, _SIZE_BOUNDS)
            quality = 1.0 - xp.exp(-total * xp.float32(1.0 / kp.quality_scale))
            return Derived(idea, quality, niche, vec, norm, depth, competence, size_class)
        M, N = s.mask.shape
        # strength = ability x (1 + expertise / max); empty slots hold ability 0 (an invariant
        # of every phase), so their strength is 0, below every held unit's
        strength = s.expertise.astype(xp.float32)
        strength *= xp.float32(1.0 / kp.expertise_max)
        strength += xp.float32(1.0)
        strength *= s.ability
        # rank of each unit within its row (ties: lower slot first):
        # rank[u] = #{v < u: s_v >= s_u} + #{v > u: s_v > s_u}. Each pair v < u is compared
        # once: u gains ge = (s_v >= s_u), v starts at its M-1-v later slots and loses ge
        rank = xp.repeat(xp.arange(M - 1, -1, -1, dtype=xp.int8)[:, None], N, axis=1)
        for v in range(M - 1):
            ge = strength[v] >= strength[v + 1:]
            rank[v + 1:] += ge
            rank[v] -= ge.sum(axis=0, dtype=xp.int8)
        idea = s.mask & (rank < kp.idea_size)
        # niche: the field of the row's strongest unit (first slot among equals); a running
        # maximum beats argmax across the slot axis
        best = strength[0].copy()
        niche = s.field[0].copy()
        for u in range(1, M):
            su = strength[u]
            better = su > best
            xp.maximum(best, su, out=best)
            xp.copyto(niche, s.field[u], where=better)
        total = (strength * idea).sum(axis=0)
        quality = 1.0 - xp.exp(-total * xp.float32(1.0 / kp.quality_scale))
        F = s.n_fields
        # knowledge vectors row-major (N, F + 1): gathers of a row's vector are contiguous;
        # empty slots write their (zero) ability to the spare last column, which stays 0
        vec = xp.zeros(N * (F + 1), dtype=xp.float32)
        base = xp.arange(N, dtype=xp.int64) * (F + 1)  # native-width indices scatter fastest
        for u in range(M):
            vec[base + xp.where(s.mask[u], s.field[u], F)] = s.ability[u]
        vec = vec.reshape(N, F + 1)
        norm = xp.sqrt((s.ability * s.ability).sum(axis=0))  # one unit per field
        held = count_true(xp, s.mask)
        # abilities of empty slots are 0 (an invariant of every phase), so no mask product
        competence = s.ability.sum(axis=0) / xp.maximum(held, 1) * xp.float32(1.0 / kp.ability_max)
        depth = xp.where(s.is_research(), competence, xp.float32(0.0))
        size_class = xp.zeros(N, dtype=xp.int64)
        for bound in SIZE_CLASS_BOUNDS:
            size_class += s.employees >= bound
        return Derived(idea, quality, niche.astype(xp.int64), vec, norm, depth, competence,
                       size_class)

    # --- shared rules --------------------------------------------------------------------

    def match(self, dv: Derived, i, j):
        """Knowledge match K(o_ij) of row pairs (conservative or progressive rule).

        ``i`` is ``(P,)`` and ``j`` either ``(P,)`` or ``(K, P)`` (K candidates per ``i``).
        The dot product is summed field by field in field order, which a fused kernel can
        repeat to the bit (an einsum's summation order is NumPy's own).
        """
        xp, F = self.xp_, self.state_.n_fields
        progressive = self.params_.search.rule != "conservative"
        if self._fused:
            jj = j if j.ndim == 2 else j[None, :]
            out = kernels.match(dv.vec, dv.norm, i.astype(np.int64), jj.astype(np.int64), F,
                                progressive)
            return out if j.ndim == 2 else out[0]
        # take() gathers whole rows several times faster than fancy indexing in NumPy
        vi, ni = xp.take(dv.vec, i, axis=0), dv.norm[i]
        vj = xp.take(dv.vec, j, axis=0)
        dot = vj[..., 0] * vi[:, 0]
        for f in range(1, F):
            dot += vj[..., f] * vi[:, f]
        den = dv.norm[j] * (ni[None, :] if j.ndim == 2 else ni)
        o = xp.minimum(xp.maximum(dot / xp.where(den > 0, den, 1.0), 0.0), 1.0)
        if not progressive:
            return o
        return 4.0 * o * (1.0 - o)

    def attractiveness(self, dv: Derived, i, j):
        """S_ij of docs/model.md phase 3 for row pairs; ``j`` ``(P,)`` or ``(K, P)``, -1 = -inf."""
        xp, s, sp = self.xp_, self.state_, self.params_.search
        if self._fused:
            jj = j if j.ndim == 2 else j[None, :]
            vec, norm, competence, region, cluster, memory, *rule = self._attraction_args(dv)
            out = kernels.attractiveness(vec, norm, competence, region, cluster, memory,
                                         i.astype(np.int64), jj.astype(np.int64), *rule)
            return out if j.ndim == 2 else out[0]
        valid = j >= 0
        jj = xp.where(valid, j, 0)
        ci = s.cluster[i]
        mem = xp.take(s.memory, i, axis=1)  # (K_mem, P)
        if j.ndim == 2:
            ri, ci, inside = s.region[i][None, :], ci[None, :], (ci >= 0)[None, :]
            previous = (mem[:, None, :] == jj[None, :, :]).any(axis=0)
        else:
            ri, inside = s.region[i], ci >= 0
            previous = (mem == jj[None, :]).any(axis=0)
        score = sp.w_knowledge * self.match(dv, i, jj)
        score += sp.w_region * (s.region[jj] == ri)
        score += sp.w_cluster * ((s.cluster[jj] == ci) & inside)
        score += sp.w_previous * previous
        score += sp.w_competence * dv.competence[jj]
        return xp.where(valid, score, -xp.inf).astype(xp.float32)

    def _attraction_args(self, dv: Derived) -> tuple:
        """The arrays and weights of S_ij, in the argument order of the kernels that score
        pairs (around the pairs themselves)."""
        s, sp = self.state_, self.params_.search
        return (dv.vec, dv.norm, dv.competence, s.region, s.cluster, s.memory, s.n_fields,
                sp.rule != "conservative", np.float32(sp.w_knowledge), sp.w_region,
                sp.w_cluster, sp.w_previous, sp.w_competence)

    def groups(self, members, key, n_groups):
        """Rows ``members`` grouped by ``key`` for uniform draws within a group."""
        xp = self.xp_
        k = key[members]
        small = k.astype(xp.int16) if n_groups < 2**15 else k  # radix sort for small keys
        order = members[xp.argsort(small, kind="stable")]
        counts = xp.bincount(k, minlength=n_groups)[:n_groups]
        starts = xp.cumsum(counts) - counts
        return order, starts, counts

    def pick(self, grouped, g, u):
        """One uniform member of group ``g`` per draw ``u`` (-1 where the group is empty);
        ``g`` broadcasts against ``u``."""
        xp = self.xp_
        order, starts, counts = grouped
        if order.shape[0] == 0:
            return xp.full(np.broadcast_shapes(g.shape, u.shape), -1, dtype=xp.int64)
        gg = xp.minimum(xp.maximum(g, 0), counts.shape[0] - 1)
        c = xp.where(g >= 0, counts[gg], 0)
        idx = starts[gg] + xp.minimum((u * c).astype(xp.int64), xp.maximum(c - 1, 0))
        return xp.where(c > 0, order[xp.minimum(xp.maximum(idx, 0), order.shape[0] - 1)], -1)

    def pick_all(self, members, u):
        """One uniform row of ``members`` per draw ``u`` (all -1 if ``members`` is empty)."""
        xp = self.xp_
        if members.shape[0] == 0:
            return xp.full(u.shape, -1, dtype=xp.int64)
        idx = xp.minimum((u * members.shape[0]).astype(xp.int64), members.shape[0] - 1)
        return members[idx]

    def pools(self):
        """Alive firms grouped by region and cluster, research by region (for draws)."""
        xp, s = self.xp_, self.state_
        names = ("firms", "research", "firm_region", "firm_cluster", "research_region")
        if self._fused:
            return dict(zip(names, kernels.pools(s.alive, s.is_firm(), s.is_research(), s.region,
                                                 s.cluster, s.n_regions, s.n_clusters),
                            strict=True))
        firms = xp.nonzero(s.alive & s.is_firm())[0]
        research = xp.nonzero(s.is_research())[0]
        members = firms[s.cluster[firms] >= 0]
        return dict(zip(names, (firms, research, self.groups(firms, s.region, s.n_regions),
                                self.groups(members, s.cluster, s.n_clusters),
                                self.groups(research, s.region, s.n_regions)), strict=True))

    def research_candidate(self, pools, rows, u):
        """Rule 1: a research organisation of the row's region, else one uniform nationwide."""
        xp, s = self.xp_, self.state_
        if self._fused and u.ndim == 1:
            return kernels.research_candidates(rows, s.region, pools["research"],
                                               *pools["research_region"], u)
        local = self.pick(pools["research_region"], s.region[rows].astype(xp.int64), u)
        return xp.where(local >= 0, local, self.pick_all(pools["research"], u))

    def slot_candidates(self, pools, rows, size_class, u_kind, u_src, u_pick):
        """The visible candidates of each row (``(C, P)``, -1 = void); draws are ``(C, P)``."""
        xp, s, sp = self.xp_, self.state_, self.params_.search
        if self._fused:
            return kernels.slot_candidates(
                rows.astype(np.int64), size_class, s.region, s.cluster, s.memory, s.alive,
                s.kind, s.cluster_boost, pools["firms"], pools["research"],
                *pools["firm_region"], *pools["firm_cluster"], *pools["research_region"],
                u_kind, u_src, u_pick, np.asarray(sp.research_seek, dtype=np.float32),
                sp.research_seek_max, sp.research_density_ref, sp.p_previous, sp.p_cluster,
                sp.p_region, self.government_.cluster_boost_factor, INTERMEDIARY)
        # research is seen in proportion to its density among the region's firms
        res_counts, firm_counts = pools["research_region"][2], pools["firm_region"][2]
        region_density = res_counts / xp.maximum(firm_counts, 1)
        national = pools["research"].shape[0] / max(int(pools["firms"].shape[0]), 1)
        density = xp.where(res_counts > 0, region_density, national)[s.region[rows]]
        seek = xp.minimum(sp.research_seek_max, xp.asarray(sp.research_seek, dtype=xp.float32)[
            size_class[rows]] * density / sp.research_density_ref)
        mem = xp.take(s.memory, rows, axis=1)
        mem_count = count_true(xp, mem >= 0)
        cl = s.cluster[rows]
        cl_counts = pools["firm_cluster"][2]
        has_cluster = (cl >= 0) & (cl_counts[xp.maximum(cl, 0)] > 1)
        boost = xp.where(has_cluster & s.cluster_boost[xp.maximum(cl, 0)],
                         1.0 + self.government_.cluster_boost_factor, 1.0)
        p_prev = xp.where(mem_count > 0, sp.p_previous, 0.0)
        p_cl = xp.where(has_cluster, sp.p_cluster * boost, 0.0)
        p_reg = sp.p_region + (sp.p_previous - p_prev) + xp.where(has_cluster, 0.0, sp.p_cluster)
        total = p_prev + p_cl + p_reg
        scale = xp.where(total > 1.0, total, 1.0)
        c1 = p_prev / scale
        c2 = c1 + p_cl / scale
        c3 = c2 + p_reg / scale
        # all C candidate slots at once: every draw below is elementwise in (C, P)
        region = s.region[rows].astype(xp.int64)
        research = self.research_candidate(pools, rows, u_pick)
        from_mem = mem[xp.minimum((u_pick * mem_count).astype(xp.int64), sp.memory - 1),
                       xp.arange(rows.shape[0])]
        from_cluster = self.pick(pools["firm_cluster"], xp.where(has_cluster, cl, -1), u_pick)
        from_region = self.pick(pools["firm_region"], region, u_pick)
        national = self.pick_all(pools["firms"], u_pick)
        firm_pick = xp.where(u_src < c1, from_mem,
                             xp.where(u_src < c2, from_cluster,
                                      xp.where(u_src < c3, from_region, national)))
        cand = xp.where(u_kind < seek, research, firm_pick).astype(xp.int64)
        ok = (cand >= 0) & (cand != rows)
        cc = xp.maximum(cand, 0)
        ok &= s.alive[cc] & (s.kind[cc] != INTERMEDIARY)
        return xp.where(ok, cand, -1)

    # --- phase 1 -------------------------------------------------------------------------

    def market(self, dv: Derived, t: int | None = None) -> None:
        """Phase 1 of step ``t`` (default: the current step)."""
        xp, s, mp = self.xp_, self.state_, self.params_.market
        t = self.t_ if t is None else t
        firm = s.alive & s.is_firm()
        F = s.n_fields
        if self._fused:
            gm = self.params_.demography.growth_memory
            kernels.market(s.employees, s.capital, s.growth, firm, dv.niche,
                           xp.exp(mp.quality_sensitivity * dv.quality),
                           self.demand0_ * (1.0 + mp.demand_growth) ** t,
                           np.float32(mp.cost_per_employee), np.float32(mp.employment_response),
                           np.float32(1 - gm), np.float32(gm * 4.0))
            return
        w = xp.where(firm, s.employees * xp.exp(mp.quality_sensitivity * dv.quality), 0.0)
        total_w = xp.bincount(dv.niche, weights=w, minlength=F)[:F]
        demand = self.demand0_ * (1.0 + mp.demand_growth) ** t
        per_weight = xp.where(total_w > 0, demand / xp.where(total_w > 0, total_w, 1.0), 0.0)
        revenue = (w * per_weight[dv.niche]).astype(xp.float32)
        cost = mp.cost_per_employee * s.employees
        profit = revenue - cost
        s.capital = xp.where(firm, s.capital + profit, s.capital).astype(xp.float32)
        margin = xp.minimum(xp.maximum(profit / xp.maximum(revenue, 1e-6), -0.5), 0.5)
        new_emp = xp.maximum(1.0, s.employees * (1.0 + mp.employment_response * margin))
        change = new_emp / s.employees - 1.0
        gm = self.params_.demography.growth_memory
        s.growth = xp.where(firm, (1 - gm) * s.growth + gm * 4.0 * change, s.growth).astype(
            xp.float32)
        s.employees = xp.where(firm, new_emp, s.employees).astype(xp.float32)

    # --- phase 2 -------------------------------------------------------------------------

    def intent(self, dv: Derived):
        """Phase 2: each alive firm starts an R&D project with a logistic probability of its size
        class, awareness and funding (capital, credit and the government's tax and guarantee
        support); firms open to the R&D grant call apply where they would start a project with
        the grant, and the call funds applicants in its ranking order within the step's budget;
        the others decide without it. A firm pays its project's cost less any grant. Returns
        ``(project, cost, grant)``."""
        xp, s, ip = self.xp_, self.state_, self.params_.intent
        gov = self.government_
        with self.rng_.block(s.max_rows):
            u = self.rng_.random(s.N, reserve=s.max_rows)
        firm = s.alive & s.is_firm()
        call = gov.grant_budget > 0 and bool(s.grant_offer.any())
        if self._fused:
            def base_logit(offer):
                return kernels.intent_logit(
                    s.employees, s.capital, s.awareness, s.credit_access, offer,
                    s.tax_eligible, s.guarantee_left, dv.size_class, firm,
                    np.asarray(ip.intent_bias, dtype=np.float32),
                    np.float32(ip.project_cost_per_employee), np.float32(gov.grant_share),
                    np.float32(gov.tax_share * gov.tax_scale), float(gov.guarantee_boost),
                    ip.credit_line_per_employee, np.float32(ip.awareness_weight),
                    ip.funding_weight)
        else:
            def base_logit(offer):
                cost = (ip.project_cost_per_employee * s.employees).astype(xp.float32)
                # the grant, and the tax credit on the part of the cost the firm pays itself
                grant = xp.where(offer, gov.grant_share * cost, 0.0)
                support = grant + xp.where(s.tax_eligible,
                                           gov.tax_share * gov.tax_scale * (cost - grant), 0.0)
                credit = xp.minimum(1.0, s.credit_access
                                    + xp.where(s.guarantee_left > 0, gov.guarantee_boost, 0.0))
                funds = (xp.maximum(s.capital, 0.0)
                         + credit * ip.credit_line_per_employee * s.employees)
                phi = xp.minimum(1.0, (funds + support) / cost)
                bias = xp.asarray(ip.intent_bias, dtype=xp.float32)[dv.size_class]
                return (bias + ip.awareness_weight * (s.awareness - 0.5)
                        + ip.funding_weight * (phi - 1.0)), cost
        # the price effect: support lowers the share of the cost the firm pays itself
        price_grant, price_tax = gov.price_terms(ip.price_elasticity)

        def logit(offer):
            z, cost = base_logit(offer)
            if price_grant or price_tax:
                z = (z + xp.where(offer & firm, price_grant, 0.0)
                     + xp.where(s.tax_eligible & firm, price_tax, 0.0))
            return z, cost

        funded = xp.zeros_like(s.grant_offer)  # nobody yet: also the "no grant" mask of the logit
        z, cost = logit(funded)
        prob = 1.0 / (1.0 + xp.exp(-z))
        if call:  # the call: applicants are the firms that would start a project with the grant
            prob_grant = 1.0 / (1.0 + xp.exp(-logit(s.grant_offer)[0]))
            funded = gov.fund_grants(firm & s.grant_offer & (u < prob_grant), cost, dv)
            prob = xp.where(funded, prob_grant, prob)
        if self._fused:
            project, grant, self.rd_spend_ = kernels.projects(
                u, prob, firm, funded, cost, s.capital, np.float32(gov.grant_share))
        else:
            project = firm & (u < prob)
            grant = xp.where(project & funded, gov.grant_share * cost, 0.0)
            s.capital = xp.where(project, s.capital - cost + grant, s.capital).astype(
                xp.float32)
            self.rd_spend_ = xp.where(project, cost - grant, 0.0)  # the firm's own spending
        # over the projects: independent of N
        gov.spend("rd_grant", grant[project].sum(), xp.count_nonzero(funded & project))
        return project, cost, grant

    # --- phase 3 -------------------------------------------------------------------------

    def partner_search(self, dv: Derived, project, cost, pools=None) -> Collaborations:
        """Phase 3 (``pools``: a job making :meth:`pools` for this step, else made here)."""
        s, sp, rng = self.state_, self.params_.search, self.rng_
        N, C = s.max_rows, sp.n_candidates  # random blocks are sized by max_rows
        with rng.block(self._search_block()):
            return self._partner_search(dv, project, cost, pools, N, C)

    def _partner_search(self, dv, project, cost, pools, N, C) -> Collaborations:
        xp, s, sp, rng = self.xp_, self.state_, self.params_.search, self.rng_
        mech = self.params_.mechanisms
        gov = self.government_
        u_open = rng.random(s.N, reserve=N)

        linked = project & (s.link_left > 0) & (s.link_partner >= 0)
        link_a = xp.nonzero(linked)[0]
        link_b = s.link_partner[link_a].astype(xp.int64)
        link_lab = s.link_type[link_a] == LINK_LAB

        self.new_partnerships_ = 0
        if not mech.partner_search:
            return Collaborations(link_a, link_b, link_lab, xp.zeros(link_a.shape[0], bool))

        seekers = xp.nonzero(project & ~linked)[0]
        P = seekers.shape[0]
        u_kind, u_src, u_pick = (rng.random((C, P), reserve=C * N) for _ in range(3))
        pools = pools.result() if pools is not None else self.pools()
        cands = [self.slot_candidates(pools, seekers, dv.size_class, u_kind, u_src, u_pick)]
        via = [xp.zeros(cands[0].shape, dtype=bool)]
        # intermediary introductions
        u_order = rng.random(P, reserve=N)
        u_pool = rng.random((sp.intermediary_pool, P), reserve=sp.intermediary_pool * N)
        if mech.intermediaries:
            intro, funded_used = self.introductions(dv, pools, seekers, u_order, u_pool)
            cands.append(intro[None, :])
            via.append(xp.ones((1, P), dtype=bool))
            gov.spend("intermediary_funding", funded_used * gov.cost_per_introduction,
                      funded_used)
        # vouchers
        u_voucher = rng.random(P, reserve=N)
        holder = s.voucher_left[seekers] > 0
        vc = self.research_candidate(pools, seekers, u_voucher)
        cands.append(xp.where(holder, vc, -1)[None, :])
        via.append(xp.zeros((1, P), dtype=bool))
        # matchmaking platform
        platform = gov.platform_candidates(dv, pools, seekers)
        if platform is not None:
            cands.append(platform)
            via.append(xp.ones(platform.shape, dtype=bool))
        cand = xp.concatenate(cands, axis=0)
        via_m = xp.concatenate(via, axis=0)
        scores = self.attractiveness(dv, seekers, cand)
        if self._fused:
            acc_s, acc_j, acc_via = self._accept_fused(dv, scores, cand, via_m, seekers, u_open,
                                                       cost)
        else:
            acc_s, acc_j, acc_via = self._accept_arrays(dv, scores, cand, via_m, seekers,
                                                        u_open, cost)
        a = xp.concatenate([link_a, acc_s])
        b = xp.concatenate([link_b, acc_j])
        lab = xp.concatenate([link_lab, xp.zeros(acc_s.shape[0], dtype=bool)])
        via_all = xp.concatenate([xp.zeros(link_a.shape[0], dtype=bool), acc_via])
        return Collaborations(a, b, lab, via_all)

    def _accept_fused(self, dv, scores, cand, via_m, seekers, u_open, cost):
        """Proposals, acceptance, capacity, transaction costs, vouchers and memory in one
        kernel."""
        s, sp, gov = self.state_, self.params_.search, self.government_
        outstanding = gov.vouchers_out(s.voucher_left)
        acc_s, acc_j, acc_via, n_new, n_used, n_presented = kernels.accept(
            scores, cand, via_m, seekers, u_open, s.openness, s.is_research(), s.alive,
            np.float32(sp.min_score), *self._attraction_args(dv), s.capacity,
            sp.firm_capacity, s.link_left, s.link_partner, s.second_left, s.second_host,
            cost, s.capital, s.voucher_left, np.float32(sp.transaction_cost_share),
            sp.intermediated_cost_factor, float(gov.voucher_value), gov.vouchers_payable())
        gov.vouchers_paid(n_used, n_presented, outstanding)
        self.new_partnerships_ = n_new
        return acc_s, acc_j, acc_via

    def _accept_arrays(self, dv, scores, cand, via_m, seekers, u_open, cost):
        """Proposals, acceptance, capacity, transaction costs and vouchers as array code."""
        xp, s, sp, gov = self.xp_, self.state_, self.params_.search, self.government_
        P = seekers.shape[0]
        best = xp.argmax(scores, axis=0)
        cols = xp.arange(P)
        best_score = scores[best, cols]
        target = cand[best, cols]
        intermediated = via_m[best, cols]
        proposing = best_score >= sp.min_score
        prop_s = seekers[proposing]
        prop_j = target[proposing]
        prop_via = intermediated[proposing]

        # acceptance: all proposals at once
        back = self.attractiveness(dv, prop_j, prop_s)
        research_target = s.is_research()[prop_j]
        acceptable = xp.where(research_target, u_open[prop_s] < s.openness[prop_j],
                              s.alive[prop_j] & (back >= sp.min_score))
        cap = self.remaining_capacity()
        a_s, a_j, a_back, a_via = (prop_s[acceptable], prop_j[acceptable], back[acceptable],
                                   prop_via[acceptable])
        order = xp.lexsort(xp.stack([a_s, -a_back, a_j]))
        a_s, a_j, a_via = a_s[order], a_j[order], a_via[order]
        first = xp.searchsorted(a_j, a_j, side="left")
        pos = xp.arange(a_j.shape[0]) - first
        accepted = pos < cap[a_j]
        acc_s, acc_j, acc_via = a_s[accepted], a_j[accepted], a_via[accepted]

        # transaction costs and vouchers
        tau = sp.transaction_cost_share * cost[acc_s] * xp.where(
            acc_via, sp.intermediated_cost_factor, 1.0)
        research_partner = s.is_research()[acc_j]
        new = ~(xp.take(s.memory, acc_s, axis=1) == acc_j[None, :]).any(axis=0)
        outstanding = gov.vouchers_out(s.voucher_left)
        presented = (s.voucher_left[acc_s] > 0) & research_partner & new
        # the step's voucher money pays presented vouchers in order of acceptance
        voucher_used = presented & (xp.cumsum(presented) <= gov.vouchers_payable())
        tau_s = xp.where(voucher_used, 0.0, tau)
        scatter_add(xp, s.capital, acc_s, (-tau_s + xp.where(voucher_used, gov.voucher_value, 0.0))
                    .astype(xp.float32))
        firm_partner = ~research_partner
        scatter_add(xp, s.capital, acc_j[firm_partner], (-tau[firm_partner]).astype(xp.float32))
        gov.vouchers_paid(int(xp.count_nonzero(voucher_used)), int(xp.count_nonzero(presented)),
                          outstanding)
        s.voucher_left[acc_s[voucher_used]] = 0
        self.new_partnerships_ = int(xp.count_nonzero(new))
        self.remember(acc_s, acc_j)
        return acc_s, acc_j, acc_via

    def introductions(self, dv, pools, seekers, u_order, u_pool):
        """Intermediary introductions: one complementary candidate per introduced seeker."""
        xp, s, sp = self.xp_, self.state_, self.params_.search
        R = s.n_regions
        if self._fused:
            return kernels.introductions(
                seekers, u_order, s.kind, s.capacity, s.match_quality,
                self.government_.extra_intro(), u_pool, pools["firms"], pools["research"], R,
                INTERMEDIARY, sp.intermediary_pool, *self._attraction_args(dv))
        reg = s.region[seekers].astype(xp.int64)
        # by region, then draw: two stable sorts (the second a radix sort on small keys) are
        # faster than lexsort and give the same order
        by_draw = xp.argsort(u_order, kind="stable")
        key = reg[by_draw]
        order = by_draw[xp.argsort(key.astype(xp.int16) if R < 2**15 else key, kind="stable")]
        pool = xp.concatenate([pools["firms"], pools["research"]])
        cols, draws, funded = self._introduction_draws(seekers, reg, order, u_pool, pool)
        out = xp.full(seekers.shape[0], -1, dtype=xp.int64)
        if cols.shape[0]:
            sc = self.attractiveness(dv, seekers[cols], draws)
            out[cols] = draws[xp.argmax(sc, axis=0), xp.arange(cols.shape[0])]
        return out, funded

    def _introduction_draws(self, seekers, reg, order, u_pool, pool):
        """Who is introduced and each one's drawn pool (``(depth, introduced)``, -1 = none)
        and the funded count, as whole-array operations (:func:`kernels.introductions`
        does this and the scoring in one pass)."""
        xp, s, sp = self.xp_, self.state_, self.params_.search
        R = s.n_regions
        inter = (s.kind == INTERMEDIARY)
        base = xp.bincount(s.region[inter], weights=s.capacity[inter].astype(xp.float64),
                           minlength=R)[:R].astype(xp.int64)
        n_int = xp.bincount(s.region[inter], minlength=R)[:R]
        mq_sum = xp.bincount(s.region[inter], weights=s.match_quality[inter].astype(xp.float64),
                             minlength=R)[:R]
        mq = xp.where(n_int > 0, mq_sum / xp.maximum(n_int, 1), 0.5)
        capacity = base + self.government_.extra_intro()
        sorted_reg = reg[order]
        rank_sorted = xp.arange(order.shape[0]) - xp.searchsorted(sorted_reg, sorted_reg)
        rank = xp.empty_like(rank_sorted)
        rank[order] = rank_sorted
        introduced = rank < capacity[reg]
        funded = int(xp.count_nonzero(introduced & (rank >= base[reg])))
        cols = xp.nonzero(introduced)[0]
        if cols.shape[0] == 0:
            return cols, xp.zeros((0, 0), dtype=xp.int64), funded
        m = xp.maximum(1, xp.rint(sp.intermediary_pool * mq[reg[cols]]).astype(xp.int64))
        depth = int(m.max())
        draws = self.pick_all(pool, u_pool[:depth, cols])  # (depth, introduced)
        use = (xp.arange(depth)[:, None] < m[None, :]) & (draws != seekers[cols][None, :])
        return cols, xp.where(use, draws, -1), funded

    def remaining_capacity(self):
        """Free collaborations this step: firms ``firm_capacity``, research capacity - hosted."""
        xp, s = self.xp_, self.state_
        hosted = xp.zeros(s.N, dtype=xp.int64)
        act = (s.link_left > 0) & (s.link_partner >= 0)
        hosted += xp.bincount(s.link_partner[act], minlength=s.N)[: s.N]
        sec = (s.second_left > 0) & (s.second_host >= 0)
        hosted += xp.bincount(s.second_host[sec], minlength=s.N)[: s.N]
        return xp.where(s.is_research(), s.capacity.astype(xp.int64) - hosted,
                        self.params_.search.firm_capacity)

    def remember(self, a, b) -> None:
        """Both sides put the other first in memory (this step's partners by ascending row)."""
        xp, s = self.xp_, self.state_
        if a.shape[0] == 0:
            return
        K = s.memory.shape[0]
        owner_new = xp.concatenate([a, b])
        partner_new = xp.concatenate([b, a])
        touched = xp.sort(owner_new)  # sorted unique (NumPy's hashing unique is slower here)
        touched = touched[xp.concatenate([xp.ones(1, dtype=bool), touched[1:] != touched[:-1]])]
        old = xp.take(s.memory, touched, axis=1)  # (K, T)
        owner_old = xp.tile(touched, K)
        partner_old = old.reshape(-1)
        rank_old = xp.repeat(xp.arange(K), touched.shape[0])
        keep = partner_old >= 0
        owner = xp.concatenate([owner_new, owner_old[keep]])
        partner = xp.concatenate([partner_new, partner_old[keep]])
        group = xp.concatenate([xp.zeros(owner_new.shape[0], dtype=xp.int64),
                                xp.ones(int(xp.count_nonzero(keep)), dtype=xp.int64)])
        within = xp.concatenate([partner_new, rank_old[keep]])
        # by owner, then group, then within (rows or ranks, below max(N, K)): one stable sort
        # of a combined key gives lexsort's order at a fraction of its cost
        order = xp.argsort((owner * 2 + group) * max(s.N, K) + within, kind="stable")
        owner, partner = owner[order], partner[order]
        # first occurrence of each (owner, partner) pair
        key = owner * s.N + partner
        _, first_idx = xp.unique(key, return_index=True)
        keep_first = xp.zeros(key.shape[0], dtype=bool)
        keep_first[first_idx] = True
        owner, partner = owner[keep_first], partner[keep_first]
        pos = xp.arange(owner.shape[0]) - xp.searchsorted(owner, owner)
        ok = pos < K
        s.memory[:, touched] = -1
        s.memory[pos[ok], owner[ok]] = partner[ok].astype(xp.int32)

    # --- phase 4 -------------------------------------------------------------------------

    def absorptive(self, dv: Derived, rows):
        """Absorptive capacity of ``rows``: talent x (0.5 + 0.5 x mean idea expertise /
        expertise_max)."""
        xp, s, kp = self.xp_, self.state_, self.params_.knowledge
        idea = xp.take(dv.idea, rows, axis=1)
        exp_sum = (xp.take(s.expertise, rows, axis=1) * idea).sum(axis=0, dtype=xp.float32)
        n = xp.maximum(count_true(xp, idea), 1)
        return s.talent[rows] * (0.5 + 0.5 * exp_sum / n / kp.expertise_max)

    def outcome_and_learning(self, dv: Derived, project, collab: Collaborations):
        """Phase 4: each project succeeds with a logistic probability of idea quality, partner
        complementarity and depth and absorptive capacity (less a penalty for a radical project
        without partner); successes may patent, and firms learn from the project and their partners.
        Returns ``(success, partner_success)``."""
        xp, s, op, kp = self.xp_, self.state_, self.params_.outcome, self.params_.knowledge
        mech = self.params_.mechanisms
        rng = self.rng_
        N = s.N
        with rng.block(4 * s.max_rows):
            u_radical, u_success, u_patent, u_field = (rng.random(N, reserve=s.max_rows)
                                                       for _ in range(4))
        if self._fused:
            f32 = np.float32
            radical, rows, z = kernels.outcome_logit(
                project, collab.a, collab.b, u_radical, dv.quality, dv.depth, dv.vec, dv.norm,
                dv.idea, s.expertise, s.talent, mech.radical, f32(op.radical_prob),
                f32(op.w_complementarity), op.w_depth, f32(op.success_base), f32(op.w_quality),
                op.w_absorptive, op.radical_penalty,
                self.params_.search.rule != "conservative", kp.expertise_max)
            success, partner_success, self.patents_step_, self.radical_success_ = \
                kernels.outcome_draws(
                    rows, 1.0 / (1.0 + xp.exp(-z)), u_success, u_patent, radical,
                    s.ip_supported, s.ip_awareness, s.patents, s.last_success, s.last_uir,
                    s.is_research(), collab.a, collab.b, self.t_, mech.patents,
                    np.float32(op.patent_prob), float(self.government_.patent_factor))
            kernels.learning(
                dv.idea, dv.vec, s.field, s.ability, s.expertise, s.mask, s.talent,
                s.is_research(), s.alive, s.is_firm(), success, radical, u_field, collab.a,
                collab.b, collab.lab, s.second_left, s.second_host, mech.learning,
                mech.forgetting,
                np.float32(op.incremental_gain), np.float32(kp.ability_max), kp.expertise_max,
                op.learning_rate, op.research_transfer, op.research_absorptive,
                np.float32(op.new_unit_share))
            return success, partner_success
        has_partner = xp.zeros(N, dtype=bool)
        has_partner[collab.a] = True
        radical = project & ~has_partner & (u_radical < op.radical_prob) if mech.radical \
            else xp.zeros(N, dtype=bool)
        rows = xp.nonzero(project)[0]
        bonus = xp.zeros(N, dtype=xp.float32)  # complementarity and depth of partners
        bonus[collab.a] = (op.w_complementarity * self.match(dv, collab.a, collab.b)
                           + op.w_depth * dv.depth[collab.b])
        z = (op.success_base + op.w_quality * dv.quality[rows] + bonus[rows]
             + op.w_absorptive * self.absorptive(dv, rows)
             - op.radical_penalty * radical[rows])
        success = xp.zeros(N, dtype=bool)
        success[rows] = u_success[rows] < 1.0 / (1.0 + xp.exp(-z))
        # patents
        if mech.patents:
            factor = xp.where(s.ip_supported[rows], self.government_.patent_factor, 1.0)
            prob = xp.minimum(1.0, op.patent_prob * s.ip_awareness[rows] * factor)
            patent_rows = rows[success[rows] & (u_patent[rows] < prob)]
            s.patents[patent_rows] += 1
            self.patents_step_ = int(patent_rows.shape[0])
        else:
            self.patents_step_ = 0
        self._learning_arrays(dv, collab, success, radical, u_field, s.alive & s.is_firm())
        # bookkeeping for outputs and the calibration window
        s.last_success[success] = self.t_
        research_b = s.is_research()[collab.b]
        s.last_uir[collab.a[research_b]] = self.t_
        self.radical_success_ = int(xp.count_nonzero(success & radical))
        # partner success flags for awareness: a partner firm's project succeeded
        partner_success = xp.zeros(N, dtype=bool)
        partner_success[collab.b[success[collab.a]]] = True
        partner_success[collab.a[success[collab.b] & ~research_b]] = True
        return success, partner_success

    def _learning_arrays(self, dv: Derived, collab: Collaborations, success, radical, u_field,
                         firm) -> None:
        """Phase 4 from the ability increments on, as whole-array operations (in place)."""
        xp, s, op, kp = self.xp_, self.state_, self.params_.outcome, self.params_.knowledge
        mech = self.params_.mechanisms
        N = s.N
        # ability increments as sparse (slot, row, value) triples, read from the state at the
        # start of the phase and applied after learning by doing and forgetting
        inc_slot, inc_row, inc_val = [], [], []
        inc_rows = xp.nonzero(success & ~radical)[0]
        if inc_rows.shape[0]:
            idea = xp.take(dv.idea, inc_rows, axis=1)
            sl, col = xp.nonzero(idea)
            r = inc_rows[col]
            inc_slot.append(sl)
            inc_row.append(r)
            inc_val.append(op.incremental_gain * (1.0 - s.ability[sl, r] / kp.ability_max))
        new_field = xp.full(N, -1, dtype=xp.int64)
        new_ability = xp.zeros(N, dtype=xp.float32)
        rad_rows = xp.nonzero(success & radical)[0]
        if rad_rows.shape[0]:
            held = dv.vec[rad_rows, :-1].T > 0  # (F, R)
            lacking = (~held).sum(axis=0)
            pick = xp.minimum((u_field[rad_rows] * lacking).astype(xp.int64),
                              xp.maximum(lacking - 1, 0))
            cum = xp.cumsum(~held, axis=0) - 1
            chosen = xp.argmax((cum == pick[None, :]) & ~held, axis=0)
            idea = dv.idea[:, rad_rows]
            # summed slot by slot: NumPy sums a single column pairwise, other shapes in order
            idea_sum = xp.zeros(rad_rows.shape[0], dtype=xp.float32)
            for u in range(idea.shape[0]):
                idea_sum += s.ability[u, rad_rows] * idea[u]
            idea_mean = idea_sum / xp.maximum(idea.sum(axis=0), 1)
            ok = lacking > 0
            new_field[rad_rows[ok]] = chosen[ok]
            new_ability[rad_rows[ok]] = idea_mean[ok]
        if mech.learning:
            self.learn_from_partners(dv, collab, (inc_slot, inc_row, inc_val), new_field,
                                     new_ability)
        # (a) learning by doing and forgetting, firms only (in place: these are full passes)
        if mech.learning:
            s.expertise += dv.idea & firm[None, :]
            xp.minimum(s.expertise, kp.expertise_max, out=s.expertise)
        if mech.forgetting:
            lose = s.mask & ~dv.idea & firm[None, :]
            s.expertise -= lose
            dropped = lose & (s.expertise <= 0)
            s.mask &= ~dropped
            s.ability *= ~dropped
        # (b), (c): the increments, on units still held, capped
        if inc_slot:
            sl, r, v = (xp.concatenate(inc_slot), xp.concatenate(inc_row),
                        xp.concatenate(inc_val).astype(xp.float32))
            keep = s.mask[sl, r]
            flat = s.ability.reshape(-1)
            idx = sl[keep] * N + r[keep]
            scatter_add(xp, flat, idx, v[keep])
            flat[idx] = xp.minimum(flat[idx], kp.ability_max)
        self.insert_units(new_field, new_ability)

    def _learning_pairs(self, collab: Collaborations):
        """Learners, their teachers and joint-lab flags: both sides of each collaboration,
        then secondees learning from their hosts."""
        xp, s = self.xp_, self.state_
        sec = xp.nonzero((s.second_left > 0) & (s.second_host >= 0) & s.alive)[0]
        learner = xp.concatenate([collab.a, collab.b, sec])
        teacher = xp.concatenate([collab.b, collab.a, s.second_host[sec].astype(xp.int64)])
        lab = xp.concatenate([collab.lab, collab.lab, xp.zeros(sec.shape[0], dtype=bool)])
        return learner, teacher, lab

    def learn_from_partners(self, dv, collab, increments, new_field, new_ability) -> None:
        """Phase 4 (c): append learning increments; set each learner's best new unit."""
        xp, s, op = self.xp_, self.state_, self.params_.outcome
        inc_slot, inc_row, inc_val = increments
        research = s.is_research()
        learner, teacher, lab = self._learning_pairs(collab)
        if learner.shape[0] == 0:
            return
        ac = xp.where(research[learner], op.research_absorptive, self.absorptive(dv, learner))
        tau = xp.where(research[teacher], op.research_transfer, 1.0) * xp.where(lab, 2.0, 1.0)
        rate = (op.learning_rate * tau * ac).astype(xp.float32)
        learner_fields = xp.take(s.field, learner, axis=1)
        learner_mask = xp.take(s.mask, learner, axis=1)
        learner_ability = xp.take(s.ability, learner, axis=1)
        cols = xp.arange(learner.shape[0])
        # every teacher unit u against every learner slot v at once: (M_u, M_v, P)
        offered = xp.take(dv.idea, teacher, axis=1)
        f = xp.take(s.field, teacher, axis=1)
        a_j = xp.take(s.ability, teacher, axis=1)
        same = (learner_fields[None, :, :] == f[:, None, :]) & learner_mask[None, :, :]
        holds = same.any(axis=1)
        slot = xp.argmax(same, axis=1)
        a_i = learner_ability[slot, cols[None, :]]
        up_u, up_p = xp.nonzero(offered & holds & (a_i < a_j))  # unit-major, as applied
        inc_slot.append(slot[up_u, up_p])
        inc_row.append(learner[up_p])
        inc_val.append(rate[up_p] * (a_j[up_u, up_p] - a_i[up_u, up_p]))
        # a lacking field: best by ability, ties lower field (fields of a teacher differ)
        lack = offered & ~holds
        best_a = xp.where(lack, a_j, xp.float32(-1.0)).max(axis=0)
        best = lack & (a_j == best_a[None, :])
        cand_f = xp.where(best, f, s.n_fields).min(axis=0).astype(xp.int64)
        cand_f = xp.where(lack.any(axis=0), cand_f, -1)
        cand_a = best_a
        ok = cand_f >= 0
        ln, cf, ca = learner[ok], cand_f[ok], op.new_unit_share * cand_a[ok]
        # one new unit per organisation: the highest-ability candidate, ties lower field;
        # a radical unit (already set) has priority. A per-row maximum, then minimum, by
        # scatter (cheaper than sorting the candidates); candidate fields are < n_fields
        top = xp.full(s.N, -xp.inf, dtype=ca.dtype)
        scatter_max(xp, top, ln, ca)
        is_top = ca == top[ln]
        low = xp.full(s.N, s.n_fields, dtype=cf.dtype)
        scatter_min(xp, low, ln[is_top], cf[is_top])
        ln = xp.nonzero(low < s.n_fields)[0]
        cf, ca = low[ln], top[ln]
        free = new_field[ln] < 0
        new_field[ln[free]] = cf[free]
        new_ability[ln[free]] = ca[free].astype(xp.float32)

    def insert_units(self, new_field, new_ability) -> None:
        """Put each row's new unit in a free slot, else over its weakest unit if stronger."""
        xp, s, kp = self.xp_, self.state_, self.params_.knowledge
        rows = xp.nonzero(new_field >= 0)[0]
        if rows.shape[0] == 0:
            return
        mask = xp.take(s.mask, rows, axis=1)
        strength = xp.where(mask, xp.take(s.ability, rows, axis=1)
                            * (1.0 + xp.take(s.expertise, rows, axis=1) / kp.expertise_max), -1.0)
        has_free = (~mask).any(axis=0)
        free_slot = xp.argmax(~mask, axis=0)
        weakest = xp.argmin(xp.where(mask, strength, xp.inf), axis=0)
        new_strength = new_ability[rows] * (1.0 + 1.0 / kp.expertise_max)
        weakest_strength = strength[weakest, xp.arange(rows.shape[0])]
        slot = xp.where(has_free, free_slot, weakest)
        ok = has_free | (weakest_strength < new_strength)
        r, sl = rows[ok], slot[ok]
        s.field[sl, r] = new_field[r].astype(xp.int32)
        s.ability[sl, r] = new_ability[r]
        s.expertise[sl, r] = 1
        s.mask[sl, r] = True

    # --- phase 5 -------------------------------------------------------------------------

    def spillovers_and_awareness(self, dv: Derived, success, partner_success) -> None:
        """Phase 5: cluster members' abilities move towards the best in their cluster and field
        (faster in clusters the government boosts), and firms' awareness decays and grows with their
        own, their partners' and their cluster's successes."""
        xp, s, sp = self.xp_, self.state_, self.params_.spillover
        mech = self.params_.mechanisms
        F, C = s.n_fields, s.n_clusters
        firm = s.alive & s.is_firm()  # spillovers change abilities only: valid for both
        member = firm & (s.cluster >= 0)
        if self._fused:
            factor = self.government_.cluster_boost_factor
            if mech.spillovers:
                kernels.spillovers(s.ability, s.field, s.mask, xp.nonzero(member)[0], s.cluster,
                                   s.cluster_boost, C, F, np.float32(sp.cluster_rate),
                                   np.float32(sp.cluster_rate * (1.0 + factor)))
            if mech.awareness_dynamics:
                kernels.awareness(s.awareness, firm, member, s.cluster, success,
                                  partner_success, C, np.float32(1 - sp.awareness_decay),
                                  sp.awareness_own, sp.awareness_partner, sp.awareness_cluster)
            return
        rows = xp.nonzero(member)[0]
        if mech.spillovers and rows.shape[0]:
            cl = s.cluster[rows]
            key = cl[None, :] * F + xp.take(s.field, rows, axis=1)
            units = xp.take(s.mask, rows, axis=1)
            ability = xp.take(s.ability, rows, axis=1)
            best = xp.zeros(C * F, dtype=xp.float32)
            scatter_max(xp, best, key[units], ability[units])
            rho = sp.cluster_rate * xp.where(s.cluster_boost[cl],
                                             1.0 + self.government_.cluster_boost_factor, 1.0)
            gain = (best[key] - ability) * rho.astype(xp.float32)[None, :]
            s.ability[:, rows] = ability + gain * units
        if mech.awareness_dynamics:
            cl = xp.maximum(s.cluster, 0)
            members = xp.bincount(cl[member], minlength=C)[:C]
            wins = xp.bincount(cl[member & success], minlength=C)[:C]
            share = xp.where(member, (wins / xp.maximum(members, 1))[cl], 0.0)
            new = (s.awareness * (1 - sp.awareness_decay) + sp.awareness_own * success
                   + sp.awareness_partner * partner_success + sp.awareness_cluster * share)
            s.awareness = xp.where(firm, xp.minimum(xp.maximum(new, 0.0), 1.0), s.awareness).astype(xp.float32)

    # --- phase 7 -------------------------------------------------------------------------

    def _stage(self, s: State):
        """The growth-stage rule of innoweave.registry.stages on the state's arrays (codes)."""
        return stage_codes(s.age, s.employees, s.growth, self.params_.demography, self.xp_)

    def demography(self, success, collab: Collaborations):
        """Phase 7: firms age and change growth stage, firms long in negative capital exit, and
        start-ups and spin-offs of successful firms and research partners enter. Returns ``(entries,
        exits, dropped)``, ``dropped`` being entrants that found no free row."""
        xp, s, d = self.xp_, self.state_, self.params_.demography
        mech = self.params_.mechanisms
        rng = self.rng_
        with rng.block(s.max_rows + 1):
            u_spin = rng.random(s.N, reserve=s.max_rows)
            child = rng.child()
        if self._fused:
            f32 = np.float32
            exits, n_alive, parents = kernels.demography(
                s.age, s.stage, s.neg_spell, s.alive, s.is_firm(), s.is_research(), s.capital,
                s.employees, s.growth, s.link_left, s.link_partner, s.second_left, success,
                collab.a, collab.b, u_spin, mech.stage_transitions, mech.exit, mech.spinoffs,
                d.exit_after, f32(d.startup_max_age), f32(d.startup_max_employees),
                f32(d.growth_min_rate), f32(d.transformation_max_growth),
                f32(d.transformation_min_age), f32(d.spinoff_firm), f32(d.spinoff_research))
            n_entry = int(child.poisson(d.entry_rate * n_alive)) if mech.entry else 0
            entries, dropped = self._add_entrants(n_entry, parents, child)
            return entries, exits, dropped
        firm = s.alive & s.is_firm()
        s.age = xp.where(firm, s.age + 0.25, s.age).astype(xp.float32)
        if mech.stage_transitions:
            s.stage = xp.where(firm, self._stage(s), s.stage)
        exits = 0
        if mech.exit:
            s.neg_spell = xp.where(firm & (s.capital < 0), s.neg_spell + 1, 0).astype(xp.int16)
            leaving = firm & (s.neg_spell >= d.exit_after)
            exits = int(xp.count_nonzero(leaving))
            if exits:
                s.alive = s.alive & ~leaving
                s.link_left = xp.where(leaving, 0, s.link_left)
                s.second_left = xp.where(leaving, 0, s.second_left)
                gone = s.link_partner >= 0
                gone &= ~s.alive[xp.maximum(s.link_partner, 0)] & s.is_firm()[
                    xp.maximum(s.link_partner, 0)]
                s.link_left = xp.where(gone, 0, s.link_left).astype(xp.int16)
        n_alive = int(xp.count_nonzero(s.alive & s.is_firm()))
        n_entry = int(child.poisson(d.entry_rate * n_alive)) if mech.entry else 0
        parents = xp.zeros(0, dtype=xp.int64)
        if mech.spinoffs:
            research_win = xp.zeros(s.N, dtype=bool)
            research_b = s.is_research()[collab.b]
            research_win[collab.b[research_b & success[collab.a]]] = True
            spin = ((firm & success & (u_spin < d.spinoff_firm))
                    | (research_win & (u_spin < d.spinoff_research)))
            parents = xp.nonzero(spin)[0]
        entries, dropped = self._add_entrants(n_entry, parents, child)
        return entries, exits, dropped

    def _add_entrants(self, n_entry: int, parents, child: np.random.Generator):
        """New SMEs in pre-allocated rows: start-ups copy a random firm's place; spin-offs
        their parent's place and two strongest units."""
        xp, s, p = self.xp_, self.state_, self.params_
        kp = p.knowledge
        parents_h = to_host(parents).astype(np.int64)
        free = s.max_rows - s.n_used
        wanted = n_entry + parents_h.shape[0]
        n_new = min(wanted, free)
        if n_new == 0:
            return 0, wanted
        n_spin = min(parents_h.shape[0], n_new)
        n_start = n_new - n_spin
        alive_firms = to_host(xp.nonzero(s.alive & s.is_firm())[0])
        if alive_firms.shape[0] == 0:
            n_start = 0
            n_new = n_spin
        s.grow(n_new)
        if self._fused:
            kernels.entrants(
                child, s.n_used, n_start, alive_firms, parents_h[:n_spin], _SIZE_BOUNDS,
                s.kind, SME, s._firm, s._research, s.alive, s.region, s.cluster, s.x, s.y,
                s.stage, s.age, s.employees, s.capital, s.growth, s.awareness,
                s.ip_awareness, s.talent, s.credit_access, s.field, s.ability, s.expertise,
                s.mask, s.memory, kp.units_sme[0], kp.units_sme[1], kp.n_fields,
                float(kp.ability_firm[0]), float(kp.ability_firm[1]), kp.expertise_max)
            s.n_used += n_new
            return n_new, wanted - n_new
        templates = alive_firms[child.integers(0, alive_firms.shape[0], n_start)] \
            if n_start else np.zeros(0, dtype=np.int64)
        origin = np.concatenate([templates, parents_h[:n_spin]]).astype(np.int64)
        rows = np.arange(s.n_used, s.n_used + n_new)
        s.n_used += n_new
        employees = child.integers(1, 6, n_new).astype(np.float32)
        kind = np.full(n_new, SME, dtype=np.int8)
        attrs = draw_firm_attributes(employees, kind, child)
        attrs["age"][:] = 0.0
        attrs["capital"][:] = 2.0 * employees
        attrs["growth"][:] = 0.0
        origin_d = xp.asarray(origin)
        rows_d = xp.asarray(rows)
        for name, value in attrs.items():
            getattr(s, name)[rows_d] = xp.asarray(value)
        s.set_kind(rows_d, SME)
        s.alive[rows_d] = True
        s.region[rows_d] = s.region[origin_d]
        s.cluster[rows_d] = s.cluster[origin_d]
        s.x[rows_d] = s.x[origin_d]
        s.y[rows_d] = s.y[origin_d]
        s.stage[rows_d] = 0
        # knowledge: start-ups draw as initial SMEs; spin-offs inherit two strongest units
        units = child.integers(kp.units_sme[0], kp.units_sme[1] + 1, n_new)
        F, M = kp.n_fields, s.mask.shape[0]
        keys = child.random((n_new, F))
        fields = np.argsort(keys, axis=1)[:, :M].astype(np.int16)
        mask = np.arange(M)[None, :] < units[:, None]
        ability = (kp.ability_firm[0] + child.random((n_new, M))
                   * (kp.ability_firm[1] - kp.ability_firm[0])).astype(np.float32)
        expertise = child.integers(1, kp.expertise_max // 2 + 1, (n_new, M)).astype(np.int8)
        if n_spin:
            par = parents_h[:n_spin]
            strength = to_host(xp.where(s.mask[:, xp.asarray(par)],
                                        s.ability[:, xp.asarray(par)], -1.0)).T
            top = np.argsort(-strength, axis=1, kind="stable")[:, :2]
            pf = to_host(s.field[:, xp.asarray(par)]).T
            pa = to_host(s.ability[:, xp.asarray(par)]).T
            held = np.take_along_axis(strength, top, axis=1) >= 0
            sp_rows = np.arange(n_start, n_new)
            mask[sp_rows] = False
            mask[sp_rows, :2] = held
            fields[sp_rows, :2] = np.take_along_axis(pf, top, axis=1)
            ability[sp_rows, :2] = 0.8 * np.take_along_axis(pa, top, axis=1)
            expertise[sp_rows, :2] = 1
        ability[~mask] = 0.0
        expertise[~mask] = 0
        fields[~mask] = 0
        s.field[:, rows_d] = xp.asarray(fields.T)
        s.ability[:, rows_d] = xp.asarray(ability.T)
        s.expertise[:, rows_d] = xp.asarray(expertise.T)
        s.mask[:, rows_d] = xp.asarray(mask.T)
        s.memory[:, rows_d] = -1
        if n_spin:
            s.memory[0, xp.asarray(rows[n_start:])] = xp.asarray(parents_h[:n_spin]).astype(
                xp.int32)
        return n_new, wanted - n_new

    # --- summary -------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Seed, settings, version and final-step outputs of the last run."""
        last = self.records_[-1] if self.records_ else {}
        return {
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else str(self.seed),
            "steps": self.steps_,
            "population": self.population.summary(),
            "params": self.params_.to_dict(),
            "instruments": {k: v.to_dict() for k, v in (self.instruments or {}).items()},
            "xp": self.xp_.__name__,
            "kernels": self.kernels_,
            "version": __version__,
            "final": last,
        }
