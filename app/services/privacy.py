"""DSGVO requests about one contact: everything we hold (Art. 15, as JSON) and erasure (Art. 17, anonymised)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, Contact, Feedback, LogisticsCheck, Reminder, User, VisitRequest
from . import audit, retention


def _iso(value):
    return value.isoformat() if value is not None else None


def export(contact: Contact) -> dict:
    """All personal data about the contact and the requests they made, in one JSON document."""
    requests = db.session.scalars(sa.select(VisitRequest).where(VisitRequest.contact_id == contact.id)
                                  .order_by(VisitRequest.id)).all()
    ids = [r.id for r in requests]
    mails = db.session.scalars(sa.select(Reminder).where(
        sa.or_(Reminder.request_id.in_(ids), Reminder.to_addr == contact.email)).order_by(Reminder.id)).all()
    return {
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "contact": {"name": contact.name, "email": contact.email, "phone": contact.phone,
                    "language": contact.language, "consent_at": _iso(contact.consent_at),
                    "anonymised_at": _iso(contact.anonymised_at)},
        "organisation": {"name": contact.organisation.name, "kind": contact.organisation.kind.value,
                         "street": contact.organisation.street, "postcode": contact.organisation.postcode,
                         "town": contact.organisation.town, "district": contact.organisation.district},
        "requests": [{
            "id": r.public_id, "status": r.status.value, "created_at": _iso(r.created_at),
            "windows": [{"start": w.start.isoformat(), "end": w.end.isoformat()} for w in r.windows],
            "half_days": r.duration_half_days, "classes_per_day": r.classes_per_day, "participants": r.participants,
            "occupations": r.occupations, "message": r.message, "decision_reason": r.decision_reason,
            "modules": [m.code for m in r.modules],
            "site": {k: getattr(r.logistics, k) for k in (
                "space_length_m", "space_width_m", "clearance_m", "surface", "power_type", "power_distance_m",
                "wifi", "toilets", "permit", "onsite_name", "onsite_phone", "access_notes")} if r.logistics else None,
            "history": [{"at": _iso(e.at), "actor": e.actor, "action": e.action} for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.entity == "visit_request", AuditEvent.entity_id == r.id)
                .order_by(AuditEvent.id))],
            "logistics_checks": [{"visit_start": c.visit_start.isoformat(), "answered_at": _iso(c.answered_at),
                                  "problem": c.problem} for c in db.session.scalars(
                sa.select(LogisticsCheck).where(LogisticsCheck.request_id == r.id))],
            "feedback": [{"visit_start": f.visit_start.isoformat(), "rating": f.rating, "comments": f.comments,
                          "participants_reached": f.participants_reached} for f in db.session.scalars(
                sa.select(Feedback).where(Feedback.request_id == r.id))],
        } for r in requests],
        "emails": [{"kind": m.kind, "to": m.to_addr, "subject": m.subject, "status": m.status.value,
                    "sent_at": _iso(m.sent_at)} for m in mails],
    }


def erase(user: User, contact: Contact) -> int:
    """Anonymise the contact and their requests; dates, places and counts stay for the statistics."""
    now = datetime.now(timezone.utc)
    requests = db.session.scalars(sa.select(VisitRequest).where(VisitRequest.contact_id == contact.id)).all()
    for req in requests:
        retention.anonymise(req, now)
    db.session.execute(sa.update(Feedback).where(Feedback.request_id.in_([r.id for r in requests]))
                       .values(comments=""))
    audit.record(user, "contact", contact.id, "erased", None, {"requests": len(requests)})
    db.session.commit()
    return len(requests)
