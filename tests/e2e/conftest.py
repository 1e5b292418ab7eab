"""The app served on localhost and Debian's Chromium driven by Playwright; a screenshot when a test fails."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from scheduler.mailsink import MailSink

from ..conftest import make_app

CHROMIUM = os.environ.get("LABTOUR_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def sink():
    server = MailSink().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, sink):
    """LabTour with CSRF and everything on, served by a real HTTP server on a free port."""
    tmp = tmp_path_factory.mktemp("e2e")
    app = make_app("sqlite", tmp, WTF_CSRF_ENABLED=True, SERVER_NAME=None, TILE_URL="/static/no-tiles/{z}/{x}/{y}.png")
    app.config["MAIL"].update(transport="smtp", smtp_host="127.0.0.1", smtp_port=sink.port)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base = f"http://127.0.0.1:{server.server_port}"
    app.config["MAIL"]["base_url"] = app.base
    yield app
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(locale="de-DE", accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    page.close()


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core findings on the page as it is now."""
    page.evaluate(AXE.read_text())  # evaluated through the DevTools protocol: the page's CSP stays on
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
