"""Typed SQLAlchemy models: the domain of LabTour (see DESIGN.md)."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timezone
from typing import Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(cls: type[enum.Enum]) -> sa.Enum:
    """Portable enum column: a VARCHAR with a CHECK constraint, stored by value."""
    return sa.Enum(
        cls, native_enum=False, create_constraint=True, length=24,
        values_callable=lambda e: [m.value for m in e], validate_strings=True,
        name=cls.__name__.lower(),
    )


class Role(str, enum.Enum):
    ADMIN = "admin"
    PLANNER = "planner"
    VIEWER = "viewer"


class OrgKind(str, enum.Enum):
    BBS = "bbs"
    KMU = "kmu"
    OTHER = "other"


class RequestStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PLANNED = "planned"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    WAITLISTED = "waitlisted"


class GeoSource(str, enum.Enum):
    MANUAL = "manual"
    GEOCODER = "geocoder"
    POSTCODE = "postcode"


class BlackoutKind(str, enum.Enum):
    MAINTENANCE = "maintenance"
    ABSENCE = "absence"
    OTHER = "other"


class UTCDateTime(sa.TypeDecorator):
    """An instant: stored as UTC, read back timezone-aware on every database (SQLite forgets the zone)."""
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


UTC_DATETIME = UTCDateTime()


class User(UserMixin, db.Model):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated staff cannot log in
        return self.active


class Organisation(db.Model):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind))
    name: Mapped[str] = mapped_column(sa.String(200))
    street: Mapped[str] = mapped_column(sa.String(200))
    postcode: Mapped[str] = mapped_column(sa.String(5), index=True)
    town: Mapped[str] = mapped_column(sa.String(100))
    district: Mapped[str] = mapped_column(sa.String(100), index=True)
    state: Mapped[str] = mapped_column(sa.String(2))
    lat: Mapped[Optional[float]]
    lon: Mapped[Optional[float]]
    geo_source: Mapped[Optional[GeoSource]] = mapped_column(_enum(GeoSource))
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)

    requests: Mapped[list["VisitRequest"]] = relationship(back_populates="organisation")


class Contact(db.Model):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str] = mapped_column(sa.String(254))
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="de")
    consent_at: Mapped[datetime] = mapped_column(UTC_DATETIME)
    anonymised_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    organisation: Mapped[Organisation] = relationship()


request_module = sa.Table(
    "request_module",
    db.metadata,
    sa.Column("request_id", sa.ForeignKey("visit_request.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("module_id", sa.ForeignKey("module.id", ondelete="CASCADE"), primary_key=True),
)


class Module(db.Model):
    """A demonstrator topic of the lab's catalogue (robotics, additive manufacturing, …)."""
    __tablename__ = "module"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_de: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    description_de: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de


