"""Maps: self-hosted assets only, escaped popups, the three map pages."""
from __future__ import annotations

import re


from app.extensions import db
from app.models import Role
from app.services import tours
from maps import render

from .conftest import D, plan

XSS = '<script>alert(1)</script>"onmouseover=alert(2)'


def loaded_hosts(page: str) -> set[str]:
    """Hosts the page loads anything from: src/href attributes, and tile layers in the script."""
    urls = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", page)
    urls += re.findall(r'L\.tileLayer\(\s*"([^"]+)"', page)
    return {re.sub(r"^(?:https?:)?//", "", u).split("/")[0] for u in urls if "//" in u}


def test_tour_and_day_maps_load_only_self_hosted_assets_and_the_tile_server(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    page = client.get(f"/staff/touren/{tid}/karte")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert loaded_hosts(html) <= {"tile.openstreetmap.org", "labtour.test"}
    assert "/static/vendor/leaflet/leaflet.js" in html and "cdn" not in html.lower()
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert all(f'nonce="{nonce}"' in tag for tag in re.findall(r"<script(?![^>]*src=)[^>]*>", html))
    assert "BBS Test 0" in html and "KW" in html
    with app.app_context():
        day = db.session.get(tours.Tour, tid).visits[0].start
    assert client.get(f"/staff/touren/{tid}/karte/{day.isoformat()}").status_code == 200
    assert client.get(f"/staff/touren/{tid}/karte/2027-03-06").status_code == 404


def test_popups_are_escaped(app, client, login, make_approved):
    make_approved(org_name=XSS, windows=[(D("2027-03-01"), D("2027-03-12"))])
    login(Role.PLANNER)
    tid = plan(client)
    for url in (f"/staff/touren/{tid}/karte", "/staff/touren/region"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html
        # travels as JSON (quotes escaped, no tag characters) and becomes a DOM text node in the browser
        assert '\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\"onmouseover=alert(2)' in html


def test_region_map_shows_requests_by_status_and_the_oberzentren(app, client, login, approved, make_approved):
    rid, _ = make_approved(org_name="BBS Zu Kurz", half_days=6, windows=[(D("2027-03-04"), D("2027-03-09"))])
    login(Role.PLANNER)
    tid = plan(client)
    client.post(f"/staff/touren/{tid}/veroeffentlichen")
    html = client.get("/staff/touren/region").get_data(as_text=True)
    assert loaded_hosts(html) <= {"tile.openstreetmap.org", "labtour.test"}
    assert "BBS Wartend" in html and "BBS Test 2" in html
    assert all(c in html for c in render.STATUS_COLOURS.values())
    assert "map-centre" in html and "Bremerhaven" in html and "Wesermarsch" in html
    assert "leaflet.markercluster.js" in html and "markerClusterGroup" in html
    assert "imke.dierks" not in html and "04401 123456" not in html


def test_contact_data_never_reaches_a_map(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    html = client.get(f"/staff/touren/{tid}/karte").get_data(as_text=True)
    assert "imke.dierks@schule.example" not in html and "Imke Dierks" not in html and "Hauke Gerdes" not in html


def test_external_hosts_finds_cdn_references():
    html = '<script src="https://cdn.example/x.js"></script><link href="//fonts.example/a.css">'
    assert render.external_hosts(html) == ["cdn.example", "fonts.example"]
    assert render.external_hosts(html, allowed=("cdn.example",)) == ["fonts.example"]
