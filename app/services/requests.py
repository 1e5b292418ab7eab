"""Visit requests: submitted by hosts without an account, managed through a secret link, reviewed by staff."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (Contact, GeoSource, Module, Organisation, OrgKind, RequestStatus, RequestWindow,
                      SiteLogistics, User, VisitRequest)
from ..security import hash_token, new_token
from . import audit, geo, outbox, region, sitecheck

EDITABLE = {RequestStatus.REQUESTED, RequestStatus.APPROVED, RequestStatus.WAITLISTED}
SITE_FIELDS = ("space_length_m", "space_width_m", "clearance_m", "surface", "power_type", "power_distance_m",
               "wifi", "toilets", "permit", "onsite_name", "onsite_phone", "access_notes")
TRANSITIONS = {
    "approve": ({RequestStatus.REQUESTED, RequestStatus.WAITLISTED}, RequestStatus.APPROVED),
    "decline": ({RequestStatus.REQUESTED, RequestStatus.WAITLISTED, RequestStatus.APPROVED}, RequestStatus.DECLINED),
    "waitlist": ({RequestStatus.REQUESTED, RequestStatus.APPROVED}, RequestStatus.WAITLISTED),
}


class TransitionError(ValueError):
    pass


@dataclass
class Submission:
    request: VisitRequest
    token: str | None  # None when this was a repeated submit of an already stored request
    duplicate: bool = False


def site_warnings(data: dict) -> list[str]:
    return sitecheck.check(data, current_app.config["TRUCK"])


def submit(data: dict, lang: str) -> Submission:
    """Store a new request with its organisation, contact, windows and site; queue the confirmation mail."""
    key = data.get("submission_key") or None
    if key:
        existing = db.session.scalar(sa.select(VisitRequest).where(VisitRequest.submission_key == key))
        if existing:
            return Submission(existing, None, duplicate=True)
    token = new_token()
    modules = _modules(data.get("module_ids") or [])
    org = _find_or_create_organisation(data)
    contact = Contact(organisation=org, name=data["contact_name"].strip(), email=data["email"].strip().lower(),
                      phone=(data.get("phone") or "").strip(), language=lang, consent_at=datetime.now(timezone.utc))
    req = VisitRequest(
        organisation=org, contact=contact, manage_token_hash=hash_token(token), submission_key=key,
        duration_half_days=data["half_days"], classes_per_day=data["classes_per_day"],
        participants=data["participants"], occupations=(data.get("occupations") or "").strip(),
        message=(data.get("message") or "").strip(),
        site_warnings=",".join(site_warnings(data)),
    )
    req.windows = [RequestWindow(start=s, end=e) for s, e in data["windows"]]
    req.modules = modules
    req.logistics = SiteLogistics(**_site(data))
    db.session.add(req)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(sa.select(VisitRequest).where(VisitRequest.submission_key == key))
        if existing is None:
            raise
        return Submission(existing, None, duplicate=True)
    audit.record(None, "visit_request", req.id, "created", None, snapshot(req), actor="requester")
    outbox.queue_for_request(req, "request_received", "request_received", f"request_received:{req.id}",
                             token=token)
    db.session.commit()
    outbox.kick()
    return Submission(req, token)


def _find_or_create_organisation(data: dict) -> Organisation:
    """Reuse an organisation of the same kind, name and postcode; anonymous input never edits an existing one."""
    kind = OrgKind(data["kind"])
    name = " ".join(data["org_name"].split())
    org = db.session.scalar(sa.select(Organisation).where(
        Organisation.kind == kind, sa.func.lower(Organisation.name) == name.lower(),
        Organisation.postcode == data["postcode"]))
    if org:
        return org
    position = geo.locate(data["street"], data["postcode"], data["town"])
    return Organisation(
        kind=kind, name=name, street=data["street"].strip(), postcode=data["postcode"], town=data["town"].strip(),
        district=data["district"], state=region.state_of(data["district"], data["postcode"]),
        lat=position.lat if position else None, lon=position.lon if position else None,
        geo_source=GeoSource(position.source) if position else None,
    )


def _modules(ids: list[int]) -> list[Module]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Module).where(Module.id.in_(ids), Module.active)))


def _site(data: dict) -> dict:
    site = {f: data.get(f) for f in SITE_FIELDS}
    for text in ("onsite_name", "onsite_phone", "access_notes"):
        site[text] = (site[text] or "").strip()
    site["wifi"], site["toilets"] = bool(site["wifi"]), bool(site["toilets"])
    return site


def find_by_token(token: str) -> VisitRequest | None:
    """Lookup by hash only: unknown and wrong tokens take the same path and the same time."""
    return db.session.scalar(sa.select(VisitRequest).where(VisitRequest.manage_token_hash == hash_token(token)))


def is_editable(req: VisitRequest) -> bool:
    return req.status in EDITABLE


def update_by_host(req: VisitRequest, data: dict) -> None:
    """The host changes windows, group sizes, message and site facts while the visit is not yet planned."""
    if not is_editable(req):
        raise TransitionError(req.status.value)
    before = snapshot(req)
    req.windows = [RequestWindow(start=s, end=e) for s, e in data["windows"]]
    req.duration_half_days = data["half_days"]
    req.classes_per_day = data["classes_per_day"]
    req.participants = data["participants"]
    req.occupations = (data.get("occupations") or "").strip()
    req.message = (data.get("message") or "").strip()
    for field, value in _site(data).items():
        setattr(req.logistics, field, value)
    req.site_warnings = ",".join(site_warnings(data))
    audit.record(None, "visit_request", req.id, "changed_by_host", before, snapshot(req), actor="requester")
    db.session.commit()


def cancel_by_host(req: VisitRequest) -> None:
    if req.status in {RequestStatus.CANCELLED, RequestStatus.DECLINED, RequestStatus.COMPLETED}:
        raise TransitionError(req.status.value)
    before = snapshot(req)
    req.status = RequestStatus.CANCELLED
    audit.record(None, "visit_request", req.id, "cancelled", before, snapshot(req), actor="requester")
    db.session.commit()


def decide(req: VisitRequest, action: str, user: User, reason: str = "") -> None:
    """Staff decision; the requester is told by e-mail (with the reason when declined)."""
    allowed_from, target = TRANSITIONS[action]
    if req.status not in allowed_from:
        raise TransitionError(req.status.value)
    if action == "decline" and not reason.strip():
        raise TransitionError("reason")
    before = snapshot(req)
    req.status = target
    req.decision_reason = reason.strip()
    event = audit.record(user, "visit_request", req.id, action, before, snapshot(req))
    db.session.flush()
    outbox.queue_for_request(req, f"decision_{action}", f"decision_{action}", f"decision:{req.id}:{event.id}")
    db.session.commit()
    outbox.kick()


def snapshot(req: VisitRequest) -> dict:
    """The audited view of a request: what staff need to see changing, without contact data."""
    site = req.logistics
    return {
        "status": req.status.value if req.status else RequestStatus.REQUESTED.value,
        "windows": [[w.start.isoformat(), w.end.isoformat()] for w in req.windows],
        "duration_days": req.duration_half_days / 2,
        "classes_per_day": req.classes_per_day,
        "participants": req.participants,
        "modules": [m.code for m in req.modules],
        "site_warnings": req.site_warnings,
        "decision_reason": req.decision_reason,
        "site": {f: getattr(site, f) for f in SITE_FIELDS if f not in ("onsite_name", "onsite_phone")} if site else {},
    }


@dataclass
class Filters:
    status: str = ""
    kind: str = ""
    district: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def search(filters: Filters, page: int, per_page: int = 25):
    """Staff list: filter by status, kind, district, date window overlap and free text; newest first."""
    stmt = sa.select(VisitRequest).join(VisitRequest.organisation).join(VisitRequest.contact)
    if filters.status:
        stmt = stmt.where(VisitRequest.status == RequestStatus(filters.status))
    if filters.kind:
        stmt = stmt.where(Organisation.kind == OrgKind(filters.kind))
    if filters.district:
        stmt = stmt.where(Organisation.district == filters.district)
    if filters.date_from or filters.date_to:
        overlap = sa.select(RequestWindow.id).where(RequestWindow.request_id == VisitRequest.id)
        if filters.date_from:
            overlap = overlap.where(RequestWindow.end >= filters.date_from)
        if filters.date_to:
            overlap = overlap.where(RequestWindow.start <= filters.date_to)
        stmt = stmt.where(overlap.exists())
    if filters.q.strip():
        q = filters.q.strip()
        stmt = stmt.where(sa.or_(*(col.icontains(q, autoescape=True) for col in (
            Organisation.name, Organisation.town, Contact.name, VisitRequest.occupations))))
    stmt = stmt.order_by(VisitRequest.created_at.desc(), VisitRequest.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def get(request_id: int) -> VisitRequest | None:
    return db.session.get(VisitRequest, request_id)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(VisitRequest.status, sa.func.count()).group_by(VisitRequest.status))
    return {status.value: n for status, n in rows}
