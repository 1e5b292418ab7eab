"""Headers, self-hosted assets, and no third-party host in any page."""
from __future__ import annotations

import re

from app.models import Role

PUBLIC_PAGES = ["/", "/anfrage/neu", "/datenschutz", "/staff/login"]


def test_security_headers_on_every_page(client):
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_third_party_assets(client, login, make_request):
    make_request()
    login(Role.ADMIN)
    urls = PUBLIC_PAGES + ["/staff/anfragen", "/staff/anfragen/1", "/staff/sperrzeiten", "/staff/module"]
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not re.match(r"(https?:)?//", ref) or "labtour.test" in ref, (url, ref)
        assert "style=" not in page and "<script>" not in page, url


def test_static_bootstrap_is_served_locally(client):
    response = client.get("/static/vendor/bootstrap/bootstrap.min.css")
    assert response.status_code == 200 and b".btn" in response.data


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    _id, email, password = make_user(Role.VIEWER)
    response = client.post("/staff/login", data={"email": email, "password": password})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_xss_in_organisation_name_is_escaped(client, login, make_request):
    _id, token = make_request(org_name='<script>alert(1)</script>"onmouseover=x')
    page = client.get(f"/verwalten/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    login(Role.VIEWER)
    page = client.get("/staff/anfragen").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page


def test_language_switch_only_redirects_inside_the_site(client):
    assert client.get("/sprache/en?next=https://evil.example/").location == "/"
    assert client.get("/sprache/en?next=//evil.example/").location == "/"
    assert client.get("/sprache/de?next=/datenschutz").location == "/datenschutz"


def test_error_pages_are_friendly(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404 and "Nicht gefunden" in response.get_data(as_text=True)
    assert client.post("/datenschutz").status_code == 405


def test_secret_links_are_redacted_in_access_logs(app):
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logger = logging.getLogger("werkzeug")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info('%s - - "%s" %s', "127.0.0.1", "GET /verwalten/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-x HTTP/1.1", 200)
        logger.info('"GET /feeds/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789.ics HTTP/1.1" 304')
    finally:
        logger.removeHandler(handler)
    assert records == ['127.0.0.1 - - "GET /verwalten/<token> HTTP/1.1" 200', '"GET /feeds/<token>.ics HTTP/1.1" 304']


def test_healthz_reports_database_and_scheduler_heartbeat(app, client):
    body = client.get("/healthz").get_json()
    assert body == {"database": "ok", "scheduler": "never ran", "scheduler_heartbeat_age_s": None}
    from scheduler.lock import LeaderLock
    lock = LeaderLock(app, "web-1")
    assert lock.try_acquire()
    body = client.get("/healthz").get_json()
    assert body["scheduler"] == "ok" and body["scheduler_heartbeat_age_s"] < 5
    lock.release()


def test_production_refuses_the_default_secret_key(tmp_path, monkeypatch):
    import pytest
    from app import create_app
    monkeypatch.setenv("LABTOUR_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    app = create_app({"PRODUCTION": True, "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_json_logs_carry_no_personal_data_or_secret_links(tmp_path, capsys, monkeypatch):
    import json
    import logging

    from .conftest import make_app, valid_form
    app = make_app("sqlite", tmp_path, LOG_JSON=True)
    app.test_client().get("/anfrage/neu")
    app.test_client().get("/anfrage/neu")  # answered from the cache before Flask: logged all the same
    client = app.test_client()
    client.post("/anfrage/neu", data=valid_form())
    link = client.get("/anfrage/eingegangen").get_data(as_text=True).split("/verwalten/")[1].split('"')[0]
    client.get(f"/verwalten/{link}")
    client.get("/staff/anfragen?q=Imke+Dierks")
    logging.getLogger().handlers[0].flush()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    requests = [entry for entry in lines if entry["message"] == "request"]
    assert {"method", "path", "status", "ms"} <= set(requests[0])
    assert app.extensions["first_visits"].served == 1
    assert [r["path"] for r in requests[:2]] == ["/anfrage/neu", "/anfrage/neu"]
    text = "\n".join(json.dumps(entry) for entry in lines)
    assert link not in text and "imke" not in text.lower() and "/verwalten/<token>" in text
    logging.getLogger().handlers.clear()


def test_nul_bytes_in_urls_are_a_clean_400(client):
    assert client.get("/api/v1/visits?district=%00").status_code == 400
    assert client.get("/staff/login?next=a%00b").status_code == 400


def test_privacy_page_says_what_is_kept_how_long_and_who_else_sees_the_browser(app, client):
    page = client.get("/datenschutz").get_data(as_text=True)
    retention = app.config["RETENTION"]
    assert f"{retention['anonymise_after_months']} Monate nach dem letzten Besuch" in page
    assert f"nach {retention['delete_declined_after_months']} Monaten" in page
    assert "Kartenkacheln von tile.openstreetmap.org" in page
