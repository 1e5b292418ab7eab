"""Fixtures: `app` runs every test on SQLite, and on PostgreSQL too when LABTOUR_TEST_DATABASE_URL is set."""
from __future__ import annotations

import os
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Module, RequestStatus, Role, VisitRequest
from app.services import requests as request_service, users

PG_URL = os.environ.get("LABTOUR_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_pg_schema_ready = False


def _pg_url() -> str:
    return PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) if PG_URL.startswith("postgresql://") else PG_URL


def make_app(backend: str, tmp_path, schema: str = "create_all", **overrides):
    """schema: "create_all" (fast, per test) or "empty" (nothing; for migration and seed-demo tests)."""
    global _pg_schema_ready
    uri = f"sqlite:///{tmp_path / 'test.sqlite'}" if backend == "sqlite" else _pg_url()
    config = {
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SERVER_NAME": "labtour.test",
    }
    config.update(overrides)
    os.environ["LABTOUR_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = create_app(config)
    app.config["PLANNING"]["time_limit_s"] = 1.0
    with app.app_context():
        if schema == "empty":
            if backend != "sqlite":
                _drop_everything()
                _pg_schema_ready = False
            return app
        if backend == "sqlite":
            db.create_all()
        else:
            if not _pg_schema_ready:
                _drop_everything()
                db.create_all()
                _pg_schema_ready = True
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for pos, (code, de, en) in enumerate([("robotik", "Robotik", "Robotics"), ("additiv", "3D-Druck", "3D printing"),
                                              ("vr-ar", "VR/AR", "VR/AR")]):
            db.session.add(Module(code=code, name_de=de, name_en=en, position=pos))
        db.session.commit()
    return app


def _drop_everything() -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(autouse=True)
def _fresh_feed_caches():
    """Each test has its own database: nothing cached in memory may leak from the test before."""
    from app.services import feeds
    feeds.forget()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(backend, tmp_path):
    app = make_app(backend, tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def valid_form(**overrides) -> dict:
    """What a teacher of a BBS in Brake types into the request form."""
    data = {
        "kind": "bbs", "org_name": "BBS Weserufer Brake", "street": "Schulstraße 4", "postcode": "26919",
        "town": "Brake (Unterweser)", "district": "Wesermarsch", "contact_name": "Imke Dierks",
        "email": "imke.dierks@schule.example", "phone": "04401 123456",
        "windows-0-start": "2027-03-01", "windows-0-end": "2027-03-19",
        "windows-1-start": "", "windows-1-end": "", "windows-2-start": "", "windows-2-end": "",
        "half_days": "4", "classes_per_day": "3", "participants": "60",
        "occupations": "Industriemechaniker/in", "module_ids": ["1", "2"], "message": "",
        "space_length_m": "30", "space_width_m": "8", "clearance_m": "", "surface": "paved",
        "power_type": "cee32", "power_distance_m": "20", "wifi": "y", "toilets": "y", "permit": "no",
        "onsite_name": "Hauke Gerdes", "onsite_phone": "04401 654321", "access_notes": "Tor 2",
        "consent": "y", "submission_key": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def service_data(**overrides) -> dict:
    """The parsed form, as the booking service receives it."""
    data = {
        "kind": "bbs", "org_name": "BBS Weserufer Brake", "street": "Schulstraße 4", "postcode": "26919",
        "town": "Brake (Unterweser)", "district": "Wesermarsch", "contact_name": "Imke Dierks",
        "email": "imke.dierks@schule.example", "phone": "", "windows": [(date(2027, 3, 1), date(2027, 3, 19))],
        "half_days": 4, "classes_per_day": 3, "participants": 60, "occupations": "", "module_ids": [1],
        "message": "", "space_length_m": 30.0, "space_width_m": 8.0, "clearance_m": None, "surface": "paved",
        "power_type": "cee32", "power_distance_m": 20.0, "wifi": True, "toilets": True, "permit": "no",
        "onsite_name": "Hauke Gerdes", "onsite_phone": "04401 654321", "access_notes": "", "submission_key": None,
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_request(app):
    """Factory: a stored request and its manage token."""
    def make(lang: str = "de", **overrides):
        with app.app_context():
            result = request_service.submit(service_data(**overrides), lang)
            return result.request.id, result.token
    return make


@pytest.fixture
def make_approved(app, make_request):
    """Factory: a stored request that staff have already approved; returns its id and manage token."""
    def make(**overrides):
        rid, token = make_request(**overrides)
        with app.app_context():
            db.session.get(VisitRequest, rid).status = RequestStatus.APPROVED
            db.session.commit()
        return rid, token
    return make


def drain(app, now=None):
    """What the scheduler's drain job does: send every due outbox row."""
    from app.services import outbox
    with app.app_context():
        return outbox.drain(now)


@pytest.fixture
def make_user(app):
    def make(role: Role = Role.PLANNER, email: str | None = None, password: str = "correct-horse-42"):
        with app.app_context():
            user = users.create_user(email or f"{role.value}@labtour.example", role, password)
            return user.id, user.email, password
    return make


@pytest.fixture
def login(client, make_user):
    def do(role: Role = Role.PLANNER):
        _id, email, password = make_user(role)
        response = client.post("/staff/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.data
        return _id
    return do


def manage_link(html: str) -> str:
    match = re.search(r"https?://[^/\"<]+(/verwalten/[A-Za-z0-9_\-]+)", html)
    assert match, "no manage link on the page"
    return match.group(1)


D = date.fromisoformat


@pytest.fixture
def approved(app, make_request):
    """Three approved requests in March 2027 and one still waiting for review."""
    ids = []
    for n, (town, postcode, district, windows) in enumerate([
            ("Brake (Unterweser)", "26919", "Wesermarsch", [(D("2027-03-01"), D("2027-03-12"))]),
            ("Cuxhaven", "27472", "Cuxhaven", [(D("2027-03-01"), D("2027-03-12"))]),
            ("Bremen", "28195", "Bremen", [(D("2027-03-08"), D("2027-03-19"))])]):
        rid, _token = make_request(org_name=f"BBS Test {n}", town=town, postcode=postcode, district=district,
                                   windows=windows, submission_key=None)
        ids.append(rid)
    make_request(org_name="BBS Wartend", windows=[(D("2027-03-01"), D("2027-03-05"))])
    with app.app_context():
        for rid in ids:
            db.session.get(VisitRequest, rid).status = RequestStatus.APPROVED
        db.session.commit()
    return ids


def plan(client, start="2027-02-01", end="2027-06-30") -> int:
    response = client.post("/staff/touren/", data={"start": start, "end": end})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


@pytest.fixture
def published(app, client, login, approved):
    """The three approved March requests planned and published by a planner (logged in on `client`)."""
    login(Role.PLANNER)
    tid = plan(client)
    client.post(f"/staff/touren/{tid}/veroeffentlichen")
    return tid
