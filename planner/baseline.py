"""What a person does by hand: visits in the order given, each at its earliest feasible start."""
from __future__ import annotations

import time

from .days import Calendar
from .model import Plan, Problem
from .placement import classify_unserved, place_fixed
from .timeline import Timeline
from .travel import matrices


def first_come_first_served(problem: Problem) -> Plan:
    started = time.perf_counter()
    cal = Calendar(problem)
    km, minutes = matrices(problem)
    tl = Timeline(problem, cal, km, minutes)
    rejected = place_fixed(problem, cal, tl)
    for i, v in enumerate(problem.visits):
        if v.fixed_start is not None:
            continue
        for day in cal.starts(v):
            placed = next((p for p in (tl.placement(i, s) for s in tl.start_slots(i, day)) if tl.fits(p)), None)
            if placed:
                tl.add(placed)
                break
    unserved = classify_unserved(problem, cal, tl, km, minutes, rejected)
    return tl.to_plan(unserved, {"name": "first_come_first_served", "seconds": round(time.perf_counter() - started, 3),
                                 "status": "heuristic"})
