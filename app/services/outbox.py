"""E-mail outbox: use cases queue rows; delivery writes .eml files (default) or talks SMTP."""
from __future__ import annotations

import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import Reminder, VisitRequest


def render(template: str, lang: str, **context) -> tuple[str, str]:
    """Subject (first line) and body of templates/mail/<template>.txt in the recipient's language."""
    with force_locale(lang):
        text = render_template(f"mail/{template}.txt", lang=lang, **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.lstrip("\n")


def queue_for_request(req: VisitRequest, kind: str, template: str, dedupe_key: str, ics: bytes = b"",
                      **context) -> Reminder:
    """Queue a mail to the request's contact (added to the session; the use case commits)."""
    lang = req.contact.language
    subject, body = render(template, lang, req=req, base_url=current_app.config["MAIL"]["base_url"], **context)
    row = Reminder(kind=kind, dedupe_key=dedupe_key, request_id=req.id, to_addr=req.contact.email,
                   subject=subject, body=body, language=lang, attachment_ics=ics.decode("utf-8"))
    db.session.add(row)
    return row


def _message(row: Reminder) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL"]["sender"]
    msg["To"] = row.to_addr
    msg["Subject"] = " ".join(row.subject.split())
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = row.message_id
    msg["Content-Language"] = row.language
    msg.set_content(row.body)
    if row.attachment_ics:
        msg.add_attachment(row.attachment_ics.encode("utf-8"), maintype="text", subtype="calendar",
                           filename="innovationlab.ics", params={"method": "PUBLISH"})
    return msg


def deliver_pending(limit: int = 50) -> int:
    """Send due rows once each; bodies that carry a manage link are scrubbed after sending."""
    now = datetime.now(timezone.utc)
    rows = db.session.scalars(
        sa.select(Reminder).where(Reminder.sent_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.id).limit(limit)).all()
    sent = 0
    for row in rows:
        row.attempts += 1
        row.message_id = row.message_id or make_msgid(domain="labtour.invalid")
        try:
            _transport(_message(row))
        except (OSError, smtplib.SMTPException) as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            row.sent_at = now
            row.last_error = ""
            if row.kind == "request_received":
                row.body = ""
            sent += 1
        db.session.commit()
    return sent


def _transport(msg: EmailMessage) -> None:
    cfg = current_app.config["MAIL"]
    if cfg["transport"] == "smtp":
        with smtplib.SMTP(cfg["smtp_host"], int(cfg["smtp_port"]), timeout=20) as smtp:
            smtp.send_message(msg)
        return
    folder = Path(current_app.instance_path) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    name = msg["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
    (folder / f"{name}.eml").write_bytes(bytes(msg))
