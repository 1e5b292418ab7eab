"""E-mail outbox: use cases queue rows; the scheduler drains them exactly once (file transport or SMTP).

A row is claimed before it is sent and marked sent in the same transaction that releases the claim:
on PostgreSQL the claim is a row lock (`FOR UPDATE SKIP LOCKED`), which a killed sender's dropped
connection releases at once; on SQLite (one scheduler, writes serialised) it is a short lease.
"""
from __future__ import annotations

import hashlib
import logging
import random
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, parseaddr
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from ..extensions import db
from ..models import Reminder, ReminderStatus, VisitRequest

log = logging.getLogger(__name__)

# Mails whose body holds a secret link: the body is blanked once the mail has gone (or was skipped).
LINK_KINDS = frozenset({"request_received", "logistics_check", "feedback_request", "password_reset"})
LEASE = timedelta(minutes=5)
_jitter = random.Random()
_SMTP_POLICY = policy.compat32.clone(linesep="\r\n", max_line_length=0)  # headers are folded by _encoded
_URL = re.compile(r"(https?://[^\s<>\"']+)")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def render(template: str, lang: str, **context) -> tuple[str, str]:
    """Subject (first line) and body of templates/mail/<template>.txt in the recipient's language."""
    with force_locale(lang):
        text = render_template(f"mail/{template}.txt", lang=lang, **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.lstrip("\n")


def is_queued(dedupe_key: str) -> bool:
    """A mail with this key exists already (whatever its status)."""
    return db.session.scalar(sa.select(Reminder.id).where(Reminder.dedupe_key == dedupe_key)) is not None


def queue(*, kind: str, dedupe_key: str, to_addr: str, template: str, lang: str, due_at: datetime | None = None,
          expires_at: datetime | None = None, request_id: int | None = None, visit_uid: str | None = None,
          ics: bytes = b"", **context) -> Reminder | None:
    """Add a mail to the session unless one with this key exists (the use case commits); None if it did."""
    if is_queued(dedupe_key):
        return None
    subject, body = render(template, lang, base_url=current_app.config["MAIL"]["base_url"], **context)
    due = due_at or utcnow()
    row = Reminder(kind=kind, dedupe_key=dedupe_key, request_id=request_id, visit_uid=visit_uid, to_addr=to_addr,
                   subject=subject, body=body, language=lang, attachment_ics=ics.decode("utf-8"), due_at=due,
                   next_attempt_at=due, expires_at=expires_at, status=ReminderStatus.QUEUED)
    db.session.add(row)
    return row


def queue_for_request(req: VisitRequest, kind: str, template: str, dedupe_key: str, ics: bytes = b"",
                      due_at: datetime | None = None, expires_at: datetime | None = None,
                      visit_uid: str | None = None, **context) -> Reminder | None:
    """Queue a mail to the request's contact, in the contact's language."""
    return queue(kind=kind, dedupe_key=dedupe_key, to_addr=req.contact.email, template=template,
                 lang=req.contact.language, request_id=req.id, ics=ics, due_at=due_at, expires_at=expires_at,
                 visit_uid=visit_uid, req=req, **context)


def link(endpoint: str, **values) -> str:
    """An absolute link for a mail; works in a scheduler job as well as in a request."""
    path = current_app.url_map.bind("labtour.invalid").build(endpoint, values)
    return current_app.config["MAIL"]["base_url"].rstrip("/") + path


def kick() -> None:
    """Ask this process's scheduler (if it runs here) to drain now instead of at its next tick."""
    runner = current_app.extensions.get("labtour_scheduler")
    if runner is not None:
        runner.wake()


# --- sending -----------------------------------------------------------------------------------------


class PermanentFailure(Exception):
    """The server or the address says no: retrying will not help."""


def message_id(row) -> str:
    """Stable across retries and restarts, so a receiver can tell a repeated delivery."""
    domain = parseaddr(current_app.config["MAIL"]["sender"])[1].rpartition("@")[2] or "labtour.invalid"
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:16]
    return f"<labtour.{row.id}.{digest}@{domain}>"


def build_message(row, message_id: str, now: datetime) -> bytes:
    """The mail as bytes: text and HTML alternatives, the visit as .ics where there is one.

    Built with the compat32 MIME classes: three times faster than EmailMessage, which matters at 10,000 mails.
    """
    sender = current_app.config["MAIL"]["sender"]
    to = row.to_addr.strip()
    if any(c in to for c in "\r\n,;<>\" ") or to.count("@") != 1:
        raise PermanentFailure("address: not a single e-mail address")
    text = MIMEText(row.body, "plain", "utf-8")
    html = MIMEText(_html(row), "html", "utf-8")
    if row.attachment_ics:
        msg = MIMEMultipart("mixed")
        body = MIMEMultipart("alternative")
        body.attach(text)
        body.attach(html)
        msg.attach(body)
        ics = MIMEText(row.attachment_ics, "calendar", "utf-8")
        ics.set_param("method", "PUBLISH")
        ics.add_header("Content-Disposition", "attachment", filename="innovationlab.ics")
        msg.attach(ics)
    else:
        msg = MIMEMultipart("alternative")
        msg.attach(text)
        msg.attach(html)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = _encoded(" ".join(row.subject.split()))
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    msg["Content-Language"] = row.language
    msg["Auto-Submitted"] = "auto-generated"
    return msg.as_bytes(policy=_SMTP_POLICY)


