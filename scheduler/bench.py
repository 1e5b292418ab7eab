"""`python -m scheduler.bench`: deliver 10,000 due reminders to a local SMTP server (aiosmtpd) and count them.

PostgreSQL when LABTOUR_BENCH_DATABASE_URL is set (tables in a schema of their own), else a temporary SQLite
file. The SMTP server runs in its own process, as a real one would. Baseline, in the same run: as many
messages sent over one plain smtplib connection with no database (`baseline_per_second`); `ratio` is
LabTour's rate over it. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa

from .mailsink import free_port

SCHEMA = "labtour_bench"


def _app(url: str, instance: str):
    os.environ["LABTOUR_INSTANCE_PATH"] = instance
    from app import create_app
    from app.extensions import db

    config = {"SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{instance}/bench.sqlite"}
    if url:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={SCHEMA}"}}
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        engine.dispose()
    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def _queue(app, n: int) -> None:
    from app.extensions import db
    from app.models import Reminder, ReminderStatus

    due = datetime.now(timezone.utc) - timedelta(minutes=1)
    with app.app_context():
        for start in range(0, n, 2000):
            db.session.execute(sa.insert(Reminder), [
                {"kind": "visit_reminder", "dedupe_key": f"bench:{i}", "to_addr": f"host{i}@schule.example",
                 "subject": f"Erinnerung: InnovationLab bei BBS {i}", "body": "Der Truck kommt am Nachmittag vorher.\n"
                 * 8, "language": "de", "due_at": due, "next_attempt_at": due, "status": ReminderStatus.QUEUED,
                 "attempts": 0, "last_error": "", "attachment_ics": "", "created_at": due}
                for i in range(start, min(n, start + 2000))])
        db.session.commit()


def _baseline(port: int, n: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            msg = EmailMessage()
            msg["From"], msg["To"], msg["Subject"] = "labtour@visurgis.example", f"b{i}@x.example", f"Baseline {i}"
            msg["Message-ID"] = f"<baseline.{i}@visurgis.example>"
            msg.set_content("Der Truck kommt am Nachmittag vorher.\n" * 8)
            msg.add_alternative("<p>Der Truck kommt am Nachmittag vorher.</p>" * 8, subtype="html")
            smtp.send_message(msg)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scheduler.bench")
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args(argv)
    url = os.environ.get("LABTOUR_BENCH_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as instance:
        app = _app(url, instance)
        app.config["MAIL"].update(transport="smtp", smtp_host="127.0.0.1", smtp_security="none", smtp_username="")
        _queue(app, args.messages)
        port = free_port()
        app.config["MAIL"]["smtp_port"] = port
        ids_file = Path(instance) / "received.txt"
        sink = subprocess.Popen([sys.executable, "-m", "scheduler.mailsink", str(port), str(ids_file)],
                                stdout=subprocess.PIPE)
        try:
            sink.stdout.readline()
            baseline_s = _baseline(port, args.messages)
            ids_file.write_text("")
            from app.services import outbox

            started = time.perf_counter()
            with app.app_context():
                result = outbox.drain()
            seconds = time.perf_counter() - started
            time.sleep(0.2)
        finally:
            sink.terminate()
            sink.wait(10)
        ids = Counter(line for line in ids_file.read_text().splitlines() if line)
    delivered = len(ids)
    print(json.dumps({
        "messages": args.messages, "seconds": round(seconds, 2), "per_second": round(args.messages / seconds, 1),
        "delivered": delivered, "duplicates": sum(n - 1 for n in ids.values()), "lost": args.messages - delivered,
        "database": "postgresql" if url else "sqlite", "sent_rows": result.sent,
        "baseline_per_second": round(args.messages / baseline_s, 1), "ratio": round(baseline_s / seconds, 3)}))
    return 0 if delivered == args.messages and result.sent == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
