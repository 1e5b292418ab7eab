"""Geocoding chain offline, the manual pin, and road distances from a local server speaking OSRM's table API."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import GeoSource, Organisation, Role, Tour, VisitRequest
from maps import geocode, travel

from .conftest import plan


def test_postcode_centroid_works_offline_for_any_german_postcode():
    vegesack = geocode.locate("Am Hafen 1", "28757", "Bremen")
    assert vegesack.source == "postcode" and 53.1 < vegesack.lat < 53.3 and 8.5 < vegesack.lon < 8.8
    assert geocode.locate("x", "00000", "Nirgendwo") is None
    assert geocode.locate("x", "28757", "Bremen", manual=(53.0, 8.0)) == geocode.Position(53.0, 8.0, "manual")


def test_geocoder_comes_before_the_centroid_and_may_fail():
    asked = []

    def fake(query):
        asked.append(query)
        return geocode.Position(53.5, 8.5, "geocoder") if "Deich" in query else None

    assert geocode.locate("Am Deich 3", "26919", "Brake", geocoder=fake).source == "geocoder"
    assert geocode.locate("Schulstraße 4", "26919", "Brake", geocoder=fake).source == "postcode"
    assert asked == ["Am Deich 3, 26919 Brake", "Schulstraße 4, 26919 Brake"]


def test_request_records_where_its_position_came_from(app, make_request):
    make_request(postcode="28757", town="Bremen", district="Bremen", org_name="BBS Vegesack")
    with app.app_context():
        org = db.session.scalar(sa.select(Organisation))
        assert org.geo_source == GeoSource.POSTCODE and org.state == "HB" and org.lat is not None


def test_staff_pin_the_position_by_hand(app, client, login, make_request):
    rid, _ = make_request()
    login(Role.PLANNER)
    bad = client.post(f"/staff/anfragen/{rid}/position", data={"lat": "99", "lon": "8.4"})
    assert bad.status_code == 400 and "47 bis 56" in bad.get_data(as_text=True)
    client.post(f"/staff/anfragen/{rid}/position", data={"lat": "53.3301", "lon": "8.4702"})
    with app.app_context():
        org = db.session.get(VisitRequest, rid).organisation
        assert (org.lat, org.lon, org.geo_source) == (53.3301, 8.4702, GeoSource.MANUAL)
    assert "von Hand gesetzt" in client.get(f"/staff/anfragen/{rid}").get_data(as_text=True)


class _OsrmTable(BaseHTTPRequestHandler):
    """A tiny server speaking OSRM's table protocol: every leg is 10 km per coordinate-index step, 12 min."""
    calls = 0

    def do_GET(self):  # noqa: N802
        type(self).calls += 1
        coords = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        n = len(coords)
        body = {"code": "Ok", "distances": [[abs(i - j) * 10000.0 for j in range(n)] for i in range(n)],
                "durations": [[abs(i - j) * 720.0 for j in range(n)] for i in range(n)]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsrmTable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _OsrmTable.calls = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_osrm_backend_reads_the_table_and_caches_per_coordinate_set(osrm_server):
    backend = travel.Osrm(osrm_server)
    points = [(53.1, 8.8), (53.3, 8.4), (53.8, 8.7)]
    km, minutes = backend.matrix(points)
    assert km[0][2] == 20.0 and minutes[0][1] == 12.0
    backend.matrix(points)
    assert _OsrmTable.calls == 1
    backend.matrix(points[:2])
    assert _OsrmTable.calls == 2


def test_great_circle_estimate():
    km, minutes = travel.GreatCircle(1.3, 60).matrix([(53.0804, 8.8052), (53.5687, 8.5598)])
    assert km[0][1] == pytest.approx(travel.haversine_km((53.0804, 8.8052), (53.5687, 8.5598)) * 1.3)
    assert 70 < km[0][1] < 80 and minutes[0][1] == pytest.approx(km[0][1])


def test_planning_uses_road_values_when_osrm_is_configured(app, client, login, approved, osrm_server):
    app.config["MAPS"]["osrm_url"] = osrm_server
    login(Role.PLANNER)
    tid = plan(client)
    with app.app_context():
        tour = db.session.get(Tour, tid)
        assert _OsrmTable.calls >= 1
        assert all(round(leg.km, 6) % 10 == 0 for leg in tour.legs)
        assert tour.km == pytest.approx(sum(leg.km for leg in tour.legs))
