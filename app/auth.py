"""Staff authentication and role guards."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .extensions import db, login_manager
from .models import Role, User

RANK = {Role.VIEWER: 1, Role.PLANNER: 2, Role.ADMIN: 3}


def init_auth(app: Flask) -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = _l("Bitte melden Sie sich an.")
    login_manager.login_message_category = "info"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """A deactivated account's open sessions end with its next request."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def can_role(role: Role, needed: Role) -> bool:
    return RANK[role] >= RANK[needed]


def can(user, role: Role) -> bool:
    return bool(user and user.is_authenticated and can_role(user.role, role))


def role_required(role: Role, post: Role | None = None):
    """Login required, and at least `role` (for POST at least `post` when given); anything less gets 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            needed = post if post is not None and request.method == "POST" else role
            if not can(current_user, needed):
                abort(403)
            return view(*args, **kwargs)
        wrapped.required_role = role  # read by the access-matrix test: every route declares its guard
        wrapped.post_role = post or role
        return wrapped
    return decorator
