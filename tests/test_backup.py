"""A pg_dump of LabTour restores into an empty database with every row (the documented backup)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import sqlalchemy as sa

from app.extensions import db

from .conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL or not shutil.which("pg_dump"), reason="needs PostgreSQL and pg_dump")
RESTORE_DB = "labtour_restore_test"


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    return request.param


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


def test_dump_restores_into_an_empty_database_with_every_row(app, published, tmp_path):
    dump = tmp_path / "labtour.dump"
    with app.app_context():
        before = _counts(db.engine)
    assert before["visit"] == 3 and before["reminder"] >= 3
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", PG_URL], check=True)
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {RESTORE_DB}"))
        conn.execute(sa.text(f"CREATE DATABASE {RESTORE_DB}"))
    target = PG_URL.rsplit("/", 1)[0] + f"/{RESTORE_DB}"
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)], check=True)
        restored = sa.create_engine(target.replace("postgresql://", "postgresql+psycopg://", 1))
        assert _counts(restored) == before
        with restored.connect() as conn:
            constraint = conn.execute(sa.text("SELECT count(*) FROM pg_constraint "
                                              "WHERE conname = 'ex_visit_no_double_booking'")).scalar()
        assert constraint == 1, "the no-double-booking guarantee comes back with the data"
        restored.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {RESTORE_DB} WITH (FORCE)"))
        admin.dispose()
