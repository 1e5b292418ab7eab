"""Staff accounts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import PasswordReset, Role, User
from ..security import hash_token, new_token
from . import audit, outbox

RESET_VALID = timedelta(hours=1)

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


def request_reset(email: str) -> None:
    """Mail a reset link to an active account; says nothing about whether the address has one."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None:
        return
    token = new_token()
    now = datetime.now(timezone.utc)
    reset = PasswordReset(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=now + RESET_VALID)
    db.session.add(reset)
    db.session.flush()
    outbox.queue(kind="password_reset", dedupe_key=f"password_reset:{reset.id}", to_addr=user.email,
                 template="password_reset", lang="de", expires_at=reset.expires_at, user=user,
                 link=outbox.link("staff.reset_password", token=token), hours=int(RESET_VALID.total_seconds() // 3600))
    audit.record(None, "user", user.id, "password_reset_requested", None, None, actor="system")
    db.session.commit()
    outbox.kick()


def valid_reset(token: str) -> PasswordReset | None:
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.token_hash == hash_token(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= datetime.now(timezone.utc):
        return None
    return reset


def reset_password(token: str, password: str) -> User | None:
    """Set the new password once; the link and every other open link of the account are used up."""
    reset = valid_reset(token)
    if reset is None:
        return None
    if len(password) < 10:
        raise UserError("password must have at least 10 characters")
    now = datetime.now(timezone.utc)
    reset.user.password_hash = generate_password_hash(password)
    db.session.execute(sa.update(PasswordReset).where(PasswordReset.user_id == reset.user_id,
                                                      PasswordReset.used_at.is_(None)).values(used_at=now))
    audit.record(reset.user, "user", reset.user_id, "password_reset", None, None)
    db.session.commit()
    return reset.user
