"""The whole journey as people make it, in Chromium: request, review, plan, publish, map, feed, reminder, report."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Role, Visit
from app.services import feeds, outbox, reminders, users

from .conftest import axe_violations

SCHOOL = "BBS Am Deich Nordenham"
state: dict = {}


def test_1_a_school_requests_a_visit_corrects_a_field_and_changes_a_window(site, page):
    page.goto(site.base + "/anfrage/neu")
    assert axe_violations(page) == []
    page.select_option("#kind", "bbs")
    page.fill("#org_name", SCHOOL)
    page.fill("#street", "Schulstraße 12")
    page.fill("#postcode", "2695")  # one digit short
    page.fill("#town", "Nordenham")
    page.select_option("#district", "Wesermarsch")
    page.fill("#contact_name", "Frauke Janssen")
    page.fill("#email", "f.janssen@schule.example")
    page.fill("#windows-0-start", "2027-03-01")
    page.fill("#windows-0-end", "2027-03-12")
    page.select_option("#half_days", "4")
    page.fill("#classes_per_day", "3")
    page.fill("#participants", "55")
    page.fill("#space_length_m", "30")
    page.fill("#space_width_m", "8")
    page.select_option("#surface", "paved")
    page.select_option("#power_type", "cee32")
    page.fill("#power_distance_m", "15")
    page.select_option("#permit", "no")
    page.fill("#onsite_name", "Jan Ahlers")
    page.fill("#onsite_phone", "04731 12345")
    page.check("#consent")
    page.click("button[type=submit]")
    assert "Eine Postleitzahl hat fünf Ziffern" in page.content()
    assert page.input_value("#org_name") == SCHOOL, "nothing typed is lost"
    page.fill("#postcode", "26954")
    page.click("button[type=submit]")
    page.wait_for_url("**/anfrage/eingegangen")
    link = re.search(r"https?://[^\s\"<]+/verwalten/[A-Za-z0-9_\-]+", page.content()).group(0)
    state["manage"] = link
    page.goto(link)
    page.click("text=Anfrage ändern")
    page.fill("#windows-0-end", "2027-03-19")
    page.click("button[type=submit]")
    assert "19.03.2027" in page.content()


def test_2_a_planner_approves_plans_moves_and_publishes(site, page):
    with site.app_context():
        users.create_user("planung@labtour.example", Role.PLANNER, "sehr-geheim-2027")
    page.goto(site.base + "/staff/login")
    page.fill("#email", "planung@labtour.example")
    page.fill("#password", "sehr-geheim-2027")
    page.click("button[type=submit]")
    page.goto(site.base + "/staff/anfragen")
    page.click(f"text={SCHOOL}")
    page.click("button[value=approve]")
    assert "Entscheidung gespeichert" in page.content()
    page.goto(site.base + "/staff/touren/")
    page.fill("#start", "2027-02-01")
    page.fill("#end", "2027-06-30")
    page.click("button:has-text('Planen')")
    page.wait_for_url(re.compile(r".*/staff/touren/\d+$"))
    state["tour"] = page.url.rstrip("/").rsplit("/", 1)[1]
    assert SCHOOL in page.content()
    assert axe_violations(page) == []
    with site.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.tour_id == int(state["tour"])))
        vid, start = visit.id, visit.start
    candidates = [start + timedelta(days=n) for n in range(-14, 15) if n
                  and date(2027, 3, 1) <= start + timedelta(days=n) <= date(2027, 3, 18)
                  and (start + timedelta(days=n)).weekday() < 4]
    for target in candidates:  # the first day the rules allow (holidays, windows) is taken
        page.click(f"details:has(#start-{vid}) summary")
        page.fill(f"#start-{vid}", target.isoformat())
        page.click(f"form:has(#start-{vid}) button[type=submit]")
        if "Besuch verschoben" in page.content():
            break
    else:
        pytest.fail("no other day accepted")
    state["start"] = target
    page.click("button:has-text('Veröffentlichen')")
    assert "veröffentlicht" in page.content()


def test_3_the_map_and_the_calendar_show_the_stop(site, page, context):
    page.goto(f"{site.base}/staff/touren/{state['tour']}/karte")
    marker = page.locator(".leaflet-marker-icon", has_text="1").first  # stop 1; "D" is the depot
    marker.wait_for()
    marker.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert SCHOOL in popup.inner_text()
    day = state["start"]
    page.goto(f"{site.base}/staff/touren/kalender?ansicht=monat&datum={day.isoformat()}")
    assert SCHOOL in page.content()
    assert axe_violations(page) == []


def test_4_a_partner_feed_has_the_event_and_the_reminder_arrives_on_time(site, page, sink):
    with site.app_context():
        _partner, token = feeds.create_partner(None, "Landkreis Wesermarsch", ["Wesermarsch"])
    response = page.request.get(f"{site.base}/feeds/{token}.ics")
    assert response.status == 200 and SCHOOL in response.text() and "BEGIN:VEVENT" in response.text()
    moment = reminders.local_instant(state["start"] - timedelta(days=3), 9)
    with site.app_context():
        reminders.enqueue_due(moment - timedelta(minutes=5))
        outbox.drain(moment - timedelta(minutes=5))
        assert not [m for m in sink.messages if m["Subject"].startswith("Erinnerung")], "not before its time"
        reminders.enqueue_due(moment)
        outbox.drain(moment)
    [mail] = [m for m in sink.messages if m["Subject"].startswith("Erinnerung")]
    assert SCHOOL in mail["Subject"] and mail["To"] == "f.janssen@schule.example"


def test_5_the_report_counts_the_visit_and_the_csv_opens(site, page, tmp_path):
    page.goto(site.base + "/staff/bericht?start=2027-02-01&end=2027-06-30")
    figures = page.locator("#figures .fs-3").all_inner_texts()
    assert figures[0] == "1"
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.click("#csv-link")
    path = tmp_path / "report.csv"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith("start;end;organisation") and SCHOOL in text
