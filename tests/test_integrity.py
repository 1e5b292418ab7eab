"""Referential integrity is the database's job on SQLite too, as on PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import PasswordReset, Role, User, Visit
from app.services import users


def test_a_row_pointing_nowhere_is_refused(app):
    with app.app_context():
        db.session.add(Visit(tour_id=4242, request_id=4242, start=date(2027, 3, 1), end=date(2027, 3, 1)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_deleting_an_account_takes_its_reset_links_along(app):
    with app.app_context():
        user = users.create_user("weg@labtour.example", Role.VIEWER, "correct-horse-42")
        db.session.add(PasswordReset(user_id=user.id, token_hash="0" * 64,
                                     expires_at=datetime.now(timezone.utc) + timedelta(hours=1)))
        db.session.commit()
        db.session.execute(sa.delete(User).where(User.id == user.id))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 0
