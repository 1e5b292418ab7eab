"""iCalendar feeds of the published tour (RFC 5545 + RFC 7986) for partners, hosts and single visits."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from time import monotonic as time_monotonic
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import (Cancellation, FeedToken, Organisation, Partner, Tour, TourStatus, User, Visit,
                      VisitRequest)
from ..security import hash_token, new_token
from . import audit, tours

PRODID = "-//VISURGIS//LabTour//DE"
BERLIN = ZoneInfo("Europe/Berlin")
HALF_DAY_TIMES = {"am": (time(8, 0), time(12, 0)), "pm": (time(12, 30), time(16, 30))}
REFRESH = timedelta(hours=6)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean(text: str) -> str:
    """No control character (CR, LF, tab, …) reaches a property: user text cannot start a line or a property."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


@dataclass(frozen=True)
class Entry:
    uid: str
    request: VisitRequest
    start: date
    end: date
    half: str | None
    sequence: int
    modified: datetime
    cancelled: bool


def _entries(partner: Partner | None = None, request_id: int | None = None, today: date | None = None) -> list[Entry]:
    """Published visits in scope, and cancelled ones until their date has passed."""
    today = today or date.today()
    pub = tours.published()
    rows: list[Entry] = []
    for v in (pub.visits if pub else []):
        rows.append(Entry(v.uid, v.request, v.start, v.end, v.half, v.sequence, v.modified_at, False))
    live = {e.uid for e in rows}
    for c in db.session.scalars(sa.select(Cancellation).where(Cancellation.end >= today)):
        if c.uid not in live:
            rows.append(Entry(c.uid, c.request, c.start, c.end, c.half, c.sequence, c.cancelled_at, True))
    return [e for e in rows if _in_scope(e.request.organisation, partner) and
            (request_id is None or e.request.id == request_id)]


@dataclass(frozen=True)
class Scope:
    """Whose part of the tour: everything, some districts, or one organisation (a partner's scope)."""
    districts: tuple[str, ...] = ()
    organisation_id: int | None = None
    label: str = ""

    @classmethod
    def of(cls, partner: Partner | None) -> "Scope":
        if partner is None:
            return cls()
        return cls(tuple(partner.districts or ()), partner.organisation_id, partner.name)

    @property
    def whole(self) -> bool:
        return not self.districts and self.organisation_id is None

    def holds(self, org: Organisation) -> bool:
        if self.organisation_id is not None:
            return org.id == self.organisation_id
        return not self.districts or org.district in self.districts


