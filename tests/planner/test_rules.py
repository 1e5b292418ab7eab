"""The rules of PLANNER.md on small problems whose best plan can be seen by eye."""
from __future__ import annotations

from datetime import date

import pytest

from planner import DateRange, Plan, Problem, Site, Visit, solve, validate
from planner.baseline import first_come_first_served

DEPOT = Site("dhi", 53.1053, 8.8497)
D = date.fromisoformat


def window(a: str, b: str) -> DateRange:
    return DateRange(D(a), D(b))


def visit(vid: str, duration: float, *windows: DateRange, lat: float = 53.2, lon: float = 8.6, **kw) -> Visit:
    return Visit(vid, lat, lon, duration, tuple(windows), **kw)


def problem(*visits: Visit, start: str = "2027-03-01", end: str = "2027-03-26", **kw) -> Problem:
    kw.setdefault("time_limit_s", 1.0)
    return Problem(horizon=window(start, end), depot=DEPOT, visits=tuple(visits), **kw)


def planned(p: Problem) -> tuple[Plan, dict]:
    plan = solve(p)
    assert validate(p, plan) == []
    return plan, {s.visit: s for s in plan.stops}


def reasons(plan: Plan) -> dict[str, str]:
    return {u.visit: u.reason for u in plan.unserved}


def test_a_two_day_visit_is_placed_inside_its_window_with_its_transfers():
    p = problem(visit("r1", 2, window("2027-03-02", "2027-03-04")))
    plan, stops = planned(p)
    assert (stops["r1"].end - stops["r1"].start).days == 1
    assert D("2027-03-02") <= stops["r1"].start and stops["r1"].end <= D("2027-03-04")
    assert [(g.frm, g.to) for g in plan.legs] == [("dhi", "r1"), ("r1", "dhi")]
    assert plan.legs[0].date == stops["r1"].start.fromordinal(stops["r1"].start.toordinal() - 1)
    assert plan.km == pytest.approx(sum(g.km for g in plan.legs)) and plan.served_priority == 1.0


def test_holidays_splitting_a_window_leave_only_the_part_that_fits():
    easter = DateRange(D("2027-03-03"), D("2027-03-09"), "Ferien")
    p = problem(visit("r1", 3, window("2027-03-01", "2027-03-12"), blackouts=(easter,)))
    _plan, stops = planned(p)
    assert (stops["r1"].start, stops["r1"].end) == (D("2027-03-10"), D("2027-03-12"))


def test_public_holiday_of_the_lab_blocks_every_visit():
    p = problem(visit("r1", 1, window("2027-03-04", "2027-03-05")),
                blackouts=(DateRange(D("2027-03-04"), D("2027-03-04"), "Feiertag"),))
    _plan, stops = planned(p)
    assert stops["r1"].start == D("2027-03-05")


def test_a_three_day_stay_cannot_span_a_weekend():
    p = problem(visit("three", 3, window("2027-03-04", "2027-03-09")),
                visit("two", 2, window("2027-03-04", "2027-03-09")))
    plan, stops = planned(p)
    assert reasons(plan) == {"three": "no_working_day_in_window"}
    assert (stops["two"].start, stops["two"].end) in {(D("2027-03-04"), D("2027-03-05")),
                                                      (D("2027-03-08"), D("2027-03-09"))}


def test_two_half_day_visits_share_a_day_in_the_morning_and_afternoon():
    day = window("2027-03-03", "2027-03-03")
    p = problem(visit("a", 0.5, day), visit("b", 0.5, day, lat=53.25, lon=8.65))
    plan, stops = planned(p)
    assert {stops["a"].half, stops["b"].half} == {"am", "pm"}
    first, second = sorted(stops.values(), key=lambda s: s.half)
    assert [(g.frm, g.to) for g in plan.legs] == [("dhi", first.visit), (first.visit, second.visit),
                                                  (second.visit, "dhi")]


def test_a_half_day_and_a_whole_day_visit_do_not_share_a_day():
    day = window("2027-03-03", "2027-03-03")
    p = problem(visit("half", 0.5, day, priority=1.0), visit("whole", 1, day, priority=2.0))
    plan, stops = planned(p)
    assert list(stops) == ["whole"] and reasons(plan) == {"half": "capacity"}


def test_a_pinned_visit_stays_and_the_rest_is_planned_around_it():
    p = problem(visit("pinned", 2, window("2027-03-01", "2027-03-12"), fixed_start=D("2027-03-09")),
                visit("other", 2, window("2027-03-08", "2027-03-12")))
    _plan, stops = planned(p)
    assert stops["pinned"].start == D("2027-03-09")
    assert stops["other"].end < D("2027-03-09") or stops["other"].start > D("2027-03-10")


