"""Blackouts from iCalendar files or URLs (a school's exam weeks, staff holidays), recurrences expanded.

Re-importing the same source replaces its blackouts: changed events are updated, removed ones disappear, and
nothing is duplicated."""
from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import Blackout, BlackoutKind, User
from . import audit
from .feeds import clean

MAX_BYTES = 2 * 1024 * 1024
BERLIN = ZoneInfo("Europe/Berlin")


class ImportError_(ValueError):
    """The calendar could not be read; the message is for the user."""


@dataclass
class Result:
    added: int
    updated: int
    removed: int


def fetch(url: str) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise ImportError_(_("Bitte eine Adresse angeben, die mit https:// oder http:// beginnt."))
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            data = response.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ImportError_(_("Der Kalender konnte nicht geladen werden (%(why)s).", why=type(exc).__name__)) from exc
    if len(data) > MAX_BYTES:
        raise ImportError_(_("Der Kalender ist größer als 2 MB."))
    return data


def _as_date(value, end: bool) -> date:
    if isinstance(value, datetime):
        local = value.astimezone(BERLIN) if value.tzinfo else value
        day = local.date()
        if end and local.time() == datetime.min.time():
            day -= timedelta(days=1)
        return day
    return value - timedelta(days=1) if end else value


def occurrences(data: bytes, start: date, end: date) -> list[tuple[str, date, date, str]]:
    """(key, first day, last day, summary) of every event occurrence in [start, end]."""
    try:
        cal = icalendar.Calendar.from_ical(data)
        events = recurring_ical_events.of(cal).between(start, end + timedelta(days=1))
    except Exception as exc:  # any parser error means: not a calendar we can read
        raise ImportError_(_("Die Datei ist kein lesbarer iCalendar-Kalender.")) from exc
    out = []
    for ev in events:
        if str(ev.get("STATUS", "")).upper() == "CANCELLED" or "DTSTART" not in ev:
            continue
        first = _as_date(ev.decoded("DTSTART"), end=False)
        last = _as_date(ev.decoded("DTEND"), end=True) if "DTEND" in ev else first
        last = max(first, last)
        key = f"{ev.get('UID', '')}@{first.isoformat()}"[:300]
        out.append((key, first, last, clean(str(ev.get("SUMMARY", "")))[:200] or "Import"))
    return out


def import_calendar(user: User, data: bytes, label: str) -> Result:
    """Replace the blackouts of this source with the calendar's events in the planning horizon."""
    today = date.today()
    horizon = today + timedelta(days=current_app.config["PLANNING"]["max_days_ahead"])
    found = {key: (first, last, summary) for key, first, last, summary in occurrences(data, today - timedelta(days=31),
                                                                                       horizon)}
    source = f"ics:{label}"[:300]
    existing = {b.external_uid: b for b in db.session.scalars(sa.select(Blackout).where(Blackout.source == source))}
    added = updated = removed = 0
    for key, (first, last, summary) in found.items():
        row = existing.pop(key, None)
        if row is None:
            db.session.add(Blackout(start=first, end=last, kind=BlackoutKind.OTHER, reason=summary, source=source,
                                    external_uid=key, created_by_id=user.id))
            added += 1
        elif (row.start, row.end, row.reason) != (first, last, summary):
            row.start, row.end, row.reason = first, last, summary
            updated += 1
    for row in existing.values():
        db.session.delete(row)
        removed += 1
    audit.record(user, "blackout", 0, "imported", None, {"source": source, "added": added, "updated": updated,
                                                           "removed": removed})
    db.session.commit()
    return Result(added, updated, removed)
