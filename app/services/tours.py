"""Tour versions: plan a semester with planner.solve, adjust the draft by hand, compare and publish."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from flask import current_app
from flask_babel import gettext as _

import planner
from planner.model import DateRange, Problem, Site, Stop, Visit as PlanVisit

from ..extensions import db
from ..models import (Cancellation, Leg, OrgKind, RequestStatus, Tour, TourStatus, Unplaced, User, Visit, VisitRequest)
from . import audit, blackouts, geo, outbox, region

PLANNABLE = (RequestStatus.APPROVED, RequestStatus.PLANNED, RequestStatus.CONFIRMED)
REMOVED = "removed"
PLANNING_OVERHEAD_S = 0.5  # reading requests and storing the draft, so the whole request stays within the limit


class TourError(ValueError):
    """A change the rules refuse; the message is for the user."""


def _vid(request_id: int) -> str:
    return f"r{request_id}"


def _rid(visit_id: str) -> int:
    return int(visit_id[1:])


def _ranges(days: set[date], reason: str) -> tuple[DateRange, ...]:
    out: list[DateRange] = []
    for d in sorted(days):
        if out and d == out[-1].end + timedelta(days=1):
            out[-1] = DateRange(out[-1].start, d, reason)
        else:
            out.append(DateRange(d, d, reason))
    return tuple(out)


def priority(req: VisitRequest) -> float:
    """Fairness: rural organisations and those the lab has not visited before weigh more (config FAIRNESS)."""
    cfg = current_app.config["FAIRNESS"]
    value = cfg["base"]
    if req.organisation.town not in region.OBERZENTREN:
        value += cfg["rural_bonus"]
    earlier = db.session.scalar(sa.select(sa.func.count()).select_from(VisitRequest).where(
        VisitRequest.organisation_id == req.organisation_id, VisitRequest.id != req.id,
        VisitRequest.status.in_([RequestStatus.COMPLETED, RequestStatus.CONFIRMED])))
    if not earlier:
        value += cfg["first_time_bonus"]
    return round(value, 2)


def build_problem(start: date, end: date, fixed: dict[int, date] | None = None,
                  exclude: set[int] = frozenset()) -> tuple[Problem, dict[str, VisitRequest]]:
    """The planner's view of the database: approved requests with windows in the horizon, holidays, the depot."""
    fixed = fixed or {}
    planning, depot = current_app.config["PLANNING"], current_app.config["DEPOT"]
    requests = db.session.scalars(sa.select(VisitRequest).where(VisitRequest.status.in_(PLANNABLE))
                                  .order_by(VisitRequest.created_at, VisitRequest.id)).all()
    visits, by_id = [], {}
    for req in requests:
        if req.id in exclude or not any(w.end >= start and w.start <= end for w in req.windows):
            continue
        org = req.organisation
        position = (org.lat, org.lon) if org.lat is not None else (
            region.centroid(org.postcode, org.town) or (depot["lat"], depot["lon"]))
        host = blackouts.host_closed_days(start, end, org.state, org.kind)
        visits.append(PlanVisit(
            id=_vid(req.id), lat=position[0], lon=position[1], duration_days=req.duration_half_days / 2,
            windows=tuple(DateRange(w.start, w.end) for w in req.windows),
            blackouts=_ranges(host, "Ferien" if org.kind == OrgKind.BBS else "Feiertag"),
            priority=priority(req), fixed_start=fixed.get(req.id)))
        by_id[_vid(req.id)] = req
    problem = Problem(
        horizon=DateRange(start, end), depot=Site("depot", depot["lat"], depot["lon"]), visits=tuple(visits),
        working_weekdays=tuple(planning["working_weekdays"]),
        blackouts=_ranges(blackouts.lab_closed_days(start, end), "Sperrzeit"),
        circuity=planning["circuity"], speed_kmh=planning["speed_kmh"],
        max_transfer_minutes=planning["max_transfer_minutes"],
        time_limit_s=max(0.5, planning["time_limit_s"] - PLANNING_OVERHEAD_S), seed=1)
    return geo.with_road_matrix(problem), by_id


