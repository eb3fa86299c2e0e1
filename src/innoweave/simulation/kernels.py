"""Fused CPU kernels of the engine's hot phases (Numba), for NumPy runs.

At 10k firms a step of the array code is some 1,700 small NumPy calls, and their call
overhead, not the arithmetic, sets the speed. Each kernel here does the work of one phase
(or of one rule shared by several phases) in a single compiled pass over the rows. The
array code in ``engine.py`` stays the reference and the CuPy path: a kernel takes the same
inputs — random numbers included, drawn by the run's :class:`~.arrays.RandomStream` in the
same order and sizes — and repeats its arithmetic in the same dtypes and order (float32
where the array code is float32, float64 where NumPy promotes), so both paths give the
same outputs for the same seed; ``tests/simulation/test_kernels.py`` holds them to that.
Transcendental functions (``exp``) stay in NumPy, whose float32 ``exp`` may round
differently from the C library's; so do most sorts (stable sorts and ``lexsort`` are done
before a kernel and passed in), which also keeps compiling short. The exceptions are sorts
whose result is unique: the integer edge codes of :func:`unique_pairs`, the draw order of
:func:`introductions` (a stable merge sort, as NumPy's stable sort) and the distinct random
keys of :func:`entrants`. :func:`entrants` draws from the step's child generator through
Numba's ``Generator``, which runs NumPy's algorithms on the same bit generator (its
``beta``, ``normal`` and ``exponential`` compute their logarithms and exponentials as NumPy's
C code does; the tests compare whole runs of both paths). :func:`pcg64_uniforms` repeats
NumPy's PCG64, so that uniforms can be made ahead on the second thread. Kernels are compiled
on first use and cached on disk (``cache=True``). :func:`resolve_kernels` picks the path:
``Engine(kernels=...)``, else the ``INNOWEAVE_KERNELS`` environment variable (``numba`` or
``array``), else Numba where it is installed and the array module is NumPy.
"""

from __future__ import annotations

import os
import queue
import threading

import numpy as np

try:
    import numba
except ImportError:  # the array path still runs everything
    numba = None

KERNEL_CHOICES = ("numba", "array")
ENV_VAR = "INNOWEAVE_KERNELS"


def resolve_kernels(kernels: str | None, numpy_xp: bool) -> str:
    """``"numba"`` or ``"array"`` from the engine's option, the environment and what is installed."""
    choice = kernels if kernels is not None else os.environ.get(ENV_VAR) or None
    if choice is not None and choice not in KERNEL_CHOICES:
        source = "kernels" if kernels is not None else ENV_VAR
        raise ValueError(f"{source}: unknown kernel path {choice!r}; use 'numba' or 'array'")
    if choice == "array":
        return "array"
    if choice == "numba":
        if numba is None:
            raise ValueError("kernels: Numba is not installed (pip install numba)")
        if not numpy_xp:
            raise ValueError("kernels: the Numba kernels run on NumPy arrays; use 'array' "
                             "with CuPy")
        return "numba"
    return "numba" if numba is not None and numpy_xp else "array"


