"""Check a plan against every rule of PLANNER.md, independently of how it was made."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from .model import REASONS, Plan, Problem, Visit
from .travel import matrices

KM_TOLERANCE = 0.01


def _span(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def validate(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule, as readable sentences; an empty list means the plan is valid."""
    errors: list[str] = []
    visits = {v.id: v for v in problem.visits}
    weekdays = set(problem.working_weekdays)
    closed = {d for b in problem.blackouts for d in _span(b.start, b.end)}

    def working(d: date) -> bool:
        return problem.horizon.start <= d <= problem.horizon.end and d.isoweekday() in weekdays and d not in closed

    def working_days_between(a: date, b: date) -> int:
        """Working days strictly between a and b."""
        return sum(1 for d in _span(a + timedelta(days=1), b - timedelta(days=1)) if working(d)) if b > a else 0

    # rule 6: each visit once, served or unserved with a valid reason
    seen: dict[str, int] = defaultdict(int)
    for s in plan.stops:
        seen[s.visit] += 1
    for u in plan.unserved:
        seen[u.visit] += 1
        if u.reason not in REASONS:
            errors.append(f"rule 6: {u.visit} has unknown reason {u.reason!r}")
    for vid, n in seen.items():
        if vid not in visits:
            errors.append(f"rule 6: unknown visit {vid}")
        elif n > 1:
            errors.append(f"rule 6: {vid} appears {n} times")
    for vid in visits:
        if vid not in seen:
            errors.append(f"rule 6: {vid} is neither planned nor unserved")

    # rules 1, 2, 4: each stop on consecutive working days inside one window, outside own blackouts
    halves: dict[date, list[str]] = defaultdict(list)
    whole: dict[date, list[str]] = defaultdict(list)
    for s in plan.stops:
        v = visits.get(s.visit)
        if v is None:
            continue
        days = _span(s.start, s.end)
        need = 1 if v.half_day else int(v.duration_days)
        if len(days) != need:
            errors.append(f"rule 2: {v.id} lasts {len(days)} days instead of {need}")
        for d in days:
            if not working(d):
                errors.append(f"rule 1/2: {v.id} is on {d}, which is not a working day")
        if not any(w.start <= s.start and s.end <= w.end for w in v.windows):
            errors.append(f"rule 2: {v.id} ({s.start}–{s.end}) is not inside one of its windows")
        own = {d for b in v.blackouts for d in _span(b.start, b.end)}
        if any(d in own for d in days):
            errors.append(f"rule 2: {v.id} falls on its own blackout")
        if v.half_day:
            if s.half not in ("am", "pm"):
                errors.append(f"rule 2: half-day visit {v.id} needs half 'am' or 'pm'")
            halves[s.start].append(s.half or "?")
        else:
            if s.half is not None:
                errors.append(f"rule 2: whole-day visit {v.id} has half {s.half!r}")
            for d in days:
                whole[d].append(v.id)
        if v.fixed_start is not None and s.start != v.fixed_start:
            errors.append(f"rule 4: pinned {v.id} moved from {v.fixed_start} to {s.start}")

    # rule 3: one place at a time
    for d, ids in whole.items():
        if len(ids) > 1:
            errors.append(f"rule 3: {', '.join(ids)} overlap on {d}")
        if halves.get(d):
            errors.append(f"rule 2/3: {d} holds a whole-day visit and a half-day visit")
    for d, hs in halves.items():
        if len(hs) > 2 or len(set(hs)) != len(hs):
            errors.append(f"rule 2/3: {d} holds half-day visits {hs}")

    # rule 5: transfers
    km, minutes = matrices(problem)
    index = {problem.depot.id: 0, **{v.id: i + 1 for i, v in enumerate(problem.visits)}}
    ordered = sorted((s for s in plan.stops if s.visit in visits),
                     key=lambda s: (s.start, 0 if s.half in (None, "am") else 1))
    for a, b in zip(ordered, ordered[1:]):
        if a.start == b.start and a.half == "pm" and b.half == "am":
            errors.append(f"rule 5: {a.visit} (pm) before {b.visit} (am) on {a.start}")
    expected: list[tuple[str, str]] = []
    prev = None
    for s in ordered:
        if prev is not None and (s.start == prev.end or working_days_between(prev.end, s.start) == 0):
            expected.append((prev.visit, s.visit))
            took = minutes[index[prev.visit], index[s.visit]]
            if took > problem.max_transfer_minutes + 1e-9:
                errors.append(f"rule 5: direct transfer {prev.visit} → {s.visit} takes {took:.0f} min > "
                              f"{problem.max_transfer_minutes:.0f}")
        else:
            if prev is not None:
                expected.append((prev.visit, problem.depot.id))
            expected.append((problem.depot.id, s.visit))
        prev = s
    if prev is not None:
        expected.append((prev.visit, problem.depot.id))
    actual = [(g.frm, g.to) for g in plan.legs]
    if actual != expected:
        errors.append(f"rule 5: legs {actual[:6]}… differ from the required transfers {expected[:6]}…")
    for g in plan.legs:
        if g.frm in index and g.to in index:
            want = km[index[g.frm], index[g.to]]
            if abs(g.km - want) > KM_TOLERANCE:
                errors.append(f"rule 5: leg {g.frm} → {g.to} has {g.km:.3f} km, expected {want:.3f}")
    total = sum(g.km for g in plan.legs)
    if abs(plan.km - total) > KM_TOLERANCE * max(1, len(plan.legs)):
        errors.append(f"plan km {plan.km:.3f} is not the sum of its legs {total:.3f}")
    served = sum(visits[s.visit].priority for s in plan.stops if s.visit in visits)
    if abs(plan.served_priority - served) > 1e-6:
        errors.append(f"served_priority {plan.served_priority} is not {served}")
    errors += _check_reasons(problem, plan, working)
    return errors


def _check_reasons(problem: Problem, plan: Plan, working) -> list[str]:
    """Reasons that can be decided from the problem alone must be right."""
    errors = []
    visits = {v.id: v for v in problem.visits}
    for u in plan.unserved:
        v = visits.get(u.visit)
        if v is None:
            continue
        intrinsic = _intrinsic(problem, v, working)
        if intrinsic is not None and u.reason != intrinsic:
            errors.append(f"rule 6: {v.id} is unserved for {intrinsic!r}, not {u.reason!r}")
        if intrinsic is None and u.reason not in ("capacity", "conflicts_with_fixed"):
            errors.append(f"rule 6: {v.id} could be served alone; {u.reason!r} is wrong")
    return errors


def _intrinsic(problem: Problem, v: Visit, working) -> str | None:
    h = problem.horizon
    k = 1 if v.half_day else int(v.duration_days)
    own = {d for b in v.blackouts for d in _span(b.start, b.end)}
    for w in v.windows:
        for start in _span(max(w.start, h.start), min(w.end, h.end)):
            if v.fixed_start is not None and start != v.fixed_start:
                continue
            days = [start + timedelta(days=n) for n in range(k)]
            if days[-1] <= w.end and all(working(d) and d not in own for d in days):
                return None
    if v.fixed_start is not None and not (h.start <= v.fixed_start <= h.end):
        return "outside_horizon"
    clipped = [(max(w.start, h.start), min(w.end, h.end)) for w in v.windows]
    clipped = [(a, b) for a, b in clipped if a <= b]
    if not clipped:
        return "outside_horizon"
    if v.fixed_start is None and all((b - a).days + 1 < k for a, b in clipped):
        return "window_shorter_than_stay"
    return "no_working_day_in_window"
