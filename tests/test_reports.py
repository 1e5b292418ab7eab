"""The impact report: what it counts, the partner's scope, exports that a spreadsheet cannot run."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.models import Feedback, Leg, Role, Visit, VisitRequest
from app.security import hash_token
from app.services import feeds, impact, tours


def _figures(html: str) -> list[str]:
    block = html.split('id="figures"')[1].split("</div>\n</div>")[0]
    return re.findall(r'fs-3 fw-bold">([^<]+)<', block)


def test_report_counts_the_published_visits(app, client, published, approved):
    html = client.get("/staff/bericht?start=2027-02-01&end=2027-06-30").get_data(as_text=True)
    with app.app_context():
        visits = db.session.scalars(sa.select(Visit).where(Visit.tour_id == published)).all()
        km = sum(leg.km for leg in db.session.scalars(sa.select(Leg).where(Leg.tour_id == published)))
        planned = sum(v.request.participants for v in visits)
    figures = _figures(html)
    assert figures[0] == str(len(visits)) == "3"
    assert figures[3] == str(planned)
    assert figures[5] == "67 %", "Brake and Cuxhaven are outside the Oberzentren, Bremen is not"
    assert figures[6] == "3", "all three are first-time organisations"
    with app.app_context():
        report = impact.build(*tours.half_year_of(visits[0].start))
    assert abs(report.km - round(km, 1)) < 0.05 and report.co2_kg == round(report.km * 0.93, 1)
    assert [d for d, _n, _p in report.by_district] == sorted(["Bremen", "Cuxhaven", "Wesermarsch"])
    assert "Wesermarsch" in html and "BBS Test 0" in html
    empty = client.get("/staff/bericht?start=2027-08-01&end=2027-12-31").get_data(as_text=True)
    assert _figures(empty)[0] == "0" and "Keine Besuche in diesem Zeitraum" in empty


def test_feedback_feeds_participants_reached_and_the_rating(app, client, published, approved):
    with app.app_context():
        v = db.session.scalar(sa.select(Visit).where(Visit.tour_id == published, Visit.request_id == approved[0]))
        db.session.add(Feedback(request_id=v.request_id, visit_uid=v.uid, visit_start=v.start,
                                token_hash=hash_token("x"), submitted_at=datetime(2027, 3, 20, tzinfo=timezone.utc), rating=4,
                                participants_reached=51, comments="Die Azubis waren begeistert"))
        db.session.commit()
    html = client.get("/staff/bericht?start=2027-02-01&end=2027-06-30").get_data(as_text=True)
    figures = _figures(html)
    assert figures[4] == "51" and figures[9] == "4"
    assert "Die Azubis waren begeistert" in html


def test_bad_dates_fall_back_with_a_clear_warning(client, published):
    response = client.get("/staff/bericht?start=2027-13-01&end=morgen")
    assert response.status_code == 200
    assert "Bitte geben Sie Anfang und Ende als Datum an" in response.get_data(as_text=True)
    backwards = client.get("/staff/bericht?start=2027-06-01&end=2027-02-01").get_data(as_text=True)
    assert "vorwärts laufen" in backwards


def test_exports_neutralise_spreadsheet_formulas(app, client, login, make_approved):
    rid, _token = make_approved(org_name="=HYPERLINK(\"http://evil.example\";\"klick\")", town="@SUM(1+1)",
                                submission_key=None)
    login(Role.PLANNER)
    tid = int(client.post("/staff/touren/", data={"start": "2027-02-01", "end": "2027-06-30"})
              .location.rstrip("/").rsplit("/", 1)[1])
    client.post(f"/staff/touren/{tid}/veroeffentlichen")
    text = client.get("/staff/bericht.csv?start=2027-02-01&end=2027-06-30").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["start", "end", "organisation"]
    assert rows[1][2].startswith("'=HYPERLINK") and rows[1][4] == "'@SUM(1+1)"
    xlsx = client.get("/staff/bericht.xlsx?start=2027-02-01&end=2027-06-30")
    assert xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(xlsx.data))
    cell = book["Visits"]["C2"]
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")
    assert book["Summary"]["B4"].value == 1


def test_partner_sees_the_report_of_their_scope_only(app, client, published, approved):
    with app.app_context():
        partner, token = feeds.create_partner(None, "Landkreis Cuxhaven", ["Cuxhaven"])
    html = client.get(f"/partner/{token}/bericht?start=2027-02-01&end=2027-06-30").get_data(as_text=True)
    assert "Landkreis Cuxhaven" in html and _figures(html)[0] == "1"
    assert "BBS Test 1" in html and "BBS Test 0" not in html
    text = client.get(f"/partner/{token}/bericht.csv?start=2027-02-01&end=2027-06-30").get_data(as_text=True)
    assert "BBS Test 1" in text and "BBS Test 0" not in text
    assert client.get("/partner/unbekannt/bericht").status_code == 404
    with app.app_context():
        feeds.revoke(None, db.session.merge(partner))
    assert client.get(f"/partner/{token}/bericht").status_code == 404


def test_report_pages_need_a_login_or_a_partner_token(app):
    anonymous = app.test_client()
    assert anonymous.get("/staff/bericht").status_code in (302, 401)
    assert anonymous.get("/staff/bericht.xlsx").status_code in (302, 401)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VisitRequest)) == 0
