"""The impact report: what the lab reached, whom and where, in a date range (whole tour or a partner's scope).

Counts come from the published tour (the version that happened or will happen) and the hosts' feedback.
"""
from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Feedback, Leg, OrgKind, RequestStatus, Unplaced, Visit, VisitRequest
from . import region, tours
from .feeds import Scope

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class VisitLine:
    start: date
    end: date
    organisation: str
    kind: str
    town: str
    district: str
    rural: bool
    days: float
    classes: int
    participants: int
    reached: int | None
    rating: int | None


@dataclass
class Report:
    start: date
    end: date
    scope: Scope
    lines: list[VisitLine] = field(default_factory=list)
    km: float = 0.0
    drive_hours: float = 0.0
    co2_kg: float = 0.0
    organisations_by_kind: dict[str, int] = field(default_factory=dict)
    first_time: int = 0
    by_district: list[tuple[str, int, int]] = field(default_factory=list)
    by_town: list[tuple[str, str, int]] = field(default_factory=list)
    by_month: list[tuple[str, int]] = field(default_factory=list)
    ratings: dict[int, int] = field(default_factory=dict)
    comments: list[tuple[date, str, str]] = field(default_factory=list)
    declined: list[tuple[str, str]] = field(default_factory=list)
    unplaced: list[tuple[str, int]] = field(default_factory=list)

    @property
    def visits(self) -> int:
        return len(self.lines)

    @property
    def days_on_site(self) -> float:
        return sum(line.days for line in self.lines)

    @property
    def classes(self) -> int:
        return sum(line.classes for line in self.lines)

    @property
    def participants_planned(self) -> int:
        return sum(line.participants for line in self.lines)

    @property
    def participants_reached(self) -> int:
        return sum(line.reached for line in self.lines if line.reached is not None)

    @property
    def feedback_count(self) -> int:
        return sum(1 for line in self.lines if line.rating is not None)

    @property
    def rural_share(self) -> float:
        return sum(line.rural for line in self.lines) / len(self.lines) if self.lines else 0.0

    @property
    def rating_average(self) -> float | None:
        n = sum(self.ratings.values())
        return sum(r * c for r, c in self.ratings.items()) / n if n else None


def build(start: date, end: date, scope: Scope = Scope()) -> Report:
    report = Report(start, end, scope)
    tour = tours.published()
    if tour is None:
        return report
    visits = [v for v in db.session.scalars(
        sa.select(Visit).where(Visit.tour_id == tour.id, Visit.start <= end, Visit.end >= start)
        .order_by(Visit.start, Visit.half)) if scope.holds(v.request.organisation)]
    feedback = {(f.visit_uid, f.visit_start): f for f in db.session.scalars(
        sa.select(Feedback).where(Feedback.submitted_at.is_not(None),
                                  Feedback.visit_uid.in_([v.uid for v in visits])))}
    for v in visits:
        req, org = v.request, v.request.organisation
        fb = feedback.get((v.uid, v.start))
        days = req.duration_half_days / 2
        report.lines.append(VisitLine(
            v.start, v.end, org.name, org.kind.value, org.town, org.district, org.town not in region.OBERZENTREN,
            days, req.classes_per_day * math.ceil(days), req.participants, fb.participants_reached if fb else None,
            fb.rating if fb else None))
        if fb and fb.comments:
            report.comments.append((v.start, org.name, fb.comments))
    _counts(report, visits, tour.id)
    _travel(report, tour.id, {v.request_id for v in visits})
    _lost(report, tour.id)
    return report


def _counts(report: Report, visits: list[Visit], tour_id: int) -> None:
    orgs = {v.request.organisation.id: v.request.organisation for v in visits}
    report.organisations_by_kind = {k.value: sum(1 for o in orgs.values() if o.kind == k) for k in OrgKind}
    earlier = set(db.session.scalars(
        sa.select(VisitRequest.organisation_id).join(Visit, Visit.request_id == VisitRequest.id)
        .where(Visit.tour_id == tour_id, Visit.start < report.start)))
    report.first_time = len(set(orgs) - earlier)
    district: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    town: Counter = Counter()
    month: Counter = Counter()
    for line in report.lines:
        district[line.district][0] += 1
        district[line.district][1] += line.participants
        town[(line.town, line.district)] += 1
        month[line.start.strftime("%Y-%m")] += 1
    report.by_district = sorted(((d, n, p) for d, (n, p) in district.items()), key=lambda r: (-r[1], r[0]))
    report.by_town = sorted(((t, d, n) for (t, d), n in town.items()), key=lambda r: (-r[2], r[0]))
    report.by_month = _months(report.start, report.end, month)
    report.ratings = dict(sorted(Counter(line.rating for line in report.lines if line.rating).items()))


