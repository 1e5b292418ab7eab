"""Staff accounts."""
from __future__ import annotations

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User

_DUMMY_HASH = generate_password_hash("not-a-password")


class UserError(ValueError):
    pass


def create_user(email: str, role: Role, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if len(password) < 10:
        raise UserError("password must have at least 10 characters")
    if db.session.scalar(sa.select(User).where(User.email == email)):
        raise UserError(f"a user with e-mail {email} exists")
    user = User(email=email, role=role, name=name, password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user when e-mail and password match; as slow for unknown e-mails as for wrong passwords."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user
