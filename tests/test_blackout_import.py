"""Blackouts imported from iCalendar files and URLs, recurrences expanded, re-import updates."""
from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Blackout, Role

from .conftest import D

CAL = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//BBS Test//Pruefungen//DE\r
BEGIN:VEVENT\r
UID:exam-1@bbs.example\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20270301\r
DTEND;VALUE=DATE:20270304\r
SUMMARY:Abschlussprüfungen\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:team-1@bbs.example\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20270405T090000\r
DTEND;TZID=Europe/Berlin:20270405T170000\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:Teamtag {marker}\r
END:VEVENT\r
END:VCALENDAR\r
"""


def upload(client, text: str, name: str = "pruefungen.ics"):
    return client.post("/staff/sperrzeiten/import", data={"file": (io.BytesIO(text.encode()), name), "url": ""},
                       content_type="multipart/form-data", follow_redirects=True)


def rows(app):
    with app.app_context():
        return sorted((b.start, b.end, b.reason) for b in db.session.scalars(sa.select(Blackout)))


def test_import_expands_recurrences_and_reimport_updates(app, client, login):
    login(Role.PLANNER)
    page = upload(client, CAL.format(marker="A")).get_data(as_text=True)
    assert "4 neu, 0 geändert, 0 entfernt" in page
    assert rows(app) == [(D("2027-03-01"), D("2027-03-03"), "Abschlussprüfungen"),
                         (D("2027-04-05"), D("2027-04-05"), "Teamtag A"),
                         (D("2027-04-12"), D("2027-04-12"), "Teamtag A"),
                         (D("2027-04-19"), D("2027-04-19"), "Teamtag A")]
    changed = CAL.format(marker="B").replace("COUNT=3", "COUNT=2")
    page = upload(client, changed).get_data(as_text=True)
    assert "0 neu, 2 geändert, 1 entfernt" in page
    assert len(rows(app)) == 3 and {r[2] for r in rows(app)} == {"Abschlussprüfungen", "Teamtag B"}
    assert "Abschlussprüfungen" in client.get("/staff/sperrzeiten?jahr=2027").get_data(as_text=True)


def test_imported_blackout_closes_the_request_form(app, client, login):
    login(Role.PLANNER)
    upload(client, CAL.format(marker="A"))
    from .conftest import valid_form
    page = client.post("/anfrage/neu", data=valid_form(**{"windows-0-start": "2027-03-01",
                                                          "windows-0-end": "2027-03-03"})).get_data(as_text=True)
    assert "Sperrzeiten des Labs" in page


@pytest.mark.parametrize("text,name,message", [
    ("das ist kein Kalender", "x.ics", "kein lesbarer iCalendar-Kalender"),
    ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "leer.txt", "Bitte eine .ics-Datei wählen"),
])
def test_bad_files_are_refused_and_nothing_is_saved(app, client, login, text, name, message):
    login(Role.PLANNER)
    assert message in upload(client, text, name).get_data(as_text=True)
    assert rows(app) == []


def test_path_in_the_upload_name_is_only_a_label(app, client, login):
    login(Role.PLANNER)
    upload(client, CAL.format(marker="A"), "../../etc/passwd.ics")
    with app.app_context():
        assert set(db.session.scalars(sa.select(Blackout.source))) == {"ics:passwd.ics"}


class _Calendar(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        data = CAL.format(marker="URL").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_import_from_a_url(app, client, login):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Calendar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        login(Role.PLANNER)
        url = f"http://127.0.0.1:{server.server_address[1]}/kalender.ics"
        page = client.post("/staff/sperrzeiten/import", data={"url": url}, follow_redirects=True).get_data(as_text=True)
        assert "4 neu" in page and "Teamtag URL" in client.get("/staff/sperrzeiten?jahr=2027").get_data(as_text=True)
        bad = client.post("/staff/sperrzeiten/import", data={"url": "file:///etc/passwd"}, follow_redirects=True)
        assert "https://" in bad.get_data(as_text=True)
    finally:
        server.shutdown()


def test_upload_names_cannot_reach_the_file_system(app, client, login, tmp_path):
    """A path in the uploaded file's name is only a label: nothing is written, nothing outside is read."""
    import io
    login(Role.PLANNER)
    evil = tmp_path / "escaped.ics"
    name = "../../../../" + str(evil).lstrip("/")
    page = client.post("/staff/sperrzeiten/import", data={"file": (io.BytesIO(CAL.format(marker="A").encode()), name)},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "4 neu" in page and not evil.exists()
    with app.app_context():
        sources = {b.source for b in db.session.scalars(sa.select(Blackout))}
    assert sources == {"ics:escaped.ics"}, "the label keeps only the base name"
