"""Stage 1: which visits to serve, and on which days, for the most priority (CP-SAT).

Each candidate start is a Boolean; a visit takes at most one start and every half-day slot holds at most one
visit. Among schedules of equal priority it prefers visits nearer the depot, a cheap stand-in for kilometres
that the routing stage then minimises properly. The caller's best schedule is passed in as a hint, so the
solver starts from it and only has to improve."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from .model import Problem
from .timeline import Timeline

PRIORITY_STEPS = 100


def choose(problem: Problem, fixed: Timeline, candidates: dict[int, list[int]], km: np.ndarray,
           work_limit: float, seed: int, hint: list[tuple[int, int]] = (),
           cap: float | None = None) -> tuple[list[tuple[int, int]], str]:
    """[(visit, start slot)] of the best schedule found (pinned visits excluded), and the solver status.

    work_limit is CP-SAT's deterministic time, so a seeded run repeats exactly; `cap` (seconds) guards against a
    slow machine."""
    model = cp_model.CpModel()
    taken = {s for p in fixed.items for s in range(p.start, p.end)}
    per_slot: dict[int, list] = defaultdict(list)
    choice: dict[tuple[int, int], cp_model.IntVar] = {}
    terms = []
    big = int(km[0].sum()) + 2
    for i, days in candidates.items():
        v = problem.visits[i]
        weight = max(1, round(v.priority * PRIORITY_STEPS)) * big - int(round(km[0, i + 1]))
        options = []
        for d in days:
            for start in ((2 * d, 2 * d + 1) if v.half_day else (2 * d,)):
                slots = range(start, start + v.slots)
                if any(s in taken for s in slots):
                    continue
                x = model.NewBoolVar(f"x{i}_{start}")
                choice[(i, start)] = x
                options.append(x)
                terms.append(weight * x)
                for s in slots:
                    per_slot[s].append(x)
        if len(options) > 1:
            model.AddAtMostOne(options)
    for xs in per_slot.values():
        if len(xs) > 1:
            model.AddAtMostOne(xs)
    hinted = set(hint)
    for key, x in choice.items():
        model.AddHint(x, 1 if key in hinted else 0)
    model.Maximize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = max(0.01, work_limit)
    solver.parameters.max_time_in_seconds = max(0.05, cap if cap is not None else 3 * work_limit)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], solver.StatusName(status).lower()
    chosen = sorted(((i, start) for (i, start), x in choice.items() if solver.Value(x)), key=lambda t: t[1])
    return chosen, solver.StatusName(status).lower()
