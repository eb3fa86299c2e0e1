"""Why ``benchmarks/simulation.py --vs-mesa`` busy-waits before each timed section.

The interleaved harness leaves each engine worker idle while the Mesa reference steps
(~0.25 s at 10 000 firms), then times one engine run (~50 ms). This script times, in one
process and in alternation, a 20-step engine run at 10 000 firms

- ``back_to_back``: straight after the previous run;
- ``after_sleep``: after ``--sleep`` seconds of sleeping (what a worker does during a Mesa step);
- ``after_sleep_busy``: after the same sleep and then ``--warm-up`` seconds of busy waiting;

for the two ways a run can step: ``threaded`` (``Engine.advance``, the Numba path's second
thread, as every run) and ``serial`` (``Engine.step``, one thread). As controls it times
single-threaded work alone (a NumPy sort, a pure-Python loop: the Mesa reference's kind of
work) back to back and after the sleep. It prints and saves
(``benchmarks/results/simulation_idle_{firms}x{steps}_r{rounds}.json``) the median and
quartiles of the ms per step of each, and the median of each step of the threaded run after
the sleep and back to back.

    python benchmarks/simulation_idle.py            # 12 rounds, ~40 s
    python benchmarks/simulation_idle.py --rounds 20 --sleep 0.25 --warm-up 0.1   # ~1 min
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simulation import RESULTS, EngineTimer, _spread, busy_wait  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firms", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--sleep", type=float, default=0.25)
    ap.add_argument("--warm-up", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    # the speed benchmark's set-up: population built, kernels loaded by a warm-up run
    timer = EngineTimer(args.firms, args.steps, seed=args.seed)

    def engine_run(threaded: bool) -> list[float]:
        engine = timer._engine(timer.population)
        engine._setup(args.steps)
        seconds = []
        for k in range(args.steps):
            start = time.perf_counter()
            engine._step(helper=threaded, ahead=threaded and k < args.steps - 1)
            seconds.append(time.perf_counter() - start)
        return seconds

    values = np.random.default_rng(args.seed).random(200_000)

    def numpy_sort() -> list[float]:
        start = time.perf_counter()
        np.sort(values)
        return [time.perf_counter() - start]

    def python_loop() -> list[float]:
        start = time.perf_counter()
        total = 0
        for i in range(100_000):
            total += i * i
        return [time.perf_counter() - start]

    work = {"threaded": lambda: engine_run(True), "serial": lambda: engine_run(False),
            "numpy_sort": numpy_sort, "python_loop": python_loop}
    conditions = ("back_to_back", "after_sleep", "after_sleep_busy")
    timings = {(w, c): [] for w in work for c in conditions}
    for _ in range(args.rounds):
        for name, run in work.items():
            for condition in conditions:
                if condition != "back_to_back":
                    time.sleep(args.sleep)
                if condition == "after_sleep_busy":
                    busy_wait(args.warm_up)
                timings[name, condition].append(run())
    result: dict = {"firms": args.firms, "steps": args.steps, "rounds": args.rounds,
                    "sleep_seconds": args.sleep, "warm_up_seconds": args.warm_up}
    for name in work:
        result[name] = {}
        for condition in conditions:
            runs = timings[name, condition]
            per_run = [1000 * sum(r) / len(r) for r in runs]
            result[name][condition] = _spread(per_run)  # "all": every round's ms
    for condition in ("back_to_back", "after_sleep"):
        steps = np.median(np.array(timings["threaded", condition]), axis=0) * 1000
        result["threaded"][condition]["median_ms_by_step"] = [round(float(v), 3) for v in steps]
    result["command"] = "python benchmarks/simulation_idle.py " + " ".join(argv or sys.argv[1:])
    result["python"] = platform.python_version()
    result["load_average"] = os.getloadavg()
    result["device"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        name = f"simulation_idle_{args.firms}x{args.steps}_r{args.rounds}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2))
    unit = {"threaded": "ms a step", "serial": "ms a step", "numpy_sort": "ms",
            "python_loop": "ms"}
    for name in work:
        row = "  ".join(f"{c} {result[name][c]['median']:.3f}" for c in conditions)
        print(f"{name:12s} ({unit[name]}, medians of {args.rounds}): {row}")
    print("threaded, after the sleep, ms by step:",
          " ".join(f"{v:.2f}" for v in result["threaded"]["after_sleep"]["median_ms_by_step"]))
    return result


if __name__ == "__main__":
    main()
