"""One scheduler at a time, exactly-once delivery under concurrency and SIGKILL (PostgreSQL), retention."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (Contact, Reminder, ReminderStatus, RequestStatus, SchedulerLock, SiteLogistics, Visit,
                        VisitRequest)
from app.services import retention
from scheduler.lock import LeaderLock, heartbeat_age
from scheduler.runner import Runner

from .conftest import PG_URL, make_app
from scheduler.mailsink import MailSink

ROOT = Path(__file__).resolve().parent.parent
needs_pg = pytest.mark.skipif(not PG_URL, reason="needs LABTOUR_TEST_DATABASE_URL (CI sets it)")


def test_only_one_process_holds_the_lock_and_another_takes_over(app):
    first, second = LeaderLock(app, "web-1"), LeaderLock(app, "web-2")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.heartbeat() and not second.try_acquire()
    with app.app_context():
        assert db.session.get(SchedulerLock, "scheduler").holder == "web-1"
        assert heartbeat_age() < 5
    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()


def test_a_dead_holder_is_replaced_after_its_heartbeat_goes_stale(app):
    first, second = LeaderLock(app, "web-1"), LeaderLock(app, "web-2")
    assert first.try_acquire()
    if first.pg:
        first._conn.invalidate()  # the process died: PostgreSQL drops its session and with it the lock
        first._conn = None
    else:
        with app.app_context():
            db.session.get(SchedulerLock, "scheduler").heartbeat_at = datetime.now(timezone.utc) - timedelta(minutes=5)
            db.session.commit()
    assert second.try_acquire()
    second.release()


def test_inprocess_scheduler_starts_with_the_first_request_once_and_keeps_its_jobs(backend, tmp_path):
    app = make_app(backend, tmp_path, TESTING=False)
    assert "labtour_scheduler" not in app.extensions, "not started by building the app (reloader, CLI)"
    client = app.test_client()
    client.get("/")
    runner = app.extensions["labtour_scheduler"]
    client.get("/")
    assert app.extensions["labtour_scheduler"] is runner
    other = Runner(app)  # a second worker of the same site
    try:
        for _ in range(50):
            if runner.leading:
                break
            time.sleep(0.1)
        assert runner.leading
        assert not other.lock.try_acquire()
        with app.app_context():
            jobs = set(db.session.scalars(sa.text("SELECT id FROM apscheduler_jobs")))
        assert jobs == {"drain", "enqueue", "digest", "retention"}
    finally:
        runner.stop()
        from scheduler import runner as module
        module._started.clear()


def _queue(app, n: int) -> None:
    now = datetime.now(timezone.utc) - timedelta(seconds=1)
    with app.app_context():
        db.session.execute(sa.insert(Reminder), [
            {"kind": "visit_reminder_test", "dedupe_key": f"load:{i}", "to_addr": f"host{i}@schule.example",
             "subject": f"Erinnerung {i}", "body": "Der Truck kommt.", "language": "de", "due_at": now,
             "next_attempt_at": now, "status": ReminderStatus.QUEUED, "attempts": 0, "last_error": "",
             "attachment_ics": "", "created_at": now} for i in range(n)])
        db.session.commit()


def _sender(app, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "LABTOUR_INSTANCE_PATH": app.instance_path, "LABTOUR_MAIL__transport": "smtp",
           "LABTOUR_MAIL__smtp_host": "127.0.0.1", "LABTOUR_MAIL__smtp_port": str(port)}
    return subprocess.Popen([sys.executable, "-m", "scheduler", "drain"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@needs_pg
def test_two_senders_drain_one_outbox_and_every_mail_arrives_once(tmp_path):
    app = make_app("postgresql", tmp_path)
    _queue(app, 400)
    sink = MailSink().start()
    try:
        procs = [_sender(app, sink.port) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), outputs
        ids = Counter(m["Message-ID"] for m in sink.messages)
        assert len(ids) == 400 and max(ids.values()) == 1, "each reminder exactly once"
        assert all(b"sent=" in out and b"sent=0," not in out for out, _err in outputs), "both senders worked"
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).where(Reminder.status == ReminderStatus.SENT)) == 400
    finally:
        sink.stop()


@needs_pg
def test_a_sender_killed_mid_batch_loses_nothing(tmp_path):
    app = make_app("postgresql", tmp_path)
    _queue(app, 300)
    sink = MailSink(delay=0.004).start()
    try:
        victim = _sender(app, sink.port)
        deadline = time.monotonic() + 60
        while sink.count() < 100 and time.monotonic() < deadline:
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        received_before = sink.count()
        assert 100 <= received_before < 300, "killed in the middle of the batch"
        restarted = _sender(app, sink.port)
        restarted.communicate(timeout=120)
        ids = Counter(m["Message-ID"] for m in sink.messages)
        duplicates = sum(n - 1 for n in ids.values())
        print(f"\nSIGKILL after {received_before} accepted mails: {duplicates} duplicate(s), "
              f"{300 - len(ids)} lost")
        assert len(ids) == 300, "nothing lost"
        workers = app.config["SCHEDULER"]["drain_workers"]
        assert duplicates <= workers, "only a mail a sender had in flight at the kill may repeat (one per sender)"
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).where(Reminder.status == ReminderStatus.SENT)) == 300
    finally:
        sink.stop()


def test_retention_anonymises_old_contacts_and_deletes_old_declined_requests(app, make_request):
    old_visit, _ = make_request(org_name="BBS Alt")
    declined, _ = make_request(org_name="BBS Abgelehnt", email="abgelehnt@schule.example")
    recent, _ = make_request(org_name="BBS Neu", email="neu@schule.example")
    long_ago = datetime(2024, 1, 10, tzinfo=timezone.utc)
    with app.app_context():
        from app.models import Tour
        tour = Tour(horizon_start=date(2024, 2, 1), horizon_end=date(2024, 6, 30), version=1)
        tour.visits = [Visit(request_id=old_visit, start=date(2024, 3, 4), end=date(2024, 3, 5))]
        db.session.add(tour)
        for rid, status in ((old_visit, RequestStatus.CONFIRMED), (declined, RequestStatus.DECLINED)):
            req = db.session.get(VisitRequest, rid)
            req.status = status
        db.session.flush()
        db.session.execute(sa.update(VisitRequest).where(VisitRequest.id.in_([old_visit, declined]))
                           .values(updated_at=long_ago))
        db.session.commit()
        result = retention.purge(datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc))
        assert result["anonymised"] == 1 and result["deleted"] == 1
        old = db.session.get(VisitRequest, old_visit)
        assert old.contact.name == "" and old.contact.email.endswith("@invalid") and old.contact.anonymised_at
        assert old.participants == 60 and old.organisation.name == "BBS Alt", "statistics stay"
        site = db.session.scalar(sa.select(SiteLogistics).where(SiteLogistics.request_id == old_visit))
        assert site.onsite_name == "" and site.onsite_phone == ""
        assert db.session.get(VisitRequest, declined) is None
        assert db.session.scalar(sa.select(Contact).where(Contact.email == "abgelehnt@schule.example")) is None
        assert db.session.get(VisitRequest, recent).contact.email == "neu@schule.example"
        reminders_of_old = db.session.scalars(sa.select(Reminder).where(Reminder.request_id == old_visit)).all()
        assert all(r.body == "" and "imke" not in r.to_addr for r in reminders_of_old)
        assert retention.purge(datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)) == {
            "anonymised": 0, "deleted": 0, "outbox_deleted": 0}
