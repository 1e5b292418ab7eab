"""The scheduler's jobs: each pushes an app context and calls one service (referenced by name in the job store)."""
from __future__ import annotations

import logging

from flask import Flask

log = logging.getLogger(__name__)
_app: Flask | None = None


def bind(app: Flask) -> None:
    global _app
    _app = app


def _run(name: str, fn) -> None:
    assert _app is not None, "scheduler.jobs.bind(app) first"
    with _app.app_context():
        try:
            fn()
        except Exception:  # one failing run must not stop the scheduler; the next tick tries again
            log.exception("scheduler: job %s failed", name)
            from app.extensions import db
            db.session.rollback()
            raise


def drain() -> None:
    from app.services import outbox
    _run("drain", lambda: outbox.drain(limit=2000))


def enqueue() -> None:
    from app.services import reminders
    _run("enqueue", reminders.enqueue_due)


def digest() -> None:
    """At the digest time: queue the digest and send it at once."""
    enqueue()
    drain()


def retention() -> None:
    from app.services import retention as service
    _run("retention", service.purge)
