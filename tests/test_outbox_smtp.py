"""The outbox against a real SMTP server on localhost: contents, headers, language, retries, refusals, TLS."""
from __future__ import annotations

import ssl
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Reminder, ReminderStatus
from app.services import outbox

from .conftest import drain, valid_form
from scheduler.mailsink import MailSink, free_port


@pytest.fixture
def sink():
    server = MailSink().start()
    yield server
    server.stop()


def use_smtp(app, port: int, **extra) -> None:
    app.config["MAIL"].update({"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, **extra})


def test_request_received_arrives_as_text_and_html_in_the_contacts_language(app, client, sink):
    use_smtp(app, sink.port)
    client.get("/sprache/en")
    client.post("/anfrage/neu", data=valid_form())
    client.get("/sprache/de")
    client.post("/anfrage/neu", data=valid_form(org_name="Metallbau Hinrichs GmbH", kind="kmu",
                                               email="info@hinrichs.example"))
    assert drain(app).sent == 2
    english, german = sorted(sink.messages, key=lambda m: m["To"] != "imke.dierks@schule.example")
    assert english["Subject"] == "Your request for the InnovationLab: BBS Weserufer Brake"
    assert english["Content-Language"] == "en" and german["Content-Language"] == "de"
    assert german["Subject"] == "Ihre Anfrage für das InnovationLab: Metallbau Hinrichs GmbH"
    assert english["From"] == "InnovationLab <labtour@visurgis.example>"
    assert english["Auto-Submitted"] == "auto-generated"
    with app.app_context():
        rows = db.session.scalars(sa.select(Reminder).order_by(Reminder.id)).all()
        assert english["Message-ID"] == rows[0].message_id and rows[0].message_id.endswith("@visurgis.example>")
        assert all(r.status == ReminderStatus.SENT and r.body == "" for r in rows)
    assert english.get_content_type() == "multipart/alternative"
    text = english.get_body(("plain",)).get_content()
    html = english.get_body(("html",)).get_content()
    assert "/verwalten/" in text and '<a href="http://127.0.0.1:5000/verwalten/' in html and 'lang="en"' in html


def test_visit_confirmation_carries_the_ics_attachment(app, client, sink, published, approved):
    use_smtp(app, sink.port)
    drain(app)
    confirmations = [m for m in sink.messages if m["Subject"].startswith("Termin für das InnovationLab")]
    assert len(confirmations) == 3
    [ics] = [p for p in confirmations[0].iter_attachments() if p.get_content_type() == "text/calendar"]
    content = ics.get_content()
    assert "BEGIN:VEVENT" in content and "METHOD" not in content.split("BEGIN:VEVENT")[1]


def test_server_down_means_retries_with_backoff_then_every_mail_arrives_once(app, client):
    port = free_port()
    use_smtp(app, port)
    client.post("/anfrage/neu", data=valid_form())
    client.post("/anfrage/neu", data=valid_form(org_name="BBS Nordenham", email="b@nordenham.example"))
    now = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.utc)
    first = drain(app, now)
    assert (first.sent, first.retried) == (0, 2)
    with app.app_context():
        rows = db.session.scalars(sa.select(Reminder)).all()
        assert all(r.status == ReminderStatus.QUEUED and r.attempts == 1 and "Connection" in r.last_error
                   for r in rows)
        assert all(now + timedelta(seconds=30) <= r.next_attempt_at <= now + timedelta(seconds=90) for r in rows)
    second = drain(app, now + timedelta(seconds=95))
    assert second.retried == 2
    with app.app_context():
        delays = [r.next_attempt_at - (now + timedelta(seconds=95)) for r in db.session.scalars(sa.select(Reminder))]
        assert all(timedelta(seconds=60) <= d <= timedelta(seconds=180) for d in delays), "the wait doubles"
    server = MailSink(port=port).start()
    try:
        assert drain(app, now + timedelta(seconds=100)).sent == 0, "not before the backoff"
        assert drain(app, now + timedelta(minutes=10)).sent == 2
        assert drain(app, now + timedelta(minutes=20)).sent == 0
        assert server.count() == 2
    finally:
        server.stop()


def test_retries_run_out_and_surface_as_failed(app, client):
    use_smtp(app, free_port())
    app.config["REMINDERS"]["max_attempts"] = 3
    client.post("/anfrage/neu", data=valid_form())
    now = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.utc)
    for hour in range(4):
        drain(app, now + timedelta(hours=hour * 6))
    with app.app_context():
        row = db.session.scalar(sa.select(Reminder))
        assert row.status == ReminderStatus.FAILED and row.attempts == 3
        assert row.body, "a failed mail keeps its text so staff can send it again"


def test_a_refused_address_fails_at_once_and_does_not_hold_up_the_others(app, client, sink):
    use_smtp(app, sink.port)
    sink.refuse.add("weg@schule.example")
    client.post("/anfrage/neu", data=valid_form(email="weg@schule.example"))
    client.post("/anfrage/neu", data=valid_form(org_name="BBS Nordenham", email="b@nordenham.example"))
    result = drain(app)
    assert (result.sent, result.failed, result.retried) == (1, 1, 0)
    with app.app_context():
        failed = db.session.scalar(sa.select(Reminder).where(Reminder.status == ReminderStatus.FAILED))
        assert failed.to_addr == "weg@schule.example" and "550" in failed.last_error and failed.attempts == 1
    assert [m["To"] for m in sink.messages] == ["b@nordenham.example"]


@pytest.fixture
def tls_files(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return key, cert


def test_starttls_and_login_from_config(app, client, tls_files):
    key, cert = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = MailSink(tls_context=context, credentials=("labtour", "s3cret")).start()
    try:
        use_smtp(app, server.port, smtp_security="starttls", smtp_ca_file=str(cert), smtp_username="labtour",
                 smtp_password="wrong")
        client.post("/anfrage/neu", data=valid_form())
        assert drain(app).retried == 1, "a wrong password is the lab's configuration: retried, not dropped"
        app.config["MAIL"]["smtp_password"] = "s3cret"
        assert drain(app, datetime.now(timezone.utc) + timedelta(hours=1)).sent == 1
        assert server.logins == ["labtour"]
    finally:
        server.stop()


def test_header_injection_in_a_subject_stays_in_the_subject(app, client, sink):
    use_smtp(app, sink.port)
    client.post("/anfrage/neu", data=valid_form(org_name="BBS Brake\r\nBcc: evil@example.org"))
    drain(app)
    [msg] = sink.messages
    assert msg["Bcc"] is None and "evil@example.org" in msg["Subject"]


def test_message_id_is_stable_across_attempts(app, client):
    port = free_port()
    use_smtp(app, port)
    client.post("/anfrage/neu", data=valid_form())
    now = datetime(2027, 1, 11, 9, 0, tzinfo=timezone.utc)
    drain(app, now)
    with app.app_context():
        first_id = db.session.scalar(sa.select(Reminder)).message_id
        assert first_id == outbox.message_id(db.session.scalar(sa.select(Reminder)))
    server = MailSink(port=port).start()
    try:
        drain(app, now + timedelta(hours=1))
        assert server.messages[0]["Message-ID"] == first_id
    finally:
        server.stop()
