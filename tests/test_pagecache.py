"""Cached pages (form, calendar, maps): never stale after a change, in any worker; nothing per-user leaks."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import Organisation, Role, Tour, TourStatus, User, VisitRequest
from app.services import pagecache

from .conftest import plan, valid_form

MARCH = "/staff/touren/kalender?ansicht=monat&datum=2027-03-01"


def other_worker(app):
    """A second app on the same database: what another gunicorn worker process is."""
    keep = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "RATELIMIT_ENABLED", "SERVER_NAME")
    return create_app({k: app.config[k] for k in keep})


def log_in(client, email, password="correct-horse-42"):
    assert client.post("/staff/login", data={"email": email, "password": password}).status_code == 302


def store(app) -> pagecache.PageStore:
    return app.extensions["pagecache"]


def version(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT n FROM content_version WHERE id = 1")) or 0


def test_a_change_shows_at_once_in_every_worker(app, client, published, make_user):
    worker = other_worker(app)
    _, email, _ = make_user(Role.VIEWER, "ansicht@labtour.example")
    viewer = worker.test_client()
    log_in(viewer, email)
    assert "BBS Test 0" in viewer.get(MARCH).get_data(as_text=True)
    hits = store(worker).hits
    assert "BBS Test 0" in viewer.get(MARCH).get_data(as_text=True)
    assert store(worker).hits == hits + 1, "the second view came from the cache"

    with app.app_context():  # this worker renames the school through the ORM
        db.session.scalar(sa.select(Organisation).where(Organisation.name == "BBS Test 0")).name = "BBS Umbenannt"
        db.session.commit()
    page = viewer.get(MARCH).get_data(as_text=True)
    assert "BBS Umbenannt" in page and "BBS Test 0" not in page

    with app.app_context():  # and again with a plain UPDATE statement, no ORM object involved
        db.session.execute(sa.update(Organisation).where(Organisation.name == "BBS Umbenannt")
                           .values(name="BBS Nochmal"))
        db.session.commit()
    assert "BBS Nochmal" in viewer.get(MARCH).get_data(as_text=True)
    with worker.app_context():
        db.engine.dispose()


def test_rolled_back_and_unrelated_writes_keep_the_cache(app, client, published):
    client.get(MARCH)  # shows the "published" message, so it is not kept
    client.get(MARCH)
    before = version(app)
    with app.app_context():
        db.session.scalar(sa.select(Organisation).where(Organisation.name == "BBS Test 1")).name = "Nie gespeichert"
        db.session.flush()
        db.session.rollback()
        db.session.execute(sa.text("UPDATE scheduler_lock SET holder = 'x'"))  # not shown on any cached page
        db.session.commit()
    assert version(app) == before
    hits = store(app).hits
    assert "Nie gespeichert" not in client.get(MARCH).get_data(as_text=True)
    assert store(app).hits == hits + 1


def test_a_write_outside_a_transaction_counts_too(app, client, published):
    client.get(MARCH)
    client.get(MARCH)
    before = version(app)
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.update(Organisation).where(Organisation.name == "BBS Test 2").values(name="BBS Sofort"))
    assert version(app) == before + 1
    assert "BBS Sofort" in client.get(MARCH).get_data(as_text=True)


def test_publishing_a_new_version_replaces_the_cached_calendar_and_map(app, client, published, approved):
    first_map = client.get(f"/staff/touren/{published}/karte")
    assert first_map.status_code == 200
    before = client.get(MARCH).get_data(as_text=True)
    second = plan(client)
    with app.app_context():
        visit = db.session.get(Tour, second).visits[0]
        vid, name = visit.id, visit.request.organisation.name
    assert name in before
    client.post(f"/staff/touren/{second}/besuch/{vid}/entfernen")
    client.post(f"/staff/touren/{second}/veroeffentlichen")
    with app.app_context():
        assert db.session.get(Tour, second).status == TourStatus.PUBLISHED
    after = client.get(MARCH).get_data(as_text=True)
    assert name not in after and after.count("cal-visit") < before.count("cal-visit")
    assert name not in client.get(f"/staff/touren/{second}/karte").get_data(as_text=True)
    assert name in client.get(f"/staff/touren/{published}/karte").get_data(as_text=True), "the archived version"


def _tables_read(app, client, url) -> set[str]:
    seen: set[str] = set()

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.update(t.lower() for t in re.findall(r'(?:FROM|JOIN)\s+"?([A-Za-z_]\w*)', statement))

    store(app).clear()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return seen


def test_every_cached_page_reads_only_tables_whose_changes_invalidate_it(app, client, published):
    """A cached page that showed data from a table missing in PAGE_TABLES would stay stale after its change."""
    with app.app_context():
        draft = plan(client)
        day = db.session.get(Tour, published).visits[0].start.isoformat()
    urls = {
        "booking.new": ["/anfrage/neu"],
        "tour.calendar": [MARCH, "/staff/touren/kalender?ansicht=woche&datum=2027-03-01",
                          "/staff/touren/kalender?ansicht=liste", f"/staff/touren/kalender?version={draft}"],
        "tour.tour_map": [f"/staff/touren/{published}/karte"],
        "tour.day_map": [f"/staff/touren/{published}/karte/{day}"],
        "tour.region_map": ["/staff/touren/region"],
    }
    cached = {rule.endpoint for rule in app.url_map.iter_rules()
              if getattr(app.view_functions[rule.endpoint], "cached_page", False)}
    assert cached == set(urls), "a cached page without a check here"
    allowed = pagecache.PAGE_TABLES | {"user", "content_version"}  # the role is part of every key
    for endpoint, paths in urls.items():
        for url in paths:
            read = _tables_read(app, client, url)
            assert read and read <= allowed, (url, read - allowed)


def test_roles_do_not_share_pages(app, client, published, make_user):
    draft = plan(client)
    url = f"/staff/touren/kalender?version={draft}"
    planner_page = client.get(url).get_data(as_text=True)
    assert "Partner" in planner_page  # the planner's navigation
    _, email, _ = make_user(Role.VIEWER, "ansicht@labtour.example")
    viewer = app.test_client()
    log_in(viewer, email)
    assert viewer.get(url).status_code == 403, "a draft is for planners, cached or not"
    page = viewer.get(MARCH).get_data(as_text=True)
    assert "Partner" not in page and "BBS Test 0" in page
    assert viewer.get(MARCH).status_code == 200
    assert app.test_client().get(MARCH).status_code == 302, "anonymous visitors are sent to the login"


def test_a_deactivated_account_is_out_at_once(app, client, published, make_user):
    uid, email, _ = make_user(Role.VIEWER, "ansicht@labtour.example")
    viewer = app.test_client()
    log_in(viewer, email)
    assert viewer.get(MARCH).status_code == 200
    assert viewer.get(MARCH).status_code == 200
    with app.app_context():
        db.session.get(User, uid).active = False
        db.session.commit()
    assert viewer.get(MARCH).status_code == 302
    assert viewer.get("/staff/anfragen").status_code == 302


def test_flashed_messages_are_shown_once_and_never_cached(app, client, published):
    client.get(MARCH)
    with client.session_transaction() as s:
        s["_flashes"] = [("info", "Nur einmal zu sehen")]
    assert "Nur einmal zu sehen" in client.get(MARCH).get_data(as_text=True)
    assert "Nur einmal zu sehen" not in client.get(MARCH).get_data(as_text=True)


def test_every_response_gets_its_own_nonce_and_submission_key(app, client, published):
    nonces = []
    for _ in range(2):
        response = client.get(f"/staff/touren/{published}/karte")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in response.get_data(as_text=True)
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    keys = [re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"',
                      client.get("/anfrage/neu").get_data(as_text=True)).group(1) for _ in range(2)]
    assert keys[0] != keys[1]


@pytest.fixture
def guarded(backend, tmp_path):
    """CSRF and rate limiting on, as in production: 4 page views per minute and client."""
    from .conftest import make_app
    app = make_app(backend, tmp_path, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="4 per minute")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_first_visits_get_their_own_session_and_can_submit(guarded):
    shortcut = guarded.extensions["first_visits"]
    assert guarded.test_client().get("/anfrage/neu").status_code == 200  # rendered by Flask, then kept
    a, b = guarded.test_client(), guarded.test_client()
    page_a, page_b = a.get("/anfrage/neu"), b.get("/anfrage/neu")
    assert shortcut.served == 2
    for response in (page_a, page_b):
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html_a, html_b = page_a.get_data(as_text=True), page_b.get_data(as_text=True)
    assert _token(html_a) != _token(html_b)
    assert "\x00" not in html_a
    key = re.search(r'name="submission_key" type="hidden" value="([0-9a-f]{32})"', html_b).group(1)

    stolen = a.post("/anfrage/neu", data=valid_form(csrf_token=_token(html_b)))
    assert stolen.status_code == 200 and "zu lange geöffnet" in stolen.get_data(as_text=True), "b's token is not a's"
    sent = b.post("/anfrage/neu", data=valid_form(csrf_token=_token(html_b), submission_key=key))
    assert sent.status_code == 302 and sent.location.endswith("/anfrage/eingegangen")
    with guarded.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VisitRequest.id))) == 1


def test_first_visits_are_rate_limited(guarded):
    shortcut = guarded.extensions["first_visits"]
    statuses = [guarded.test_client().get("/anfrage/neu").status_code for _ in range(12)]
    assert shortcut.served == 4, "the shortcut serves a client its limit, then leaves it to Flask"
    assert set(statuses) <= {200, 429}  # Flask-Limiter's own count decides (its defaults are process-wide)
    other = guarded.test_client().get("/anfrage/neu", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200 and shortcut.served == 5, "another client has its own allowance"


def test_the_shortcut_follows_a_changed_module_list(guarded):
    client = guarded.test_client()
    client.get("/anfrage/neu")
    assert guarded.test_client().get("/anfrage/neu").status_code == 200
    with guarded.app_context():
        db.session.execute(sa.text("UPDATE module SET name_de = 'Digitaler Zwilling' WHERE code = 'robotik'"))
        db.session.commit()
    assert "Digitaler Zwilling" in guarded.test_client().get("/anfrage/neu").get_data(as_text=True)
