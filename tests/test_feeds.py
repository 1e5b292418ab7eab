"""iCalendar feeds: partner links, scope, propagation of moves and cancellations, HTTP caching, injection."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import json
import subprocess
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa
import vobject

from app.extensions import db
from app.models import FeedToken, Role, Tour, Visit
from app.services import feeds

from .conftest import D, drain, plan

INJECT = 'Evil;Name,With\\Chars\nBEGIN:VEVENT\r\nSUMMARY:pwned'


ROOT = Path(__file__).resolve().parent.parent


def ical_js(body: bytes) -> list[dict]:
    """Events as ical.js (Thunderbird's parser, npm) reads them; `npm ci` installs it (bin/test does)."""
    assert (ROOT / "node_modules" / "ical.js").exists(), "ical.js is missing: run `npm ci` in the project root"
    done = subprocess.run(["node", str(ROOT / "tests" / "js" / "read_ics.mjs")], input=body, capture_output=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


def parse_all_ways(body: bytes) -> list[dict]:
    """icalendar, vobject (strict validation) and ical.js must all read it and agree on every event."""
    cal = icalendar.Calendar.from_ical(body)
    ours = [{"uid": str(e["UID"]), "summary": str(e["SUMMARY"]), "start": e.decoded("DTSTART"),
             "end": e.decoded("DTEND"), "status": str(e["STATUS"]), "sequence": int(e["SEQUENCE"])}
            for e in cal.walk("VEVENT")]
    vcal = vobject.readOne(body.decode("utf-8"))
    vcal.validate(raiseException=True)
    theirs = {ev.uid.value: (ev.summary.value, ev.dtstart.value, ev.dtend.value) for ev in vcal.vevent_list} \
        if hasattr(vcal, "vevent_list") else {}
    assert {e["uid"]: (e["summary"], e["start"], e["end"]) for e in ours} == theirs
    js = {e["uid"]: e for e in ical_js(body)}
    for e in ours:
        assert js[e["uid"]]["summary"] == e["summary"] and js[e["uid"]]["status"] == e["status"]
        for key in ("start", "end"):
            value = e[key]
            expected = {"date": value.isoformat()} if not isinstance(value, datetime) else \
                {"utc": value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
            assert js[e["uid"]][key] == expected, (e["uid"], key)
    assert b"\r\n" in body and all(len(line) <= 75 for line in body.split(b"\r\n"))
    assert b"METHOD" not in body
    return ours


def new_link(client, name="Landkreis Wesermarsch", districts=("Wesermarsch",)) -> str:
    response = client.post("/staff/partner", data={"name": name, "districts": list(districts), "organisation_id": "0"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    https = page.split('id="feed-https">')[1].split("<")[0]
    assert page.split('id="feed-webcal">')[1].startswith("webcal://")
    return https.split("labtour.test", 1)[1]


def test_partner_feed_holds_the_published_tour_in_scope(app, client, published, approved):
    path = new_link(client)
    response = client.get(path)
    assert response.status_code == 200 and response.content_type == "text/calendar; charset=utf-8"
    events = parse_all_ways(response.data)
    assert [e["summary"] for e in events] == ["InnovationLab @ BBS Test 0, Brake (Unterweser)"]
    e = events[0]
    with app.app_context():
        v = db.session.scalar(sa.select(Visit).where(Visit.tour_id == published, Visit.request_id == approved[0]))
        assert (e["uid"], e["start"], e["end"]) == (v.uid, v.start, v.end + timedelta(days=1))
        assert db.session.scalar(sa.select(FeedToken.last_fetched_at)) is not None
    whole = new_link(client, "Bündnis", ())
    assert len(parse_all_ways(client.get(whole).data)) == 3


def test_unknown_and_revoked_tokens_get_404(app, client, published):
    path = new_link(client)
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    with app.app_context():
        pid = db.session.scalar(sa.select(FeedToken.partner_id))
    client.post(f"/staff/partner/{pid}/sperren")
    assert client.get(path).status_code == 404
    client.post(f"/staff/partner/{pid}/neu")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedToken)
                                 .where(FeedToken.revoked_at.is_(None))) == 1
        assert all(len(h) == 64 for h in db.session.scalars(sa.select(FeedToken.token_hash)))


def test_etag_and_last_modified_answer_304(client, published):
    path = new_link(client)
    first = client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith('W/')
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_moved_visit_keeps_uid_and_raises_sequence_cancelled_stays_until_passed(app, client, published, approved):
    path = new_link(client, "Bündnis", ())
    before = {e["uid"]: e for e in parse_all_ways(client.get(path).data)}
    second = plan(client)
    with app.app_context():
        visits = {v.request_id: v for v in db.session.get(Tour, second).visits}
        moved_vid, moved_start = visits[approved[0]].id, visits[approved[0]].start
        dropped_vid = visits[approved[2]].id
    client.post(f"/staff/touren/{second}/besuch/{dropped_vid}/entfernen")
    target = next(d for d in (D("2027-03-01") + timedelta(days=n) for n in range(12))
                  if d.weekday() < 4 and d != moved_start and
                  "Besuch verschoben" in client.post(f"/staff/touren/{second}/besuch/{moved_vid}/verschieben",
                                                     data={"start": d.isoformat(), "lock": "y"},
                                                     follow_redirects=True).get_data(as_text=True))
    client.post(f"/staff/touren/{second}/veroeffentlichen")
    after = {e["uid"]: e for e in parse_all_ways(client.get(path).data)}
    assert set(after) == set(before)
    with app.app_context():
        uid_moved = db.session.scalar(sa.select(Visit.uid).where(Visit.tour_id == second,
                                                                 Visit.request_id == approved[0]))
        uid_dropped = next(u for u in before if u not in {v.uid for v in db.session.get(Tour, second).visits})
    assert after[uid_moved]["start"] == target and after[uid_moved]["sequence"] == before[uid_moved]["sequence"] + 1
    assert after[uid_dropped]["status"] == "CANCELLED"
    assert after[uid_dropped]["sequence"] == before[uid_dropped]["sequence"] + 1
    with app.app_context():
        later = [e.uid for e in feeds._entries(today=date(2027, 12, 1))]
        assert uid_dropped not in later


def test_injection_in_names_arrives_as_text(app, client, login, make_approved):
    _rid, token = make_approved(org_name=INJECT, windows=[(D("2027-03-01"), D("2027-03-12"))])
    login(Role.PLANNER)
    tid = plan(client)
    client.post(f"/staff/touren/{tid}/veroeffentlichen")
    body = client.get(f"/verwalten/{token}/kalender.ics").data
    events = parse_all_ways(body)
    assert len(events) == 1 and body.count(b"\r\nBEGIN:VEVENT\r\n") == 1
    assert events[0]["summary"] == "InnovationLab @ Evil;Name,With\\Chars BEGIN:VEVENT SUMMARY:pwned, Brake (Unterweser)"
    assert b"SUMMARY:InnovationLab @ Evil\\;Name\\,With\\\\Chars" in body


def test_visit_page_and_download(app, client, published, approved):
    with app.app_context():
        uid = db.session.scalar(sa.select(Visit.uid).where(Visit.tour_id == published, Visit.request_id == approved[1]))
    client.post("/staff/logout")
    page = client.get(f"/besuch/{uid}").get_data(as_text=True)
    assert "BBS Test 1" in page and "imke.dierks" not in page and "Zum Kalender hinzufügen" in page
    ics = client.get(f"/besuch/{uid}.ics")
    assert ics.headers["Content-Disposition"].startswith("attachment") and b"METHOD:PUBLISH" in ics.data
    assert client.get("/besuch/nicht-da").status_code == 404


def test_partner_link_command_prints_a_working_path(app, runner, published):
    bad = runner.invoke(args=["partner-link", "X", "--district", "Atlantis"])
    assert bad.exit_code != 0 and "unknown district" in bad.output
    result = runner.invoke(args=["partner-link", "Landkreis Cuxhaven", "--district", "Cuxhaven"])
    path = result.output.strip()
    assert result.exit_code == 0 and path.startswith("/feeds/") and path.endswith(".ics")
    events = parse_all_ways(app.test_client().get(path).data)
    assert [e["summary"] for e in events] == ["InnovationLab @ BBS Test 1, Cuxhaven"]


def test_confirmation_mail_carries_the_visit_as_ics(app, published, approved):
    import email
    from email import policy
    from pathlib import Path
    with app.app_context():
        uid = db.session.scalar(sa.select(Visit.uid).where(Visit.tour_id == published, Visit.request_id == approved[0]))
    drain(app)
    mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
             for p in (Path(app.instance_path) / "mail").glob("*.eml")]
    confirmations = [m for m in mails if m["Subject"].startswith("Termin für das InnovationLab: BBS Test 0")]
    assert len(confirmations) == 1
    parts = [p for p in confirmations[0].iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1 and parts[0].get_filename() == "innovationlab.ics"
    cal = icalendar.Calendar.from_ical(parts[0].get_content())
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [uid] and str(cal["METHOD"]) == "PUBLISH"


def test_half_day_visits_are_timed_and_resolve_to_the_right_utc_instants_across_dst(app, client, login,
                                                                                   make_approved):
    """08:00 in Bremen is 07:00 UTC in winter time (25 March 2027) and 06:00 UTC in summer time (30 March)."""
    ids = [make_approved(kind="kmu", org_name=f"Kutter Metallbau {n}", half_days=1, windows=[(D(day), D(day))])[0]
           for n, day in enumerate(("2027-03-25", "2027-03-30"))]
    login(Role.PLANNER)
    client.post(f"/staff/touren/{plan(client)}/veroeffentlichen")
    body = client.get(new_link(client, "Bündnis", ())).data
    assert b"BEGIN:VTIMEZONE" in body and b"DTSTART;TZID=Europe/Berlin:" in body
    js = sorted(ical_js(body), key=lambda e: e["start"]["utc"])
    with app.app_context():
        halves = {v.request_id: v.half for v in db.session.scalars(sa.select(Visit))}
    starts = [e["start"]["utc"] for e in js]
    expected = [f"2027-03-25T{'07:00' if halves[ids[0]] == 'am' else '11:30'}:00.000Z",
                f"2027-03-30T{'06:00' if halves[ids[1]] == 'am' else '10:30'}:00.000Z"]
    assert starts == expected
    parse_all_ways(body)


def test_revoked_token_gets_no_304_from_the_shortcut(app, client, published):
    path = new_link(client)
    etag = client.get(path).headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    with app.app_context():
        pid = db.session.scalar(sa.select(FeedToken.partner_id))
    client.post(f"/staff/partner/{pid}/sperren")
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 404