def _months(start: date, end: date, counts: Counter) -> list[tuple[str, int]]:
    months, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        key = f"{y:04d}-{m:02d}"
        months.append((key, counts.get(key, 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _travel(report: Report, tour_id: int, request_ids: set[int]) -> None:
    """Km and hours of the transfers in the range; for a partner, the transfers to their stops."""
    legs = db.session.scalars(sa.select(Leg).where(Leg.tour_id == tour_id, Leg.day >= report.start,
                                                   Leg.day <= report.end)).all()
    legs = [leg for leg in legs if report.scope.whole or leg.to_request_id in request_ids]
    report.km = round(sum(leg.km for leg in legs), 1)
    report.drive_hours = round(sum(leg.minutes for leg in legs) / 60, 1)
    report.co2_kg = round(report.km * float(current_app.config["REPORT"]["co2_kg_per_km"]), 1)


def _lost(report: Report, tour_id: int) -> None:
    """Requests the lab could not serve in the range: declined (with reason) and unplaced (by reason)."""
    declined = db.session.scalars(sa.select(VisitRequest).where(VisitRequest.status == RequestStatus.DECLINED)).all()
    for req in declined:
        if report.scope.holds(req.organisation) and any(w.start <= report.end and w.end >= report.start
                                                        for w in req.windows):
            report.declined.append((req.organisation.name, req.decision_reason))
    reasons: Counter = Counter()
    for row in db.session.scalars(sa.select(Unplaced).where(Unplaced.tour_id == tour_id)):
        if report.scope.holds(row.request.organisation):
            reasons[row.reason] += 1
    report.unplaced = sorted(reasons.items(), key=lambda r: -r[1])


# --- exports --------------------------------------------------------------------------------------------

COLUMNS = ("start", "end", "organisation", "kind", "town", "district", "outside_oberzentren", "days", "classes",
           "participants_planned", "participants_reached", "rating")


def safe(value):
    """A cell a spreadsheet shows as text, never runs as a formula (=, +, -, @, tab, CR at the start)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _row(line: VisitLine) -> list:
    return [line.start.isoformat(), line.end.isoformat(), safe(line.organisation), line.kind, safe(line.town),
            safe(line.district), "yes" if line.rural else "no", line.days, line.classes, line.participants,
            "" if line.reached is None else line.reached, "" if line.rating is None else line.rating]


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    for line in report.lines:
        writer.writerow(_row(line))
    return "\ufeff" + out.getvalue()  # the BOM makes spreadsheet programs read UTF-8


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    for key, value in summary_rows(report):
        summary.append([key, value])
    sheet = book.create_sheet("Visits")
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in report.lines:
        sheet.append(_row(line))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    districts = book.create_sheet("Districts")
    districts.append(["district", "visits", "participants_planned"])
    for d, n, p in report.by_district:
        districts.append([safe(d), n, p])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summary_rows(report: Report) -> list[tuple[str, object]]:
    return [("from", report.start.isoformat()), ("to", report.end.isoformat()),
            ("scope", safe(report.scope.label) or "all"), ("visits", report.visits),
            ("days_on_site", report.days_on_site), ("classes", report.classes),
            ("participants_planned", report.participants_planned),
            ("participants_reached", report.participants_reached), ("feedback_answers", report.feedback_count),
            ("bbs", report.organisations_by_kind.get("bbs", 0)), ("kmu", report.organisations_by_kind.get("kmu", 0)),
            ("first_time_organisations", report.first_time),
            ("share_outside_oberzentren", round(report.rural_share, 3)), ("km", report.km),
            ("drive_hours", report.drive_hours), ("co2_kg", report.co2_kg),
            ("rating_average", round(report.rating_average, 2) if report.rating_average else ""),
            ("declined", len(report.declined)), ("unplaced", sum(n for _r, n in report.unplaced))]


# --- the district map -----------------------------------------------------------------------------------


def district_bubbles(report: Report, width: int = 520, height: int = 420) -> list[dict]:
    """District centres projected into an SVG box, with a radius by visits (area proportional)."""
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for t in region.towns():
        centres[t.district].append((t.lat, t.lon))
    points = {d: (sum(p[0] for p in ps) / len(ps), sum(p[1] for p in ps) / len(ps)) for d, ps in centres.items()}
    lats = [p[0] for p in points.values()]
    lons = [p[1] for p in points.values()]
    pad = 50
    scale_x = (width - 2 * pad) / (max(lons) - min(lons) or 1)
    scale_y = (height - 2 * pad) / (max(lats) - min(lats) or 1)
    visits = {d: n for d, n, _p in report.by_district}
    biggest = max(visits.values(), default=1)
    return [{"district": d, "x": round(pad + (lon - min(lons)) * scale_x, 1),
             "y": round(height - pad - (lat - min(lats)) * scale_y, 1), "visits": visits.get(d, 0),
             "r": round(4 + 26 * math.sqrt(visits.get(d, 0) / biggest), 1)}
            for d, (lat, lon) in sorted(points.items())]
