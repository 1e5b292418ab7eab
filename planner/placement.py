"""Pinned visits first, and the reason for every visit left out."""
from __future__ import annotations

import numpy as np

from .days import Calendar
from .model import Problem, Unserved
from .timeline import Timeline


def place_fixed(problem: Problem, cal: Calendar, tl: Timeline) -> dict[int, str]:
    """Put every pinned visit on its date (rule 4); those that cannot be placed get their reason."""
    rejected: dict[int, str] = {}
    for i, v in enumerate(problem.visits):
        if v.fixed_start is None:
            continue
        starts = cal.starts(v)
        if not starts:
            rejected[i] = cal.static_reason(v) or "no_working_day_in_window"
            continue
        p = next((p for p in (tl.placement(i, s) for s in tl.start_slots(i, starts[0])) if tl.fits(p)), None)
        if p is None:
            rejected[i] = "conflicts_with_fixed"
        else:
            tl.add(p)
    return rejected


def fixed_only(problem: Problem, cal: Calendar, km: np.ndarray, minutes: np.ndarray) -> Timeline:
    tl = Timeline(problem, cal, km, minutes)
    place_fixed(problem, cal, tl)
    return tl


def open_days(problem: Problem, cal: Calendar, fixed: Timeline, i: int) -> list[int]:
    """Feasible start days of visit i that do not collide with a pinned visit."""
    return [d for d in cal.starts(problem.visits[i])
            if any(fixed.fits(fixed.placement(i, s)) for s in fixed.start_slots(i, d))]


def classify_unserved(problem: Problem, cal: Calendar, tl: Timeline, km: np.ndarray, minutes: np.ndarray,
                      rejected: dict[int, str]) -> list[Unserved]:
    served = {p.visit for p in tl.items}
    fixed = fixed_only(problem, cal, km, minutes)
    out = []
    for i, v in enumerate(problem.visits):
        if i in served:
            continue
        reason = rejected.get(i) or cal.static_reason(v)
        if reason is None:
            reason = "capacity" if open_days(problem, cal, fixed, i) else "conflicts_with_fixed"
        out.append(Unserved(v.id, reason))
    return out