class VisitRequest(db.Model):
    __tablename__ = "visit_request"
    __table_args__ = (
        sa.CheckConstraint("duration_half_days BETWEEN 1 AND 10", name="duration"),
        sa.CheckConstraint("participants BETWEEN 1 AND 200", name="participants"),
        sa.CheckConstraint("classes_per_day BETWEEN 1 AND 8", name="classes"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contact.id"))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus), default=RequestStatus.REQUESTED, index=True)
    duration_half_days: Mapped[int]
    classes_per_day: Mapped[int]
    participants: Mapped[int]
    occupations: Mapped[str] = mapped_column(sa.Text, default="")
    message: Mapped[str] = mapped_column(sa.Text, default="")
    manage_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    submission_key: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    site_warnings: Mapped[str] = mapped_column(sa.Text, default="")
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="requests", lazy="joined", innerjoin=True)
    contact: Mapped[Contact] = relationship()
    windows: Mapped[list["RequestWindow"]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestWindow.start")
    modules: Mapped[list[Module]] = relationship(secondary=request_module, order_by=Module.position)
    logistics: Mapped["SiteLogistics"] = relationship(
        back_populates="request", cascade="all, delete-orphan", uselist=False)

    @property
    def duration_days(self) -> float:
        return self.duration_half_days / 2

    @property
    def site_flagged(self) -> bool:
        return bool(self.site_warnings)


class RequestWindow(db.Model):
    """A date range (inclusive, local dates) in which the host can receive the lab."""
    __tablename__ = "request_window"
    __table_args__ = (sa.CheckConstraint('"end" >= start', name="order"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_request.id", ondelete="CASCADE"), index=True)
    start: Mapped[date]
    end: Mapped[date]
    request: Mapped[VisitRequest] = relationship(back_populates="windows")


class SiteLogistics(db.Model):
    """What the truck finds at the host site for one request (the host may use another yard next time)."""
    __tablename__ = "site_logistics"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("visit_request.id", ondelete="CASCADE"), unique=True)
    space_length_m: Mapped[float]
    space_width_m: Mapped[float]
    clearance_m: Mapped[Optional[float]]
    surface: Mapped[str] = mapped_column(sa.String(10))
    power_type: Mapped[str] = mapped_column(sa.String(10))
    power_distance_m: Mapped[Optional[float]]
    wifi: Mapped[bool] = mapped_column(default=False)
    toilets: Mapped[bool] = mapped_column(default=False)
    permit: Mapped[str] = mapped_column(sa.String(10))
    onsite_name: Mapped[str] = mapped_column(sa.String(120), default="")
    onsite_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    access_notes: Mapped[str] = mapped_column(sa.Text, default="")
    request: Mapped[VisitRequest] = relationship(back_populates="logistics")


class Blackout(db.Model):
    """Days the lab does not work (maintenance, staff absence); holidays come from the holidays package."""
    __tablename__ = "blackout"
    __table_args__ = (sa.CheckConstraint('"end" >= start', name="order"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    start: Mapped[date] = mapped_column(index=True)
    end: Mapped[date]
    kind: Mapped[BlackoutKind] = mapped_column(_enum(BlackoutKind))
    reason: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(300), default="manual")  # "manual" or "ics:<file or URL>"
    external_uid: Mapped[Optional[str]] = mapped_column(sa.String(300))  # UID/occurrence of an imported event
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id"))
    actor: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    after: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    user: Mapped[Optional[User]] = relationship()


class ReminderStatus(str, enum.Enum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"    # permanent: the server refused it, or the retries ran out
    SKIPPED = "skipped"  # no longer relevant when its turn came (e.g. a reminder after the visit)


class Reminder(db.Model):
    """Outbox row: one e-mail to send; `dedupe_key` makes queueing idempotent (one row per visit date x kind)."""
    __tablename__ = "reminder"
    __table_args__ = (sa.Index("ix_reminder_pending", "status", "next_attempt_at", "id"),)  # the claim order
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    request_id: Mapped[Optional[int]] = mapped_column(
        sa.ForeignKey("visit_request.id", ondelete="SET NULL"), index=True)
    visit_uid: Mapped[Optional[str]] = mapped_column(sa.String(36), index=True)
    to_addr: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(2), default="de")
    status: Mapped[ReminderStatus] = mapped_column(_enum(ReminderStatus), default=ReminderStatus.QUEUED)
    due_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow, index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)  # after this it is skipped, not sent
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)  # SQLite lease of a sender
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    message_id: Mapped[Optional[str]] = mapped_column(sa.String(200))
    attachment_ics: Mapped[str] = mapped_column(sa.Text, default="")  # the visit as iCalendar, for the host's calendar
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)


class HostLinkMixin:
    """What a host answers through a secret link in a mail about one visit date (the link is stored hashed)."""
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_request.id", ondelete="CASCADE"), index=True)
    visit_uid: Mapped[str] = mapped_column(sa.String(36))
    visit_start: Mapped[date]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)

    @declared_attr
    def request(cls) -> Mapped[VisitRequest]:
        return relationship()


