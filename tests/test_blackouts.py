"""Holidays of Lower Saxony and Bremen are blackouts; windows that cannot hold the stay are refused."""
from __future__ import annotations

from datetime import date

from app.models import OrgKind
from app.services import blackouts


def test_herbstferien_2026_are_blackouts_for_schools_in_ni_and_hb(ctx):
    # Herbstferien 2026: Lower Saxony and Bremen share 12–24 October
    for state in ("NI", "HB"):
        closed = blackouts.host_closed_days(date(2026, 10, 1), date(2026, 10, 31), state, OrgKind.BBS)
        assert date(2026, 10, 12) in closed and date(2026, 10, 23) in closed
        assert date(2026, 10, 9) not in closed and date(2026, 10, 26) not in closed
        ranges = [h for h in blackouts.holiday_ranges(date(2026, 10, 1), date(2026, 10, 31), (state,))
                  if h.category == "school"]
        assert [(h.name, h.start, h.end) for h in ranges] == [("Herbstferien", date(2026, 10, 12), date(2026, 10, 24))]


def test_school_holidays_do_not_block_companies(ctx):
    closed = blackouts.host_closed_days(date(2026, 10, 1), date(2026, 10, 31), "NI", OrgKind.KMU)
    assert closed == {date(2026, 10, 3), date(2026, 10, 31)}


def test_states_differ(ctx):
    # Osterferien 2027: NI 22.3.–3.4., HB 20.3.–3.4. (both) – winter break: HB and NI 1–2 Feb
    ni = blackouts.host_closed_days(date(2027, 1, 1), date(2027, 12, 31), "NI", OrgKind.BBS)
    hb = blackouts.host_closed_days(date(2027, 1, 1), date(2027, 12, 31), "HB", OrgKind.BBS)
    assert ni != hb


def test_public_holidays_close_the_lab(ctx):
    closed = blackouts.lab_closed_days(date(2027, 5, 1), date(2027, 5, 31))
    assert date(2027, 5, 6) in closed  # Christi Himmelfahrt
    assert date(2027, 5, 17) in closed  # Pfingstmontag


def test_usable_days_and_runs(ctx):
    days = blackouts.usable_days(date(2027, 3, 1), date(2027, 3, 14), "NI", OrgKind.BBS)
    assert len(days) == 10 and all(d.weekday() < 5 for d in days)
    assert blackouts.longest_run(days) == 5


def test_window_problems(ctx):
    today = date(2026, 11, 25)
    ok = blackouts.window_problem(date(2027, 3, 1), date(2027, 3, 5), 6, "NI", OrgKind.BBS, today)
    assert ok is None
    assert "Vergangenheit" in blackouts.window_problem(date(2026, 11, 2), date(2026, 11, 20), 2, "NI", OrgKind.BBS,
                                                       today)
    assert "vor dem Beginn" in blackouts.window_problem(date(2027, 3, 5), date(2027, 3, 1), 2, "NI", OrgKind.BBS, today)
    weekend = blackouts.window_problem(date(2027, 3, 6), date(2027, 3, 7), 2, "NI", OrgKind.KMU, today)
    assert "nur Wochenenden" in weekend
    # A 3-day stay cannot span a weekend: Thursday to Tuesday has runs of 2 only
    short = blackouts.window_problem(date(2027, 3, 4), date(2027, 3, 9), 6, "NI", OrgKind.KMU, today)
    assert "zu kurz für 3 Tage" in short
    assert blackouts.window_problem(date(2027, 3, 4), date(2027, 3, 9), 4, "NI", OrgKind.KMU, today) is None
    far = blackouts.window_problem(date(2029, 3, 1), date(2029, 3, 9), 2, "NI", OrgKind.KMU, today)
    assert "anderthalb Jahre" in far
