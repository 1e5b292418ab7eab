"""Which mail is due when: visit reminders, host answers (logistics check, feedback) and the staff digest.

Lead times are counted in local dates of Europe/Berlin (so a reminder goes at 09:00 local time on both sides
of a DST change) and stored as UTC instants. `enqueue_due(now)` only queues what is due at `now`; it is
idempotent (one row per visit date x kind), so it can run as often as the scheduler likes and catch up after
a stop. The outbox skips what has become irrelevant by the time it is sent.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (Feedback, LogisticsCheck, Reminder, ReminderStatus, RequestStatus, Role, Tour, TourStatus,
                      User, Visit, VisitRequest)
from ..security import hash_token, new_token
from . import audit, outbox, tours

log = logging.getLogger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")
VISIT_KINDS = ("logistics_check", "visit_reminder", "feedback_request")


def local_instant(day: date, hour: int) -> datetime:
    """`hour`:00 Berlin time on `day`, as a UTC instant."""
    return datetime.combine(day, time(hour), BERLIN).astimezone(timezone.utc)


@dataclass(frozen=True)
class Moment:
    due: datetime
    expires: datetime


def schedule(start: date, end: date, cfg: dict) -> dict[str, Moment]:
    """When each host mail of a visit from `start` to `end` is due, and until when it is worth sending."""
    hour = int(cfg["send_hour"])
    return {
        "logistics_check": Moment(local_instant(start - timedelta(days=int(cfg["logistics_days_before"])), hour),
                                  local_instant(start, 0)),
        "visit_reminder": Moment(local_instant(start - timedelta(days=int(cfg["reminder_days_before"])), hour),
                                 local_instant(start, 0)),
        "feedback_request": Moment(local_instant(end + timedelta(days=int(cfg["feedback_days_after"])), hour),
                                   local_instant(end + timedelta(days=int(cfg["feedback_relevant_days"])), 0)),
    }


def enqueue_due(now: datetime | None = None) -> int:
    """Queue every host mail and digest due at `now` that is not queued yet; returns how many were queued."""
    now = now or datetime.now(timezone.utc)
    cfg = current_app.config["REMINDERS"]
    tour = tours.published()
    queued = 0
    if tour is not None:
        horizon = now.astimezone(BERLIN).date() - timedelta(days=int(cfg["feedback_relevant_days"]) + 1)
        visits = db.session.scalars(sa.select(Visit).where(Visit.tour_id == tour.id, Visit.end >= horizon)).all()
        for visit in visits:
            if visit.request.status == RequestStatus.CANCELLED:
                continue
            for kind, moment in schedule(visit.start, visit.end, cfg).items():
                if moment.due <= now < moment.expires and _queue_visit_mail(visit, kind, moment):
                    queued += 1
    queued += enqueue_digest(now)
    db.session.commit()
    if queued:
        log.info("reminders: queued %s mails", queued)
    return queued


def _queue_visit_mail(visit: Visit, kind: str, moment: Moment) -> bool:
    key = f"{kind}:{visit.uid}:{visit.start.isoformat()}"
    if outbox.is_queued(key):  # before a host link is made for it
        return False
    req = visit.request
    context: dict = {"visit": visit, "arrival": visit.start - timedelta(days=1)}
    if kind in ("logistics_check", "feedback_request"):
        token = new_token()
        model = LogisticsCheck if kind == "logistics_check" else Feedback
        db.session.add(model(request_id=req.id, visit_uid=visit.uid, visit_start=visit.start,
                             token_hash=hash_token(token)))
        endpoint = "host.logistics" if kind == "logistics_check" else "host.feedback"
        context["link"] = outbox.link(endpoint, token=token)
    outbox.queue_for_request(req, kind, kind, key, due_at=moment.due, expires_at=moment.expires, visit_uid=visit.uid,
                             **context)
    return True


def stale_reason(row: Reminder) -> str:
    """A visit mail whose visit has moved or gone from the published tour is no longer sent."""
    if row.kind not in VISIT_KINDS:
        return ""
    start = row.dedupe_key.rsplit(":", 1)[-1]
    visit = db.session.scalar(sa.select(Visit).join(Tour).where(Tour.status == TourStatus.PUBLISHED,
                                                               Visit.uid == row.visit_uid))
    if visit is None or visit.request.status == RequestStatus.CANCELLED:
        return "stale: the visit is no longer in the published tour"
    if visit.start.isoformat() != start:
        return "stale: the visit has moved to another date"
    return ""


# --- the weekly staff digest ------------------------------------------------------------------------------


def digest_moment(now: datetime, cfg: dict) -> datetime:
    """This ISO week's digest time (e.g. Monday 07:00 Berlin), as a UTC instant."""
    today = now.astimezone(BERLIN).date()
    day = today - timedelta(days=today.isoweekday() - int(cfg["digest_weekday"]))
    return local_instant(day, int(cfg["digest_hour"]))


