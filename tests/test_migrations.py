"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db

from .conftest import make_app


@pytest.fixture
def empty_app(backend, tmp_path):
    app = make_app(backend, tmp_path, schema="empty")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrade_fresh_database_to_head_matches_models(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, *_: not (type_ == "column" and name == "slots")}), db.metadata)
        assert version == "0012"
        assert diff == [], diff
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade()
