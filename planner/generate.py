"""Seeded, realistic semesters of the Unterweser region for tests and benchmarks."""
from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import holidays

from .model import DateRange, Problem, Site, Visit

TOWNS_CSV = Path(__file__).resolve().parent.parent / "app" / "data" / "region_towns.csv"
DEPOT = Site("dhi", 53.1053, 8.8497)
SEMESTER = DateRange(date(2027, 2, 1), date(2027, 6, 30))


def _ranges(days: dict[date, str]) -> list[DateRange]:
    out: list[DateRange] = []
    for d in sorted(days):
        if out and d == out[-1].end + timedelta(days=1) and days[d] == out[-1].reason:
            out[-1] = DateRange(out[-1].start, d, days[d])
        else:
            out.append(DateRange(d, d, days[d]))
    return out


def holiday_blackouts(horizon: DateRange, state: str, category: str) -> list[DateRange]:
    years = range(horizon.start.year, horizon.end.year + 1)
    days = {d: name for d, name in holidays.Germany(subdiv=state, years=years, categories=(category,),
                                                     language="de").items() if d in horizon}
    return _ranges(days)


def towns() -> list[dict]:
    with TOWNS_CSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def semester(n: int, seed: int = 1, horizon: DateRange = SEMESTER, time_limit_s: float = 2.0) -> Problem:
    """n requests: mostly 2–3-day school stays, some half-day SME visits, 1–3 windows each."""
    rng = random.Random(seed)
    region = towns()
    weights = [6 if t["oberzentrum"] == "1" else 1 for t in region]
    school_holidays = {s: holiday_blackouts(horizon, s, "school") for s in ("HB", "NI")}
    visits = []
    span = (horizon.end - horizon.start).days
    for k in range(n):
        town = rng.choices(region, weights)[0]
        school = rng.random() < 0.7
        duration = rng.choice([2, 2, 2, 3, 3, 3, 1, 4, 5]) if school else rng.choice([0.5, 0.5, 0.5, 1])
        windows: list[DateRange] = []
        for _ in range(rng.choice([1, 2, 2, 3])):
            start = horizon.start + timedelta(days=rng.randint(0, span - 14))
            start -= timedelta(days=start.weekday())
            end = min(horizon.end, start + timedelta(days=7 * rng.randint(2, 6) - 3))
            if all(end < w.start or start > w.end for w in windows):
                windows.append(DateRange(max(start, horizon.start), end))
        rural = town["oberzentrum"] != "1"
        visits.append(Visit(
            id=f"r{k + 1}", lat=round(float(town["lat"]) + rng.uniform(-0.03, 0.03), 5),
            lon=round(float(town["lon"]) + rng.uniform(-0.04, 0.04), 5), duration_days=duration,
            windows=tuple(sorted(windows, key=lambda w: w.start)),
            blackouts=tuple(school_holidays[town["state"]]) if school else (),
            priority=round(1.0 + (0.5 if rural else 0.0) + (0.25 if rng.random() < 0.3 else 0.0), 2)))
    return Problem(horizon=horizon, depot=DEPOT, visits=tuple(visits),
                   blackouts=tuple(holiday_blackouts(horizon, "HB", "public")),
                   time_limit_s=time_limit_s, seed=seed)