def _encoded(value: str) -> str:
    """A header value as RFC 2047 encoded words (only when it is not plain ASCII), folded below 78 columns."""
    if value.isascii():
        return Header(value, "us-ascii", maxlinelen=76).encode()
    return Header(value, "utf-8", maxlinelen=76).encode()


def _html(row) -> str:
    """The same text as HTML: paragraphs kept, links clickable, everything else escaped."""
    paragraphs = [Markup("<br>\n").join(_linkify(line) for line in block.strip("\n").split("\n"))
                  for block in row.body.split("\n\n")]
    template = current_app.jinja_env.get_template("mail/_layout.html")
    return template.render(subject=" ".join(row.subject.split()), paragraphs=paragraphs, lang=row.language)


def _linkify(line: str) -> Markup:
    parts = _URL.split(line)  # odd indexes are the links
    return Markup("").join(Markup('<a href="{0}">{0}</a>').format(p) if i % 2 else escape(p)
                           for i, p in enumerate(parts))


class Transport:
    """One SMTP connection (or the .eml folder) kept open across a batch."""

    def __init__(self, cfg: dict, instance_path: str):
        self.cfg = cfg
        self.folder = Path(instance_path) / "mail"
        self.smtp: smtplib.SMTP | None = None

    def send(self, to_addr: str, message_id: str, message: bytes) -> None:
        if self.cfg["transport"] != "smtp":
            self.folder.mkdir(parents=True, exist_ok=True)
            name = message_id.strip("<>").replace("@", "_").replace("/", "_")
            (self.folder / f"{name}.eml").write_bytes(message)
            return
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.sendmail(parseaddr(self.cfg["sender"])[1], [to_addr.strip()], message)
        except smtplib.SMTPServerDisconnected:
            self.close()
            raise

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        host, port, timeout = cfg["smtp_host"], int(cfg["smtp_port"]), float(cfg.get("smtp_timeout_s", 20))
        security = cfg.get("smtp_security", "none")
        context = ssl.create_default_context(cafile=cfg.get("smtp_ca_file") or None)
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if security == "starttls":
                smtp.starttls(context=context)
        if cfg.get("smtp_username"):
            smtp.login(cfg["smtp_username"], cfg.get("smtp_password", ""))
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.smtp = None


def classify(exc: Exception) -> bool:
    """True when the failure is permanent (a 5xx answer or a refused address), False when worth a retry."""
    if isinstance(exc, PermanentFailure):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)):
        return False  # the lab's own configuration: fix it and every waiting mail goes
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def backoff(attempts: int, cfg: dict) -> timedelta:
    """Exponential with ±50 % jitter, so many failed rows do not all come back in the same second."""
    base = float(cfg.get("backoff_base_s", 60)) * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(base, float(cfg.get("backoff_max_s", 21600))) * _jitter.uniform(0.5, 1.5))


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)