def _store(tour: Tour, plan: planner.Plan, locked: set[int], removed: set[int]) -> None:
    """Write the plan into the tour. Visits stay the same rows (same id and UID) while their request stays in the
    tour, so links to a visit keep working across edits; a request keeps its UID across versions too."""
    pub = published()
    uids = {v.request_id: v.uid for v in (pub.visits if pub else [])}
    current = {v.request_id: v for v in tour.visits}
    placed = {_rid(s.visit): s for s in plan.stops}
    for rid, v in list(current.items()):
        if rid not in placed:
            tour.visits.remove(v)
    tour.legs.clear()
    tour.unplaced.clear()
    db.session.flush()
    for rid, stop in placed.items():
        v = current.get(rid)
        if v is None:
            v = Visit(request_id=rid, **({"uid": uids[rid]} if rid in uids else {}))
            tour.visits.append(v)
        v.start, v.end, v.half, v.locked = stop.start, stop.end, stop.half, rid in locked
    tour.legs = [Leg(seq=n, from_request_id=None if g.frm == "depot" else _rid(g.frm),
                     to_request_id=None if g.to == "depot" else _rid(g.to), day=g.date, km=g.km, minutes=g.minutes)
                 for n, g in enumerate(plan.legs)]
    tour.unplaced = [Unplaced(request_id=_rid(u.visit), reason=u.reason) for u in plan.unserved] + [
        Unplaced(request_id=r, reason=REMOVED) for r in sorted(removed)]
    tour.km, tour.drive_minutes, tour.served_priority = plan.km, plan.drive_minutes, plan.served_priority
    tour.solver_status = f"{plan.solver.get('name', '')}: {plan.solver.get('status', '')}"[:2000]


def plan_tour(user: User, start: date, end: date) -> Tour:
    """Plan the horizon from scratch and store the result as a new draft version."""
    if end < start:
        raise TourError(_("Das Ende liegt vor dem Beginn."))
    if (end - start).days > 366:
        raise TourError(_("Bitte planen Sie höchstens ein Jahr auf einmal."))
    problem, _by_id = build_problem(start, end)
    plan = planner.solve(problem)
    tour = Tour(horizon_start=start, horizon_end=end, version=_next_version(), status=TourStatus.DRAFT,
                created_by_id=user.id)
    _store(tour, plan, set(), set())
    db.session.add(tour)
    db.session.flush()
    audit.record(user, "tour", tour.id, "planned", None, summary(tour))
    db.session.commit()
    return tour


def _next_version() -> int:
    return (db.session.scalar(sa.select(sa.func.max(Tour.version))) or 0) + 1


def _draft(tour: Tour) -> None:
    if tour.status != TourStatus.DRAFT:
        raise TourError(_("Nur Entwürfe können geändert werden. Veröffentlichte Versionen bleiben, wie sie sind."))