class Job:
    """A call queued on the :class:`SecondThread`: :meth:`result` waits for it and returns
    its value or raises its exception."""

    __slots__ = ("call", "args", "_done", "_value", "_error")

    def __init__(self, call, args):
        self.call, self.args = call, args
        self._value = self._error = None
        self._done = threading.Lock()
        self._done.acquire()  # released by the second thread when the call has ended

    def done(self) -> bool:
        """Whether the call has ended (without waiting)."""
        if self._done.acquire(blocking=False):
            self._done.release()
            return True
        return False

    def wait(self) -> None:
        """Block until the call has ended on the second thread."""
        with self._done:
            pass

    def result(self):
        """Wait for the call and return its value, or raise the exception it raised."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value


class SecondThread:
    """One helper thread that runs queued calls in order, with a bare queue and a lock per
    call. Handing a call over costs little more than waking the thread (10-35 µs on these
    machines when it sleeps, ~7 µs when it is busy), where a ``ThreadPoolExecutor``'s
    futures took 13-45 µs, three times a step."""

    def __init__(self):
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="innoweave", daemon=True).start()

    def _serve(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job._value = job.call(*job.args)
            except BaseException as error:  # handed to the caller by Job.result
                job._error = error
            job.args = None
            job._done.release()

    def submit(self, call, *args) -> Job:
        """Queue ``call(*args)`` to run on the helper thread after the calls before it; returns its
        :class:`Job`."""
        job = Job(call, args)
        self._queue.put(job)
        return job


_worker: tuple[int, SecondThread] | None = None


def second_thread() -> SecondThread:
    """The one helper thread of the process. A run computes on it the next step's first
    phases while the main thread records the current step, and, while phase 2 runs, the
    draw pools of phase 3 and the uniforms of later draws (``Engine.advance``); the kernels
    release the GIL, so the two threads use both cores. Made on first use, shared by every
    engine of the process; a forked process (docking's worker processes) makes its own, as
    the parent's thread does not exist there."""
    global _worker
    if _worker is None or _worker[0] != os.getpid():
        _worker = (os.getpid(), SecondThread())
    return _worker[1]


def _njit(fn):
    # error_model="numpy": no zero-division checks in loops (every divisor here is guarded)
    return (numba.njit(cache=True, nogil=True, error_model="numpy")(fn) if numba is not None
            else fn)


# --- the random stream, drawn ahead ---------------------------------------------------------
# NumPy's PCG64 repeated to the bit (the generator of every run), so that uniforms a step
# will draw can be made in one compiled call on the second thread: a 128-bit linear
# congruential step, the XSL-RR output, a double from the top 53 bits, rounded to float32 as
# ``RandomStream.random`` does, and the O(log n) jump of ``bit_generator.advance``.

_PCG_MULT = (2549297995355413924, 4865540595714422341)  # high and low 64 bits

if numba is not None:
    from llvmlite import ir
    from numba.core import types as _nbtypes
    from numba.extending import intrinsic

    @intrinsic
    def _mul_add_128(typingctx, a_hi, a_lo, b_hi, b_lo, c_hi, c_lo):
        """``(a * b + c) mod 2**128`` of 128-bit integers given as uint64 halves."""
        u64 = _nbtypes.uint64
        sig = _nbtypes.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

        def codegen(context, builder, signature, args):
            i128 = ir.IntType(128)
            half = ir.Constant(i128, 64)

            def join(hi, lo):
                return builder.or_(builder.shl(builder.zext(hi, i128), half),
                                   builder.zext(lo, i128))

            a, b, c = (join(args[k], args[k + 1]) for k in (0, 2, 4))
            r = builder.add(builder.mul(a, b), c)
            hi = builder.trunc(builder.lshr(r, half), ir.IntType(64))
            lo = builder.trunc(r, ir.IntType(64))
            return context.make_tuple(builder, signature.return_type, (hi, lo))

        return sig, codegen


@_njit
def pcg64_uniforms(state_hi, state_lo, inc_hi, inc_lo, offsets, sizes):
    """Float32 uniforms of a PCG64 stream (NumPy's) from the given state: for each request
    ``k`` (``offsets`` ascending, in values from that state), ``sizes[k]`` values starting
    ``offsets[k]`` values ahead, concatenated."""
    out = np.empty(sizes.sum(), dtype=np.float32)
    m_hi, m_lo = np.uint64(_PCG_MULT[0]), np.uint64(_PCG_MULT[1])
    zero, one = np.uint64(0), np.uint64(1)
    s_hi, s_lo = np.uint64(state_hi), np.uint64(state_lo)
    c_hi, c_lo = np.uint64(inc_hi), np.uint64(inc_lo)
    scale = 1.0 / 9007199254740992.0
    at = 0  # values drawn so far from the state
    n = 0
    for k in range(offsets.shape[0]):
        # jump ahead by delta values: s <- A s + P with A = m^delta, P = c (m^delta - 1)/(m - 1)
        delta = np.uint64(offsets[k] - at)
        acc_hi, acc_lo, add_hi, add_lo = zero, one, zero, zero
        cm_hi, cm_lo, cp_hi, cp_lo = m_hi, m_lo, c_hi, c_lo
        while delta > zero:
            if delta & one:
                acc_hi, acc_lo = _mul_add_128(acc_hi, acc_lo, cm_hi, cm_lo, zero, zero)
                add_hi, add_lo = _mul_add_128(add_hi, add_lo, cm_hi, cm_lo, cp_hi, cp_lo)
            m1_hi, m1_lo = _mul_add_128(cm_hi, cm_lo, zero, one, zero, one)  # m + 1
            cp_hi, cp_lo = _mul_add_128(m1_hi, m1_lo, cp_hi, cp_lo, zero, zero)
            cm_hi, cm_lo = _mul_add_128(cm_hi, cm_lo, cm_hi, cm_lo, zero, zero)
            delta >>= one
        s_hi, s_lo = _mul_add_128(acc_hi, acc_lo, s_hi, s_lo, add_hi, add_lo)
        for _ in range(sizes[k]):
            s_hi, s_lo = _mul_add_128(s_hi, s_lo, m_hi, m_lo, c_hi, c_lo)
            x = s_hi ^ s_lo
            rot = s_hi >> np.uint64(58)
            word = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
            out[n] = np.float32(np.float64(word >> np.uint64(11)) * scale)
            n += 1
        at = offsets[k] + sizes[k]
    return out


# --- phase 0 -------------------------------------------------------------------------------

@_njit
def derive(expertise, ability, mask, field, research, employees, idea_size, inv_expertise_max,
           inv_ability_max, n_fields, bounds):
    """Idea, niche, knowledge vectors, norm, competence, depth and size class of every row
    (``Engine.derive`` without the quality's ``exp``: returns the idea strength total in its
    place). Loops run slot by slot over all rows, as the array code does, so the inner loops
    are contiguous and (but for the scatter into ``vec``) vectorise."""
    M, N = mask.shape
    one = np.float32(1.0)
    strength = np.empty((M, N), dtype=np.float32)
    for u in range(M):
        for r in range(N):
            strength[u, r] = (np.float32(expertise[u, r]) * inv_expertise_max + one) * ability[u, r]
    # rank[u] = #{v < u: s_v >= s_u} + #{v > u: s_v > s_u} (ties: lower slot first); each
    # pair v < u is compared once: ge = (s_v >= s_u) counts for u, its negation for v
    rank = np.zeros((M, N), dtype=np.int8)
    for v in range(M - 1):
        for u in range(v + 1, M):
            for r in range(N):
                ge = strength[v, r] >= strength[u, r]
                rank[u, r] += ge
                rank[v, r] += not ge
    idea = np.empty((M, N), dtype=np.bool_)
    for u in range(M):
        for r in range(N):
            idea[u, r] = mask[u, r] & (rank[u, r] < idea_size)
    best = strength[0].copy()
    niche = field[0].astype(np.int64)
    for u in range(1, M):
        for r in range(N):
            better = strength[u, r] > best[r]  # selects, not branches: vectorises
            best[r] = strength[u, r] if better else best[r]
            niche[r] = field[u, r] if better else niche[r]
    # sums slot by slot (adding 0 for units outside the idea leaves a float sum unchanged)
    total = np.zeros(N, dtype=np.float32)
    sq = np.zeros(N, dtype=np.float32)
    ab = np.zeros(N, dtype=np.float32)
    held = np.zeros(N, dtype=np.int64)
    for u in range(M):
        for r in range(N):
            a = ability[u, r]
            total[r] += strength[u, r] * np.float32(idea[u, r])
            sq[r] += a * a
            ab[r] += a
            held[r] += mask[u, r]
    vec = np.zeros((N, n_fields + 1), dtype=np.float32)
    for u in range(M):
        for r in range(N):
            vec[r, field[u, r] if mask[u, r] else n_fields] = ability[u, r]
    norm = np.sqrt(sq)
    competence = np.empty(N, dtype=np.float64)
    depth = np.empty(N, dtype=np.float64)
    size_class = np.zeros(N, dtype=np.int64)
    for r in range(N):
        competence[r] = np.float64(ab[r]) / max(held[r], 1) * np.float64(inv_ability_max)
        depth[r] = competence[r] if research[r] else 0.0
    for b in bounds:  # bound by bound: the inner loop over rows vectorises
        for r in range(N):
            size_class[r] += employees[r] >= b
    return idea, total, niche, vec, norm, competence, depth, size_class


# --- shared rules: knowledge match and attractiveness ----------------------------------------

@_njit
def _dot(vec, a, b, n_fields):
    """Dot product of the knowledge vectors of rows ``a`` and ``b``, summed field by field in
    field order."""
    dot = np.float32(0.0)
    for f in range(n_fields):
        dot += vec[a, f] * vec[b, f]
    return dot


@_njit
def _match_of_dot(dot, norm_i, norm_j, progressive):
    den = norm_j * norm_i
    o = dot / (den if den > 0 else np.float32(1.0))
    o = min(max(o, np.float32(0.0)), np.float32(1.0))
    if progressive:
        return np.float32(4.0) * o * (np.float32(1.0) - o)
    return o


@_njit
def _remembers(memory, row, partner):
    """Whether ``partner`` is in ``row``'s memory of past partners."""
    for m in range(memory.shape[0]):
        if memory[m, row] == partner:
            return True
    return False


@_njit
def match(vec, norm, i, j, n_fields, progressive):
    """K(o_ij) of rows ``i`` (P,) against ``j`` (K, P)."""
    K, P = j.shape
    out = np.empty((K, P), dtype=np.float32)
    for k in range(K):
        for p in range(P):
            a, b = j[k, p], i[p]
            out[k, p] = _match_of_dot(_dot(vec, a, b, n_fields), norm[b], norm[a], progressive)
    return out


@_njit
def attractiveness(vec, norm, competence, region, cluster, memory, i, j, n_fields, progressive,
                   w_knowledge, w_region, w_cluster, w_previous, w_competence):
    """S_ij of rows ``i`` (P,) for candidates ``j`` (K, P), -inf where ``j`` is -1.

    Each weighted term is added in float64 and the sum rounded to float32 after each, as
    the array code's in-place additions of float64 terms to a float32 score do."""
    K, P = j.shape
    out = np.empty((K, P), dtype=np.float32)
    for p in range(P):
        ip = i[p]
        ri, ci = region[ip], cluster[ip]
        for k in range(K):
            jk = j[k, p]
            if jk < 0:
                out[k, p] = -np.inf
                continue
            score = w_knowledge * _match_of_dot(_dot(vec, jk, ip, n_fields), norm[ip], norm[jk],
                                                progressive)
            if region[jk] == ri:
                score = np.float32(np.float64(score) + w_region)
            if ci >= 0 and cluster[jk] == ci:
                score = np.float32(np.float64(score) + w_cluster)
            if _remembers(memory, ip, jk):
                score = np.float32(np.float64(score) + w_previous)
            out[k, p] = np.float32(np.float64(score) + w_competence * competence[jk])
    return out


# --- phase 8: the collaboration network ------------------------------------------------------

@_njit
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@_njit
def unique_pairs(a, b):
    """``measures.unique_pairs`` as two arrays ``lo, hi``: the distinct undirected pairs
    without self-loops, sorted by ``lo`` then ``hi``. One pass builds the ``lo * width + hi``
    codes, one sort orders them (integers: any sort gives the same order) and one pass drops
    repeats — in place of some ten NumPy calls on a few thousand edges."""
    width = 0
    for k in range(a.shape[0]):
        width = max(width, a[k] + 1, b[k] + 1)
    key = np.empty(a.shape[0], dtype=np.int64)
    m = 0
    for k in range(a.shape[0]):
        if a[k] != b[k]:
            key[m] = min(a[k], b[k]) * width + max(a[k], b[k])
            m += 1
    key = np.sort(key[:m])
    lo = np.empty(m, dtype=np.int64)
    hi = np.empty(m, dtype=np.int64)
    n_unique = 0
    for k in range(m):
        if k == 0 or key[k] != key[k - 1]:
            lo[n_unique] = key[k] // width
            hi[n_unique] = key[k] % width
            n_unique += 1
    return lo[:n_unique], hi[:n_unique]


@_njit
def network_counts(lo, hi):
    """Counts of the simple undirected graph with distinct edges ``lo[k] < hi[k]``, sorted by
    ``lo`` then ``hi`` (``measures.unique_pairs``): nodes, size of the largest component,
    largest degree, sum of d(d - 1) over nodes and the closed wedges (pairs of a node's
    neighbours that are linked); the edges are ``lo.shape[0]``. No sorting here: node
    numbers come from a presence table, neighbour lists are built in ascending order."""
    n_pairs = lo.shape[0]
    if n_pairs == 0:
        return 0, 0, 0, 0.0, 0
    width = hi.max() + 1
    position = np.full(width, -1, dtype=np.int64)
    for k in range(n_pairs):
        position[lo[k]] = 0
        position[hi[k]] = 0
    n = 0
    for x in range(width):
        if position[x] == 0:
            position[x] = n
            n += 1
    degree = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    for k in range(n_pairs):
        u, v = position[lo[k]], position[hi[k]]
        degree[u] += 1
        degree[v] += 1
        ru, rv = _find(parent, u), _find(parent, v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    size = np.zeros(n, dtype=np.int64)
    for k in range(n):
        size[_find(parent, k)] += 1
    triples = 0.0
    for k in range(n):
        triples += degree[k] * (degree[k] - 1.0)
    closed = 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(n):
        indptr[k + 1] = indptr[k] + degree[k]
    fill = indptr[:-1].copy()
    indices = np.empty(2 * n_pairs, dtype=np.int64)
    # a node's lower neighbours first (ascending: pairs are sorted by low end), then its
    # higher ones (ascending within a low end)
    for k in range(n_pairs):
        v = position[hi[k]]
        indices[fill[v]] = position[lo[k]]
        fill[v] += 1
    for k in range(n_pairs):
        u = position[lo[k]]
        indices[fill[u]] = position[hi[k]]
        fill[u] += 1
    for c in range(n):
        for x in range(indptr[c], indptr[c + 1]):
            u = indices[x]
            for y in range(x + 1, indptr[c + 1]):
                w = indices[y]
                left, right = indptr[u], indptr[u + 1]  # binary search of u's list
                while left < right:
                    mid = (left + right) // 2
                    if indices[mid] < w:
                        left = mid + 1
                    else:
                        right = mid
                if left < indptr[u + 1] and indices[left] == w:
                    closed += 1
    return n, size.max(), degree.max(), triples, closed


@_njit
def sorted_values(values):
    """``numpy.sort(values)`` widened to float64 — the same array — for finite values spread
    over a range (the firms' capabilities each step): a counting pass puts each value in
    one of n equal-width buckets of [min, max] (the bucket number is monotone in the value),
    then an insertion pass orders within buckets. ~35 µs for 9,000 values against ~220 µs
    for NumPy's float64 sort here. Values that are not all finite, or buckets so uneven that
    the insertion pass could grow quadratic (sum of squared sizes above 32 n), are sorted by
    NumPy."""
    n = values.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.float64)
    lo = np.float64(values[0])
    hi = lo
    for k in range(n):
        v = np.float64(values[k])
        lo = min(lo, v)
        hi = max(hi, v)
    span = hi - lo
    if not (span < np.inf):  # NaN or infinite values
        return np.sort(values.astype(np.float64))
    if span == 0.0:
        return values.astype(np.float64)
    scale = (n - 1) / span
    start = np.zeros(n + 1, dtype=np.int64)
    bucket = np.empty(n, dtype=np.int64)
    for k in range(n):
        b = min(np.int64((np.float64(values[k]) - lo) * scale), n - 1)
        bucket[k] = b
        start[b + 1] += 1
    work = 0
    for b in range(n):
        work += start[b + 1] * start[b + 1]
        start[b + 1] += start[b]
    if work > 32 * n:
        return np.sort(values.astype(np.float64))
    out = np.empty(n, dtype=np.float64)
    for k in range(n):
        b = bucket[k]
        out[start[b]] = values[k]
        start[b] += 1
    for k in range(1, n):  # buckets in order: only values of the same bucket move
        v = out[k]
        j = k - 1
        while j >= 0 and out[j] > v:
            out[j + 1] = out[j]
            j -= 1
        out[j + 1] = v
    return out


@_njit
def knowledge_outputs(ability, idea, mask, field, firm, n_fields):
    """Per row: mean ability of the idea units and units held; the count of each kene (field x
    ability band of width 2, five bands) among firms' units."""
    M, N = mask.shape
    idea_sum = np.zeros(N, dtype=np.float32)
    n_idea = np.zeros(N, dtype=np.int64)
    held = np.zeros(N, dtype=np.int64)
    kenes = np.zeros(n_fields * 5, dtype=np.int64)
    # sums branch-free (adding 0 leaves a float sum unchanged), then the kene counts
    for u in range(M):
        for r in range(N):
            idea_sum[r] += ability[u, r] * np.float32(idea[u, r])
            n_idea[r] += idea[u, r]
            held[r] += mask[u, r]
    # per slot: each unit's kene (a spare bin where not counted) in a branch-free pass, then
    # counted into four sub-histograms in turn, so consecutive increments rarely wait on
    # each other (one branch per unit mispredicts on the random masks: ~1.5x slower)
    spare = n_fields * 5
    bins = np.empty(N, dtype=np.int32)
    sub = np.zeros((4, spare + 1), dtype=np.int32)
    for u in range(M):
        for r in range(N):
            band = min(np.int32(ability[u, r] * np.float32(0.5)), np.int32(4))
            kene = np.int32(field[u, r]) * np.int32(5) + band
            bins[r] = kene if mask[u, r] & firm[r] else np.int32(spare)
        r = 0
        while r + 4 <= N:
            sub[0, bins[r]] += 1
            sub[1, bins[r + 1]] += 1
            sub[2, bins[r + 2]] += 1
            sub[3, bins[r + 3]] += 1
            r += 4
        for rest in range(r, N):
            sub[0, bins[rest]] += 1
    for q in range(4):
        for b in range(spare):
            kenes[b] += sub[q, b]
    idea_ability = np.empty(N, dtype=np.float64)
    for r in range(N):
        idea_ability[r] = np.float64(idea_sum[r]) / max(n_idea[r], 1)
    return idea_ability, kenes, held


# --- phase 4: outcome and learning -----------------------------------------------------------

@_njit
def _columns(a, rows):
    """``a[:, rows].T`` of a unit-major ``(M, N)`` array, gathered slot by slot (each pass
    stays within one slot's row of ``a``): per-row work then reads contiguous memory."""
    out = np.empty((rows.shape[0], a.shape[0]), dtype=a.dtype)
    for u in range(a.shape[0]):
        for k in range(rows.shape[0]):
            out[k, u] = a[u, rows[k]]
    return out


@_njit
def _absorptive_row(idea, expertise, talent, expertise_max):
    exp_sum = np.float32(0.0)
    n = 0
    for u in range(idea.shape[0]):
        if idea[u]:
            exp_sum += np.float32(expertise[u])
            n += 1
    return np.float64(talent) * (
        0.5 + np.float64(np.float32(0.5) * exp_sum) / max(n, 1) / expertise_max)


@_njit
def learning_pairs(collab_a, collab_b, collab_lab, second_left, second_host, alive):
    """``Engine._learning_pairs``: learners, their teachers and joint-lab flags — both sides
    of each collaboration, then secondees (alive, placed) learning from their hosts."""
    n_sec = 0
    for r in range(alive.shape[0]):
        n_sec += second_left[r] > 0 and second_host[r] >= 0 and alive[r]
    C = collab_a.shape[0]
    learner = np.empty(2 * C + n_sec, dtype=np.int64)
    teacher = np.empty(2 * C + n_sec, dtype=np.int64)
    lab = np.zeros(2 * C + n_sec, dtype=np.bool_)
    for k in range(C):
        learner[k], teacher[k], lab[k] = collab_a[k], collab_b[k], collab_lab[k]
        learner[C + k], teacher[C + k], lab[C + k] = collab_b[k], collab_a[k], collab_lab[k]
    k = 2 * C
    for r in range(alive.shape[0]):
        if second_left[r] > 0 and second_host[r] >= 0 and alive[r]:
            learner[k], teacher[k] = r, second_host[r]
            k += 1
    return learner, teacher, lab


@_njit
def learning(idea, vec, field, ability, expertise, mask, talent, research, alive, is_firm,
             success, radical, u_field, collab_a, collab_b, collab_lab, second_left,
             second_host, learn, forgetting, incremental_gain, ability_max, expertise_max,
             learning_rate, research_transfer, research_absorptive, new_unit_share):
    """Phase 4 after the outcome draws (``Engine.outcome_and_learning`` from the ability
    increments to :meth:`Engine.insert_units`), in place on the knowledge arrays.

    Increments are read from the state at the start of the phase and added in the array
    code's order (successes slot by slot, then partners' units unit by unit), so float32
    sums round alike; the learning pairs are :func:`learning_pairs`'; ``learn`` switches
    on both learning from partners and learning by doing (``Mechanisms.learning``); learning
    by doing and forgetting concern alive firms."""
    learner, teacher, lab = learning_pairs(collab_a, collab_b, collab_lab, second_left,
                                           second_host, alive)
    firm = alive & is_firm
    M, N = mask.shape
    n_fields = vec.shape[1] - 1
    # (b) incremental success: every idea unit of a successful, non-radical project
    inc_rows = np.nonzero(success & ~radical)[0]
    P = learner.shape[0]
    cap = M * inc_rows.shape[0] + M * P
    inc_slot = np.empty(cap, dtype=np.int64)
    inc_row = np.empty(cap, dtype=np.int64)
    inc_val = np.empty(cap, dtype=np.float32)
    n_inc = 0
    for u in range(M):
        for r in inc_rows:
            if idea[u, r]:
                inc_slot[n_inc] = u
                inc_row[n_inc] = r
                inc_val[n_inc] = incremental_gain * (
                    np.float32(1.0) - ability[u, r] / ability_max)
                n_inc += 1
    new_field = np.full(N, -1, dtype=np.int64)
    new_ability = np.zeros(N, dtype=np.float32)
    # radical success: a lacking field (the u_field-th), at the mean ability of the idea
    for r in range(N):
        if not (success[r] and radical[r]):
            continue
        lacking = 0
        for f in range(n_fields):
            if not vec[r, f] > 0:
                lacking += 1
        if lacking == 0:
            continue
        pick = min(np.int64(np.float64(u_field[r]) * lacking), lacking - 1)
        seen = -1
        for f in range(n_fields):
            if not vec[r, f] > 0:
                seen += 1
                if seen == pick:
                    new_field[r] = f
                    break
        idea_sum = np.float32(0.0)
        n_idea = 0
        for u in range(M):
            if idea[u, r]:
                idea_sum += ability[u, r]
                n_idea += 1
        new_ability[r] = np.float32(np.float64(idea_sum) / max(n_idea, 1))
    # (c) learning from partners: per pair, each offered teacher unit raises the learner's
    # unit of the same field, or is a candidate new unit where the learner lacks the field
    if learn and P:
        l_field, l_mask, l_ability = (_columns(field, learner), _columns(mask, learner),
                                      _columns(ability, learner))
        l_idea, l_exp = _columns(idea, learner), _columns(expertise, learner)
        t_field, t_ability, t_idea = (_columns(field, teacher), _columns(ability, teacher),
                                      _columns(idea, teacher))
        rate = np.empty(P, dtype=np.float32)
        match_slot = np.empty((P, M), dtype=np.int64)  # learner slot of each teacher unit
        for p in range(P):
            i, j = learner[p], teacher[p]
            ac = research_absorptive if research[i] else _absorptive_row(
                l_idea[p], l_exp[p], talent[i], expertise_max)
            tau = (research_transfer if research[j] else 1.0) * (2.0 if lab[p] else 1.0)
            rate[p] = np.float32(learning_rate * tau * ac)
            for u in range(M):
                match_slot[p, u] = -1
                for v in range(M):
                    if l_mask[p, v] and l_field[p, v] == t_field[p, u]:
                        match_slot[p, u] = v
                        break
        for u in range(M):
            for p in range(P):
                v = match_slot[p, u]
                if t_idea[p, u] and v >= 0 and l_ability[p, v] < t_ability[p, u]:
                    inc_slot[n_inc] = v
                    inc_row[n_inc] = learner[p]
                    inc_val[n_inc] = rate[p] * (t_ability[p, u] - l_ability[p, v])
                    n_inc += 1
        # one new unit per learner: the strongest lacking unit offered (ties: lower field);
        # a radical unit keeps priority
        top = np.full(N, -np.inf, dtype=np.float32)
        low = np.full(N, n_fields, dtype=np.int64)
        cand_f = np.full(P, -1, dtype=np.int64)
        cand_a = np.zeros(P, dtype=np.float32)
        for p in range(P):
            best_a = np.float32(-1.0)
            best_f = n_fields
            for u in range(M):
                if t_idea[p, u] and match_slot[p, u] < 0:
                    a = t_ability[p, u]
                    f = t_field[p, u]
                    if a > best_a or (a == best_a and f < best_f):
                        best_a, best_f = a, f
            if best_f < n_fields:
                cand_f[p] = best_f
                cand_a[p] = new_unit_share * best_a
                top[learner[p]] = max(top[learner[p]], cand_a[p])
        for p in range(P):
            i = learner[p]
            if cand_f[p] >= 0 and cand_a[p] == top[i]:
                low[i] = min(low[i], cand_f[p])
        for r in range(N):
            if low[r] < n_fields and new_field[r] < 0:
                new_field[r] = low[r]
                new_ability[r] = top[r]
    # (a) learning by doing and forgetting, firms only
    # (branch-free, so the passes vectorise; ability x 0 where a unit is dropped, as the
    # array code multiplies)
    # In int8 and with the booleans read as bytes the pass runs 32 lanes wide (2-3x faster):
    # held expertise stays in 0..expertise_max (<= 127, the int8 the array code adds in),
    # so the capped step is exact as a select and never wraps.
    if learn or forgetting:
        e_max = np.int8(min(expertise_max, 127))
        one = np.uint8(1)
        idea_b, mask_b, firm_b = idea.view(np.uint8), mask.view(np.uint8), firm.view(np.uint8)
        for u in range(M):
            for r in range(N):
                e = expertise[u, r]
                i, m, f = idea_b[u, r], mask_b[u, r], firm_b[r]
                if learn:
                    e = np.int8(e + np.int8(i & f)) if e < e_max else e_max
                if forgetting:
                    lose = m & (i ^ one) & f
                    e = np.int8(e - np.int8(lose))
                    drop = lose & np.uint8(e <= 0)
                    mask_b[u, r] = m & (drop ^ one)
                    ability[u, r] = ability[u, r] * np.float32(drop ^ one)
                expertise[u, r] = e
    # (b), (c) applied: on units still held, in order, then capped
    for k in range(n_inc):
        if mask[inc_slot[k], inc_row[k]]:
            ability[inc_slot[k], inc_row[k]] += inc_val[k]
    for k in range(n_inc):
        if mask[inc_slot[k], inc_row[k]]:
            ability[inc_slot[k], inc_row[k]] = min(ability[inc_slot[k], inc_row[k]],
                                                   np.float32(ability_max))
    insert_units(field, ability, expertise, mask, new_field, new_ability, expertise_max)


@_njit
def insert_units(field, ability, expertise, mask, new_field, new_ability, expertise_max):
    """Each row's new unit in its first free slot, else over its weakest unit if stronger."""
    M, N = mask.shape
    for r in range(N):
        if new_field[r] < 0:
            continue
        free_slot = -1
        weakest = 0
        weakest_strength = np.inf
        for u in range(M):
            if not mask[u, r]:
                if free_slot < 0:
                    free_slot = u
            else:
                st = np.float64(ability[u, r]) * (1.0 + expertise[u, r] / expertise_max)
                if st < weakest_strength:
                    weakest, weakest_strength = u, st
        new_strength = new_ability[r] * np.float32(1.0 + 1.0 / expertise_max)
        slot = free_slot if free_slot >= 0 else weakest
        if free_slot >= 0 or weakest_strength < new_strength:
            field[slot, r] = new_field[r]
            ability[slot, r] = new_ability[r]
            expertise[slot, r] = 1
            mask[slot, r] = True


# --- phase 3: partner search -----------------------------------------------------------------

@_njit
def groups(members, key, n_groups):
    """``members`` grouped by ``key`` (a stable counting sort): order, starts and counts."""
    counts = np.zeros(n_groups, dtype=np.int64)
    for m in members:
        counts[key[m]] += 1
    starts = np.empty(n_groups, dtype=np.int64)
    total = 0
    for g in range(n_groups):
        starts[g] = total
        total += counts[g]
    fill = starts.copy()
    order = np.empty(members.shape[0], dtype=np.int64)
    for m in members:
        order[fill[key[m]]] = m
        fill[key[m]] += 1
    return order, starts, counts


@_njit
def pools(alive, firm, research, region, cluster, n_regions, n_clusters):
    """``Engine.pools`` in one pass over the rows: the alive firms and the research rows (in
    row order), grouped as :func:`groups` does: both by region, firms in a cluster by cluster."""
    N = alive.shape[0]
    n_firms = n_members = n_research = 0
    for r in range(N):
        if alive[r] and firm[r]:
            n_firms += 1
            n_members += cluster[r] >= 0
        n_research += research[r]
    firms = np.empty(n_firms, dtype=np.int64)
    members = np.empty(n_members, dtype=np.int64)
    research_rows = np.empty(n_research, dtype=np.int64)
    n_firms = n_members = n_research = 0
    for r in range(N):
        if alive[r] and firm[r]:
            firms[n_firms] = r
            n_firms += 1
            if cluster[r] >= 0:
                members[n_members] = r
                n_members += 1
        if research[r]:
            research_rows[n_research] = r
            n_research += 1
    return (firms, research_rows, groups(firms, region, n_regions),
            groups(members, cluster, n_clusters), groups(research_rows, region, n_regions))


@_njit
def _pick(order, starts, counts, g, u):
    """One uniform member of group ``g`` by draw ``u`` (-1 where none), as ``Engine.pick``."""
    if order.shape[0] == 0 or g < 0:
        return -1
    c = counts[min(g, counts.shape[0] - 1)]
    if c == 0:
        return -1
    idx = starts[min(g, counts.shape[0] - 1)] + min(np.int64(np.float64(u) * c), c - 1)
    return order[min(max(idx, 0), order.shape[0] - 1)]


@_njit
def _pick_all(members, u):
    if members.shape[0] == 0:
        return -1
    n = members.shape[0]
    return members[min(np.int64(u * np.float32(n)), n - 1)]


@_njit
def slot_candidates(rows, size_class, region, cluster, memory, alive, kind, cluster_boost,
                    firms, research, fr_order, fr_starts, fr_counts, fc_order, fc_starts,
                    fc_counts, rr_order, rr_starts, rr_counts, u_kind, u_src, u_pick,
                    research_seek, research_seek_max, research_density_ref, p_previous,
                    p_cluster, p_region, boost_factor, intermediary):
    """The visible candidates of each row (``(C, P)``, -1 = void), as
    ``Engine.slot_candidates``: the same draws, the same float32/float64 arithmetic."""
    C, P = u_pick.shape
    K = memory.shape[0]
    national = research.shape[0] / max(firms.shape[0], 1)
    out = np.empty((C, P), dtype=np.int64)
    for p in range(P):
        r = rows[p]
        reg = region[r]
        if rr_counts[reg] > 0:
            density = rr_counts[reg] / max(fr_counts[reg], 1)
        else:
            density = national
        seek = min(research_seek_max,
                   np.float64(research_seek[size_class[r]]) * density / research_density_ref)
        mem_count = 0
        for m in range(K):
            if memory[m, r] >= 0:
                mem_count += 1
        cl = cluster[r]
        has_cluster = cl >= 0 and fc_counts[max(cl, 0)] > 1
        boost = 1.0 + boost_factor if has_cluster and cluster_boost[max(cl, 0)] else 1.0
        p_prev = p_previous if mem_count > 0 else 0.0
        p_cl = p_cluster * boost if has_cluster else 0.0
        p_reg = p_region + (p_previous - p_prev) + (0.0 if has_cluster else p_cluster)
        total = p_prev + p_cl + p_reg
        scale = total if total > 1.0 else 1.0
        c1 = p_prev / scale
        c2 = c1 + p_cl / scale
        c3 = c2 + p_reg / scale
        for k in range(C):
            u = u_pick[k, p]
            if u_kind[k, p] < seek:
                cand = _pick(rr_order, rr_starts, rr_counts, reg, u)
                if cand < 0:
                    cand = _pick_all(research, u)
            else:
                us = u_src[k, p]
                if us < c1:
                    cand = memory[min(np.int64(np.float64(u) * mem_count), K - 1), r]
                elif us < c2:
                    cand = _pick(fc_order, fc_starts, fc_counts, cl if has_cluster else -1, u)
                elif us < c3:
                    cand = _pick(fr_order, fr_starts, fr_counts, reg, u)
                else:
                    cand = _pick_all(firms, u)
            if cand < 0 or cand == r or not alive[cand] or kind[cand] == intermediary:
                cand = -1
            out[k, p] = cand
    return out


@_njit
def remember(memory, a, b):
    """Both sides of each pair ``a[k] - b[k]`` put this step's partners first in memory, by
    ascending row, then their older memory, each partner once, as many as fit
    (``Engine.remember``)."""
    K = memory.shape[0]
    n = 2 * a.shape[0]
    owner = np.concatenate((a, b))
    partner = np.concatenate((b, a))
    # (owner, partner) in order; equal keys are equal pairs, so any sort gives this result
    order = np.argsort(owner * memory.shape[1] + partner)
    fresh = np.empty(K, dtype=np.int64)
    start = 0
    while start < n:
        o = owner[order[start]]
        end = start
        size = 0
        while end < n and owner[order[end]] == o:
            q = partner[order[end]]
            if size < K and (size == 0 or fresh[size - 1] != q):
                fresh[size] = q
                size += 1
            end += 1
        for m in range(K):
            q = memory[m, o]
            if size == K:
                break
            if q < 0:
                continue
            seen = False
            for x in range(size):
                if fresh[x] == q:
                    seen = True
                    break
            if not seen:
                fresh[size] = q
                size += 1
        for m in range(K):
            memory[m, o] = fresh[m] if m < size else -1
        start = end


# --- phase 5: spillovers and awareness -------------------------------------------------------

@_njit
def spillovers(ability, field, mask, rows, cluster, cluster_boost, n_clusters, n_fields, rate,
               boosted_rate):
    """Each held unit of the cluster members ``rows`` moves toward the cluster's best in its
    field (in place); ``rate``/``boosted_rate`` are float32 (the array code rounds rho)."""
    M = mask.shape[0]
    best = np.zeros(n_clusters * n_fields, dtype=np.float32)
    for u in range(M):
        for r in rows:
            if mask[u, r]:
                k = cluster[r] * n_fields + field[u, r]
                best[k] = max(best[k], ability[u, r])
    for u in range(M):
        for r in rows:
            if mask[u, r]:
                a = ability[u, r]
                rho = boosted_rate if cluster_boost[cluster[r]] else rate
                ability[u, r] = a + (best[cluster[r] * n_fields + field[u, r]] - a) * rho


@_njit
def awareness(aware, firm, member, cluster, success, partner_success, n_clusters, keep, own,
              partner, cluster_weight):
    """Awareness of firms after own, partners' and the cluster's successes (in place); the
    terms are added in float64 and the result rounded to float32, as in the array code."""
    members = np.zeros(n_clusters, dtype=np.int64)
    wins = np.zeros(n_clusters, dtype=np.int64)
    for r in range(aware.shape[0]):
        if member[r]:
            members[cluster[r]] += 1
            if success[r]:
                wins[cluster[r]] += 1
    for r in range(aware.shape[0]):
        if not firm[r]:
            continue
        share = wins[cluster[r]] / max(members[cluster[r]], 1) if member[r] else 0.0
        new = (np.float64(aware[r] * keep) + (own if success[r] else 0.0)
               + (partner if partner_success[r] else 0.0) + cluster_weight * share)
        aware[r] = np.float32(min(max(new, 0.0), 1.0))


# --- phases 1 and 2: market and intent -------------------------------------------------------

@_njit
def market(employees, capital, growth, firm, niche, appeal, demand, cost_per_employee,
           employment_response, keep_growth, new_growth):
    """Revenue shares of each niche's demand by weight (employees x appeal), profit into
    capital, employment and growth (in place). Float32 factors are passed as float32, as
    NumPy rounds Python scalars against float32 arrays; niche totals are float64 sums in row
    order, as ``bincount``'s."""
    N = employees.shape[0]
    w = np.zeros(N, dtype=np.float32)
    total = np.zeros(demand.shape[0], dtype=np.float64)
    for r in range(N):
        if firm[r]:
            w[r] = employees[r] * appeal[r]
            total[niche[r]] += w[r]
    for r in range(N):
        if not firm[r]:
            continue
        t = total[niche[r]]
        per_weight = np.float64(demand[niche[r]]) / t if t > 0 else 0.0
        revenue = np.float32(np.float64(w[r]) * per_weight)
        profit = revenue - cost_per_employee * employees[r]
        capital[r] = capital[r] + profit
        margin = min(max(profit / max(revenue, np.float32(1e-6)), np.float32(-0.5)),
                     np.float32(0.5))
        new_emp = max(np.float32(1.0), employees[r] * (np.float32(1.0)
                                                       + employment_response * margin))
        change = new_emp / employees[r] - np.float32(1.0)
        growth[r] = keep_growth * growth[r] + new_growth * change
        employees[r] = new_emp


@_njit
def intent_logit(employees, capital, awareness, credit_access, grant_offer, tax_eligible,
                 guarantee_left, size_class, firm, intent_bias, cost_per_employee, grant_share,
                 tax_share, guarantee_boost, credit_line, awareness_weight, funding_weight):
    """The project logit z of every firm (0 elsewhere) and its project cost (float32)."""
    N = employees.shape[0]
    z = np.zeros(N, dtype=np.float64)
    cost = np.empty(N, dtype=np.float32)
    for r in range(N):
        c = cost_per_employee * employees[r]
        cost[r] = c
        if not firm[r]:
            continue
        # the grant, and the tax credit on the part of the cost the firm pays itself
        grant = grant_share * c if grant_offer[r] else np.float32(0.0)
        support = grant + tax_share * (c - grant) if tax_eligible[r] else grant
        credit = min(1.0, np.float64(credit_access[r])
                     + (guarantee_boost if guarantee_left[r] > 0 else 0.0))
        funds = np.float64(max(capital[r], np.float32(0.0))) + credit * credit_line * np.float64(
            employees[r])
        phi = min(1.0, (funds + np.float64(support)) / np.float64(c))
        z[r] = np.float64(intent_bias[size_class[r]] + awareness_weight * (
            awareness[r] - np.float32(0.5))) + funding_weight * (phi - 1.0)
    return z, cost


@_njit
def propose(scores, cand, via, seekers, min_score):
    """Each seeker's best-scoring candidate (first among equals), kept where it scores at
    least ``min_score`` (float32, as NumPy compares): seekers, targets, intermediated."""
    K, P = scores.shape
    prop_s = np.empty(P, dtype=np.int64)
    prop_j = np.empty(P, dtype=np.int64)
    prop_via = np.empty(P, dtype=np.bool_)
    n = 0
    for p in range(P):
        best = 0
        for k in range(1, K):
            if scores[k, p] > scores[best, p]:
                best = k
        if scores[best, p] >= min_score:
            prop_s[n], prop_j[n], prop_via[n] = seekers[p], cand[best, p], via[best, p]
            n += 1
    return prop_s[:n], prop_j[:n], prop_via[:n]


@_njit
def acceptable(prop_s, prop_j, back, u_open, openness, research, alive, min_score):
    """Research accepts a proposal by its openness draw, a firm by its back score."""
    ok = np.empty(prop_s.shape[0], dtype=np.bool_)
    for k in range(prop_s.shape[0]):
        j = prop_j[k]
        if research[j]:
            ok[k] = u_open[prop_s[k]] < openness[j]
        else:
            ok[k] = alive[j] and back[k] >= min_score
    return ok


@_njit
def settle(a_s, a_j, a_via, research, capacity, firm_capacity, link_left, link_partner,
           second_left, second_host, memory, cost, capital, voucher_left, cost_share,
           intermediated_factor, voucher_value, vouchers_payable):
    """Capacity, transaction costs and vouchers of phase 3, as the array code: the accepted
    proposals come sorted by target, descending back score, seeker; each target takes them
    up to its free capacity; vouchers presented with a new research partner are paid in that
    order, the first ``vouchers_payable``. Updates ``capital`` and ``voucher_left`` in place;
    returns the kept seekers, partners and intermediated flags and the counts of new
    partnerships, vouchers used and vouchers presented."""
    N = research.shape[0]
    hosted = np.zeros(N, dtype=np.int64)
    for r in range(N):
        if link_left[r] > 0 and link_partner[r] >= 0:
            hosted[link_partner[r]] += 1
    for r in range(N):
        if second_left[r] > 0 and second_host[r] >= 0:
            hosted[second_host[r]] += 1
    keep = np.empty(a_s.shape[0], dtype=np.bool_)
    pos = 0
    for k in range(a_s.shape[0]):
        pos = pos + 1 if k > 0 and a_j[k] == a_j[k - 1] else 0
        j = a_j[k]
        cap = np.int64(capacity[j]) - hosted[j] if research[j] else firm_capacity
        keep[k] = pos < cap
    acc_s, acc_j, acc_via = a_s[keep], a_j[keep], a_via[keep]
    n = acc_s.shape[0]
    tau = np.empty(n, dtype=np.float64)
    used = np.zeros(n, dtype=np.bool_)
    n_new = 0
    n_presented = 0
    for k in range(n):
        s, j = acc_s[k], acc_j[k]
        tau[k] = np.float64(cost_share * cost[s]) * (intermediated_factor if acc_via[k] else 1.0)
        new = not _remembers(memory, s, j)
        n_new += new
        if voucher_left[s] > 0 and research[j] and new:
            used[k] = n_presented < vouchers_payable
            n_presented += 1
    for k in range(n):
        paid = 0.0 if used[k] else tau[k]
        capital[acc_s[k]] += np.float32(-paid + (voucher_value if used[k] else 0.0))
    for k in range(n):
        if not research[acc_j[k]]:
            capital[acc_j[k]] += np.float32(-tau[k])
    n_used = 0
    for k in range(n):
        if used[k]:
            voucher_left[acc_s[k]] = 0
            n_used += 1
    return acc_s, acc_j, acc_via, n_new, n_used, n_presented


@_njit
def accept(scores, cand, via, seekers, u_open, openness, research, alive, min_score, vec, norm,
           competence, region, cluster, memory, n_fields, progressive, w_knowledge, w_region,
           w_cluster, w_previous, w_competence, capacity, firm_capacity, link_left,
           link_partner, second_left, second_host, cost, capital, voucher_left, cost_share,
           intermediated_factor, voucher_value, vouchers_payable):
    """``Engine._accept_fused``: each seeker proposes to its best candidate, targets accept
    by openness (research) or their own score of the seeker (firms), then take the accepted
    proposals by descending score up to capacity (:func:`settle`: lexsort's order by
    target, descending score, seeker — three stable sorts); both sides remember each other.
    Returns the kept seekers, partners, intermediated flags, new partnerships, vouchers
    used and vouchers presented."""
    prop_s, prop_j, prop_via = propose(scores, cand, via, seekers, min_score)
    back = attractiveness(vec, norm, competence, region, cluster, memory, prop_j,
                          prop_s.reshape(1, -1), n_fields, progressive, w_knowledge, w_region,
                          w_cluster, w_previous, w_competence)[0]
    ok = acceptable(prop_s, prop_j, back, u_open, openness, research, alive, min_score)
    a_s, a_j, a_back, a_via = prop_s[ok], prop_j[ok], back[ok], prop_via[ok]
    order = np.argsort(a_s, kind="mergesort")
    order = order[np.argsort(-a_back[order], kind="mergesort")]
    order = order[np.argsort(a_j[order], kind="mergesort")]
    acc_s, acc_j, acc_via, n_new, n_used, n_presented = settle(
        a_s[order], a_j[order], a_via[order], research, capacity, firm_capacity, link_left,
        link_partner, second_left, second_host, memory, cost, capital, voucher_left,
        cost_share, intermediated_factor, voucher_value, vouchers_payable)
    if acc_s.shape[0]:
        remember(memory, acc_s, acc_j)
    return acc_s, acc_j, acc_via, n_new, n_used, n_presented


# --- phase 7: demography ---------------------------------------------------------------------

@_njit
def demography(age, stage, neg_spell, alive, is_firm, research, capital, employees, growth,
               link_left, link_partner, second_left, success, collab_a, collab_b, u_spin,
               stage_transitions, exit_on, spinoffs_on, exit_after, startup_max_age,
               startup_max_employees, growth_min_rate, transformation_max_growth,
               transformation_min_age, spinoff_firm, spinoff_research):
    """Ageing, growth stages, exits after a spell of negative capital and spin-off parents
    (``Engine.demography`` up to the entrants; in place). Thresholds are float32, as NumPy
    compares float32 columns with Python scalars. Returns exits, firms alive and parents."""
    N = age.shape[0]
    firm = alive & is_firm
    for r in range(N):
        if not firm[r]:
            continue
        age[r] = age[r] + np.float32(0.25)
        if stage_transitions:
            a = age[r]
            st = 2
            if growth[r] >= growth_min_rate:
                st = 1
            if growth[r] < transformation_max_growth and a >= transformation_min_age:
                st = 3
            if a < startup_max_age and employees[r] < startup_max_employees:
                st = 0
            stage[r] = st
    exits = 0
    if exit_on:
        for r in range(N):
            neg_spell[r] = neg_spell[r] + 1 if firm[r] and capital[r] < 0 else 0
            if firm[r] and neg_spell[r] >= exit_after:
                exits += 1
                alive[r] = False
                link_left[r] = 0
                second_left[r] = 0
        if exits:
            for r in range(N):
                q = max(link_partner[r], 0)
                if link_partner[r] >= 0 and not alive[q] and is_firm[q]:
                    link_left[r] = 0
    n_alive = 0
    for r in range(N):
        n_alive += alive[r] and is_firm[r]
    parents = np.empty(0, dtype=np.int64)
    if spinoffs_on:
        research_win = np.zeros(N, dtype=np.bool_)
        for k in range(collab_a.shape[0]):
            if research[collab_b[k]] and success[collab_a[k]]:
                research_win[collab_b[k]] = True
        spin = np.zeros(N, dtype=np.bool_)
        for r in range(N):
            spin[r] = ((firm[r] and success[r] and u_spin[r] < spinoff_firm)
                       or (research_win[r] and u_spin[r] < spinoff_research))
        parents = np.nonzero(spin)[0]
    return exits, n_alive, parents


@_njit
def outcome_logit(project, collab_a, collab_b, u_radical, quality, depth, vec, norm, idea,
                  expertise, talent, radical_on, radical_prob, w_complementarity, w_depth,
                  success_base, w_quality, w_absorptive, radical_penalty, progressive,
                  expertise_max):
    """Phase 4 up to the success draw: radical projects, and the success logit z of each
    project row (``rows``, ascending), with the array code's float32/float64 steps."""
    N = project.shape[0]
    n_fields = vec.shape[1] - 1
    has_partner = np.zeros(N, dtype=np.bool_)
    for a in collab_a:
        has_partner[a] = True
    radical = np.zeros(N, dtype=np.bool_)
    if radical_on:
        for r in range(N):
            radical[r] = project[r] and not has_partner[r] and u_radical[r] < radical_prob
    bonus = np.zeros(N, dtype=np.float32)  # complementarity and research depth of partners
    for k in range(collab_a.shape[0]):
        a, b = collab_a[k], collab_b[k]
        m = _match_of_dot(_dot(vec, b, a, n_fields), norm[a], norm[b], progressive)
        bonus[a] = np.float32(np.float64(w_complementarity * m) + w_depth * depth[b])
    rows = np.nonzero(project)[0]
    ideas, exps = _columns(idea, rows), _columns(expertise, rows)
    z = np.empty(rows.shape[0], dtype=np.float64)
    for k in range(rows.shape[0]):
        r = rows[k]
        base = success_base + w_quality * quality[r] + bonus[r]
        z[k] = (np.float64(base)
                + w_absorptive * _absorptive_row(ideas[k], exps[k], talent[r], expertise_max)
                - (radical_penalty if radical[r] else 0.0))
    return radical, rows, z


@_njit
def introductions(seekers, u_order, kind, capacity, match_quality, extra_intro, u_pool, firms,
                  research, n_regions, intermediary, pool_size, vec, norm, competence, region,
                  cluster, memory, n_fields, progressive, w_knowledge, w_region, w_cluster,
                  w_previous, w_competence):
    """``Engine.introductions``: which seekers the region's intermediaries introduce (by
    region, then in draw order — two stable sorts, as the array code's — up to capacity plus
    funded extra), each one's pool of drawn candidates, and its best candidate by S_ij
    (first among equals; -1 for a seeker not introduced). Returns those candidates and
    the number of funded introductions."""
    base_f = np.zeros(n_regions, dtype=np.float64)
    n_int = np.zeros(n_regions, dtype=np.int64)
    mq_sum = np.zeros(n_regions, dtype=np.float64)
    for r in range(kind.shape[0]):
        if kind[r] == intermediary:
            base_f[region[r]] += np.float64(capacity[r])
            n_int[region[r]] += 1
            mq_sum[region[r]] += np.float64(match_quality[r])
    P = seekers.shape[0]
    reg_of = np.empty(P, dtype=np.int64)
    for p in range(P):
        reg_of[p] = region[seekers[p]]
    # each seeker's rank among its region's seekers in draw order (ties: lower index first)
    by_draw = np.argsort(u_order, kind="mergesort")
    rank = np.empty(P, dtype=np.int64)
    seen = np.zeros(n_regions, dtype=np.int64)
    for k in range(P):
        p = by_draw[k]
        rank[p] = seen[reg_of[p]]
        seen[reg_of[p]] += 1
    # the introduced seekers' pools of drawn candidates (-1 = none), scored all at once
    pool = np.concatenate((firms, research))
    introduced = np.zeros(P, dtype=np.bool_)
    draws = np.full((pool_size if pool_size > 0 else 1, P), -1, dtype=np.int64)
    funded = 0
    for p in range(P):
        g = reg_of[p]
        base = np.int64(base_f[g])
        if rank[p] >= base + extra_intro[g]:
            continue
        introduced[p] = True
        funded += rank[p] >= base
        mq = mq_sum[g] / max(n_int[g], 1) if n_int[g] > 0 else 0.5
        for d in range(min(max(1, np.int64(np.rint(pool_size * mq))), u_pool.shape[0])):
            q = _pick_all(pool, u_pool[d, p])
            draws[d, p] = q if q != seekers[p] else -1
    scores = attractiveness(vec, norm, competence, region, cluster, memory, seekers, draws,
                            n_fields, progressive, w_knowledge, w_region, w_cluster, w_previous,
                            w_competence)
    out = np.full(P, -1, dtype=np.int64)
    for p in range(P):
        if introduced[p]:
            best = 0  # the first best, as argmax
            for d in range(1, draws.shape[0]):
                if scores[d, p] > scores[best, p]:
                    best = d
            out[p] = draws[best, p]
    return out, funded


@_njit
def research_candidates(rows, region, research, rr_order, rr_starts, rr_counts, u):
    """Rule 1 for each row: a research organisation of its region, else one nationwide."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    for p in range(rows.shape[0]):
        out[p] = _pick(rr_order, rr_starts, rr_counts, region[rows[p]], u[p])
        if out[p] < 0:
            out[p] = _pick_all(research, u[p])
    return out


@_njit
def record_counts(alive, is_firm, kind, sme_kind, research, cluster, initial_firm, project,
                  success, collab_a, collab_b, last_success, last_uir, t, window, size_class,
                  link_left, second_left):
    """The counts behind phase 8's shares: firms, SMEs, projects and successes of SMEs,
    collaborations by mode, SMEs with a research partner, surviving initial firms, firms,
    innovators and research co-operators by size class, active links and secondments."""
    N = alive.shape[0]
    sme_research = np.zeros(N, dtype=np.bool_)
    alliance = uir = same_cluster = 0
    for k in range(collab_a.shape[0]):
        a, b = collab_a[k], collab_b[k]
        if research[b]:
            uir += 1
            sme_research[a] = True
        else:
            alliance += 1
        same_cluster += cluster[a] == cluster[b] and cluster[a] >= 0
    n_firms = n_smes = sme_project = sme_success = innovations = sme_partner = survivors = 0
    links = secondments = 0
    by_class = np.zeros((3, 4), dtype=np.int64)  # firms, innovating, co-operating
    for r in range(N):
        links += link_left[r] > 0 and alive[r]
        secondments += second_left[r] > 0 and alive[r]
        innovations += success[r]
        if not alive[r]:
            continue
        if kind[r] == sme_kind:
            n_smes += 1
            sme_project += project[r]
            sme_success += success[r]
            sme_partner += sme_research[r]
        if is_firm[r]:
            n_firms += 1
            survivors += initial_firm[r]
            c = size_class[r]
            by_class[0, c] += 1
            if last_success[r] > t - window:
                by_class[1, c] += 1
                by_class[2, c] += last_uir[r] > t - window
    return (n_firms, n_smes, sme_project, sme_success, innovations, alliance, uir,
            same_cluster, sme_partner, survivors, links, secondments, by_class)


@_njit
def projects(u, prob, firm, funded, cost, capital, grant_share):
    """Which firms start a project (draw below the intent probability), their R&D grants (the
    ``funded`` rows') and own spending, and capital after paying the project net of the grant
    (in place)."""
    N = u.shape[0]
    project = np.zeros(N, dtype=np.bool_)
    grant = np.zeros(N, dtype=np.float32)
    spend = np.zeros(N, dtype=np.float32)
    for r in range(N):
        if firm[r] and u[r] < prob[r]:
            project[r] = True
            if funded[r]:
                grant[r] = grant_share * cost[r]
            capital[r] = capital[r] - cost[r] + grant[r]
            spend[r] = cost[r] - grant[r]
    return project, grant, spend


@_njit
def outcome_draws(rows, prob, u_success, u_patent, radical, ip_supported, ip_awareness,
                  patents, last_success, last_uir, research, collab_a, collab_b, t, patents_on,
                  patent_prob, patent_factor):
    """Success of each project row (draw below its probability), patents (in place), the
    calibration window's last success and last research co-operation, and which rows had a
    partner firm succeed. Returns success, partner success and the counts of patents and of
    radical successes."""
    N = u_success.shape[0]
    success = np.zeros(N, dtype=np.bool_)
    n_patents = n_radical = 0
    for k in range(rows.shape[0]):
        r = rows[k]
        success[r] = u_success[r] < prob[k]
        if not success[r]:
            continue
        n_radical += radical[r]
        last_success[r] = t
        if patents_on:
            factor = patent_factor if ip_supported[r] else 1.0
            if u_patent[r] < min(1.0, np.float64(patent_prob * ip_awareness[r]) * factor):
                patents[r] += 1
                n_patents += 1
    partner_success = np.zeros(N, dtype=np.bool_)
    for k in range(collab_a.shape[0]):
        a, b = collab_a[k], collab_b[k]
        if research[b]:
            last_uir[a] = t
        if success[a]:
            partner_success[b] = True
        if success[b] and not research[b]:
            partner_success[a] = True
    return success, partner_success, n_patents, n_radical


@_njit
def entrants(child, first_row, n_start, alive_firms, parents, size_bounds, kind, sme, firm,
             research, alive, region, cluster, x, y, stage, age, employees, capital, growth,
             awareness, ip_awareness, talent, credit_access, field, ability, expertise, mask,
             memory, units_low, units_high, n_fields, ability_low, ability_high,
             expertise_max):
    """``Engine._add_entrants`` after the rows are made: the ``n_start`` start-ups (templates
    drawn among ``alive_firms``) and the spin-offs of ``parents``, in rows ``first_row`` on
    (in place). ``child`` is the step's child generator, whose draws Numba makes as NumPy's
    ``Generator`` does (the same algorithms on the same bit generator), in the order of
    ``Engine._add_entrants`` and ``population.draw_firm_attributes``: templates, head counts,
    the attribute draws (age, capital and growth drawn and then reset, as entrants start
    at age 0 with capital 2 x head count), units, field keys, ability and expertise."""
    n_spin = parents.shape[0]
    n_new = n_start + n_spin
    M = mask.shape[0]
    origin = np.empty(n_new, dtype=np.int64)
    if n_start:
        picks = child.integers(0, alive_firms.shape[0], n_start)
        for k in range(n_start):
            origin[k] = alive_firms[picks[k]]
    for k in range(n_spin):
        origin[n_start + k] = parents[k]
    heads = child.integers(1, 6, n_new)
    child.exponential(12.0, n_new)  # age, reset below
    child.uniform(0.5, 2.0, n_new)  # capital, reset below
    child.normal(0.03, 0.10, n_new)  # growth, reset below
    aware = child.beta(2.0, 3.0, n_new)
    ip_aware = child.beta(2.0, 4.0, n_new)
    gifted = child.beta(2.0, 4.0, n_new)
    size_class = np.zeros(n_new, dtype=np.int64)
    for k in range(n_new):
        for bound in size_bounds:
            size_class[k] += np.float32(heads[k]) >= bound
    for k in range(n_new):
        r = first_row + k
        e = np.float32(heads[k])
        employees[r] = e
        age[r] = 0.0
        capital[r] = np.float32(2.0) * e
        growth[r] = 0.0
        awareness[r] = np.float32(aware[k])
        ip_awareness[r] = np.float32(ip_aware[k])
        talent[r] = np.float32(min(gifted[k] + 0.05 * size_class[k], 1.0))
        credit_access[r] = np.float32(child.beta(2.0 + size_class[k], 3.0))
        kind[r] = sme
        firm[r] = True
        research[r] = False
        alive[r] = True
        o = origin[k]
        region[r], cluster[r], x[r], y[r] = region[o], cluster[o], x[o], y[o]
        stage[r] = 0
    units = child.integers(units_low, units_high + 1, n_new)
    keys = child.random((n_new, n_fields))
    draws = child.random((n_new, M))
    skill = child.integers(1, expertise_max // 2 + 1, (n_new, M))
    fields = np.empty((n_new, M), dtype=np.int16)
    held = np.empty((n_new, M), dtype=np.bool_)
    new_ability = np.empty((n_new, M), dtype=np.float32)
    new_expertise = np.empty((n_new, M), dtype=np.int8)
    order = np.empty(M, dtype=np.int64)
    for k in range(n_new):
        # the M fields of smallest key, in ascending key order (what an argsort's first M are:
        # the keys are distinct), kept by insertion while scanning the keys once
        kept = 0
        for f in range(n_fields):
            key = keys[k, f]
            if kept == M and key >= keys[k, order[M - 1]]:
                continue
            pos = kept if kept < M else M - 1
            while pos > 0 and keys[k, order[pos - 1]] > key:
                order[pos] = order[pos - 1]
                pos -= 1
            order[pos] = f
            if kept < M:
                kept += 1
        for u in range(M):
            fields[k, u] = order[u]
            held[k, u] = u < units[k]
            new_ability[k, u] = np.float32(ability_low + draws[k, u] * (ability_high
                                                                       - ability_low))
            new_expertise[k, u] = skill[k, u]
    place_knowledge(field, ability, expertise, mask, memory, first_row, fields, held,
                    new_ability, new_expertise, parents, n_start)


@_njit
def place_knowledge(field, ability, expertise, mask, memory, first_row, fields, held,
                    new_ability, new_expertise, parents, n_start):
    """Write entrants' knowledge into rows ``first_row`` on (in place): start-ups their drawn
    units; spin-offs (the last ``len(parents)``) their parent's two strongest held units
    (ties: lower slot) at 0.8 of its ability, expertise 1, the parent first in memory."""
    M = mask.shape[0]
    for k in range(fields.shape[0]):
        r = first_row + k
        if k >= n_start:
            par = parents[k - n_start]
            first = second = -1
            for u in range(M):  # strength: ability where held, else -1
                su = ability[u, par] if mask[u, par] else np.float32(-1.0)
                if first < 0 or su > (ability[first, par] if mask[first, par] else -1.0):
                    first, second = u, first
                elif second < 0 or su > (ability[second, par] if mask[second, par] else -1.0):
                    second = u
            for u in range(M):
                held[k, u] = False
            for x, u in enumerate((first, second)):
                if mask[u, par]:
                    held[k, x] = True
                    fields[k, x] = field[u, par]
                    new_ability[k, x] = np.float32(0.8) * ability[u, par]
                    new_expertise[k, x] = 1
        for u in range(M):
            if held[k, u]:
                field[u, r] = fields[k, u]
                ability[u, r] = new_ability[k, u]
                expertise[u, r] = new_expertise[k, u]
            else:
                field[u, r] = 0
                ability[u, r] = 0.0
                expertise[u, r] = 0
            mask[u, r] = held[k, u]
        for m in range(memory.shape[0]):
            memory[m, r] = parents[k - n_start] if k >= n_start and m == 0 else -1
