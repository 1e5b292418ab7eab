"""No double booking under concurrency, enforced by PostgreSQL: an exclusion constraint and the tour revision."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import RequestStatus, Role, Tour, TourStatus, User, Visit, VisitRequest
from app.services import requests as request_service, tours, users

from .conftest import PG_URL, make_app, service_data

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs LABTOUR_TEST_DATABASE_URL (CI sets it)")
DAYS = [date(2027, 3, d) for d in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)]
FREE = date(2027, 3, 15)


@pytest.fixture
def pg(tmp_path):
    app = make_app("postgresql", tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 32, "max_overflow": 0,
                                                                       "pool_timeout": 120})
    with app.app_context():
        rids = []
        for n, day in enumerate(DAYS):
            result = request_service.submit(service_data(
                kind="kmu", org_name=f"Metallbau {n} GmbH", town="Bremen", postcode="28195", district="Bremen",
                email=f"info{n}@firma.example", half_days=2, windows=[(date(2027, 3, 1), date(2027, 3, 19))]), "de")
            result.request.status = RequestStatus.APPROVED
            rids.append(result.request.id)
        db.session.commit()
        user = users.create_user("planung@labtour.example", Role.PLANNER, "sehr-geheim-2027")
        tour = Tour(horizon_start=date(2027, 2, 1), horizon_end=date(2027, 6, 30), version=1)
        tour.visits = [Visit(request_id=rid, start=day, end=day) for rid, day in zip(rids, DAYS)]
        db.session.add(tour)
        db.session.commit()
        app.ids = {"tour": tour.id, "user": user.id, "visits": [v.id for v in tour.visits]}
    yield app
    with app.app_context():
        db.engine.dispose()


def _move(app, visit_id: int) -> str:
    with app.app_context():
        tour = db.session.get(Tour, app.ids["tour"])
        user = db.session.get(User, app.ids["user"])
        visit = db.session.get(Visit, visit_id)
        try:
            tours.move(user, tour, visit, FREE)
            return "moved"
        except tours.TourError as exc:
            return str(exc)


def test_200_concurrent_moves_onto_one_free_day_exactly_one_wins(pg):
    visit_ids = [pg.ids["visits"][n % len(DAYS)] for n in range(200)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(lambda vid: _move(pg, vid), visit_ids))
    assert outcomes.count("moved") == 1, outcomes[:5]
    messages = set(outcomes) - {"moved"}
    assert messages <= {"An diesem Tag ist das Lab schon bei einer anderen Einrichtung.",
                        "Die Tour wurde gerade von jemand anderem geändert. Bitte prüfen Sie den neuen Stand und "
                        "versuchen Sie es noch einmal.", "Der Besuch liegt schon an diesem Tag."}, messages
    with pg.app_context():
        overlaps = db.session.execute(sa.text(
            "SELECT count(*) FROM visit a JOIN visit b ON a.tour_id = b.tour_id AND a.id < b.id "
            "AND a.start <= b.end AND b.start <= a.end")).scalar()
        assert overlaps == 0
        assert db.session.scalar(sa.select(sa.func.count()).where(Visit.start == FREE)) == 1


def test_the_database_refuses_an_overlap_whatever_the_path(pg):
    with pg.app_context():
        tour = db.session.get(Tour, pg.ids["tour"])
        first, second = tour.visits[0], tour.visits[1]
        second.start = second.end = first.start
        with pytest.raises(IntegrityError, match="ex_visit_no_double_booking"):
            db.session.commit()
        db.session.rollback()
        morning = db.session.get(Visit, pg.ids["visits"][2])
        afternoon = db.session.get(Visit, pg.ids["visits"][3])
        morning.start = morning.end = afternoon.start = afternoon.end = FREE
        morning.half, afternoon.half = "am", "pm"
        db.session.commit()  # two half-day visits on one day do not overlap


def test_a_stale_page_cannot_overwrite_a_newer_plan(pg):
    with pg.app_context():
        stale = db.session.get(Tour, pg.ids["tour"])
        user = db.session.get(User, pg.ids["user"])
        visit = db.session.get(Visit, pg.ids["visits"][0])
        assert stale.revision == 0  # what the page was built from
        with db.engine.begin() as other:  # another planner's change, committed meanwhile
            other.execute(sa.update(Tour.__table__).where(Tour.id == stale.id).values(revision=1))
        with pytest.raises(tours.TourError, match="gerade von jemand anderem"):
            tours.move(user, stale, visit, FREE)
        assert db.session.get(Tour, pg.ids["tour"]).status == TourStatus.DRAFT
