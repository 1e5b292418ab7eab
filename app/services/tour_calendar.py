"""Calendar views of a tour: month and week grids with visits, holidays and blackouts; a plain list."""
from __future__ import annotations

import calendar as std_calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app

from ..models import Tour, Visit
from . import blackouts


@dataclass
class Day:
    date: date
    in_month: bool
    visits: list[Visit] = field(default_factory=list)
    holidays: list[str] = field(default_factory=list)  # "Name (NI)"
    blocked: list[str] = field(default_factory=list)   # manual blackouts
    closed: bool = False  # the lab does not work: weekend, public holiday of its state, or a manual blackout


def _days(tour: Tour | None, start: date, end: date, month: int | None) -> list[Day]:
    by_day: dict[date, list[Visit]] = {}
    for v in (tour.visits if tour else []):
        d = max(v.start, start)
        while d <= min(v.end, end):
            by_day.setdefault(d, []).append(v)
            d += timedelta(days=1)
    states = tuple(current_app.config["PLANNING"]["states"])
    names: dict[date, list[str]] = {}
    for h in blackouts.holiday_ranges(start, end, states):
        d = max(h.start, start)
        while d <= min(h.end, end):
            label = f"{h.name} ({h.state})"
            if label not in names.setdefault(d, []):
                names[d].append(label)
            d += timedelta(days=1)
    blocked: dict[date, list[str]] = {}
    for b in blackouts.manual_blackouts(start, end):
        d = max(b.start, start)
        while d <= min(b.end, end):
            blocked.setdefault(d, []).append(b.reason)
            d += timedelta(days=1)
    weekdays = set(current_app.config["PLANNING"]["working_weekdays"])
    lab_closed = blackouts.lab_closed_days(start, end)
    out, d = [], start
    while d <= end:
        out.append(Day(d, month is None or d.month == month, sorted(by_day.get(d, []), key=lambda v: v.half or ""),
                       names.get(d, []), blocked.get(d, []), d.isoweekday() not in weekdays or d in lab_closed))
        d += timedelta(days=1)
    return out


def month(tour: Tour | None, year: int, month_no: int) -> list[list[Day]]:
    """Weeks (Monday first) covering the month."""
    weeks = std_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month_no)
    days = _days(tour, weeks[0][0], weeks[-1][-1], month_no)
    return [days[i:i + 7] for i in range(0, len(days), 7)]


def week(tour: Tour | None, monday: date) -> list[Day]:
    return _days(tour, monday, monday + timedelta(days=6), None)
