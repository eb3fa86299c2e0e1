"""Benchmark of the simulation engine (and, with --vs-mesa, of the Mesa reference).

Prints and saves (benchmarks/results/simulation_*.json) agent-steps per second — firms alive
at the start of each step, summed over the timed steps — for the engine at one size
(``--firms``) or several (``--sizes``). Building the population is not timed, nor a 2-step
warm-up run on 2000 firms (it loads or compiles the Numba kernels; CuPy compiles each kernel
on first use). Every mechanism is on; ``--policy`` adds all thirteen instruments (the
``policy_mix`` example, budgets scaled to the population). An engine run is timed as
``Engine.run`` steps (``Engine.advance``): on the Numba path a second thread makes each
step's draw pools and later uniforms while phase 2 runs and the next step's phases 0-1
beside the record, so a run uses both cores (``cpu_seconds`` counts both threads).

    python benchmarks/simulation.py --firms 10000 --steps 20 --vs-mesa --json
    python benchmarks/simulation.py --sizes 10000,100000,1000000 --steps 10 --json
    python benchmarks/simulation.py --firms 1000000 --steps 20 --xp cupy --json   # on a GPU
    python benchmarks/simulation.py --sizes 10000,100000 --steps 10 --repeat 5 \
        --baseline-src /tmp/simbase --json     # before/after, 5 alternating rounds
    python benchmarks/simulation.py --firms 10000 --steps 20 --vs-mesa \
        --kernels numba,array --json           # fused Numba kernels and the array code

Why runs are interleaved: the shared 2-core virtual machine this project runs on changes
speed over tens of seconds (one process timing the same 10 000-firm run 15 times took
6.8–11.9 ms a step; Mesa steps of the same model 459–1192 ms). Timings taken minutes apart
therefore compare different host conditions, and a ratio of two of them mixes the code's
speed with the host's. So everything compared in one command is timed in alternation:

- ``--vs-mesa`` builds the Mesa reference model once and, before each of its ``--steps``
  steps, times one complete engine run of ``--steps`` steps (a fresh ``Engine`` on the same
  population) on every engine path; the Mesa step is then timed. The engine's and the
  reference's agent-steps per second are totals over this one interleaved window (summed
  agent-steps over summed wall time, no fastest-of picking on either side), ``ratio`` is
  their quotient, and ``pair_ratios`` the ratio within each round (engine run against the
  Mesa step right after it) with their median and quartiles: a wide spread shows the host
  drifting. Each timed section (an engine run in its worker, a Mesa step here)
  starts after ``--warm-up`` seconds (default 0.1) of busy waiting in the process that
  times it: on this project's virtual machines the two-thread engine runs 15-25 % slower
  for ~50 ms after its process has slept, as each worker does through a Mesa step
  (``benchmarks/simulation_idle.py`` shows it). One engine run per round is still timed
  straight after the Mesa step, without warm-up, and reported apart (``engine_cold``,
  ``ratio_cold``); ``--warm-up 0`` times as before the option existed. If the Mesa time
  passes ``--mesa-max-seconds``, rounds stop after the step that crosses it
  (``mesa.extrapolated``). ``--repeat`` is the number of engine runs per path per round
  here (default 1).
- ``--kernels numba,array`` names engine kernel paths to time side by side (``numba``:
  fused compiled kernels, ``array``: the whole-array code; default: the engine's own
  choice); the first is reported as ``engine``, every one under ``kernels``.
- ``--baseline-src DIR`` also times another checkout of the project (e.g. an earlier
  commit: ``git worktree add --detach /tmp/simbase <commit>``), on the first kernel path,
  and adds ``baseline`` figures and the speed-up (wall and CPU time).

Each engine path (each kernel path, the baseline) runs in its own worker process, started
once per size, which builds the population and warms up, then times one run per request
(after ``--warm-up`` seconds of busy waiting); the rounds alternate between the paths (the
order rotating each round), with ``--repeat`` rounds outside ``--vs-mesa``. There
``agent_steps_per_s`` is the fastest of the rounds (all timings kept: on a shared machine
the slower ones measure the other load) and the speed-up also gives the median and
quartiles of the per-round speed-ups. A single path at one size without ``--vs-mesa`` is
timed in this process, fastest of ``--repeat``. ``warmup_seconds`` is the warm-up run's wall
time: with Numba it includes loading (or, on a fresh cache, compiling) the kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from configurations import results_dir

RESULTS = results_dir()


def _instruments(n_firms: int):
    from dataclasses import replace

    from innoweave.simulation.scenario import example_scenarios, load_scenario

    mix = load_scenario(example_scenarios()["policy_mix"])
    scale = n_firms / mix.population.n_firms
    return {k: replace(v, budget=v.budget * scale) for k, v in mix.instruments.items()}


def _sync(xp) -> None:
    if xp.__name__ == "cupy":
        xp.cuda.Stream.null.synchronize()


def busy_wait(seconds: float) -> None:
    """Keep this process's core busy for ``seconds`` (the warm-up before a timed section)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class EngineTimer:
    """One engine path ready to time: warmed up, its population built (neither timed)."""

    def __init__(self, firms: int, steps: int, *, seed: int = 0, xp: str = "numpy",
                 policy: bool = False, network_every: int = 1, kernels: str | None = None):
        from dataclasses import replace

        from innoweave.simulation.params import ModelParams
        from innoweave.simulation.population import synthetic_population

        self.firms, self.steps, self.seed, self.xp, self.policy = firms, steps, seed, xp, policy
        params = ModelParams()
        self.params = replace(params, record=replace(params.record, network_every=network_every))
        # only a path named explicitly is passed on, so a baseline checkout older than the
        # kernels option still runs
        self.options = {"xp": xp} | ({"kernels": kernels} if kernels else {})
        warm = synthetic_population(2000, seed=seed + 1, params=self.params)
        t0 = time.perf_counter()
        self._engine(warm).run(2)
        warmup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.population = synthetic_population(firms, seed=seed, params=self.params)
        build_s = time.perf_counter() - t0
        self.info = {"firms": firms, "organisations": len(self.population), "steps": steps,
                     "build_seconds": build_s, "warmup_seconds": warmup_s,
                     "state_mb": self.population.nbytes() / 2**20, "policy": policy,
                     "network_every": network_every}

    def _engine(self, population):
        from innoweave.simulation.engine import Engine

        n = population.n_firms
        return Engine(self.params, population,
                      instruments=_instruments(n) if self.policy else None,
                      seed=self.seed, **self.options)

    def time_run(self) -> dict:
        """One complete run of ``steps`` steps on a fresh engine: wall and CPU time."""
        engine = self._engine(self.population)
        engine._setup(self.steps)
        xp = engine.xp_
        # Engine.advance (as run() steps); a baseline checkout older than it steps one by one
        advance = getattr(engine, "advance", None) or (
            lambda n: [engine.step() for _ in range(n)])
        _sync(xp)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        records = advance(self.steps)
        _sync(xp)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        alive = [self.population.n_firms] + [r["n_firms"] for r in records]
        run = {"seconds": wall, "cpu_seconds": cpu, "agent_steps": sum(alive[:self.steps]),
               "xp": xp.__name__, "kernels": engine.kernels_,
               "partner_search": engine.params_.mechanisms.partner_search,
               "final_collaborations": engine.records_[-1]["collab_total"]}
        if xp.__name__ == "cupy":
            run["gpu_pool_mb"] = xp.get_default_memory_pool().total_bytes() / 2**20
            props = xp.cuda.runtime.getDeviceProperties(0)
            name = props["name"]
            run["device"] = name.decode() if isinstance(name, bytes) else name
        else:
            run["device"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
        return run


def _summary(info: dict, runs: list[dict], *, total: bool) -> dict:
    """The figures of one path's timed runs: totals over all runs, or the fastest run."""
    walls = [r["seconds"] for r in runs]
    cpus = [r["cpu_seconds"] for r in runs]
    agent_steps = [r["agent_steps"] for r in runs]
    if total:
        steps, wall, cpu = sum(agent_steps), sum(walls), sum(cpus)
        timing = f"total over {len(runs)} runs interleaved with the Mesa reference's steps"
    else:
        steps, wall, cpu = agent_steps[0], min(walls), min(cpus)
        timing = f"fastest of {len(runs)} runs"
    last = runs[-1]
    out = {"agent_steps_per_s": steps / wall,
           "agent_steps_per_cpu_s": steps / cpu if cpu > 0 else None,
           "timing": timing, "agent_steps": steps, "seconds": wall, "cpu_seconds": cpu,
           "repeat": len(runs), "all_seconds": walls, "all_cpu_seconds": cpus,
           "ms_per_step": [1000 * w / info["steps"] for w in walls]}
    if total:
        out["fastest_agent_steps_per_s"] = agent_steps[0] / min(walls)
    out |= info
    out |= {k: last[k] for k in ("xp", "kernels", "partner_search", "final_collaborations",
                                 "device", "gpu_pool_mb") if k in last}
    return out


def _spread(values: list[float]) -> dict:
    """Median and quartiles (all values kept)."""
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {"median": statistics.median(values), "quartiles": [q[0], q[2]], "all": values}


def _serve(args) -> None:
    """Worker mode: set up one engine path, then time one run per 'run' line on stdin."""
    timer = EngineTimer(args.firms, args.steps, seed=args.seed, xp=args.xp, policy=args.policy,
                        network_every=args.network_every, kernels=args.kernels)
    print(json.dumps({"ready": timer.info}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["run"]:  # "run" or "run SECONDS": busy wait first, untimed
            busy_wait(float(words[1]) if len(words) > 1 else 0.0)
            print(json.dumps(timer.time_run()), flush=True)
        else:
            break
    print(json.dumps({"peak_rss_mb": _peak_rss_mb()}), flush=True)


class _Worker:
    """An engine path in its own process (``src`` first on its path when given)."""

    def __init__(self, firms: int, args, *, src: str | None = None, kernels: str | None = None):
        cmd = [sys.executable, __file__, "--serve", "--firms", str(firms), "--steps",
               str(args.steps), "--seed", str(args.seed), "--xp", args.xp, "--network-every",
               str(args.network_every)]
        if args.policy:
            cmd.append("--policy")
        if kernels is not None:
            cmd += ["--kernels", kernels]
        env = dict(os.environ)
        if src is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
        self.name = f"{src or 'this tree'}, kernels {kernels or 'default'}"
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)
        self.runs: list[dict] = []
        self.cold_runs: list[dict] = []  # with --vs-mesa: the runs straight after a Mesa step
        self.info: dict | None = None

    def _reply(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"engine worker ({self.name}) exited with code "
                               f"{self.process.wait()}")
        return json.loads(line)

    def ready(self) -> None:
        self.info = self._reply()["ready"]

    def run(self, warm_up: float = 0.0, *, cold: bool = False) -> dict:
        """One timed run, after ``warm_up`` seconds of busy waiting in the worker; a ``cold``
        run (no warm-up) is kept apart from the others."""
        self.process.stdin.write(f"run {warm_up}\n" if warm_up > 0 else "run\n")
        self.process.stdin.flush()
        run = self._reply()
        (self.cold_runs if cold else self.runs).append(run)
        return run

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.info["peak_rss_mb"] = self._reply()["peak_rss_mb"]
        self.process.wait()

    def summary(self, *, total: bool, cold: bool = False) -> dict:
        return _summary(self.info, self.cold_runs if cold else self.runs, total=total)


def _start_workers(firms: int, args, paths: list, baseline: str | None) -> dict[str, _Worker]:
    """One worker per engine path (the baseline on the first kernel path); all set up."""
    workers = {str(path): _Worker(firms, args, kernels=path) for path in paths}
    if baseline:
        workers["baseline"] = _Worker(firms, args, src=baseline, kernels=paths[0])
    return workers


def _rotated(names: list[str], k: int) -> list[str]:
    k %= len(names)
    return names[k:] + names[:k]


def _round_rate(runs: list[dict]) -> float:
    return sum(r["agent_steps"] for r in runs) / sum(r["seconds"] for r in runs)


def _vs_mesa(args, paths: list, baseline: str | None) -> dict:
    """Engine runs and Mesa reference steps in alternation; totals and per-round ratios.

    With ``--warm-up`` > 0 each path also times one *cold* run per round, straight after the
    Mesa step (no warm-up), reported apart (``engine_cold``, ``ratio_cold``)."""
    workers = _start_workers(args.firms, args, paths, baseline)
    from innoweave.simulation.mesa_reference import ReferenceTimer

    mesa = ReferenceTimer(args.firms, args.steps, args.seed)
    for w in workers.values():
        w.ready()
    names = list(workers)
    warm = args.warm_up
    round_rates: dict[str, list[float]] = {name: [] for name in names}
    cold_rates: dict[str, list[float]] = {name: [] for name in names}
    mesa_rates: list[float] = []
    for t in range(args.steps):
        for name in _rotated(names, t):
            if warm > 0:
                cold_rates[name].append(_round_rate([workers[name].run(cold=True)]))
            runs = [workers[name].run(warm) for _ in range(max(1, args.repeat))]
            round_rates[name].append(_round_rate(runs))
        busy_wait(warm)
        mesa_rates.append(mesa.step())
        if sum(mesa.seconds) > args.mesa_max_seconds:
            break
    for w in workers.values():
        w.close()
    summaries = {name: w.summary(total=True) for name, w in workers.items()}
    cold_summaries = ({name: w.summary(total=True, cold=True) for name, w in workers.items()}
                      if warm > 0 else {})
    result = {"method": "interleaved", "warm_up_seconds": warm,
              "engine": summaries[str(paths[0])]}
    if args.kernels:
        result["kernels"] = {path: summaries[path] for path in paths}
    result["mesa"] = mesa.summary() | {
        "timing": f"total over {len(mesa.seconds)} steps of one model, interleaved with the "
                  "engine runs" + (f", each after {warm} s of busy waiting" if warm > 0 else "")}
    m = result["mesa"]["agent_steps_per_s"]

    def ratios(name: str, *, cold: bool = False) -> tuple[float, dict]:
        rates = cold_rates[name] if cold else round_rates[name]
        pairs = [e / r for e, r in zip(rates, mesa_rates, strict=True)]
        rate = (cold_summaries if cold else summaries)[name]["agent_steps_per_s"]
        return rate / m, _spread(pairs)

    result["ratio"], pairs = ratios(str(paths[0]))
    result["pair_ratios"] = pairs["all"]
    result["pair_ratio_median"] = pairs["median"]
    result["pair_ratio_quartiles"] = pairs["quartiles"]
    if warm > 0:
        cold = cold_summaries[str(paths[0])]
        result["engine_cold"] = cold | {
            "timing": f"total over {cold['repeat']} runs, each straight after a Mesa "
                      "step (no warm-up: the harness before --warm-up)"}
        result["ratio_cold"], cold_pairs = ratios(str(paths[0]), cold=True)
        result["pair_ratio_cold_median"] = cold_pairs["median"]
        result["pair_ratio_cold_quartiles"] = cold_pairs["quartiles"]
    if args.kernels:
        result["kernel_ratios"], result["kernel_pair_ratios"] = {}, {}
        for path in paths:
            result["kernel_ratios"][path], result["kernel_pair_ratios"][path] = ratios(path)
    if baseline:
        result["baseline_src"] = baseline
        result["baseline"] = summaries["baseline"]
        result["baseline_ratio"], result["baseline_pair_ratios"] = ratios("baseline")
        result["speedup"] = _speedup(workers[str(paths[0])], workers["baseline"],
                                     result["engine"], result["baseline"])
    return result


def _side_by_side(firms: int, args, paths: list, baseline: str | None):
    """``--repeat`` rounds of one run per engine path, in alternation: each path's summary
    (fastest round) and, with a baseline, the speed-up of the first path over it."""
    workers = _start_workers(firms, args, paths, baseline)
    for w in workers.values():
        w.ready()
    names = list(workers)
    for r in range(max(1, args.repeat)):
        for name in _rotated(names, r):
            workers[name].run(args.warm_up)
    for w in workers.values():
        w.close()
    summaries = {name: w.summary(total=False) for name, w in workers.items()}
    first = str(paths[0])
    speedup = (_speedup(workers[first], workers["baseline"], summaries[first],
                        summaries["baseline"]) if baseline else None)
    return summaries, speedup


def _speedup(new: _Worker, old: _Worker, new_summary: dict, old_summary: dict) -> dict:
    """Speed-up of the reported figures, and per round (runs of a round side by side)."""
    per_round = [o["seconds"] / n["seconds"] for n, o in zip(new.runs, old.runs, strict=True)]
    spread = _spread(per_round)
    return {"wall": new_summary["agent_steps_per_s"] / old_summary["agent_steps_per_s"],
            "cpu": new_summary["agent_steps_per_cpu_s"] / old_summary["agent_steps_per_cpu_s"],
            "round_median": spread["median"], "round_quartiles": spread["quartiles"],
            "rounds": spread["all"]}


def engine_benchmark(firms: int, steps: int, *, seed: int = 0, xp: str = "numpy",
                     policy: bool = False, network_every: int = 1, repeat: int = 1,
                     kernels: str | None = None) -> dict:
    """Time ``steps`` steps of the engine in this process, fastest of ``repeat`` runs."""
    timer = EngineTimer(firms, steps, seed=seed, xp=xp, policy=policy,
                        network_every=network_every, kernels=kernels)
    runs = [timer.time_run() for _ in range(max(1, repeat))]
    return _summary(timer.info | {"peak_rss_mb": _peak_rss_mb()}, runs, total=False)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firms", type=int, default=10000)
    ap.add_argument("--sizes", type=str, default=None, help="comma-separated firm counts")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--xp", default="numpy", choices=["numpy", "cupy"])
    ap.add_argument("--policy", action="store_true", help="all 13 instruments on")
    ap.add_argument("--network-every", type=int, default=1,
                    help="network measures every N steps (0: never)")
    ap.add_argument("--vs-mesa", action="store_true",
                    help="also time the Mesa reference, interleaved with the engine runs")
    ap.add_argument("--mesa-max-seconds", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=1,
                    help="timed runs per path (rounds; with --vs-mesa: runs per round)")
    ap.add_argument("--warm-up", type=float, default=0.1,
                    help="seconds of busy waiting (untimed) before each timed engine run and "
                         "Mesa step, in the process that times it (0: none)")
    ap.add_argument("--baseline-src", default=None,
                    help="another checkout's root (or its src/) to time side by side")
    ap.add_argument("--kernels", default=None,
                    help="comma-separated kernel paths to time side by side: numba, array")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        _serve(args)
        return {}

    baseline = None
    if args.baseline_src:
        root = Path(args.baseline_src).resolve()
        baseline = str(root / "src") if (root / "src" / "innoweave").is_dir() else str(root)
    paths = args.kernels.split(",") if args.kernels else [None]
    first = str(paths[0])
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
        result = {"sizes": []}
        if baseline:
            result |= {"baseline_src": baseline, "baseline": [], "speedup": []}
        if args.kernels:
            result["kernels"] = {path: [] for path in paths}
        for n in sizes:
            summaries, speedup = _side_by_side(n, args, paths, baseline)
            result["sizes"].append(summaries[first])
            for path in paths if args.kernels else []:
                result["kernels"][path].append(summaries[path])
            if baseline:
                result["baseline"].append(summaries["baseline"])
                result["speedup"].append(speedup)
    elif args.vs_mesa:
        result = _vs_mesa(args, paths, baseline)
    elif baseline or len(paths) > 1:
        summaries, speedup = _side_by_side(args.firms, args, paths, baseline)
        result = {"engine": summaries[first]}
        if args.kernels:
            result["kernels"] = {path: summaries[path] for path in paths}
        if baseline:
            result |= {"baseline_src": baseline, "baseline": summaries["baseline"],
                       "speedup": speedup}
    else:
        result = {"engine": engine_benchmark(args.firms, args.steps, seed=args.seed, xp=args.xp,
                                             policy=args.policy,
                                             network_every=args.network_every,
                                             repeat=args.repeat, kernels=paths[0])}
        if args.kernels:
            result["kernels"] = {first: result["engine"]}
    result["command"] = "python benchmarks/simulation.py " + " ".join(argv or sys.argv[1:])
    result["python"] = platform.python_version()
    result["load_average"] = os.getloadavg()
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        tag = args.sizes.replace(",", "_") if args.sizes else str(args.firms)
        name = (f"simulation_{args.xp}_{tag}{'_vs_mesa' if args.vs_mesa else ''}"
                f"{'_vs_baseline' if baseline else ''}"
                f"{'_' + '_'.join(paths) if args.kernels else ''}.json")
        (RESULTS / name).write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result, paths)
    return result


def _print(result: dict, paths: list) -> None:
    rows = result.get("sizes") or [result["engine"]]
    olds = result.get("baseline")
    olds = olds if isinstance(olds, list) else [olds] * len(rows)
    for r, old in zip(rows, olds, strict=True):
        print(f"engine {r['xp']:5s} {r['kernels']:5s} {r['firms']:>9d} firms: "
              f"{r['agent_steps_per_s']:12.0f} "
              f"agent-steps/s ({r['agent_steps_per_cpu_s']:.0f} per CPU-s; {r['timing']}), "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
        if old:
            print(f"  baseline {old['agent_steps_per_s']:12.0f} agent-steps/s "
                  f"({old['agent_steps_per_cpu_s']:.0f} per CPU-s)")
    for path, run in result.get("kernels", {}).items():
        if isinstance(run, dict) and path != paths[0]:
            print(f"  {path}: {run['agent_steps_per_s']:12.0f} agent-steps/s")
    if "mesa" in result:
        q1, q3 = result["pair_ratio_quartiles"]
        print(f"mesa {result['mesa']['agent_steps_per_s']:.0f} agent-steps/s, "
              f"ratio {result['ratio']:.0f}x (per round: median {result['pair_ratio_median']:.0f}x, "
              f"quartiles {q1:.0f}-{q3:.0f}x)")
        if "ratio_cold" in result:
            print(f"engine runs straight after a Mesa step (no warm-up): "
                  f"{result['engine_cold']['agent_steps_per_s']:.0f} agent-steps/s, "
                  f"ratio {result['ratio_cold']:.0f}x")


if __name__ == "__main__":
    main()
