"""Benchmarks of the diagnosis: 100k synthetic SMEs diagnosed, and the 1,000-draw EIS
uncertainty analysis. Prints the figures and saves them as JSON under benchmarks/results/.

    .venv/bin/python benchmarks/diagnosis.py            # large: 100,000 SMEs, 1,000 draws
    .venv/bin/python benchmarks/diagnosis.py --size small

The SME registry comes from ``innoweave.registry.synth.synthesize`` when it is implemented;
otherwise from the small generator below (organisations, regions, sectors, projects and
participations only), and the attribute model draws every firm attribute inside the
diagnosis, as it does for a real registry. Targets (issue 4): SMEs < 30 s, EIS < 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time

import numpy as np
import pandas as pd
from configurations import results_dir

import innoweave
from innoweave.registry.frames import RegistryFrames

SIZES = {"small": {"n_smes": 5_000, "draws": 100, "sobol": 16},
         "large": {"n_smes": 100_000, "draws": 1_000, "sobol": 256}}
RESULTS = results_dir()


def generated_registry(n_smes: int, *, seed: int = 0) -> RegistryFrames:
    """SMEs over 300 NUTS-3 regions and 20 sectors, research and support bodies, and a
    collaboration history of about 0.6 projects per SME (3-6 participants each)."""
    rng = np.random.default_rng(seed)
    regions = [f"DE{a}{b}{c}" for a in "123456789" for b in "12345" for c in "1234567"][:300]
    n_other = max(50, n_smes // 20)
    kinds = np.array(["university", "research_institute", "intermediary", "government", "large_firm"])
    ids = np.array([f"bench:sme:{i}" for i in range(n_smes)] + [f"bench:org:{i}" for i in range(n_other)])
    kind = np.concatenate([np.full(n_smes, "sme"), rng.choice(kinds, n_other)])
    orgs = pd.DataFrame({
        "external_id": ids, "name": ids, "kind": kind,
        "region_code": rng.choice(regions, len(ids)), "country": "DE",
        "sector_codes": [[f"C{c}"] for c in rng.integers(10, 30, len(ids))],
        "source": "synthetic",
    })
    n_proj = int(0.6 * n_smes)
    sizes = rng.integers(3, 7, n_proj)
    proj_ids = np.array([f"bench:project:{p}" for p in range(n_proj)])
    member_proj = np.repeat(np.arange(n_proj), sizes)
    # one research or support body per project, the rest SMEs
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    members = rng.integers(0, n_smes, len(member_proj))
    members[first] = n_smes + rng.integers(0, n_other, n_proj)
    projects = pd.DataFrame({
        "external_id": proj_ids, "title": proj_ids,
        "programme": rng.choice(["Horizon 2020", "Horizon Europe", "FP7"], n_proj),
        "start_date": [dt.date(int(y), 1, 1) for y in rng.integers(2010, 2024, n_proj)],
        "source": "synthetic",
    })
    parts = pd.DataFrame({
        "external_id": [f"bench:part:{i}" for i in range(len(member_proj))],
        "project_external_id": proj_ids[member_proj], "org_external_id": ids[members],
        "role": np.where(np.isin(np.arange(len(member_proj)), first), "coordinator", "participant"),
        "public_contribution": rng.lognormal(12, 1, len(member_proj)), "source": "synthetic",
    })
    parts["net_public_contribution"] = parts["public_contribution"]
    return RegistryFrames(orgs, projects, parts)


def registry(n_smes: int) -> tuple[RegistryFrames, str]:
    try:
        from innoweave.registry.synth import synthesize

        return synthesize(n_smes=n_smes, seed=0), "innoweave.registry.synth.synthesize"
    except (ImportError, NotImplementedError):
        return generated_registry(n_smes), "benchmarks/diagnosis.py generator + AttributeModel"


def bench_smes(n_smes: int) -> dict:
    from innoweave.diagnosis.questionnaire import load_questionnaire, simulate_answers
    from innoweave.diagnosis.sme import FACTORS, SMEDiagnoser

    t0 = time.perf_counter()
    frames, source = registry(n_smes)
    t_registry = time.perf_counter() - t0
    smes = frames.organisations.loc[frames.organisations["kind"] == "sme", "external_id"]
    rng = np.random.default_rng(1)
    latent = pd.DataFrame(rng.uniform(0, 1, (len(smes), len(FACTORS))), index=smes, columns=FACTORS)
    answers = simulate_answers(latent, load_questionnaire(), response_rate=0.3, seed=2)
    t0 = time.perf_counter()
    model = SMEDiagnoser(answers=answers, answers_synthetic=True, seed=0).fit(frames)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = model.transform()
    t_transform = time.perf_counter() - t0
    t0 = time.perf_counter()
    one = model.diagnose(str(smes.iloc[0]))
    t_one = time.perf_counter() - t0
    return {
        "n_smes": int(len(table)), "registry_source": source,
        "participations": int(len(frames.participations)), "questionnaire_answers": int(len(answers)),
        "seconds_registry": round(t_registry, 3),
        "seconds_fit": round(t_fit, 3), "seconds_transform": round(t_transform, 3),
        "seconds_diagnose_total": round(t_fit + t_transform, 3),
        "seconds_one_profile": round(t_one, 4),
        "target_seconds": 30, "met": bool(t_fit + t_transform < 30),
        "stages": model.stage_distribution()["counts"], "example_weakest": one["weakest"],
    }


def bench_eis(draws: int, sobol: int) -> dict:
    from innoweave.diagnosis.eis import eis_uncertainty

    t0 = time.perf_counter()
    ua, _ = eis_uncertainty(n_draws=draws, sobol_base=0, seed=0)
    t_mc = time.perf_counter() - t0
    t0 = time.perf_counter()
    ua2, indices = eis_uncertainty(n_draws=draws, sobol_base=sobol, seed=0)
    t_both = time.perf_counter() - t0
    return {
        "n_draws": draws, "distinct_combinations": ua.meta_["distinct_combinations"],
        "seconds_monte_carlo": round(t_mc, 3), "target_seconds": 60, "met": bool(t_mc < 60),
        "sobol_base": sobol, "sobol_evaluations": ua2.sobol_meta_["evaluations"],
        "seconds_monte_carlo_and_sobol": round(t_both, 3),
        "sobol": indices.round(4).to_dict(orient="records"),
        "top5_median_rank": ua.summary_.head(5).to_dict(orient="records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--only", choices=["sme", "eis"], default=None)
    args = parser.parse_args()
    size = SIZES[args.size]
    env = {"version": innoweave.__version__, "python": platform.python_version(),
           "cpus": os.cpu_count(), "machine": platform.machine(), "size": args.size,
           "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           # other work on the machine slows every figure; the load says how much there was
           "load_average_1min_at_start": round(os.getloadavg()[0], 2)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "sme"):
        sme = bench_smes(size["n_smes"]) | env
        print(json.dumps(sme, indent=2))
        (RESULTS / f"diagnosis_sme_{args.size}.json").write_text(json.dumps(sme, indent=2))
    if args.only in (None, "eis"):
        eis = bench_eis(size["draws"], size["sobol"]) | env
        print(json.dumps(eis, indent=2))
        (RESULTS / f"diagnosis_eis_uncertainty_{args.size}.json").write_text(json.dumps(eis, indent=2))


if __name__ == "__main__":
    main()
