"""Tour workspace: plan approved requests into a draft, adjust it, compare and publish."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import planner
from app.extensions import db
from app.models import Reminder, RequestStatus, Role, Tour, TourStatus, Unplaced, Visit, VisitRequest
from app.services import demo, tours

from .conftest import D, drain, plan



def stored_plan(tour: Tour):
    """Rebuild the planner's view of a stored tour, to check it with planner.validate."""
    problem, _ = tours.build_problem(tour.horizon_start, tour.horizon_end,
                                     exclude={u.request_id for u in tour.unplaced if u.reason == "removed"})
    stops = [planner.Stop(f"r{v.request_id}", v.start, v.end, v.half) for v in tour.visits]
    return problem, planner.evaluate(problem, stops)


def test_plan_places_every_approved_request_inside_the_rules(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    with app.app_context():
        tour = db.session.get(Tour, tid)
        assert tour.status == TourStatus.DRAFT and tour.version == 1
        assert sorted(v.request_id for v in tour.visits) == sorted(approved)
        problem, rebuilt = stored_plan(tour)
        assert planner.validate(problem, rebuilt) == []
        assert tour.km == pytest.approx(rebuilt.km, rel=1e-6) and len(tour.legs) == len(rebuilt.legs)
        assert all(db.session.get(VisitRequest, r).status == RequestStatus.APPROVED for r in approved)
    page = client.get(f"/staff/touren/{tid}").get_data(as_text=True)
    assert "BBS Test 0" in page and "BBS Wartend" not in page and "km" in page


def test_unplaceable_request_is_listed_with_its_reason(app, client, login, make_approved):
    rid, _ = make_approved(org_name="BBS Zu Kurz", half_days=6, windows=[(D("2027-03-04"), D("2027-03-09"))])
    login(Role.PLANNER)
    tid = plan(client)
    page = client.get(f"/staff/touren/{tid}").get_data(as_text=True)
    assert "BBS Zu Kurz" in page and "kein möglicher Tag" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Unplaced.reason)) == "no_working_day_in_window"


def test_move_is_validated_and_locks_the_visit(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    with app.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.request_id == approved[0]))
        vid, other = visit.id, db.session.scalar(sa.select(Visit).where(Visit.request_id == approved[1]))
        other_start = other.start
    url = f"/staff/touren/{tid}/besuch/{vid}/verschieben"
    weekend = client.post(url, data={"start": "2027-03-06", "lock": "y"}, follow_redirects=True)
    assert "Nicht verschoben" in weekend.get_data(as_text=True)
    outside = client.post(url, data={"start": "2027-04-12", "lock": "y"}, follow_redirects=True)
    assert "außerhalb der Wunschzeiträume" in outside.get_data(as_text=True)
    clash = client.post(url, data={"start": other_start.isoformat(), "lock": "y"}, follow_redirects=True)
    assert "schon bei einer anderen Einrichtung" in clash.get_data(as_text=True)
    free = next(d for d in (D("2027-03-01") + timedelta(days=n) for n in range(10))
                if d.weekday() < 4 and abs((d - other_start).days) > 2)
    ok = client.post(url, data={"start": free.isoformat(), "lock": "y"}, follow_redirects=True)
    assert "Besuch verschoben" in ok.get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.request_id == approved[0]))
        assert visit.start == free and visit.locked
        problem, rebuilt = stored_plan(visit.tour)
        assert planner.validate(problem, rebuilt) == []
    client.post(f"/staff/touren/{tid}/neu-planen")
    with app.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.request_id == approved[0]))
        assert visit.start == free and visit.locked


