"""The command names are an interface: seed-demo and create-user."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Organisation, RequestStatus, User, VisitRequest
from app.services import region

from .conftest import make_app


def counts():
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Organisation, VisitRequest, User)}


@pytest.fixture
def fresh_app(backend, tmp_path):
    """No tables yet: seed-demo must create them through the migrations."""
    app = make_app(backend, tmp_path, schema="empty")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_seed_demo_is_idempotent_and_resettable(fresh_app):
    app, runner = fresh_app, fresh_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "demo-admin-2027" in result.output and "80 requests" in result.output
    with app.app_context():
        first = counts()
        assert first["Organisation"] == 60 and first["VisitRequest"] == 80 and first["User"] == 3
        statuses = set(db.session.scalars(sa.select(VisitRequest.status)))
        assert {RequestStatus.CONFIRMED, RequestStatus.REQUESTED, RequestStatus.DECLINED} <= statuses
        postcodes = {t.postcode for t in region.towns()}
        assert set(db.session.scalars(sa.select(Organisation.postcode))) <= postcodes
        rural = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(
            Organisation.town.notin_(region.OBERZENTREN)))
        assert rural >= 40
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "nothing changed" in again.output
    with app.app_context():
        assert counts() == first
    reset = runner.invoke(args=["seed-demo", "--reset"])
    assert reset.exit_code == 0 and "80 requests" in reset.output
    with app.app_context():
        assert counts() == first


def test_create_user_with_and_without_password_option(app, runner):
    result = runner.invoke(args=["create-user", "Lena@Lab.example", "--role", "planner", "--password", "sehr-geheim-1"])
    assert result.exit_code == 0 and "created planner lena@lab.example" in result.output
    prompted = runner.invoke(args=["create-user", "ole@lab.example", "--role", "viewer"],
                             input="noch-geheimer-2\nnoch-geheimer-2\n")
    assert prompted.exit_code == 0, prompted.output
    dup = runner.invoke(args=["create-user", "ole@lab.example", "--role", "admin", "--password", "x" * 12])
    assert dup.exit_code != 0 and "exists" in dup.output
    bad = runner.invoke(args=["create-user", "a@lab.example", "--role", "boss", "--password", "x" * 12])
    assert bad.exit_code != 0
    short = runner.invoke(args=["create-user", "b@lab.example", "--role", "admin", "--password", "kurz"])
    assert short.exit_code != 0 and "10 characters" in short.output
    from app.services import users
    with app.app_context():
        assert users.authenticate("LENA@lab.example", "sehr-geheim-1").email == "lena@lab.example"
        assert users.authenticate("ole@lab.example", "noch-geheimer-2") is not None


def test_a_demo_visit_gets_its_host_mails_at_the_right_moments(tmp_path):
    """The embedded default: seed-demo, then the scheduler's jobs with an injected clock, via the CLI."""
    import email
    from datetime import timedelta
    from email import policy
    from pathlib import Path

    from app.models import Reminder, Tour, TourStatus, Visit
    from app.services.reminders import local_instant

    app = make_app("sqlite", tmp_path, schema="empty")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        tour = db.session.scalar(sa.select(Tour).where(Tour.status == TourStatus.PUBLISHED))
        visit = db.session.scalar(sa.select(Visit).where(Visit.tour_id == tour.id).order_by(Visit.start))
        uid, start, end, org = visit.uid, visit.start, visit.end, visit.request.organisation.name
    moments = {"logistics_check": local_instant(start - timedelta(days=14), 9),
               "visit_reminder": local_instant(start - timedelta(days=3), 9),
               "feedback_request": local_instant(end + timedelta(days=1), 9)}
    for kind, moment in moments.items():
        before = (moment - timedelta(minutes=1)).isoformat()
        assert runner.invoke(args=["scheduler", "enqueue", "--now", before]).exit_code == 0
        with app.app_context():
            assert db.session.scalar(sa.select(Reminder).where(Reminder.visit_uid == uid,
                                                               Reminder.kind == kind)) is None, kind
        for job in ("enqueue", "drain"):
            result = runner.invoke(args=["scheduler", job, "--now", moment.isoformat()])
            assert result.exit_code == 0, result.output
        with app.app_context():
            row = db.session.scalar(sa.select(Reminder).where(Reminder.visit_uid == uid, Reminder.kind == kind))
            assert row.sent_at == moment and row.status.value == "sent", kind
            path = Path(app.instance_path) / "mail" / (row.message_id.strip("<>").replace("@", "_") + ".eml")
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert org in msg["Subject"]