def _in_scope(org: Organisation, partner: Partner | None) -> bool:
    return Scope.of(partner).holds(org)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _event(e: Entry, base_url: str) -> icalendar.Event:
    req, org = e.request, e.request.organisation
    ev = icalendar.Event()
    ev.add("uid", e.uid)
    ev.add("dtstamp", _utc(e.modified))
    ev.add("last-modified", _utc(e.modified))
    ev.add("sequence", e.sequence)
    ev.add("summary", clean(f"InnovationLab @ {org.name}, {org.town}"))
    if e.half:
        begin, finish = HALF_DAY_TIMES[e.half]
        ev.add("dtstart", datetime.combine(e.start, begin, BERLIN))
        ev.add("dtend", datetime.combine(e.start, finish, BERLIN))
    else:
        ev.add("dtstart", e.start)
        ev.add("dtend", e.end + timedelta(days=1))
    ev.add("location", clean(f"{org.street}, {org.postcode} {org.town}"))
    if org.lat is not None and org.lon is not None:
        ev.add("geo", (round(org.lat, 6), round(org.lon, 6)))
    modules = ", ".join(m.name_de for m in req.modules) or "–"
    ev.add("description", clean(f"Module: {modules}. {req.classes_per_day} Sessions à 90 Minuten pro Tag, "
                                f"{req.participants} Teilnehmende."))
    ev.add("url", f"{base_url}/besuch/{e.uid}")
    ev.add("status", "CANCELLED" if e.cancelled else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    return ev


def render(name: str, entries: list[Entry], method: str | None = None) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("name", clean(name))
    cal.add("x-wr-calname", clean(name))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    cal.add("x-wr-timezone", "Europe/Berlin")
    timed = [e.start for e in entries if e.half]
    if timed:  # a VTIMEZONE covering the timed events, not every year since 1970
        cal.add_component(icalendar.Timezone.from_tzid("Europe/Berlin", first_date=date(min(timed).year, 1, 1),
                                                       last_date=date(max(timed).year + 1, 1, 1)))
    base_url = current_app.config["MAIL"]["base_url"].rstrip("/")
    for e in sorted(entries, key=lambda e: (e.start, e.half or "", e.uid)):
        cal.add_component(_event(e, base_url))
    return cal.to_ical()


@dataclass
class Feed:
    body: bytes
    etag: str
    last_modified: datetime


def _feed(name: str, entries: list[Entry], method: str | None = None) -> Feed:
    body = render(name, entries, method)
    newest = max((_utc(e.modified) for e in entries), default=datetime(2026, 1, 1, tzinfo=timezone.utc))
    return Feed(body, hashlib.sha256(body).hexdigest()[:32], newest.replace(microsecond=0))


_rendered: dict[tuple, Feed] = {}
known_etags: dict[str, tuple[float, str]] = {}  # token hash -> (valid until, ETag): see app/feeds/fastpath.py
_tokens: dict[str, tuple[float, "_Subscriber | None"]] = {}
_state_cache: list = [0.0, None]
FETCH_RECORD_EVERY = timedelta(minutes=5)
CACHE_SECONDS = 30.0  # other workers see a revocation or a new version within this time; this one at once


@dataclass(frozen=True)
class _Subscriber:
    token_id: int
    partner_id: int
    name: str
    districts: tuple[str, ...]
    organisation_id: int | None
    last_fetched_at: datetime | None


def forget() -> None:
    """Drop the in-process caches (after publishing, revoking or regenerating)."""
    _tokens.clear()
    _rendered.clear()
    known_etags.clear()
    _state_cache[:] = [0.0, None]


def _state(today: date) -> tuple:
    """What a feed's content depends on besides its scope: the published version and the cancellations."""
    now = time_monotonic()
    if _state_cache[1] is not None and _state_cache[0] > now and _state_cache[1][-1] == today:
        return _state_cache[1]
    pub = db.session.execute(sa.select(Tour.id, Tour.published_at).where(Tour.status == TourStatus.PUBLISHED)).first()
    cancelled = db.session.execute(sa.select(sa.func.count(), sa.func.max(Cancellation.cancelled_at))
                                   .where(Cancellation.end >= today)).first()
    state = (tuple(pub or ()), tuple(cancelled), today)
    _state_cache[:] = [now + CACHE_SECONDS, state]
    return state


def _subscriber(token_hash: str) -> _Subscriber | None:
    now = time_monotonic()
    hit = _tokens.get(token_hash)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = db.session.scalar(sa.select(FeedToken).where(FeedToken.token_hash == token_hash))
    sub = None
    if row is not None and row.revoked_at is None:
        p = row.partner
        sub = _Subscriber(row.id, p.id, p.name, tuple(p.districts or ()), p.organisation_id, row.last_fetched_at)
    if len(_tokens) > 10_000:
        _tokens.clear()
    _tokens[token_hash] = (now + CACHE_SECONDS, sub)
    return sub


def partner_by_token(token: str) -> Partner | None:
    """The partner whose live (not revoked) feed token this is; the same token opens their report."""
    row = db.session.scalar(sa.select(FeedToken).where(FeedToken.token_hash == hash_token(token)))
    return row.partner if row is not None and row.revoked_at is None else None


def partner_feed(token: str) -> Feed | None:
    """The partner's feed, or None for an unknown or revoked token; records the fetch (at most every 5 minutes).

    Token, published version and the rendered feed are kept in memory for a short while, so a calendar client
    polling an unchanged tour costs no database work at all."""
    token_hash = hash_token(token)
    sub = _subscriber(token_hash)
    if sub is None:
        return None
    now = datetime.now(timezone.utc)
    if sub.last_fetched_at is None or _utc(sub.last_fetched_at) < now - FETCH_RECORD_EVERY:
        db.session.execute(sa.update(FeedToken).where(FeedToken.id == sub.token_id).values(last_fetched_at=now))
        db.session.commit()
        sub = dataclasses.replace(sub, last_fetched_at=now)
        _tokens[token_hash] = (_tokens[token_hash][0], sub)
    key = (sub.partner_id, sub.name, sub.districts, sub.organisation_id, _state(date.today()))
    feed = _rendered.get(key)
    if feed is None:
        partner = db.session.get(Partner, sub.partner_id)
        feed = _feed(f"InnovationLab-Tour – {partner.name}", _entries(partner))
        if len(_rendered) > 256:
            _rendered.clear()
        _rendered[key] = feed
    if len(known_etags) > 10_000:
        known_etags.clear()
    known_etags[token_hash] = (time_monotonic() + CACHE_SECONDS, feed.etag)
    return feed


def host_feed(req: VisitRequest) -> Feed:
    return _feed(f"InnovationLab bei {req.organisation.name}", _entries(request_id=req.id))


def visit_entry(uid: str) -> Entry | None:
    return next((e for e in _entries(today=date.min) if e.uid == uid), None)


def visit_feed(e: Entry) -> Feed:
    """A single visit to download or attach to an e-mail (METHOD:PUBLISH)."""
    return _feed(f"InnovationLab bei {e.request.organisation.name}", [e], method="PUBLISH")


def entry_for_visit(v: Visit) -> Entry:
    return Entry(v.uid, v.request, v.start, v.end, v.half, v.sequence, v.modified_at, False)


# --- partners -----------------------------------------------------------------------------------------------
def partners() -> list[Partner]:
    return list(db.session.scalars(sa.select(Partner).order_by(Partner.name)))


def create_partner(user: User | None, name: str, districts: list[str], organisation_id: int | None = None
                   ) -> tuple[Partner, str]:
    partner = Partner(name=name.strip(), districts=sorted(set(districts)), organisation_id=organisation_id)
    db.session.add(partner)
    db.session.flush()
    token = _issue(partner)
    audit.record(user, "partner", partner.id, "created", None, {"name": partner.name, "districts": partner.districts,
                                                                "organisation_id": organisation_id})
    db.session.commit()
    return partner, token


def _issue(partner: Partner) -> str:
    token = new_token()
    partner.tokens.append(FeedToken(token_hash=hash_token(token)))
    return token


def regenerate(user: User, partner: Partner) -> str:
    """A new link; the old one stops working at once (in this worker; in others within CACHE_SECONDS)."""
    revoke(user, partner, commit=False)
    token = _issue(partner)
    audit.record(user, "partner", partner.id, "link_regenerated", None, None)
    db.session.commit()
    return token


def revoke(user: User, partner: Partner, commit: bool = True) -> None:
    now = datetime.now(timezone.utc)
    for t in partner.tokens:
        if t.revoked_at is None:
            t.revoked_at = now
    audit.record(user, "partner", partner.id, "link_revoked", None, None)
    forget()
    if commit:
        db.session.commit()


def active_token(partner: Partner) -> FeedToken | None:
    return next((t for t in reversed(partner.tokens) if t.revoked_at is None), None)
