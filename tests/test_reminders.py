"""Reminders at the right moments, driven by an injected clock: logistics check, T-3 reminder, feedback, digest."""
from __future__ import annotations

import email
import re
from datetime import date, datetime, timedelta, timezone
from email import policy
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import (Feedback, LogisticsCheck, Reminder, ReminderStatus, Role, Visit, VisitRequest)
from app.services import reminders, tours

from .conftest import drain

UTC = timezone.utc
CFG = {"logistics_days_before": 14, "reminder_days_before": 3, "feedback_days_after": 1, "send_hour": 9,
       "feedback_relevant_days": 21}


def test_lead_times_are_local_dates_across_the_dst_change():
    """Summer time starts on 28 March 2027: 09:00 in Bremen is 08:00 UTC before and 07:00 UTC after."""
    moments = reminders.schedule(date(2027, 4, 5), date(2027, 4, 6), CFG)
    assert moments["logistics_check"].due == datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    assert moments["visit_reminder"].due == datetime(2027, 4, 2, 7, 0, tzinfo=UTC)
    assert moments["visit_reminder"].expires == datetime(2027, 4, 4, 22, 0, tzinfo=UTC)  # midnight in Bremen
    assert moments["feedback_request"].due == datetime(2027, 4, 7, 7, 0, tzinfo=UTC)
    autumn = reminders.schedule(date(2027, 11, 2), date(2027, 11, 2), CFG)  # winter time from 31 October
    assert autumn["visit_reminder"].due == datetime(2027, 10, 30, 7, 0, tzinfo=UTC)
    assert autumn["feedback_request"].due == datetime(2027, 11, 3, 8, 0, tzinfo=UTC)


def _visit(app, published, request_id):
    with app.app_context():
        v = db.session.scalar(sa.select(Visit).where(Visit.tour_id == published, Visit.request_id == request_id))
        return v.uid, v.start, v.end


def _at(day: date, hour: int) -> datetime:
    return reminders.local_instant(day, hour)


def _mails(app, kind: str):
    with app.app_context():
        rows = db.session.scalars(sa.select(Reminder).where(Reminder.kind == kind).order_by(Reminder.id)).all()
        db.session.expunge_all()
        return rows


def _eml(app, subject_start: str):
    found = []
    for path in (Path(app.instance_path) / "mail").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if msg["Subject"].startswith(subject_start):
            found.append(msg)
    return found


def enqueue(app, now):
    with app.app_context():
        return reminders.enqueue_due(now)


def test_a_published_visit_gets_its_three_host_mails_at_the_right_moments(app, client, published, approved):
    uid, start, end = _visit(app, published, approved[0])
    drain(app)  # the confirmations of publishing
    enqueue(app, _at(start - timedelta(days=14), 9) - timedelta(minutes=1))
    assert not [m for m in _mails(app, "logistics_check") if m.visit_uid == uid]

    at_check = _at(start - timedelta(days=14), 9)
    enqueue(app, at_check)
    assert enqueue(app, at_check + timedelta(minutes=10)) == 0, "queueing twice must not add a row"
    check_mail = [m for m in _mails(app, "logistics_check") if m.visit_uid == uid]
    assert len(check_mail) == 1 and check_mail[0].due_at == at_check
    assert "BBS Test 0" in check_mail[0].subject
    assert drain(app, at_check).sent >= 1
    [msg] = [m for m in _eml(app, "Bitte prüfen: Standplatz") if "BBS Test 0" in m["Subject"]]
    body = msg.get_body(("plain",)).get_content()
    assert "30 m × 8 m" in body and "CEE32" in body
    link = re.search(r"http://127\.0\.0\.1:5000(/gastgeber/logistik/\S+)", body).group(1)
    assert [m for m in _mails(app, "logistics_check") if m.visit_uid == uid][0].body == "", "link scrubbed"

    page = client.get(link).get_data(as_text=True)
    assert "Standplatz bestätigen" in page and "BBS Test 0" in page
    refused = client.post(link, data={"space_ok": "y", "power_ok": "y"})
    assert refused.status_code == 200 and "Bitte beschreiben Sie kurz" in refused.get_data(as_text=True)
    client.post(link, data={"space_ok": "y", "power_ok": "y", "problem": "Baustelle vor Tor 2"})
    with app.app_context():
        check = db.session.scalar(sa.select(LogisticsCheck).where(LogisticsCheck.visit_uid == uid))
        assert check.flagged and check.problem == "Baustelle vor Tor 2" and check.access_ok is False
        assert approved[0] in reminders.flagged_request_ids()
    detail = client.get(f"/staff/anfragen/{approved[0]}").get_data(as_text=True)
    assert "Problem gemeldet" in detail and "Baustelle vor Tor 2" in detail

    at_reminder = _at(start - timedelta(days=3), 9)
    enqueue(app, at_reminder)
    drain(app, at_reminder)
    [reminder] = [m for m in _eml(app, "Erinnerung: InnovationLab bei BBS Test 0")]
    text = reminder.get_body(("plain",)).get_content()
    assert "Nachmittag vorher" in text and "Hauke Gerdes" in text

    after = _at(end + timedelta(days=1), 9)
    enqueue(app, after)
    drain(app, after)
    [feedback_mail] = _eml(app, "Wie war das InnovationLab bei BBS Test 0")
    link = re.search(r"http://127\.0\.0\.1:5000(/gastgeber/rueckmeldung/\S+)",
                     feedback_mail.get_body(("plain",)).get_content()).group(1)
    bad = client.post(link, data={"participants_reached": "-3"})
    assert bad.status_code == 200 and "Bitte wählen Sie eine Bewertung" in bad.get_data(as_text=True)
    client.post(link, data={"rating": "5", "participants_reached": "48", "comments": "Sehr anschaulich"})
    with app.app_context():
        fb = db.session.scalar(sa.select(Feedback).where(Feedback.visit_uid == uid))
        assert (fb.rating, fb.participants_reached, fb.comments) == (5, 48, "Sehr anschaulich")


