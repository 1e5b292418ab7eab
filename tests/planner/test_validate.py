"""The validator finds every broken rule in plans that were broken on purpose."""
from __future__ import annotations

import dataclasses

from planner import Plan, Stop, Unserved, solve, validate

from .test_rules import D, DateRange, problem, visit, window


def base():
    p = problem(
        visit("a", 2, window("2027-03-01", "2027-03-12")),
        visit("b", 1, window("2027-03-01", "2027-03-12"), lat=53.3),
        visit("h1", 0.5, window("2027-03-15", "2027-03-15"), lat=53.0),
        visit("h2", 0.5, window("2027-03-15", "2027-03-15"), lat=53.05),
        visit("pin", 1, window("2027-03-17", "2027-03-17"), fixed_start=D("2027-03-17")),
    )
    plan = solve(p)
    assert validate(p, plan) == []
    return p, plan


def with_stop(plan: Plan, vid: str, **changes) -> Plan:
    stops = [dataclasses.replace(s, **changes) if s.visit == vid else s for s in plan.stops]
    return dataclasses.replace(plan, stops=stops)


def errors_of(p, plan, rule: str) -> list[str]:
    return [e for e in validate(p, plan) if e.startswith(rule)]


def test_stop_on_a_weekend():
    p, plan = base()
    broken = with_stop(plan, "b", start=D("2027-03-06"), end=D("2027-03-06"))
    assert errors_of(p, broken, "rule 1/2")


def test_stop_outside_its_window_or_too_long():
    p, plan = base()
    assert errors_of(p, with_stop(plan, "b", start=D("2027-03-22"), end=D("2027-03-22")), "rule 2")
    a = next(s for s in plan.stops if s.visit == "a")
    assert errors_of(p, with_stop(plan, "a", end=a.start), "rule 2")


def test_stop_on_its_own_blackout():
    p, plan = base()
    b = next(s for s in plan.stops if s.visit == "b")
    own = dataclasses.replace(p.visits[1], blackouts=(DateRange(b.start, b.start),))
    p2 = dataclasses.replace(p, visits=(p.visits[0], own, *p.visits[2:]))
    assert any("own blackout" in e for e in validate(p2, plan))


def test_overlapping_visits():
    p, plan = base()
    a = next(s for s in plan.stops if s.visit == "a")
    assert errors_of(p, with_stop(plan, "b", start=a.start, end=a.start), "rule 3")


def test_half_day_rules():
    p, plan = base()
    assert any("half-day" in e for e in validate(p, with_stop(plan, "h1", half=None)))
    both_am = with_stop(with_stop(plan, "h1", half="am"), "h2", half="am")
    assert errors_of(p, both_am, "rule 2/3")
    assert any("has half" in e for e in validate(p, with_stop(plan, "b", half="am")))


def test_pinned_visit_moved():
    p, plan = base()
    assert errors_of(p, with_stop(plan, "pin", start=D("2027-03-18"), end=D("2027-03-18")), "rule 4")


def test_wrong_or_missing_legs_and_totals():
    p, plan = base()
    assert errors_of(p, dataclasses.replace(plan, legs=plan.legs[:-1]), "rule 5")
    bad_km = [dataclasses.replace(plan.legs[0], km=plan.legs[0].km + 5)] + plan.legs[1:]
    assert errors_of(p, dataclasses.replace(plan, legs=bad_km), "rule 5")
    assert any("not the sum" in e for e in validate(p, dataclasses.replace(plan, km=plan.km + 10)))
    assert any("served_priority" in e for e in validate(p, dataclasses.replace(plan, served_priority=99)))


def test_direct_transfer_over_the_limit():
    p, plan = base()
    tight = dataclasses.replace(p, max_transfer_minutes=0.001)
    assert any("direct transfer" in e for e in validate(tight, plan))


def test_missing_duplicate_and_unknown_visits():
    p, plan = base()
    assert errors_of(p, dataclasses.replace(plan, stops=plan.stops[1:]), "rule 6")
    assert errors_of(p, dataclasses.replace(plan, stops=plan.stops + plan.stops[:1]), "rule 6")
    ghost = Stop("ghost", D("2027-03-22"), D("2027-03-22"))
    assert any("unknown visit" in e for e in validate(p, dataclasses.replace(plan, stops=plan.stops + [ghost])))


def test_wrong_unserved_reason():
    p = problem(visit("weekend", 1, window("2027-03-06", "2027-03-07")))
    plan = solve(p)
    assert validate(p, plan) == []
    wrong = dataclasses.replace(plan, unserved=[Unserved("weekend", "capacity")])
    assert errors_of(p, wrong, "rule 6")
    made_up = dataclasses.replace(plan, unserved=[Unserved("weekend", "too_busy")])
    assert errors_of(p, made_up, "rule 6")
