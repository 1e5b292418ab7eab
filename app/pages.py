"""`@cached_page`: serve a view's rendered HTML from memory while its data is unchanged (services/pagecache).

The key holds everything a page differs by besides data: endpoint, host, path with query, language, the viewer's
role and today's date. Pages with flashed messages are never cached or served from the cache. Values that must be
new in every response are registered while rendering (`per_response`) and filled in fresh on every hit.

`FirstVisits` goes one step further for public pages: a visitor who sends no cookie at all and no query string
(the first visit to the request form) gets the cached German page without entering Flask, with a new session
cookie and CSRF token made exactly as Flask and Flask-WTF make them (tests/test_pagecache.py submits such a page).
"""
from __future__ import annotations

import secrets
import uuid
from datetime import date
from functools import wraps
from time import perf_counter

import limits
from flask import Flask, Response, current_app, g, request, session
from flask.globals import request_ctx
from flask.sessions import SecureCookieSession
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from .auth import can_role
from .extensions import db, limiter
from .logs import log_request
from .models import Role
from .security import csp_nonce
from .services import pagecache

MAKERS = {"csrf": generate_csrf, "nonce": csp_nonce, "key": lambda: uuid.uuid4().hex}
PUBLIC = "labtour.public_page"  # WSGI environ: Flask's answer may serve later first visits (set by cached_page)


def init_pages(app: Flask) -> None:
    size = int(app.config["PAGE_CACHE"]["size"])
    if size <= 0:
        return
    with app.app_context():
        store = pagecache.PageStore(size, pagecache.Reader(db.engine))
        pagecache.install(db.engine, store)
    app.extensions["pagecache"] = store
    app.wsgi_app = app.extensions["first_visits"] = FirstVisits(app.wsgi_app, app, store)


def per_response(kind: str) -> str:
    """A fresh value of `kind` (see MAKERS) for this response, made again on every cache hit."""
    value = MAKERS[kind]()
    g.setdefault("per_response", []).append((kind, value))
    return value


def _fresh_values() -> list[tuple[str, str]]:
    values = list(g.get("per_response", []))
    if "csrf_token" in g:
        values.append(("csrf", g.csrf_token))
    if "csp_nonce" in g:
        values.append(("nonce", g.csp_nonce))
    return values


def _viewer(store: pagecache.PageStore, required, max_age_s: float) -> tuple[str, int] | None:
    """(role, content version) of whoever asks, in one query; None when only the full view can answer
    (not logged in where a role is required, unknown or deactivated account, role too low, database trouble)."""
    user_id = session.get("_user_id")
    if not user_id:
        if required:
            return None
        version = store.version(max_age_s)
        return None if version is None else ("", version)
    if not str(user_id).isdigit():
        return None
    row = store.reader.viewer(int(user_id))
    if row is None or not row[1]:
        return None
    role = Role(row[0])
    if required is not None and not can_role(role, required):
        return None
    return role.value, row[2]


def _public_recheck_s() -> float:
    return float(current_app.config["PAGE_CACHE"]["public_recheck_s"])


def cached_page(public: bool = False):
    """Cache the view's 200 HTML responses. Put it above `role_required`: a hit checks the session's account, its
    role and the content version in one query and serves only whom the view itself would serve. A public page
    may trust a content version its process read up to `public_recheck_s` ago (its own changes excepted) and
    serves first visits through `FirstVisits`; staff pages always ask for the current version."""
    def decorator(view):
        required = getattr(view, "required_role", None)

        @wraps(view)
        def wrapped(*args, **kwargs):
            store: pagecache.PageStore | None = current_app.extensions.get("pagecache")
            if store is None or request.method not in ("GET", "HEAD") or "_flashes" in session:
                return view(*args, **kwargs)
            viewer = _viewer(store, required, _public_recheck_s() if public else 0.0)
            if viewer is None:
                return view(*args, **kwargs)
            role, version = viewer
            key = (request.endpoint, request.host, request.full_path, str(get_locale()), role, date.today())
            page = store.get(key, version)
            if page is not None:
                response = Response(page.fill(MAKERS), mimetype="text/html")
            else:
                response = current_app.make_response(view(*args, **kwargs))
                if response.status_code != 200 or response.mimetype != "text/html" or request_ctx.flashes:
                    return response
                page = pagecache.Page.cut(response.get_data(as_text=True), _fresh_values())
                store.put(key, version, page)
            if public and key[3] == "de" and not role and FirstVisits.eligible(request.environ):
                request.environ[PUBLIC] = (version, page, key[5])
            return response
        wrapped.cached_page = True
        return wrapped
    return decorator


