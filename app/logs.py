"""Structured logs: one JSON object per line, a request line per response, and no personal data.

Request lines carry method, path (secret links redacted, no query string: searches may hold names), status and
duration; messages pass the same redaction. Switched on with LOG_JSON (bin/serve sets it).
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

from flask import Flask, g, request

from .security import RedactTokens

log = logging.getLogger("labtour.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False)


def init_logging(app: Flask) -> None:
    if not app.config.get("LOG_JSON"):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("werkzeug", "gunicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the request line below replaces access logs

    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.after_request
    def _line(response):
        log_request(request.method, request.path, response.status_code, g.get("started", time.perf_counter()))
        return response


def log_request(method: str, path: str, status: int, started: float) -> None:
    """One request line (also for the answers app/pages.py gives before Flask)."""
    fields = {"method": method, "path": RedactTokens.redact(path), "status": status,
              "ms": round((time.perf_counter() - started) * 1000, 1)}
    log.info("request", extra={"fields": fields})
