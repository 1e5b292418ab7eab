"""Working days of the horizon, feasible starts of each visit, and why a visit has none."""
from __future__ import annotations

from datetime import date, timedelta

from .model import Problem, Visit


def _dates(start: date, end: date):
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


class Calendar:
    """Working days are indexed 0..n-1; a slot is a half day: slot 2i is the morning of day i, 2i+1 the afternoon."""

    def __init__(self, problem: Problem):
        self.problem = problem
        closed = {d for b in problem.blackouts for d in _dates(b.start, b.end)}
        weekdays = set(problem.working_weekdays)
        self.days: list[date] = [d for d in _dates(problem.horizon.start, problem.horizon.end)
                                 if d.isoweekday() in weekdays and d not in closed]
        self.index: dict[date, int] = {d: i for i, d in enumerate(self.days)}

    @property
    def slots(self) -> int:
        return 2 * len(self.days)

    def consecutive(self, i: int, k: int) -> bool:
        """Days i..i+k-1 exist and follow each other on the calendar (no weekend or holiday inside)."""
        if i + k > len(self.days):
            return False
        return (self.days[i + k - 1] - self.days[i]).days == k - 1

    def starts(self, visit: Visit, honour_fixed: bool = True) -> list[int]:
        """Day indices where the visit may start under rule 2 (and its pin, rule 4)."""
        k = max(1, int(visit.duration_days))
        own = {d for b in visit.blackouts for d in _dates(b.start, b.end)}
        out = []
        for i, day in enumerate(self.days):
            if honour_fixed and visit.fixed_start is not None and day != visit.fixed_start:
                continue
            if not self.consecutive(i, k):
                continue
            span = self.days[i:i + k]
            if any(d in own for d in span):
                continue
            if any(w.start <= span[0] and span[-1] <= w.end for w in visit.windows):
                out.append(i)
        return out

    def static_reason(self, visit: Visit) -> str | None:
        """Why the visit cannot be placed even in an empty tour; None when it can."""
        if self.starts(visit):
            return None
        h = self.problem.horizon
        if visit.fixed_start is not None and visit.fixed_start not in h:
            return "outside_horizon"
        clipped = [(max(w.start, h.start), min(w.end, h.end)) for w in visit.windows]
        clipped = [(s, e) for s, e in clipped if s <= e]
        if not clipped:
            return "outside_horizon"
        k = max(1, int(visit.duration_days))
        if visit.fixed_start is None and all((e - s).days + 1 < k for s, e in clipped):
            return "window_shorter_than_stay"
        return "no_working_day_in_window"


def slot_span(visit: Visit, start_slot: int) -> tuple[int, int]:
    """[first, end) slots a visit occupies when it starts at start_slot."""
    return start_slot, start_slot + visit.slots
