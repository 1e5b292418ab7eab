"""Benchmarks: python -m planner.bench solomon [--time-limit S] | semester [--long S] [--sizes 60,120,200]

Prints JSON lines; every plan is checked with planner.validate (Solomon routes in exact doubles)."""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import generate, solomon
from .baseline import first_come_first_served
from .solver import solve
from .validate import validate

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "solomon"


def bench_solomon(folder: Path, time_limit: float, seed: int) -> int:
    best = {r["instance"]: float(r["best_known_distance"]) for r in csv.DictReader((folder / "best_known.csv").open())}
    gaps, failures = [], 0
    for name in sorted(best):
        inst = solomon.read(folder / f"{name}.txt")
        result = solomon.solve(inst, time_limit, seed)
        gap = 100 * (result["distance"] / best[name] - 1)
        gaps.append(gap)
        failures += not result["feasible"]
        print(json.dumps({"instance": name, "distance": result["distance"], "best_known": best[name],
                          "gap_pct": round(gap, 3), "seconds": result["seconds"], "vehicles": result["vehicles"],
                          "feasible": result["feasible"], "stopped_by": result["stopped_by"]}), flush=True)
    print(json.dumps({"time_limit": time_limit, "mean_gap_pct": round(sum(gaps) / len(gaps), 3),
                      "max_gap_pct": round(max(gaps), 3), "infeasible": failures}), flush=True)
    return 1 if failures else 0


def _summary(plan, seconds: float) -> dict:
    served = len(plan.stops)
    return {"served": served, "served_priority": round(plan.served_priority, 2), "km": round(plan.km, 1),
            "km_per_visit": round(plan.km / served, 2) if served else None, "seconds": round(seconds, 2)}


def bench_semester(sizes: list[int], long_limit: float, seed: int) -> int:
    bad = 0
    for n in sizes:
        problem = dataclasses.replace(generate.semester(n, seed=seed), time_limit_s=2.0)
        t = time.perf_counter()
        base = first_come_first_served(problem)
        base_s = time.perf_counter() - t
        t = time.perf_counter()
        opt = solve(problem)
        opt_s = time.perf_counter() - t
        t = time.perf_counter()
        long = solve(dataclasses.replace(problem, time_limit_s=long_limit))
        long_s = time.perf_counter() - t
        cli_s = _cli_seconds(problem)
        errors = {name: validate(problem, plan) for name, plan in (("optimiser", opt), ("baseline", base),
                                                                     ("long", long))}
        bad += sum(1 for e in errors.values() if e)
        o, b = _summary(opt, opt_s), _summary(base, base_s)
        print(json.dumps({
            "requests": n, "optimiser": o, "baseline": b, f"optimiser_{long_limit:g}s": _summary(long, long_s),
            "priority_vs_baseline": round(opt.served_priority - base.served_priority, 2),
            "km_per_visit_ratio": round(o["km_per_visit"] / b["km_per_visit"], 3),
            "km_vs_long_ratio": round(opt.km / long.km, 3) if long.km else None,
            "cli_seconds": round(cli_s, 2), "invalid_plans": {k: len(v) for k, v in errors.items() if v},
        }), flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_memory_mb": round(peak_mb, 1)}), flush=True)
    return 1 if bad else 0


def _cli_seconds(problem) -> float:
    """The whole `python -m planner plan` command, start-up included."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(problem.to_dict(), fh)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "planner", "plan", fh.name], check=True, capture_output=True)
    seconds = time.perf_counter() - t
    Path(fh.name).unlink()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner.bench")
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("solomon")
    s.add_argument("--time-limit", type=float, default=2.0)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--data", type=Path, default=DATA)
    m = sub.add_parser("semester")
    m.add_argument("--long", type=float, default=60.0, help="time limit of the comparison run")
    m.add_argument("--sizes", default="60,120,200")
    m.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.what == "solomon":
        return bench_solomon(args.data, args.time_limit, args.seed)
    return bench_semester([int(x) for x in args.sizes.split(",")], args.long, args.seed)


if __name__ == "__main__":
    sys.exit(main())
