"""Days the lab or a host cannot receive a visit: weekends, public and school holidays (NI/HB), manual blackouts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import Blackout, BlackoutKind, OrgKind, User
from . import audit


@dataclass(frozen=True)
class HolidayRange:
    start: date
    end: date
    name: str
    state: str
    category: str  # "public" or "school"


@lru_cache(maxsize=64)
def _holidays(state: str, year: int, category: str) -> dict[date, str]:
    return dict(holidays.Germany(subdiv=state, years=year, categories=(category,), language="de"))


def holiday_name(day: date, state: str, category: str) -> str | None:
    return _holidays(state, day.year, category).get(day)


def holiday_ranges(start: date, end: date, states: tuple[str, ...] = ("HB", "NI")) -> list[HolidayRange]:
    """Public and school holidays in [start, end], consecutive days of one name merged into a range."""
    out: list[HolidayRange] = []
    for state in states:
        for category in ("public", "school"):
            current: HolidayRange | None = None
            for day in _days(start, end):
                name = holiday_name(day, state, category)
                if current and name == current.name and day == current.end + timedelta(days=1):
                    current = HolidayRange(current.start, day, name, state, category)
                    continue
                if current:
                    out.append(current)
                current = HolidayRange(day, day, name, state, category) if name else None
            if current:
                out.append(current)
    return sorted(out, key=lambda h: (h.start, h.state, h.category))


def _days(start: date, end: date):
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


def manual_blackouts(start: date, end: date) -> list[Blackout]:
    return list(db.session.scalars(
        sa.select(Blackout).where(Blackout.start <= end, Blackout.end >= start).order_by(Blackout.start)))


def lab_closed_days(start: date, end: date) -> set[date]:
    """Days the lab does not work anywhere: manual blackouts and the public holidays of its home state (HB)."""
    closed = {d for b in manual_blackouts(start, end) for d in _days(max(b.start, start), min(b.end, end))}
    closed |= {d for d in _days(start, end) if holiday_name(d, "HB", "public")}
    return closed


def host_closed_days(start: date, end: date, state: str, kind: OrgKind) -> set[date]:
    """Days this host cannot receive the lab: its state's public holidays, and school holidays for schools."""
    categories = ("public", "school") if kind == OrgKind.BBS else ("public",)
    return {d for d in _days(start, end) for c in categories if holiday_name(d, state, c)}


def usable_days(start: date, end: date, state: str, kind: OrgKind) -> list[date]:
    weekdays = set(current_app.config["PLANNING"]["working_weekdays"])
    closed = lab_closed_days(start, end) | host_closed_days(start, end, state, kind)
    return [d for d in _days(start, end) if d.isoweekday() in weekdays and d not in closed]


def longest_run(days: list[date]) -> int:
    """Longest stretch of consecutive calendar days (a stay may not span a weekend or holiday)."""
    best = run = 0
    prev: date | None = None
    for d in days:
        run = run + 1 if prev and d == prev + timedelta(days=1) else 1
        best = max(best, run)
        prev = d
    return best


def window_problem(start: date, end: date, half_days: int, state: str, kind: OrgKind, today: date) -> str | None:
    """Why a requested window cannot hold the stay, in the user's language; None when it can."""
    if end < start:
        return _("Das Ende liegt vor dem Beginn.")
    if end < today + timedelta(days=1):
        return _("Der Zeitraum liegt in der Vergangenheit. Bitte wählen Sie Tage ab morgen.")
    if (end - today).days > current_app.config["PLANNING"]["max_days_ahead"]:
        return _("Wir planen höchstens anderthalb Jahre im Voraus. Bitte wählen Sie einen früheren Zeitraum.")
    days = usable_days(max(start, today + timedelta(days=1)), end, state, kind)
    if not days:
        return _("In diesem Zeitraum liegen nur Wochenenden, Feiertage, Ferien oder Sperrzeiten des Labs.")
    need = max(1, half_days // 2)
    if longest_run(days) < need:
        return _("Der Zeitraum ist zu kurz für %(n)d Tage Aufenthalt: höchstens %(m)d Arbeitstage folgen "
                 "ohne Wochenende, Feiertag oder Ferien aufeinander.", n=need, m=longest_run(days))
    return None


def add_blackout(user: User, start: date, end: date, kind: BlackoutKind, reason: str) -> Blackout:
    blackout = Blackout(start=start, end=end, kind=kind, reason=reason.strip(), created_by_id=user.id)
    db.session.add(blackout)
    db.session.flush()
    audit.record(user, "blackout", blackout.id, "created", None, _snapshot(blackout))
    db.session.commit()
    return blackout


def update_blackout(user: User, blackout: Blackout, start: date, end: date, kind: BlackoutKind, reason: str) -> None:
    before = _snapshot(blackout)
    blackout.start, blackout.end, blackout.kind, blackout.reason = start, end, kind, reason.strip()
    audit.record(user, "blackout", blackout.id, "updated", before, _snapshot(blackout))
    db.session.commit()


def delete_blackout(user: User, blackout: Blackout) -> None:
    audit.record(user, "blackout", blackout.id, "deleted", _snapshot(blackout), None)
    db.session.delete(blackout)
    db.session.commit()


def _snapshot(b: Blackout) -> dict:
    return {"start": b.start.isoformat(), "end": b.end.isoformat(), "kind": b.kind.value, "reason": b.reason}