def test_after_a_stop_only_what_is_still_relevant_is_sent(app, published, approved):
    """The machine was off until two days after the visit: no logistics check or reminder, but the feedback."""
    uid, start, end = _visit(app, published, approved[0])
    enqueue(app, _at(end, 9) + timedelta(days=2))
    kinds = {m.kind for m in _mails(app, "feedback_request") + _mails(app, "visit_reminder")
             + _mails(app, "logistics_check") if m.visit_uid == uid}
    assert kinds == {"feedback_request"}


def test_a_queued_reminder_whose_moment_passed_is_skipped_with_a_reason(app, published, approved):
    uid, start, _end = _visit(app, published, approved[0])
    at_reminder = _at(start - timedelta(days=3), 9)
    enqueue(app, at_reminder)
    drain(app, _at(start, 10))  # the sender was down until the visit had begun
    [row] = [m for m in _mails(app, "visit_reminder") if m.visit_uid == uid]
    assert row.status == ReminderStatus.SKIPPED and "expired" in row.last_error and row.sent_at is None


def test_a_reminder_for_a_moved_visit_goes_for_the_new_date_only(app, published, approved):
    uid, start, _end = _visit(app, published, approved[0])
    at_reminder = _at(start - timedelta(days=3), 9)
    enqueue(app, at_reminder)
    with app.app_context():  # a planner moves the published visit a week later (new version, published)
        visit = db.session.scalar(sa.select(Visit).where(Visit.uid == uid, Visit.tour_id == published))
        visit.start, visit.end = visit.start + timedelta(days=7), visit.end + timedelta(days=7)
        db.session.commit()
    drain(app, at_reminder)
    [old] = [m for m in _mails(app, "visit_reminder") if m.visit_uid == uid]
    assert old.status == ReminderStatus.SKIPPED and "moved" in old.last_error
    new_moment = _at(start + timedelta(days=4), 9)
    enqueue(app, new_moment)
    rows = [m for m in _mails(app, "visit_reminder") if m.visit_uid == uid]
    assert len(rows) == 2 and rows[1].dedupe_key.endswith((start + timedelta(days=7)).isoformat())


def test_weekly_digest_on_monday_morning_for_planners_and_admins(app, published, approved, make_user):
    make_user(Role.ADMIN)
    make_user(Role.VIEWER)
    _uid, start, _end = _visit(app, published, approved[0])
    monday = start - timedelta(days=start.weekday())
    enqueue(app, _at(monday, 6))
    assert not _mails(app, "staff_digest")
    enqueue(app, _at(monday, 7) + timedelta(minutes=5))
    enqueue(app, _at(monday, 8))
    rows = _mails(app, "staff_digest")
    assert sorted(r.to_addr for r in rows) == ["admin@labtour.example", "planner@labtour.example"]
    assert rows[0].due_at == _at(monday, 7)
    assert "BBS Test 0" in rows[0].body and "Stopps dieser Woche" in rows[0].body
    drain(app, _at(monday, 8))
    assert len(_eml(app, "LabTour-Wochenüberblick")) == 2
    enqueue(app, _at(monday + timedelta(days=3), 8))
    assert len(_mails(app, "staff_digest")) == 2, "one digest per week, and none late in the week"


def test_staff_outbox_lists_failed_mails_and_resends_them(app, client, published, approved):
    with app.app_context():
        row = db.session.scalar(sa.select(Reminder).where(Reminder.kind == "visit_added").order_by(Reminder.id))
        row.to_addr = "kein-at-zeichen"
        rid = row.id
        db.session.commit()
    drain(app)
    with app.app_context():
        row = db.session.get(Reminder, rid)
        assert row.status == ReminderStatus.FAILED and row.attempts == 1 and "address" in row.last_error
    page = client.get("/staff/postausgang?status=failed").get_data(as_text=True)
    assert "kein-at-zeichen" in page and "Erneut senden" in page and 'id="count-failed">1<' in page
    with app.app_context():
        db.session.get(Reminder, rid).to_addr = "imke.dierks@schule.example"
        db.session.commit()
    assert client.post(f"/staff/postausgang/{rid}/erneut").status_code == 302
    drain(app)
    with app.app_context():
        assert db.session.get(Reminder, rid).status == ReminderStatus.SENT


def test_host_links_are_unknown_without_the_token(client):
    assert client.get("/gastgeber/logistik/nicht-vorhanden").status_code == 404
    assert client.get("/gastgeber/rueckmeldung/nicht-vorhanden").status_code == 404
