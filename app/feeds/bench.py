"""python -m app.feeds.bench: a 500-event partner feed under gunicorn against a hello-world Flask app, both loaded
with wrk on localhost in the same run. Prints one JSON object with the throughputs and ratios."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent.parent
EVENTS = 500
hello = Flask("hello")


@hello.route("/")
def _hello():
    return "Hello, World!"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(instance: Path) -> str:
    """A published tour of EVENTS visits and one partner for the whole tour; returns the feed path."""
    os.environ["LABTOUR_INSTANCE_PATH"] = str(instance)
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import (Contact, Organisation, OrgKind, RequestStatus, SiteLogistics, Tour, TourStatus, Visit,
                            VisitRequest)
    from app.services import feeds

    app = create_app()
    with app.app_context():
        upgrade()
        now = datetime.now(timezone.utc)
        tour = Tour(horizon_start=date(2027, 1, 1), horizon_end=date(2028, 12, 31), version=1,
                    status=TourStatus.PUBLISHED, published_at=now)
        day = date(2027, 1, 4)
        for n in range(EVENTS):
            org = Organisation(kind=OrgKind.BBS, name=f"BBS Bench {n}", street="Schulstraße 1", postcode="26919",
                               town="Brake (Unterweser)", district="Wesermarsch", state="NI", lat=53.33, lon=8.46)
            req = VisitRequest(organisation=org, contact=Contact(organisation=org, name="x", email="x@x.example",
                                                                 consent_at=now),
                               status=RequestStatus.CONFIRMED, duration_half_days=2, classes_per_day=3,
                               participants=40, manage_token_hash=f"{n:064d}")
            req.logistics = SiteLogistics(space_length_m=30, space_width_m=8, surface="paved", power_type="cee32",
                                          permit="no")
            tour.visits.append(Visit(request=req, start=day, end=day, half=None))
            day += timedelta(days=3 if day.weekday() == 4 else 1)
        db.session.add(tour)
        db.session.commit()
        _partner, token = feeds.create_partner(None, "Bench", [])
    return f"/feeds/{token}.ics"


def _serve(target: str, port: int, env: dict, workers: str = "2") -> subprocess.Popen:
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", workers, "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", target], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error (404) means the server answers
                break
            time.sleep(0.1)
    return proc


def _wrk(url: str, header: str | None = None, seconds: int = 5) -> float:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", url] + (["-H", header] if header else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    instance = Path(tempfile.mkdtemp(prefix="labtour-bench-"))
    path = _seed(instance)
    env = {**os.environ, "LABTOUR_INSTANCE_PATH": str(instance), "LABTOUR_RATELIMIT_ENABLED": "false"}
    app_port, hello_port = _free_port(), _free_port()
    procs = [_serve("app:create_app()", app_port, env), _serve("app.feeds.bench:hello", hello_port, env)]
    try:
        url = f"http://127.0.0.1:{app_port}{path}"
        with urllib.request.urlopen(url) as response:
            etag, body = response.headers["ETag"], response.read()
        events = body.count(b"BEGIN:VEVENT")
        hello_rps = _wrk(f"http://127.0.0.1:{hello_port}/")
        full_rps = _wrk(url)
        not_modified_rps = _wrk(url, f"If-None-Match: {etag}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)
    print(json.dumps({"events": events, "full_rps": full_rps, "not_modified_rps": not_modified_rps,
                      "hello_rps": hello_rps, "full_ratio": round(full_rps / hello_rps, 3),
                      "not_modified_ratio": round(not_modified_rps / hello_rps, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
