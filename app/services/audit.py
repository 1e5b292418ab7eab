"""Audit trail: who changed what, when, with the state before and after."""
from __future__ import annotations

from ..extensions import db
from ..models import AuditEvent, User


def record(user: User | None, entity: str, entity_id: int, action: str,
           before: dict | None, after: dict | None, actor: str | None = None) -> AuditEvent:
    """Add an event to the session; the calling use case commits it with the change itself."""
    event = AuditEvent(user_id=user.id if user else None, actor=actor or (user.email if user else "system"),
                       entity=entity, entity_id=entity_id, action=action, before=before, after=after)
    db.session.add(event)
    return event


def events_for(entity: str, entity_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at, AuditEvent.id)))