def test_a_higher_priority_visit_displaces_a_lower_one():
    day = window("2027-03-03", "2027-03-03")
    p = problem(visit("low", 1, day, priority=1.0), visit("high", 1, day, priority=1.5, lat=53.8, lon=8.7))
    plan, stops = planned(p)
    assert list(stops) == ["high"] and reasons(plan) == {"low": "capacity"}
    baseline = first_come_first_served(p)
    assert [s.visit for s in baseline.stops] == ["low"] and validate(p, baseline) == []


def test_fewer_kilometres_among_equal_priority():
    near, far = dict(lat=53.11, lon=8.86), dict(lat=53.85, lon=8.71)
    day = window("2027-03-03", "2027-03-03")
    p = problem(visit("far", 1, day, **far), visit("near", 1, day, **near))
    plan, stops = planned(p)
    assert list(stops) == ["near"]


def test_every_unserved_reason():
    p = problem(
        visit("later", 1, window("2028-01-10", "2028-01-14")),
        visit("short", 3, window("2027-03-02", "2027-03-03")),
        visit("weekend", 1, window("2027-03-06", "2027-03-07")),
        visit("pin", 1, window("2027-03-10", "2027-03-10"), fixed_start=D("2027-03-10")),
        visit("blocked", 1, window("2027-03-10", "2027-03-10")),
        visit("first", 1, window("2027-03-15", "2027-03-15"), priority=2.0),
        visit("second", 1, window("2027-03-15", "2027-03-15")),
    )
    plan, stops = planned(p)
    assert reasons(plan) == {"later": "outside_horizon", "short": "window_shorter_than_stay",
                             "weekend": "no_working_day_in_window", "blocked": "conflicts_with_fixed",
                             "second": "capacity"}
    assert set(stops) == {"pin", "first"}
    assert reasons(first_come_first_served(p)) == reasons(plan)


def test_a_transfer_over_the_limit_goes_via_the_depot_with_a_free_day():
    west, east = dict(lat=53.26, lon=7.92), dict(lat=53.49, lon=9.09)  # Westerstede, Bremervörde
    p = problem(visit("w", 2, window("2027-03-01", "2027-03-05"), **west),
                visit("e", 2, window("2027-03-01", "2027-03-05"), **east), max_transfer_minutes=30)
    plan, stops = planned(p)
    assert len(stops) == 2
    a, b = sorted(stops.values(), key=lambda s: s.start)
    assert (b.start - a.end).days >= 2
    assert [(g.frm, g.to) for g in plan.legs] == [("dhi", a.visit), (a.visit, "dhi"), ("dhi", b.visit),
                                                  (b.visit, "dhi")]


def test_direct_transfer_between_consecutive_days():
    p = problem(visit("a", 2, window("2027-03-01", "2027-03-02")),
                visit("b", 3, window("2027-03-03", "2027-03-05"), lat=53.25))
    plan, _stops = planned(p)
    assert [(g.frm, g.to) for g in plan.legs] == [("dhi", "a"), ("a", "b"), ("b", "dhi")]
    assert plan.legs[1].date == D("2027-03-02")


def test_friday_to_monday_is_direct():
    p = problem(visit("a", 1, window("2027-03-05", "2027-03-05")),
                visit("b", 1, window("2027-03-08", "2027-03-08"), lat=53.25))
    plan, _stops = planned(p)
    assert [(g.frm, g.to) for g in plan.legs] == [("dhi", "a"), ("a", "b"), ("b", "dhi")]


def test_baseline_takes_the_earliest_start_in_the_given_order():
    p = problem(visit("r1", 2, window("2027-03-01", "2027-03-12")), visit("r2", 2, window("2027-03-01", "2027-03-12")))
    plan = first_come_first_served(p)
    assert [(s.visit, s.start) for s in plan.stops] == [("r1", D("2027-03-01")), ("r2", D("2027-03-03"))]
    assert validate(p, plan) == []


def test_travel_matrix_replaces_the_estimate():
    from planner.model import Matrix
    ids = ("dhi", "a")
    p = problem(visit("a", 1, window("2027-03-03", "2027-03-03")),
                matrix=Matrix(ids, ((0, 42.0), (40.0, 0)), ((0, 50.0), (45.0, 0))))
    plan, _ = planned(p)
    assert plan.km == pytest.approx(82.0) and plan.drive_minutes == pytest.approx(95.0)
