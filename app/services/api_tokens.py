"""API tokens of staff accounts: 256-bit secrets shown once, stored as SHA-256, revocable."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import ApiToken, User
from ..security import hash_token, new_token
from . import audit


def issue(user: User, name: str) -> str:
    token = new_token()
    row = ApiToken(user_id=user.id, name=name.strip()[:120] or "API", token_hash=hash_token(token))
    db.session.add(row)
    db.session.flush()
    audit.record(user, "api_token", row.id, "created", None, {"name": row.name})
    db.session.commit()
    return token


def user_for(token: str) -> User | None:
    """The active staff account behind a live token (the last use is noted at most once a minute)."""
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = datetime.now(timezone.utc)
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        db.session.commit()
    return row.user


def revoke(user: User, row: ApiToken) -> None:
    row.revoked_at = datetime.now(timezone.utc)
    audit.record(user, "api_token", row.id, "revoked", None, None)
    db.session.commit()
