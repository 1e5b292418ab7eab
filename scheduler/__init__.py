"""LabTour's scheduler: APScheduler jobs that queue due reminders and drain the e-mail outbox.

Runs in the web process by default (started by the first request it serves, so neither the reloader's
watcher nor a CLI command starts one) or as its own process (`python -m scheduler`). Wherever it runs, only
the process that holds the leader lock (see `lock.py`) has a running APScheduler; the others wait to take over.
"""
from .runner import Runner, ensure_started

__all__ = ["Runner", "ensure_started", "once"]


def once(app, job: str, now=None):
    """Run one job now (or at the injected `now`) and return its result."""
    from app.services import outbox, reminders, retention

    fn = {"enqueue": reminders.enqueue_due, "drain": outbox.drain, "retention": retention.purge}[job]
    with app.app_context():
        return fn(now)
