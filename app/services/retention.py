"""DSGVO retention: personal data is kept only as long as the lab needs it (periods in config [RETENTION])."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (Cancellation, Contact, Feedback, Leg, LogisticsCheck, Reminder, ReminderStatus, RequestStatus, SiteLogistics, Unplaced, Visit,
                      VisitRequest)
from . import audit

log = logging.getLogger(__name__)
ENDED = (RequestStatus.DECLINED, RequestStatus.CANCELLED)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (clamped to the month's end)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def purge(now: datetime | None = None) -> dict[str, int]:
    """Anonymise contacts of requests long past, delete declined/cancelled requests, drop old outbox rows."""
    now = now or datetime.now(timezone.utc)
    cfg = current_app.config["RETENTION"]
    today = now.date()
    result = {"anonymised": 0, "deleted": 0, "outbox_deleted": 0}

    delete_before = months_before(today, int(cfg["delete_declined_after_months"]))
    for req in db.session.scalars(sa.select(VisitRequest).where(VisitRequest.status.in_(ENDED))).all():
        if req.updated_at.date() < delete_before and not req.contact.anonymised_at:
            if _referenced(req.id):
                anonymise(req, now)  # its visits stay in old tour versions; the person goes
                result["anonymised"] += 1
            else:
                _delete(req)
                result["deleted"] += 1

    anonymise_before = months_before(today, int(cfg["anonymise_after_months"]))
    last_visit = dict(db.session.execute(sa.select(Visit.request_id, sa.func.max(Visit.end))
                                         .group_by(Visit.request_id)).all())
    candidates = db.session.scalars(sa.select(VisitRequest).join(Contact, VisitRequest.contact_id == Contact.id)
                                    .where(Contact.anonymised_at.is_(None),
                                           VisitRequest.status.not_in(ENDED))).all()
    for req in candidates:
        last = max(last_visit.get(req.id) or date.min, req.updated_at.date())
        if last < anonymise_before:
            anonymise(req, now)
            result["anonymised"] += 1

    cutoff = now - timedelta(days=int(cfg["outbox_days"]))
    result["outbox_deleted"] = db.session.execute(
        sa.delete(Reminder).where(Reminder.status != ReminderStatus.QUEUED, Reminder.created_at < cutoff)).rowcount
    if any(result.values()):
        audit.record(None, "retention", 0, "purge", None, result, actor="retention")
    db.session.commit()
    log.info("retention: %s", result)
    return result


def _referenced(request_id: int) -> bool:
    return any(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(column == request_id))
               for model, column in ((Visit, Visit.request_id), (Unplaced, Unplaced.request_id),
                                     (Leg, Leg.from_request_id), (Leg, Leg.to_request_id)))


def anonymise(req: VisitRequest, now: datetime) -> None:
    """Keep what statistics need (organisation, dates, participants); remove who and what they wrote."""
    contact = req.contact
    contact.name, contact.email, contact.phone = "", f"anonymised-{contact.id}@invalid", ""
    contact.anonymised_at = now
    req.message = ""
    req.decision_reason = ""
    site: SiteLogistics | None = req.logistics
    if site is not None:
        site.onsite_name, site.onsite_phone, site.access_notes = "", "", ""
    db.session.execute(sa.update(Reminder).where(Reminder.request_id == req.id, Reminder.status == ReminderStatus.QUEUED)
                       .values(status=ReminderStatus.SKIPPED, last_error="skipped: contact data anonymised"))
    db.session.execute(sa.update(Reminder).where(Reminder.request_id == req.id)
                       .values(to_addr=contact.email, body=""))
    db.session.execute(sa.update(LogisticsCheck).where(LogisticsCheck.request_id == req.id).values(problem=""))


def _delete(req: VisitRequest) -> None:
    contact = req.contact
    db.session.execute(sa.update(Reminder).where(Reminder.request_id == req.id).values(request_id=None, body=""))
    for model in (Cancellation, LogisticsCheck, Feedback):
        db.session.execute(sa.delete(model).where(model.request_id == req.id))
    db.session.delete(req)
    db.session.flush()
    if not db.session.scalar(sa.select(sa.func.count()).select_from(VisitRequest)
                             .where(VisitRequest.contact_id == contact.id)):
        db.session.delete(contact)
