"""The production serving command (bin/serve) starts, migrates an empty database and answers."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bin_serve_migrates_and_serves_with_gunicorn(tmp_path):
    port = _port()
    env = {**os.environ, "LABTOUR_SECRET_KEY": "x" * 48, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite'}",
           "LABTOUR_INSTANCE_PATH": str(tmp_path / "instance"), "LABTOUR_SCHEDULER__mode": "external",
           "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    server = subprocess.Popen(["bash", str(ROOT / "bin" / "serve")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(150):
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()[-2000:]
                time.sleep(0.2)
        else:
            raise AssertionError("bin/serve did not answer within 30 s")
        assert health.status == 200
        for _ in range(3):  # rendered once, then from the cache: the same production headers each time
            form = urllib.request.urlopen(f"http://127.0.0.1:{port}/anfrage/neu", timeout=5)
            assert form.status == 200 and "Secure" in form.headers["Set-Cookie"]
            assert "max-age" in form.headers["Strict-Transport-Security"]
            assert b"Besuch anfragen" in form.read()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
