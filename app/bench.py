"""`python -m app.bench`: LabTour's busiest pages under gunicorn on PostgreSQL, against a hello-world Flask app
served the same way in the same run, loaded by wrk (50 connections) on localhost.

Pages: the public request form, the published calendar (month of the demo semester) and the tour map, with the
demo semester (`seed-demo`) in a database of its own. Workers: 2 x cores + 1 (what bin/serve starts), for both.
Rate limiting is off for the run (wrk is one client). Every page is loaded for 2 s before the 6 s that count, so
that each worker has imported, connected and rendered once (the steady state, not a deploy's first seconds).
Prints one JSON object per page.
Needs wrk (apt-get install wrk) and PostgreSQL (LABTOUR_BENCH_DATABASE_URL, default the CI server's `test`).
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from .feeds.bench import _free_port, _serve

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "labtour_appbench"
LUA = 'done = function(s, latency, r) io.write(string.format("P95_US %d\\n", latency:percentile(95))) end\n'


def _wrk(url: str, script: Path, cookie: str = "", connections: int = 50, seconds: int = 6) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} error responses under load")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rps, int(re.search(r"P95_US (\d+)", out).group(1)) / 1000


def _login(base: str) -> str:
    """The session cookie of the demo viewer, logged in through the real form (with its CSRF token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/staff/login").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": csrf, "email": "ansicht@labtour.example",
                                   "password": "demo-ansicht-2027"}).encode()
    opener.open(f"{base}/staff/login", data=data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    server = os.environ.get("LABTOUR_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    instance = Path(tempfile.mkdtemp(prefix="labtour-appbench-"))
    script = instance / "p95.lua"
    script.write_text(LUA)
    workers = str(2 * (os.cpu_count() or 1) + 1)
    env = {**os.environ, "DATABASE_URL": server.rsplit("/", 1)[0] + f"/{DATABASE}",
           "LABTOUR_INSTANCE_PATH": str(instance), "LABTOUR_RATELIMIT_ENABLED": "false",
           "LABTOUR_SCHEDULER__mode": "external"}
    procs = []
    try:
        subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app", "seed-demo"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
        app_port, hello_port = _free_port(), _free_port()
        procs = [_serve("app.wsgi:application", app_port, env, workers), _serve("app.feeds.bench:hello", hello_port, env,
                                                                           workers)]
        base = f"http://127.0.0.1:{app_port}"
        cookie = _login(base)
        with sa.create_engine(env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)).connect() as c:
            tour_id = c.execute(sa.text("SELECT id FROM tour WHERE status = 'published'")).scalar()
        _wrk(f"http://127.0.0.1:{hello_port}/", script, seconds=2)
        hello_rps, _ = _wrk(f"http://127.0.0.1:{hello_port}/", script)
        pages = [("form", "/anfrage/neu", ""), ("calendar", "/staff/touren/kalender?ansicht=monat&datum=2027-03-01",
                                                cookie), ("map", f"/staff/touren/{tour_id}/karte", cookie)]
        for name, path, auth in pages:
            _wrk(base + path, script, auth, seconds=2)
            rps, p95 = _wrk(base + path, script, auth)
            print(json.dumps({"page": name, "rps": rps, "p95_ms": p95, "hello_rps": hello_rps,
                              "ratio": round(rps / hello_rps, 3)}), flush=True)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
