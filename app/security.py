"""Secret tokens (stored only as hashes) and HTTP security headers."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, g, request


def new_token() -> str:
    """A URL-safe secret of 256 bits for manage links."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 suffices for 256-bit random tokens; it survives a SECRET_KEY rotation."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def tokens_match(stored_hash: str, token: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_token(token))


def _tile_origin(app: Flask) -> str:
    parts = urlsplit(app.config.get("TILE_URL", ""))
    return f"{parts.scheme}://{parts.netloc.replace('{s}.', '*.')}" if parts.netloc else ""


def csp_nonce() -> str:
    """A per-response nonce for the inline script and styles of a map page (folium emits them inline)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


class RedactTokens(logging.Filter):
    """Secret links (manage, feed, partner report, host answers, password reset) never reach a log line."""
    PATTERN = re.compile(r"/(verwalten|feeds|partner|gastgeber/logistik|gastgeber/rueckmeldung|staff/passwort-neu)"
                         r"/[A-Za-z0-9_\-]{16,}")

    @classmethod
    def redact(cls, text: str) -> str:
        return cls.PATTERN.sub(r"/\1/<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.PATTERN.search(message):
            record.msg, record.args = self.redact(message), ()
        return True


def init_security(app: Flask) -> None:
    """Strict headers on every response: nothing loads from third-party hosts but the tile server."""
    tiles = _tile_origin(app)

    def policy(nonce: str) -> str:
        return "; ".join([
            "default-src 'self'",
            f"img-src 'self' data: {tiles}".strip(),
            f"style-src 'self'{nonce}",
            f"script-src 'self'{nonce}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ])
    plain = policy("")

    def csp() -> str:
        return policy(f" 'nonce-{g.csp_nonce}'") if "csp_nonce" in g else plain

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())

    @app.before_request
    def _no_nul():
        """A NUL byte has no business in a URL (PostgreSQL cannot even store one): no such page, or a bad query."""
        if "\x00" in request.path:
            abort(404)
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", csp())
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