class FirstVisits:
    """WSGI shortcut: a GET without cookies and query string for a public cached page (the request form) is
    answered from the cache without entering Flask, when this process read the content version less than
    `public_recheck_s` ago. The answer carries the headers Flask gave the same page (security headers included),
    a new session cookie holding a CSRF secret, the CSRF token signed as Flask-WTF signs it and a new submission
    key. Shortcut requests are rate-limited per client like every public request; over the limit, or when
    anything is not as expected, the request goes to Flask, which answers it in full."""

    DROP = {"set-cookie", "content-length", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining",
            "x-ratelimit-reset"}
    MAX_PAGES = 32

    def __init__(self, wsgi_app, app: Flask, store: pagecache.PageStore):
        self.wsgi_app, self.app, self.store = wsgi_app, app, store
        self.pages: dict[tuple[str, str], tuple[int, pagecache.Page, date, list[tuple[str, str]]]] = {}
        self.limits = limits.parse_many(app.config.get("RATELIMIT_DEFAULT") or "300 per minute")
        self.served = 0

    @staticmethod
    def eligible(environ) -> bool:
        return (environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING")
                and not environ.get("HTTP_COOKIE"))

    def __call__(self, environ, start_response):
        if not self.eligible(environ):
            return self.wsgi_app(environ, start_response)
        where = (environ.get("PATH_INFO", ""), environ.get("HTTP_HOST", ""))
        entry = self.pages.get(where)
        if entry is not None and self._current(entry) and self._within_limits(environ):
            started = perf_counter()
            answer = self._serve(entry, environ, start_response)
            if self.app.config.get("LOG_JSON"):
                log_request("GET", where[0], 200, started)
            return answer
        return self._through_flask(where, environ, start_response)

    def _current(self, entry) -> bool:
        version = self.store.recent_version(float(self.app.config["PAGE_CACHE"]["public_recheck_s"]))
        return version == entry[0] and entry[2] == date.today() and set(entry[1].kinds) <= {"csrf", "key"}

    def _within_limits(self, environ) -> bool:
        if not limiter.enabled or not self.app.config.get("RATELIMIT_ENABLED", True):
            return True
        client = environ.get("REMOTE_ADDR") or "127.0.0.1"
        return all(limiter.limiter.hit(item, "labtour-first-visit", client) for item in self.limits)

    def _serve(self, entry, environ, start_response):
        self.served += 1
        secret = secrets.token_hex(20)
        csrf = URLSafeTimedSerializer(self.app.config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key,
                                      salt="wtf-csrf-token").dumps(secret)
        body = entry[1].fill({"csrf": lambda: csrf, "key": MAKERS["key"]})
        response = WerkzeugResponse(body, status=200, headers=entry[3])
        new_session = SecureCookieSession()
        new_session[self.app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")] = secret
        self.app.session_interface.save_session(self.app, new_session, response)
        return response(environ, start_response)

    def _through_flask(self, where, environ, start_response):
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        result = self.wsgi_app(environ, capture)
        public = environ.get(PUBLIC)
        if public is not None and seen.get("status", "").startswith("200"):
            version, page, day = public
            headers = [(k, v) for k, v in seen["headers"] if k.lower() not in self.DROP]
            if len(self.pages) >= self.MAX_PAGES:  # the Host header is the client's: keep a bound
                self.pages.clear()
            self.pages[where] = (version, page, day, headers)
        return result
