"""A single truck's tour as a time-ordered list of placements, with the transfer rules of PLANNER.md.

Used by the baseline, by the decoder of the solver's route, and by the repair pass: one place holds what
"consecutive", "direct transfer" and "via the depot" mean."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from .days import Calendar
from .model import Leg, Plan, Problem, Stop, Unserved


@dataclass(frozen=True)
class Placement:
    visit: int  # index into problem.visits
    start: int  # first slot
    end: int    # slot after the last one

    @property
    def first_day(self) -> int:
        return self.start // 2

    @property
    def last_day(self) -> int:
        return (self.end - 1) // 2


class Timeline:
    def __init__(self, problem: Problem, calendar: Calendar, km: np.ndarray, minutes: np.ndarray):
        self.problem, self.cal, self.km, self.minutes = problem, calendar, km, minutes
        self.items: list[Placement] = []
        self._starts: list[int] = []

    # --- rules -------------------------------------------------------------------------------------
    @staticmethod
    def direct(a: Placement, b: Placement) -> bool:
        """b follows a without a free working day between them: the truck drives straight from a to b."""
        return b.first_day - a.last_day <= 1

    def transfer_ok(self, a: Placement, b: Placement) -> bool:
        return not self.direct(a, b) or self.minutes[a.visit + 1, b.visit + 1] <= self.problem.max_transfer_minutes

    def arc_km(self, a: Placement | None, b: Placement | None) -> float:
        """Kilometres between two consecutive placements (None = the depot at the start or end)."""
        if a is None and b is None:
            return 0.0
        if a is None:
            return self.km[0, b.visit + 1]
        if b is None:
            return self.km[a.visit + 1, 0]
        if self.direct(a, b):
            return self.km[a.visit + 1, b.visit + 1]
        return self.km[a.visit + 1, 0] + self.km[0, b.visit + 1]

    def placement(self, visit: int, start_slot: int) -> Placement:
        return Placement(visit, start_slot, start_slot + self.problem.visits[visit].slots)

    def start_slots(self, visit: int, day: int) -> tuple[int, ...]:
        return (2 * day, 2 * day + 1) if self.problem.visits[visit].half_day else (2 * day,)

    # --- queries -----------------------------------------------------------------------------------
    def neighbours(self, p: Placement) -> tuple[Placement | None, Placement | None]:
        pos = bisect.bisect_left(self._starts, p.start)
        prev = self.items[pos - 1] if pos > 0 else None
        nxt = self.items[pos] if pos < len(self.items) else None
        return prev, nxt

    def fits(self, p: Placement) -> bool:
        prev, nxt = self.neighbours(p)
        if prev is not None and prev.end > p.start:
            return False
        if nxt is not None and p.end > nxt.start:
            return False
        if prev is not None and not self.transfer_ok(prev, p):
            return False
        if nxt is not None and not self.transfer_ok(p, nxt):
            return False
        return True

    def transfer_ok_around(self, p: Placement) -> bool:
        """p's transfers to its current neighbours keep rule 5 (p is already in the timeline)."""
        pos = self.items.index(p)
        prev = self.items[pos - 1] if pos > 0 else None
        nxt = self.items[pos + 1] if pos + 1 < len(self.items) else None
        return (prev is None or self.transfer_ok(prev, p)) and (nxt is None or self.transfer_ok(p, nxt))

    def insertion_km(self, p: Placement) -> float:
        prev, nxt = self.neighbours(p)
        return self.arc_km(prev, p) + self.arc_km(p, nxt) - self.arc_km(prev, nxt)

    def add(self, p: Placement) -> None:
        pos = bisect.bisect_left(self._starts, p.start)
        self.items.insert(pos, p)
        self._starts.insert(pos, p.start)

    def remove(self, p: Placement) -> None:
        pos = self.items.index(p)
        del self.items[pos]
        del self._starts[pos]

    def total_km(self) -> float:
        seq = [None, *self.items, None]
        return float(sum(self.arc_km(a, b) for a, b in zip(seq, seq[1:])))

    def best_insertion(self, visit: int, days: list[int]) -> tuple[float, Placement] | None:
        best = None
        for day in days:
            for slot in self.start_slots(visit, day):
                p = self.placement(visit, slot)
                if self.fits(p):
                    cost = self.insertion_km(p)
                    if best is None or cost < best[0] - 1e-9:
                        best = (cost, p)
        return best

    # --- output ------------------------------------------------------------------------------------
    def to_plan(self, unserved: list[Unserved], solver: dict) -> Plan:
        visits, days, depot = self.problem.visits, self.cal.days, self.problem.depot.id
        stops, legs = [], []

        def leg(frm: str, to: str, day, a: int, b: int) -> None:
            legs.append(Leg(frm, to, day, float(self.km[a, b]), float(self.minutes[a, b])))

        prev: Placement | None = None
        for p in self.items:
            v = visits[p.visit]
            half = None if not v.half_day else ("am" if p.start % 2 == 0 else "pm")
            stops.append(Stop(v.id, days[p.first_day], days[p.last_day], half))
            if prev is not None and self.direct(prev, p):
                leg(visits[prev.visit].id, v.id, days[prev.last_day], prev.visit + 1, p.visit + 1)
            else:
                if prev is not None:
                    leg(visits[prev.visit].id, depot, days[prev.last_day], prev.visit + 1, 0)
                leg(depot, v.id, days[p.first_day] - timedelta(days=1), 0, p.visit + 1)
            prev = p
        if prev is not None:
            leg(visits[prev.visit].id, depot, days[prev.last_day], prev.visit + 1, 0)
        served = sum(visits[p.visit].priority for p in self.items)
        return Plan(stops, legs, unserved, km=sum(g.km for g in legs), drive_minutes=sum(g.minutes for g in legs),
                    served_priority=served, solver=solver)
