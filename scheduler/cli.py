"""`flask --app app scheduler run|enqueue|drain|retention`: the same as `python -m scheduler`."""
from __future__ import annotations

from datetime import datetime

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    @app.cli.group("scheduler")
    def group():
        """LabTour's scheduler: reminders, outbox, retention."""

    @group.command("run")
    def run():
        """Run the scheduler in this process until stopped (production: its own process)."""
        from .__main__ import main
        main(["run"])

    for job in ("enqueue", "drain", "retention"):
        @group.command(job)
        @click.option("--now", help="Clock for this run, ISO 8601 with offset.")
        def one(now: str | None, _job=job):
            """Run one job once."""
            from . import once
            click.echo(once(current_app._get_current_object(), _job, datetime.fromisoformat(now) if now else None))
