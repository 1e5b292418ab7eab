"""Connections that died (database restart, idle timeout): checked after idling, and at worst one friendly 503."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from app.extensions import db

from .conftest import PG_URL, make_app

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs LABTOUR_TEST_DATABASE_URL (CI sets it)")
NAME = "labtour-pool-test"


def _app(tmp_path, idle_s: float):
    return make_app("postgresql", tmp_path, DB_PING_IDLE_S=idle_s,
                    SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"application_name": NAME}})


def _kill_connections(app) -> int:
    """What a database restart does to every connection the app holds."""
    admin = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    with admin.connect() as conn:
        killed = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE application_name = :name"), {"name": NAME}).scalar()
    admin.dispose()
    return killed


def test_an_idle_connection_is_checked_and_replaced(tmp_path):
    app = _app(tmp_path, 0.0)  # every checkout counts as idle
    client = app.test_client()
    assert client.get("/anfrage/neu").status_code == 200
    assert _kill_connections(app) >= 1
    for _ in range(3):
        assert client.get("/anfrage/neu?x=1").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_a_connection_dead_in_use_costs_one_503_not_a_500(tmp_path):
    app = _app(tmp_path, 3600.0)
    client = app.test_client()
    assert client.get("/anfrage/neu?a=1").status_code == 200
    assert _kill_connections(app) >= 1
    first = client.get("/anfrage/neu?a=2")
    assert first.status_code == 503
    assert "Datenbank ist gerade nicht erreichbar" in first.get_data(as_text=True)
    assert client.get("/anfrage/neu?a=3").status_code == 200
    with app.app_context():
        db.engine.dispose()