class LogisticsCheck(HostLinkMixin, db.Model):
    """The host's answer to the logistics check two weeks before a visit; a problem flags the visit for staff."""
    __tablename__ = "logistics_check"
    __table_args__ = (sa.UniqueConstraint("visit_uid", "visit_start", name="uq_logistics_check_visit"),)
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    space_ok: Mapped[Optional[bool]]
    power_ok: Mapped[Optional[bool]]
    access_ok: Mapped[Optional[bool]]
    problem: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)

    @property
    def flagged(self) -> bool:
        """A reported problem that staff have not yet dealt with."""
        return self.answered_at is not None and self.resolved_at is None and not (
            self.space_ok and self.power_ok and self.access_ok and not self.problem)


class Feedback(HostLinkMixin, db.Model):
    """What the host tells us the day after a visit: rating, comments and participants actually reached."""
    __tablename__ = "feedback"
    __table_args__ = (sa.UniqueConstraint("visit_uid", "visit_start", name="uq_feedback_visit"),
                      sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
                      sa.CheckConstraint("participants_reached IS NULL OR participants_reached BETWEEN 0 AND 2000",
                                         name="reached"))
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    rating: Mapped[Optional[int]]
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    participants_reached: Mapped[Optional[int]]


class ApiToken(db.Model):
    """A staff account's token for the JSON API (stored only as its hash); it carries the account's role."""
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    user: Mapped[User] = relationship()


class PasswordReset(db.Model):
    """A single-use, expiring link to set a new password (only the token's hash is stored)."""
    __tablename__ = "password_reset"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTC_DATETIME)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    user: Mapped[User] = relationship()


class SchedulerLock(db.Model):
    """Who runs the scheduler and when it last said so (SQLite's lock; on PostgreSQL only the heartbeat)."""
    __tablename__ = "scheduler_lock"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)


class ContentVersion(db.Model):
    """One counter raised by every transaction that changes what cached pages show (services/pagecache)."""
    __tablename__ = "content_version"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class TourStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Tour(db.Model):
    """One version of the semester's tour: drafts are planned and adjusted; one published version at a time
    (a partial unique index holds that when two planners publish at once)."""
    __tablename__ = "tour"
    __table_args__ = (sa.Index("uq_tour_one_published", "status", unique=True,
                               postgresql_where=sa.text("status = 'published'"),
                               sqlite_where=sa.text("status = 'published'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    horizon_start: Mapped[date]
    horizon_end: Mapped[date]
    version: Mapped[int]
    status: Mapped[TourStatus] = mapped_column(_enum(TourStatus), default=TourStatus.DRAFT, index=True)
    km: Mapped[float] = mapped_column(default=0.0)
    drive_minutes: Mapped[float] = mapped_column(default=0.0)
    served_priority: Mapped[float] = mapped_column(default=0.0)
    solver_status: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    published_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")  # raised by every change: stale edits lose

    visits: Mapped[list["Visit"]] = relationship(  # pages show every visit with its host: load them in one go
        back_populates="tour", cascade="all, delete-orphan", order_by="(Visit.start, Visit.half)", lazy="selectin")
    legs: Mapped[list["Leg"]] = relationship(back_populates="tour", cascade="all, delete-orphan", order_by="Leg.seq")
    unplaced: Mapped[list["Unplaced"]] = relationship(back_populates="tour", cascade="all, delete-orphan")


class Visit(db.Model):
    """A request placed on dates in a tour version; `locked` keeps it where it is when the rest is re-planned."""
    __tablename__ = "visit"
    __table_args__ = (sa.UniqueConstraint("tour_id", "request_id", name="request"),
                      sa.CheckConstraint('"end" >= start', name="order"))
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), default=lambda: str(uuid.uuid4()))
    tour_id: Mapped[int] = mapped_column(sa.ForeignKey("tour.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_request.id"), index=True)
    start: Mapped[date]
    end: Mapped[date]
    half: Mapped[Optional[str]] = mapped_column(sa.String(2))
    locked: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: raised whenever the dates change
    modified_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    tour: Mapped[Tour] = relationship(back_populates="visits")
    request: Mapped[VisitRequest] = relationship(lazy="joined", innerjoin=True)


class Leg(db.Model):
    """A transfer of the truck; a missing request id means the depot."""
    __tablename__ = "leg"
    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(sa.ForeignKey("tour.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    from_request_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("visit_request.id"))
    to_request_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("visit_request.id"))
    day: Mapped[date]
    km: Mapped[float]
    minutes: Mapped[float]
    tour: Mapped[Tour] = relationship(back_populates="legs")


class Unplaced(db.Model):
    """An approved request the planner could not place, with its reason code."""
    __tablename__ = "unplaced"
    id: Mapped[int] = mapped_column(primary_key=True)
    tour_id: Mapped[int] = mapped_column(sa.ForeignKey("tour.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_request.id"))
    reason: Mapped[str] = mapped_column(sa.String(40))
    tour: Mapped[Tour] = relationship(back_populates="unplaced")
    request: Mapped[VisitRequest] = relationship()


class GeocodeCache(db.Model):
    """Answers of the opt-in Nominatim geocoder, so each address is asked once (and at most once a second)."""
    __tablename__ = "geocode_cache"
    query: Mapped[str] = mapped_column(sa.String(400), primary_key=True)
    lat: Mapped[Optional[float]]
    lon: Mapped[Optional[float]]
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)


class Cancellation(db.Model):
    """A published visit that a later version dropped: feeds show it as cancelled until its date has passed."""
    __tablename__ = "cancellation"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), index=True)
    request_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_request.id", ondelete="CASCADE"), index=True)
    start: Mapped[date]
    end: Mapped[date]
    half: Mapped[Optional[str]] = mapped_column(sa.String(2))
    sequence: Mapped[int]
    cancelled_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    request: Mapped[VisitRequest] = relationship()