def test_remove_and_replan_leaves_it_out(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    with app.app_context():
        vid = db.session.scalar(sa.select(Visit.id).where(Visit.request_id == approved[2]))
    client.post(f"/staff/touren/{tid}/besuch/{vid}/entfernen")
    client.post(f"/staff/touren/{tid}/neu-planen")
    with app.app_context():
        tour = db.session.get(Tour, tid)
        assert approved[2] not in {v.request_id for v in tour.visits}
        assert {(u.request_id, u.reason) for u in tour.unplaced} == {(approved[2], "removed")}
    assert "Von Hand aus dem Entwurf genommen" in client.get(f"/staff/touren/{tid}").get_data(as_text=True)


def test_publish_confirms_visits_notifies_hosts_and_keeps_versions(app, client, login, approved):
    login(Role.PLANNER)
    first = plan(client)
    client.post(f"/staff/touren/{first}/veroeffentlichen")
    with app.app_context():
        assert db.session.get(Tour, first).status == TourStatus.PUBLISHED
        assert all(db.session.get(VisitRequest, r).status == RequestStatus.CONFIRMED for r in approved)
        kinds = sorted(db.session.scalars(sa.select(Reminder.kind).where(Reminder.kind.like("visit_%"))))
        assert kinds == ["visit_added"] * 3
        uid = db.session.scalar(sa.select(Visit.uid).where(Visit.request_id == approved[0]))
    assert client.post(f"/staff/touren/{first}/neu-planen", follow_redirects=True).status_code == 200
    second = plan(client)
    with app.app_context():
        visit = db.session.scalar(sa.select(Visit).where(Visit.tour_id == second, Visit.request_id == approved[0]))
        assert visit.uid == uid
        vid, start = visit.id, visit.start
    target = next(d for d in (D("2027-03-01") + timedelta(days=n) for n in range(12))
                  if d.weekday() < 4 and d != start)
    for attempt in range(8):
        response = client.post(f"/staff/touren/{second}/besuch/{vid}/verschieben",
                               data={"start": target.isoformat(), "lock": "y"}, follow_redirects=True)
        if "Besuch verschoben" in response.get_data(as_text=True):
            break
        target += timedelta(days=1 if target.weekday() < 3 else 4)
    compare = client.get(f"/staff/touren/{second}/vergleich").get_data(as_text=True)
    assert "BBS Test 0" in compare and "Verschoben" in compare
    client.post(f"/staff/touren/{second}/veroeffentlichen")
    drain(app)
    with app.app_context():
        assert db.session.get(Tour, first).status == TourStatus.ARCHIVED
        assert db.session.get(Tour, second).status == TourStatus.PUBLISHED
        moved = db.session.scalar(sa.select(Reminder).where(Reminder.kind == "visit_moved"))
        assert moved is not None and "Neuer Termin" in moved.subject and moved.sent_at
    with app.app_context():
        old_vid = db.session.scalar(sa.select(Visit.id).where(Visit.tour_id == first))
    archived = client.post(f"/staff/touren/{first}/besuch/{old_vid}/entfernen", follow_redirects=True)
    assert "Nur Entwürfe können geändert werden" in archived.get_data(as_text=True)


def test_day_sheet_shows_what_the_driver_needs(app, client, login, approved):
    login(Role.VIEWER)
    with app.app_context():
        from app.models import User
        user = db.session.scalar(sa.select(User))
        tour = tours.plan_tour(user, D("2027-02-01"), D("2027-06-30"))
        visit = next(v for v in tour.visits if v.request_id == approved[0])
        tid, day = tour.id, visit.start
    page = client.get(f"/staff/touren/{tid}/tag/{day.isoformat()}").get_data(as_text=True)
    assert "BBS Test 0" in page and "Hauke Gerdes" in page and "04401 654321" in page
    assert "400 V CEE 32 A" in page and "30 × 8 m" in page
    assert client.get(f"/staff/touren/{tid}/tag/2027-13-01").status_code == 404
    assert client.get(f"/staff/touren/{tid}/tag/2027-03-06").status_code == 404


def test_viewer_cannot_plan_or_change(client, login, approved):
    login(Role.VIEWER)
    assert client.post("/staff/touren/", data={"start": "2027-02-01", "end": "2027-06-30"}).status_code == 403
    assert "Planen" not in client.get("/staff/touren/").get_data(as_text=True).split("<main")[1]


def test_bad_horizon_is_refused(client, login):
    login(Role.PLANNER)
    page = client.post("/staff/touren/", data={"start": "2027-06-30", "end": "2027-02-01"}).get_data(as_text=True)
    assert "Das Ende liegt vor dem Beginn" in page


def test_demo_semester_is_planned_and_published(app):
    with app.app_context():
        report = demo.seed()
        tour = tours.published()
        assert tour is not None and report.created["published tour visits"] == len(tour.visits) > 30
        problem, rebuilt = stored_plan(tour)
        assert planner.validate(problem, rebuilt) == []
        placed = {v.request_id for v in tour.visits} | {u.request_id for u in tour.unplaced}
        approved = set(db.session.scalars(sa.select(VisitRequest.id).where(
            VisitRequest.status.in_([RequestStatus.APPROVED, RequestStatus.CONFIRMED]))))
        assert approved <= placed


def test_calendar_views_show_the_published_tour_with_holidays(app, client, login, approved):
    login(Role.PLANNER)
    tid = plan(client)
    assert "Noch keine veröffentlichte Tour" in client.get("/staff/touren/kalender").get_data(as_text=True)
    draft = client.get(f"/staff/touren/kalender?version={tid}&datum=2027-03-01").get_data(as_text=True)
    assert "BBS Test 0" in draft and "Entwurf" in draft
    client.post(f"/staff/touren/{tid}/veroeffentlichen")
    client.post("/staff/logout")
    login(Role.VIEWER)
    month = client.get("/staff/touren/kalender?datum=2027-03-10").get_data(as_text=True)
    assert "März 2027" in month and "BBS Test 1" in month
    easter = client.get("/staff/touren/kalender?ansicht=woche&datum=2027-03-24").get_data(as_text=True)
    assert "Oster-/Frühjahrsferien (NI)" in easter and "cal-closed" in easter
    assert "Karfreitag (HB)" in client.get("/staff/touren/kalender?ansicht=woche&datum=2027-03-26").get_data(as_text=True)
    listing = client.get("/staff/touren/kalender?ansicht=liste").get_data(as_text=True)
    assert all(f"BBS Test {n}" in listing for n in range(3))
    assert client.get("/staff/touren/kalender?ansicht=monat&datum=kaputt").status_code == 200


def test_viewer_cannot_see_drafts_in_the_calendar(app, client, login, approved):
    with app.app_context():
        from app.services import users
        user = users.create_user("p2@labtour.example", Role.PLANNER, "correct-horse-42")
        tid = tours.plan_tour(user, D("2027-02-01"), D("2027-06-30")).id
    login(Role.VIEWER)
    assert client.get(f"/staff/touren/kalender?version={tid}").status_code == 403
    assert client.get("/staff/touren/kalender?version=9999").status_code == 404