def drain(now: datetime | None = None, limit: int | None = None, transport: Transport | None = None,
          workers: int | None = None) -> DrainResult:
    """Send every due row once; safe to run in several processes at the same time.

    On PostgreSQL several workers (threads, each with its own SMTP connection and database session) send in
    parallel, so one slow server reply does not hold up the queue; SQLite writes one at a time, so one worker.
    """
    pg = db.engine.dialect.name == "postgresql"
    if workers is None:
        workers = int(current_app.config["SCHEDULER"].get("drain_workers", 4)) if pg and transport is None else 1
    if workers <= 1:
        return _drain_loop(now, limit, transport, pg)
    app = current_app._get_current_object()
    results: list[DrainResult] = []

    def work() -> None:
        with app.app_context():
            results.append(_drain_loop(now, None if limit is None else -(-limit // workers), None, pg))

    threads = [threading.Thread(target=work, name=f"outbox-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = DrainResult()
    for r in results:
        total.sent, total.retried, total.failed, total.skipped = (total.sent + r.sent, total.retried + r.retried,
                                                                  total.failed + r.failed, total.skipped + r.skipped)
        total.ids.extend(r.ids)
    return total


def _drain_loop(now: datetime | None, limit: int | None, transport: Transport | None, pg: bool) -> DrainResult:
    clock = (lambda: now) if now is not None else utcnow
    own = transport is None
    transport = transport or Transport(current_app.config["MAIL"], current_app.instance_path)
    result = DrainResult()
    try:
        with db.engine.connect() as conn:
            while limit is None or len(result.ids) < limit:
                mail = _claim_locked(conn, clock()) if pg else _claim_leased(conn, clock())
                if mail is None:
                    conn.rollback()
                    break
                result.ids.append(mail.id)
                changes = _send_one(mail, clock(), transport, result)
                conn.execute(sa.update(_TABLE).where(_TABLE.c.id == mail.id).values(claimed_until=None, **changes))
                conn.commit()  # marks it sent and releases the claim in one transaction
    finally:
        if own:
            transport.close()
    return result


_TABLE = Reminder.__table__
_MAIL = [_TABLE.c[name] for name in ("id", "kind", "dedupe_key", "visit_uid", "to_addr", "subject", "body",
                                      "language", "expires_at", "attempts", "message_id", "attachment_ics")]


def _due(now: datetime):
    return (sa.select(*_MAIL).where(_TABLE.c.status == ReminderStatus.QUEUED, _TABLE.c.next_attempt_at <= now)
            .order_by(_TABLE.c.next_attempt_at, _TABLE.c.id).limit(1))


def _claim_locked(conn: sa.Connection, now: datetime):
    """PostgreSQL: lock the next due row; a killed sender's dropped connection frees it at once."""
    return conn.execute(_due(now).with_for_update(skip_locked=True)).first()


def _claim_leased(conn: sa.Connection, now: datetime):
    """SQLite: lease the next due row for a few minutes (committed, so no write lock is held while sending)."""
    free = sa.or_(_TABLE.c.claimed_until.is_(None), _TABLE.c.claimed_until < now)
    while True:
        mail = conn.execute(_due(now).where(free)).first()
        if mail is None:
            return None
        taken = conn.execute(sa.update(_TABLE).where(_TABLE.c.id == mail.id, _TABLE.c.status == ReminderStatus.QUEUED,
                                                     free).values(claimed_until=now + LEASE)).rowcount
        conn.commit()
        if taken == 1:
            return mail


def _send_one(mail, now: datetime, transport: Transport, result: DrainResult) -> dict:
    """Send one claimed mail; returns the columns to update."""
    reason = _irrelevant(mail, now)
    if reason:
        result.skipped += 1
        log.info("outbox: skipped mail %s (%s): %s", mail.id, mail.kind, reason)
        return {"status": ReminderStatus.SKIPPED, "last_error": reason, **_scrubbed(mail)}
    attempts = mail.attempts + 1
    mid = mail.message_id or message_id(mail)
    try:
        transport.send(mail.to_addr, mid, build_message(mail, mid, now))
    except (OSError, smtplib.SMTPException, PermanentFailure) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        cfg = current_app.config["REMINDERS"]
        if classify(exc) or attempts >= int(cfg["max_attempts"]):
            result.failed += 1
            log.warning("outbox: mail %s (%s) failed for good after %s attempts: %s", mail.id, mail.kind,
                        attempts, type(exc).__name__)
            return {"status": ReminderStatus.FAILED, "attempts": attempts, "message_id": mid, "last_error": error}
        result.retried += 1
        return {"attempts": attempts, "message_id": mid, "last_error": error,
                "next_attempt_at": now + backoff(attempts, cfg)}
    result.sent += 1
    return {"status": ReminderStatus.SENT, "sent_at": now, "attempts": attempts, "message_id": mid,
            "last_error": "", **_scrubbed(mail)}


def _irrelevant(mail, now: datetime) -> str:
    """Why a mail should no longer go out (empty when it should)."""
    if mail.expires_at is not None and now >= mail.expires_at:
        return "expired: its moment has passed (e.g. a reminder for a visit that has begun)"
    if mail.visit_uid:
        from . import reminders  # reminders queue through this module
        reason = reminders.stale_reason(mail)
        db.session.rollback()
        return reason
    return ""


def _scrubbed(mail) -> dict:
    return {"body": ""} if mail.kind in LINK_KINDS else {}


def resend(user, row: Reminder) -> bool:
    """Staff put a failed mail back in the queue (its body must still be there)."""
    from . import audit

    if row.status != ReminderStatus.FAILED or not row.body:
        return False
    row.status, row.next_attempt_at, row.expires_at, row.attempts = ReminderStatus.QUEUED, utcnow(), None, 0
    audit.record(user, "reminder", row.id, "resend", None, {"kind": row.kind})
    db.session.commit()
    kick()
    return True


def counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(Reminder.status, sa.func.count()).group_by(Reminder.status)).all()
    return {status.value if hasattr(status, "value") else status: n for status, n in rows}
