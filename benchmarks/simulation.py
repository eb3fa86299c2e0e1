"""Benchmark of the simulation engine (and, with --vs-mesa, of the Mesa reference).

Prints and saves (benchmarks/results/simulation_*.json) agent-steps per second — firms alive
at the start of each step, summed over the timed steps — for the engine at one size
(``--firms``) or several (``--sizes``, each in a fresh process so its peak memory is its
own). Building the population is not timed, nor a 2-step warm-up run on 2000 firms (CuPy
compiles each kernel on first use). Every mechanism is on; ``--policy`` adds all thirteen
instruments (the ``policy_mix`` example, budgets scaled to the population).

    python benchmarks/simulation.py --firms 10000 --steps 20 --vs-mesa --json
    python benchmarks/simulation.py --sizes 10000,100000,1000000 --steps 10 --json
    python benchmarks/simulation.py --firms 1000000 --steps 20 --xp cupy --json   # on a GPU
    python benchmarks/simulation.py --sizes 10000,100000 --steps 10 --repeat 3 \
        --baseline-src /tmp/simbase --json     # before/after, fastest of 3 timings each
    python benchmarks/simulation.py --firms 10000 --steps 20 --vs-mesa --repeat 3 \
        --kernels numba,array --json           # fused Numba kernels and the array code

``--kernels`` names the engine's kernel paths to time (``numba``: fused compiled kernels,
``array``: the whole-array code; default: the engine's own choice): the first is reported as
``engine`` (and against Mesa as ``ratio``), every one under ``kernels`` with its ratio, so
both paths are timed side by side in one run. ``warmup_seconds`` is the warm-up run's wall
time: with Numba it includes loading (or, on a fresh cache, compiling) the kernels.

``--baseline-src DIR`` also times another checkout of the project (e.g. an earlier commit:
``git worktree add --detach /tmp/simbase <commit>``) side by side in the same run: each
size runs first with ``DIR/src`` on the path, then with this tree, each in a fresh process,
and the result adds ``baseline`` figures and the speed-up (wall and CPU time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _instruments(n_firms: int):
    from innoweave.simulation.scenario import example_scenarios, load_scenario

    mix = load_scenario(example_scenarios()["policy_mix"])
    scale = n_firms / mix.population.n_firms
    from dataclasses import replace

    return {k: replace(v, budget=v.budget * scale) for k, v in mix.instruments.items()}


def _sync(xp) -> None:
    if xp.__name__ == "cupy":
        xp.cuda.Stream.null.synchronize()


def engine_benchmark(firms: int, steps: int, *, seed: int = 0, xp: str = "numpy",
                     policy: bool = False, network_every: int = 1, repeat: int = 1,
                     kernels: str | None = None) -> dict:
    """Time ``steps`` steps of the engine on a synthetic population of ``firms`` firms.

    With ``repeat`` > 1 the same run (same seed) is timed that many times and the fastest
    wall and CPU times are reported (all of them are kept): on a shared machine the
    slower runs measure the other load.
    """
    from dataclasses import replace

    from innoweave.simulation.engine import Engine
    from innoweave.simulation.params import ModelParams
    from innoweave.simulation.population import synthetic_population

    params = ModelParams()
    params = replace(params, record=replace(params.record, network_every=network_every))
    # warm-up on a small population: CuPy compiles each kernel on first use (cached after)
    warm = synthetic_population(2000, seed=seed + 1, params=params)
    t0 = time.perf_counter()
    Engine(params, warm, instruments=_instruments(2000) if policy else None, seed=seed,
           xp=xp, kernels=kernels).run(2)
    warmup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pop = synthetic_population(firms, seed=seed, params=params)
    build_s = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(max(1, repeat)):
        engine = Engine(params, pop, instruments=_instruments(firms) if policy else None,
                        seed=seed, xp=xp, kernels=kernels)
        engine._setup(steps)
        xp_mod = engine.xp_
        alive = [pop.n_firms]
        _sync(xp_mod)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            record = engine.step()
            alive.append(record["n_firms"])
        _sync(xp_mod)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    wall, cpu = min(walls), min(cpus)
    agent_steps = sum(alive[:steps])
    out = {
        "agent_steps_per_s": agent_steps / wall,
        "agent_steps_per_cpu_s": agent_steps / cpu if cpu > 0 else None,
        "firms": firms,
        "organisations": len(pop),
        "steps": steps,
        "seconds": wall,
        "cpu_seconds": cpu,
        "repeat": len(walls),
        "all_seconds": walls,
        "all_cpu_seconds": cpus,
        "build_seconds": build_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "state_mb": pop.nbytes() / 2**20,
        "xp": xp_mod.__name__,
        "kernels": engine.kernels_,
        "warmup_seconds": warmup_s,
        "policy": policy,
        "network_every": network_every,
        "partner_search": engine.params_.mechanisms.partner_search,
        "final_collaborations": engine.records_[-1]["collab_total"],
    }
    if xp_mod.__name__ == "cupy":
        out["gpu_pool_mb"] = xp_mod.get_default_memory_pool().total_bytes() / 2**20
        props = xp_mod.cuda.runtime.getDeviceProperties(0)
        out["device"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    else:
        out["device"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return out


def _in_subprocess(firms: int, args, src: str | None = None,
                   kernels: str | None = None) -> dict:
    """The engine benchmark in a fresh process (with ``src`` first on the path if given)."""
    cmd = [sys.executable, __file__, "--firms", str(firms), "--steps", str(args.steps),
           "--seed", str(args.seed), "--xp", args.xp, "--network-every",
           str(args.network_every), "--repeat", str(args.repeat), "--json", "--no-save"]
    if args.policy:
        cmd.append("--policy")
    if kernels is not None:
        cmd += ["--kernels", kernels]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)["engine"]


def _speedup(new: dict, old: dict) -> dict:
    return {"wall": new["agent_steps_per_s"] / old["agent_steps_per_s"],
            "cpu": new["agent_steps_per_cpu_s"] / old["agent_steps_per_cpu_s"]}


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
    ap.add_argument("--vs-mesa", action="store_true", help="also time the Mesa reference")
    ap.add_argument("--mesa-max-seconds", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=1,
                    help="time the run this many times, report the fastest")
    ap.add_argument("--baseline-src", default=None,
                    help="another checkout's root (or its src/) to time side by side")
    ap.add_argument("--kernels", default=None,
                    help="comma-separated kernel paths to time side by side: numba, array")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    baseline = None
    if args.baseline_src:
        root = Path(args.baseline_src).resolve()
        baseline = str(root / "src") if (root / "src" / "innoweave").is_dir() else str(root)
    paths = args.kernels.split(",") if args.kernels else [None]
    side_by_side = len(paths) > 1
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
        result = {"sizes": []}
        if baseline:
            result["baseline_src"] = baseline
            result["baseline"] = []
            result["speedup"] = []
        if args.kernels:
            result["kernels"] = {path: [] for path in paths}
        for n in sizes:
            if baseline:
                result["baseline"].append(_in_subprocess(n, args, baseline))
            for path in paths:
                run = _in_subprocess(n, args, kernels=path)
                if args.kernels:
                    result["kernels"][path].append(run)
            result["sizes"].append(result["kernels"][paths[0]][-1] if args.kernels else run)
            if baseline:
                result["speedup"].append(_speedup(result["sizes"][-1], result["baseline"][-1]))
    else:
        if baseline or side_by_side:
            runs = {path: _in_subprocess(args.firms, args, kernels=path) for path in paths}
        else:
            runs = {paths[0]: engine_benchmark(args.firms, args.steps, seed=args.seed, xp=args.xp,
                                               policy=args.policy,
                                               network_every=args.network_every,
                                               repeat=args.repeat, kernels=paths[0])}
        result = {"engine": runs[paths[0]]}
        if args.kernels:
            result["kernels"] = runs
        if baseline:
            result["baseline_src"] = baseline
            result["baseline"] = _in_subprocess(args.firms, args, baseline)
            result["speedup"] = _speedup(result["engine"], result["baseline"])
        if args.vs_mesa:
            from innoweave.simulation.mesa_reference import benchmark as mesa_benchmark

            mesa = mesa_benchmark(args.firms, args.steps, args.seed,
                                  max_seconds=args.mesa_max_seconds)
            result["mesa"] = mesa
            result["ratio"] = result["engine"]["agent_steps_per_s"] / mesa["agent_steps_per_s"]
            if args.kernels:
                result["kernel_ratios"] = {path: run["agent_steps_per_s"]
                                           / mesa["agent_steps_per_s"]
                                           for path, run in runs.items()}
            if baseline:
                result["baseline_ratio"] = (result["baseline"]["agent_steps_per_s"]
                                            / mesa["agent_steps_per_s"])
    result["command"] = "python benchmarks/simulation.py " + " ".join(argv or sys.argv[1:])
    result["python"] = platform.python_version()
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
        rows = result.get("sizes") or [result["engine"]]
        olds = result.get("baseline")
        olds = olds if isinstance(olds, list) else [olds] * len(rows)
        for r, old in zip(rows, olds, strict=True):
            print(f"engine {r['xp']:5s} {r['kernels']:5s} {r['firms']:>9d} firms: "
                  f"{r['agent_steps_per_s']:12.0f} "
                  f"agent-steps/s ({r['agent_steps_per_cpu_s']:.0f} per CPU-s), "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB")
            if old:
                print(f"  baseline {old['agent_steps_per_s']:12.0f} agent-steps/s "
                      f"({old['agent_steps_per_cpu_s']:.0f} per CPU-s)")
        for path, run in result.get("kernels", {}).items():
            if isinstance(run, dict) and path != paths[0]:
                print(f"  {path}: {run['agent_steps_per_s']:12.0f} agent-steps/s")
        if "mesa" in result:
            print(f"mesa {result['mesa']['agent_steps_per_s']:.0f} agent-steps/s, "
                  f"ratio {result['ratio']:.0f}x")
    return result


if __name__ == "__main__":
    main()
