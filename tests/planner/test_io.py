"""JSON forms, the command line, the Solomon core and reproducibility."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner import Plan, Problem, generate, solomon, solve, validate

ROOT = Path(__file__).resolve().parent.parent.parent
C101 = ROOT / "tests" / "data" / "C101.txt"
C101_OPTIMUM = [[81, 78, 76, 71, 70, 73, 77, 79, 80], [57, 55, 54, 53, 56, 58, 60, 59],
                [98, 96, 95, 94, 92, 93, 97, 100, 99], [32, 33, 31, 35, 37, 38, 39, 36, 34],
                [13, 17, 18, 19, 15, 16, 14, 12], [90, 87, 86, 83, 82, 84, 85, 88, 89, 91],
                [43, 42, 41, 40, 44, 46, 45, 48, 51, 50, 52, 49, 47], [67, 65, 63, 62, 74, 72, 61, 64, 68, 66, 69],
                [5, 3, 7, 8, 10, 11, 9, 6, 4, 2, 1, 75], [20, 24, 25, 27, 29, 30, 28, 26, 23, 22, 21]]


def test_problem_and_plan_json_round_trip():
    p = generate.semester(25, seed=4, time_limit_s=1.0)
    assert Problem.from_json(json.dumps(p.to_dict())) == p
    plan = solve(p)
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.to_dict() == plan.to_dict()
    assert validate(p, again) == []


def test_bad_problem_json_is_refused():
    data = generate.semester(2, seed=1).to_dict()
    data["visits"][0]["duration_days"] = 2.5
    with pytest.raises(ValueError):
        Problem.from_dict(data)
    data["visits"][0]["duration_days"] = 2
    data["visits"][1]["id"] = data["visits"][0]["id"]
    with pytest.raises(ValueError):
        Problem.from_dict(data)


def test_same_seed_same_plan():
    p = generate.semester(30, seed=5, time_limit_s=3.0)
    first, second = solve(p).to_dict(), solve(p).to_dict()
    for d in (first, second):
        d["solver"].pop("seconds")
    assert "stopped on iterations" in first["solver"]["status"]
    assert first == second


def test_plan_cli_prints_a_valid_plan(tmp_path):
    p = generate.semester(20, seed=6, time_limit_s=1.0)
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(p.to_dict()))
    out = subprocess.run([sys.executable, "-m", "planner", "plan", str(path)], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    plan = Plan.from_dict(json.loads(out))
    assert validate(p, plan) == [] and len(plan.stops) + len(plan.unserved) == 20
    bad = subprocess.run([sys.executable, "-m", "planner", "plan", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "error" in bad.stderr


def test_solomon_reader_and_known_optimum():
    inst = solomon.read(C101)
    assert inst.vehicles == 25 and inst.capacity == 200 and len(inst.nodes) == 101
    assert inst.nodes[0].x == 40 and inst.nodes[0].due == 1236
    assert (inst.nodes[1].x, inst.nodes[1].y, inst.nodes[1].ready, inst.nodes[1].due) == (45, 68, 912, 967)
    assert solomon.check_routes(inst, C101_OPTIMUM) == []
    assert solomon.route_distance(inst, C101_OPTIMUM) == pytest.approx(828.94, abs=0.005)
    late = [r[:] for r in C101_OPTIMUM]
    late[8].reverse()
    assert solomon.check_routes(inst, late)


def test_vrptw_cli_solves_c101_exactly_feasible():
    out = subprocess.run([sys.executable, "-m", "planner", "vrptw", str(C101), "--time-limit", "1", "--seed", "3"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    result = json.loads(out)
    assert set(result) == {"instance", "customers", "vehicles", "distance", "seconds", "routes"}
    inst = solomon.read(C101)
    assert solomon.check_routes(inst, result["routes"]) == []
    assert result["distance"] == pytest.approx(solomon.route_distance(inst, result["routes"]), abs=1e-3)
    assert result["distance"] < 828.94 * 1.03


def test_generated_semester_plan_beats_the_baseline():
    from planner.baseline import first_come_first_served
    p = dataclasses.replace(generate.semester(60, seed=7), time_limit_s=2.0)
    plan, base = solve(p), first_come_first_served(p)
    assert validate(p, plan) == [] and validate(p, base) == []
    assert plan.served_priority >= base.served_priority
    assert plan.km / len(plan.stops) < base.km / len(base.stops)
