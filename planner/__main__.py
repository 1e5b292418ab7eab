"""python -m planner plan PROBLEM.json | python -m planner vrptw FILE.txt [--time-limit S] [--seed N]"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import solomon
from .model import Problem
from .solver import solve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="plan a semester: reads problem JSON, prints plan JSON")
    plan.add_argument("problem", help="problem JSON file, or - for standard input")
    plan.add_argument("--time-limit", type=float, help="override time_limit_s")
    plan.add_argument("--seed", type=int, help="override seed")
    vrptw = sub.add_parser("vrptw", help="solve a Solomon VRPTW instance with the same routing core")
    vrptw.add_argument("file")
    vrptw.add_argument("--time-limit", type=float, default=2.0)
    vrptw.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        if args.command == "plan":
            text = sys.stdin.read() if args.problem == "-" else Path(args.problem).read_text(encoding="utf-8")
            data = json.loads(text)
            if args.time_limit is not None:
                data["time_limit_s"] = args.time_limit
            if args.seed is not None:
                data["seed"] = args.seed
            print(json.dumps(solve(Problem.from_dict(data)).to_dict(), ensure_ascii=False))
        else:
            result = solomon.solve(solomon.read(args.file), args.time_limit, args.seed)
            keys = ("instance", "customers", "vehicles", "distance", "seconds", "routes")
            print(json.dumps({k: result[k] for k in keys}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