def enqueue_digest(now: datetime) -> int:
    """One digest per staff member and week, from the digest time until two days later (catch-up)."""
    cfg = current_app.config["REMINDERS"]
    moment = digest_moment(now, cfg)
    if not moment <= now < moment + timedelta(days=2):
        return 0
    week = moment.astimezone(BERLIN).date()
    data = digest_data(week)
    staff = db.session.scalars(sa.select(User).where(User.active.is_(True), User.role.in_([Role.PLANNER, Role.ADMIN]))
                               .order_by(User.id)).all()
    queued = 0
    for user in staff:
        year, number, _ = week.isocalendar()
        row = outbox.queue(kind="staff_digest", dedupe_key=f"staff_digest:{year}-W{number:02d}:{user.id}",
                           to_addr=user.email, template="staff_digest", lang="de", due_at=moment,
                           expires_at=moment + timedelta(days=2), user=user, week=week, **data)
        queued += row is not None
    return queued


def digest_data(monday: date) -> dict:
    """This week's stops, visits of the next 14 days without confirmed logistics, and failed mails."""
    tour = tours.published()
    sunday = monday + timedelta(days=6)
    stops, unconfirmed = [], []
    if tour is not None:
        stops = [v for v in tour.visits if v.start <= sunday and v.end >= monday]
        soon = [v for v in tour.visits if monday <= v.start <= monday + timedelta(days=14)]
        answers = {(c.visit_uid, c.visit_start): c for c in db.session.scalars(
            sa.select(LogisticsCheck).where(LogisticsCheck.visit_uid.in_([v.uid for v in soon])))}
        for v in soon:
            check = answers.get((v.uid, v.start))
            if check is None or check.answered_at is None or check.flagged:
                unconfirmed.append((v, check))
    failed = db.session.scalars(sa.select(Reminder).where(Reminder.status == ReminderStatus.FAILED)
                                .order_by(Reminder.id.desc()).limit(50)).all()
    return {"stops": stops, "unconfirmed": unconfirmed, "failed": failed}


# --- what hosts answer ------------------------------------------------------------------------------------


def logistics_by_token(token: str) -> LogisticsCheck | None:
    return db.session.scalar(sa.select(LogisticsCheck).where(LogisticsCheck.token_hash == hash_token(token)))


def feedback_by_token(token: str) -> Feedback | None:
    return db.session.scalar(sa.select(Feedback).where(Feedback.token_hash == hash_token(token)))


def answer_logistics(check: LogisticsCheck, *, space_ok: bool, power_ok: bool, access_ok: bool,
                     problem: str) -> None:
    """The host confirms the site or reports a problem; a problem flags the visit for staff."""
    before = _check_snapshot(check)
    check.space_ok, check.power_ok, check.access_ok = space_ok, power_ok, access_ok
    check.problem = problem.strip()
    check.answered_at = datetime.now(timezone.utc)
    check.resolved_at = None
    audit.record(None, "visit_request", check.request_id, "logistics_answered", before, _check_snapshot(check),
                 actor="host")
    db.session.commit()


def resolve_logistics(user: User, check: LogisticsCheck) -> None:
    check.resolved_at = datetime.now(timezone.utc)
    audit.record(user, "visit_request", check.request_id, "logistics_resolved", None, {"check": check.id})
    db.session.commit()


def _check_snapshot(check: LogisticsCheck) -> dict:
    return {"space_ok": check.space_ok, "power_ok": check.power_ok, "access_ok": check.access_ok,
            "problem": bool(check.problem)}


def submit_feedback(fb: Feedback, *, rating: int, comments: str, participants_reached: int | None) -> None:
    fb.rating, fb.comments, fb.participants_reached = rating, comments.strip(), participants_reached
    fb.submitted_at = datetime.now(timezone.utc)
    audit.record(None, "visit_request", fb.request_id, "feedback", None,
                 {"rating": rating, "participants_reached": participants_reached}, actor="host")
    db.session.commit()


def checks_for(req: VisitRequest) -> list[LogisticsCheck]:
    return db.session.scalars(sa.select(LogisticsCheck).where(LogisticsCheck.request_id == req.id)
                              .order_by(LogisticsCheck.visit_start.desc())).all()


def feedback_for(req: VisitRequest) -> list[Feedback]:
    return db.session.scalars(sa.select(Feedback).where(Feedback.request_id == req.id)
                              .order_by(Feedback.visit_start.desc())).all()


def flagged_request_ids() -> set[int]:
    rows = db.session.scalars(sa.select(LogisticsCheck).where(LogisticsCheck.answered_at.is_not(None),
                                                              LogisticsCheck.resolved_at.is_(None))).all()
    return {c.request_id for c in rows if c.flagged}