class Partner(db.Model):
    """A subscriber of the tour feed: the whole tour, some districts, or one organisation."""
    __tablename__ = "partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    districts: Mapped[list] = mapped_column(sa.JSON, default=list)  # empty: whole tour
    organisation_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("organisation.id"))
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    organisation: Mapped[Optional[Organisation]] = relationship()
    tokens: Mapped[list["FeedToken"]] = relationship(back_populates="partner", cascade="all, delete-orphan",
                                                     order_by="FeedToken.id")


class FeedToken(db.Model):
    """A per-subscriber secret (stored only as its hash), revocable; the last fetch is recorded."""
    __tablename__ = "feed_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTC_DATETIME, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    last_fetched_at: Mapped[Optional[datetime]] = mapped_column(UTC_DATETIME)
    partner: Mapped[Partner] = relationship(back_populates="tokens")


# No double booking, enforced by PostgreSQL itself: within one tour version no two visits share a half-day.
# (SQLite serialises writes; there the tour's revision check and the planner's rules in the same transaction hold.)
VISIT_SLOTS_DDL = (
    'ALTER TABLE visit ADD COLUMN slots int4range GENERATED ALWAYS AS (int4range('
    '("start" - DATE \'2000-01-01\') * 2 + (CASE WHEN half = \'pm\' THEN 1 ELSE 0 END), '
    '("end" - DATE \'2000-01-01\') * 2 + (CASE WHEN half = \'am\' THEN 1 ELSE 2 END))) STORED',
    "ALTER TABLE visit ADD CONSTRAINT ex_visit_no_double_booking EXCLUDE USING gist "
    "(tour_id WITH =, slots WITH &&) DEFERRABLE INITIALLY DEFERRED",
)


@sa.event.listens_for(Visit.__table__, "after_create")
def _visit_slots(target, connection, **kw):
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        for statement in VISIT_SLOTS_DDL:
            connection.execute(sa.text(statement))
