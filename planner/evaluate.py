"""A plan for stops chosen by hand: legs, totals and reasons, so the app can check a manual move with validate()."""
from __future__ import annotations

from .days import Calendar
from .model import Plan, Problem, Stop
from .placement import classify_unserved
from .timeline import Placement, Timeline
from .travel import matrices


def evaluate(problem: Problem, stops: list[Stop]) -> Plan:
    """Legs and totals of exactly these stops; stops on non-working days keep their order but are reported by
    validate(). Visits without a stop are classified as unserved."""
    cal = Calendar(problem)
    km, minutes = matrices(problem)
    index = {v.id: i for i, v in enumerate(problem.visits)}
    tl = Timeline(problem, cal, km, minutes)
    for s in stops:
        i = index[s.visit]
        day = cal.index.get(s.start)
        if day is None:  # not a working day: place it by date so the plan still lists it
            day = sum(1 for d in cal.days if d < s.start)
        start = 2 * day + (1 if s.half == "pm" else 0)
        tl.add(Placement(i, start, start + problem.visits[i].slots))
    plan = tl.to_plan(classify_unserved(problem, cal, tl, km, minutes, {}), {"name": "manual", "status": "edited"})
    plan.stops = sorted(stops, key=lambda s: (s.start, s.half or ""))
    return plan