def _claim(tour: Tour) -> None:
    """Take the tour for this change: refused when someone else changed it since it was read.

    The conditional UPDATE also locks the tour's row, so concurrent changes to one tour queue up on PostgreSQL
    and the later ones find a newer revision; SQLite serialises the writes anyway.
    """
    seen = tour.revision
    taken = db.session.execute(sa.update(Tour).where(Tour.id == tour.id, Tour.revision == seen)
                               .values(revision=seen + 1).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.session.rollback()
        raise TourError(_("Die Tour wurde gerade von jemand anderem geändert. Bitte prüfen Sie den neuen Stand "
                          "und versuchen Sie es noch einmal."))
    tour.revision = seen + 1
    db.session.flush()


def _commit(flush_only: bool = False) -> None:
    """Commit (or flush) a tour change; the database's own checks can still say no: no double booking
    (PostgreSQL) and one published version at a time."""
    try:
        db.session.flush() if flush_only else db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        if "uq_tour_one_published" in str(exc.orig) or "tour.status" in str(exc.orig):
            raise TourError(_("Gerade hat jemand anderes eine Version veröffentlicht. Bitte vergleichen Sie Ihren "
                              "Entwurf mit ihr und veröffentlichen Sie dann erneut.")) from exc
        if "ex_visit_no_double_booking" not in str(exc.orig):
            raise
        raise TourError(_("An diesem Tag ist das Lab schon bei einer anderen Einrichtung.")) from exc


def _removed(tour: Tour) -> set[int]:
    return {u.request_id for u in tour.unplaced if u.reason == REMOVED}


def move(user: User, tour: Tour, visit: Visit, new_start: date, half: str | None = None, lock: bool = True) -> None:
    """Put one visit on another date; refused with the rule it would break."""
    _draft(tour)
    problem, _by_id = build_problem(tour.horizon_start, tour.horizon_end, exclude=_removed(tour))
    pv = next((v for v in problem.visits if v.id == _vid(visit.request_id)), None)
    if pv is None:
        raise TourError(_("Diese Anfrage ist nicht mehr angenommen und kann nicht verschoben werden."))
    length = 0 if pv.half_day else int(pv.duration_days) - 1
    end = new_start + timedelta(days=length)
    if pv.half_day and half not in ("am", "pm"):
        half = "am"
    if (new_start, half if pv.half_day else None) == (visit.start, visit.half):
        raise TourError(_("Der Besuch liegt schon an diesem Tag."))
    stops = _stops_except(tour, visit)
    stops.append(Stop(pv.id, new_start, end, half if pv.half_day else None))
    plan = planner.evaluate(problem, stops)
    problems = planner.validate(problem, plan)
    if problems:
        raise TourError(_explain(problems))
    before = {"start": visit.start.isoformat(), "end": visit.end.isoformat()}
    locked = {v.request_id for v in tour.visits if v.locked} | ({visit.request_id} if lock else set())
    _claim(tour)
    _store(tour, plan, locked, _removed(tour))
    audit.record(user, "tour", tour.id, "moved", {"request": visit.request_id, **before},
                 {"request": visit.request_id, "start": new_start.isoformat(), "end": end.isoformat()})
    _commit()


def _stops_except(tour: Tour, visit: Visit) -> list[Stop]:
    """The tour's stops without one visit, as the planner sees them."""
    return [Stop(_vid(v.request_id), v.start, v.end, v.half) for v in tour.visits if v.id != visit.id]


def _explain(problems: list[str]) -> str:
    first = problems[0]
    if first.startswith("rule 1") or "not a working day" in first:
        return _("An diesem Tag arbeitet das Lab nicht (Wochenende, Feiertag oder Sperrzeit), oder der Aufenthalt "
                 "würde über einen solchen Tag reichen.")
    if "own blackout" in first:
        return _("Die Einrichtung hat an diesem Tag Ferien oder einen Feiertag.")
    if first.startswith("rule 2") and "window" in first:
        return _("Das Datum liegt außerhalb der Wunschzeiträume der Einrichtung.")
    if first.startswith(("rule 3", "rule 2/3")):
        return _("An diesem Tag ist das Lab schon bei einer anderen Einrichtung.")
    if "direct transfer" in first:
        return _("Die Fahrt von oder zur benachbarten Station wäre länger als erlaubt; dazwischen muss ein freier "
                 "Tag liegen.")
    return _("Diese Änderung verletzt eine Planungsregel.")


def set_locked(user: User, tour: Tour, visit: Visit, locked: bool) -> None:
    _draft(tour)
    _claim(tour)
    visit.locked = locked
    audit.record(user, "tour", tour.id, "locked" if locked else "unlocked", None, {"request": visit.request_id})
    _commit()


def remove(user: User, tour: Tour, visit: Visit) -> None:
    """Take a visit out of the draft; re-planning leaves it out until it is planned again by hand."""
    _draft(tour)
    problem, _by_id = build_problem(tour.horizon_start, tour.horizon_end)
    removed = _removed(tour) | {visit.request_id}
    stops = _stops_except(tour, visit)
    plan = planner.evaluate(problem, stops)
    plan.unserved = [u for u in plan.unserved if _rid(u.visit) not in removed]
    _claim(tour)
    _store(tour, plan, {v.request_id for v in tour.visits if v.locked and v.id != visit.id}, removed)
    audit.record(user, "tour", tour.id, "removed", {"request": visit.request_id}, None)
    _commit()


def replan(user: User, tour: Tour) -> None:
    """Plan again around locked visits, leaving out removed ones."""
    _draft(tour)
    locked = {v.request_id: v.start for v in tour.visits if v.locked}
    removed = _removed(tour)
    problem, _by_id = build_problem(tour.horizon_start, tour.horizon_end, fixed=locked, exclude=removed)
    plan = planner.solve(problem)
    _claim(tour)
    _store(tour, plan, set(locked), removed)
    audit.record(user, "tour", tour.id, "replanned", None, summary(tour))
    _commit()


def half_year_of(day: date) -> tuple[date, date]:
    """The school half-year around a day: February–July or August–January (what a tour usually plans)."""
    if 2 <= day.month <= 7:
        return date(day.year, 2, 1), date(day.year, 7, 31)
    year = day.year if day.month >= 8 else day.year - 1
    return date(year, 8, 1), date(year + 1, 1, 31)


def next_half_year(day: date) -> tuple[date, date]:
    return half_year_of(half_year_of(day)[1] + timedelta(days=1))


def published() -> Tour | None:
    return db.session.scalar(sa.select(Tour).where(Tour.status == TourStatus.PUBLISHED))


def publish(user: User, tour: Tour) -> dict[str, int]:
    """The draft becomes the published version; hosts whose visit was added, moved or cancelled are told
    (confirmations and moves carry the visit as an .ics attachment)."""
    from . import feeds  # feeds read the published tour through this module

    _draft(tour)
    _claim(tour)
    old = published()
    old_dates = {v.request_id: (v.start, v.end) for v in old.visits} if old else {}
    new_dates = {v.request_id: (v.start, v.end) for v in tour.visits}
    if old:
        old.status = TourStatus.ARCHIVED
        db.session.flush()
    tour.status = TourStatus.PUBLISHED
    tour.published_at = datetime.now(timezone.utc)
    _commit(flush_only=True)
    _carry_feed_state(old, tour)
    counts = {"added": 0, "moved": 0, "cancelled": 0}
    for v in tour.visits:
        req = v.request
        req.status = RequestStatus.CONFIRMED
        change = "added" if v.request_id not in old_dates else (
            "moved" if old_dates[v.request_id] != new_dates[v.request_id] else None)
        if change:
            counts[change] += 1
            outbox.queue_for_request(req, f"visit_{change}", "visit_confirmed" if change == "added" else "visit_moved",
                                     f"visit_{change}:{tour.id}:{req.id}", visit=v, old=old_dates.get(req.id),
                                     ics=feeds.visit_feed(feeds.entry_for_visit(v)).body)
    for request_id in set(old_dates) - set(new_dates):
        req = db.session.get(VisitRequest, request_id)
        if req.status == RequestStatus.CONFIRMED:
            req.status = RequestStatus.APPROVED
        counts["cancelled"] += 1
        outbox.queue_for_request(req, "visit_cancelled", "visit_cancelled", f"visit_cancelled:{tour.id}:{req.id}",
                                 old=old_dates[request_id])
    audit.record(user, "tour", tour.id, "published", None, {**summary(tour), **counts})
    _commit()
    feeds.forget()
    outbox.kick()
    return counts


def _carry_feed_state(old: Tour | None, new: Tour) -> None:
    """Keep SEQUENCE and LAST-MODIFIED of unchanged visits, raise them for moved ones, record cancellations."""
    now = datetime.now(timezone.utc)
    before = {v.request_id: v for v in old.visits} if old else {}
    for v in new.visits:
        prev = before.get(v.request_id)
        if prev is None:
            cancelled = db.session.scalar(sa.select(Cancellation).where(Cancellation.uid == v.uid))
            v.sequence, v.modified_at = (cancelled.sequence + 1 if cancelled else 0), now
            if cancelled:
                db.session.delete(cancelled)
        elif (prev.start, prev.end, prev.half) != (v.start, v.end, v.half):
            v.sequence, v.modified_at = prev.sequence + 1, now
        else:
            v.sequence, v.modified_at = prev.sequence, prev.modified_at
    for rid, prev in before.items():
        if rid not in {v.request_id for v in new.visits}:
            db.session.add(Cancellation(uid=prev.uid, request_id=rid, start=prev.start, end=prev.end, half=prev.half,
                                        sequence=prev.sequence + 1, cancelled_at=now))


def discard(user: User, tour: Tour) -> None:
    _draft(tour)
    _claim(tour)
    audit.record(user, "tour", tour.id, "discarded", summary(tour), None)
    db.session.delete(tour)
    db.session.commit()


def summary(tour: Tour) -> dict:
    return {"version": tour.version, "visits": len(tour.visits), "km": round(tour.km, 1),
            "served_priority": round(tour.served_priority, 2)}


@dataclass
class Comparison:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    moved: list[tuple[VisitRequest, tuple[date, date], tuple[date, date]]] = field(default_factory=list)
    added: list[Visit] = field(default_factory=list)
    dropped: list[Visit] = field(default_factory=list)


def rural_share(tour: Tour) -> float:
    if not tour.visits:
        return 0.0
    return sum(1 for v in tour.visits if v.request.organisation.town not in region.OBERZENTREN) / len(tour.visits)


def compare(draft: Tour, pub: Tour | None) -> Comparison:
    """Side by side: km, drive hours, visits served, rural share, and what moved."""
    out = Comparison()

    def fmt(t: Tour | None, what: str) -> str:
        if t is None:
            return "–"
        return {"km": f"{t.km:.0f}", "hours": f"{t.drive_minutes / 60:.1f}", "visits": str(len(t.visits)),
                "rural": f"{100 * rural_share(t):.0f} %"}[what]

    out.rows = [(label, fmt(draft, key), fmt(pub, key)) for key, label in (
        ("km", _("Kilometer")), ("hours", _("Fahrstunden")), ("visits", _("Besuche")),
        ("rural", _("Anteil außerhalb der Oberzentren")))]
    old = {v.request_id: v for v in pub.visits} if pub else {}
    new = {v.request_id: v for v in draft.visits}
    for rid, v in new.items():
        if rid not in old:
            out.added.append(v)
        elif (old[rid].start, old[rid].end) != (v.start, v.end):
            out.moved.append((v.request, (old[rid].start, old[rid].end), (v.start, v.end)))
    out.dropped = [v for rid, v in old.items() if rid not in new]
    return out


def tours() -> list[Tour]:
    return list(db.session.scalars(sa.select(Tour).order_by(Tour.version.desc())))


def days_of(tour: Tour) -> list[tuple[date, list[Visit]]]:
    """The tour day by day (working days with a visit), for the list and the day sheets."""
    by_day: dict[date, list[Visit]] = {}
    for v in tour.visits:
        d = v.start
        while d <= v.end:
            by_day.setdefault(d, []).append(v)
            d += timedelta(days=1)
    return sorted(by_day.items())
