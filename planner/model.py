"""The planning problem and the plan: plain dataclasses with the JSON forms of PLANNER.md."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

REASONS = ("no_working_day_in_window", "window_shorter_than_stay", "outside_horizon", "conflicts_with_fixed",
           "capacity")


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of local calendar dates."""
    start: date
    end: date
    reason: str = ""

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def from_dict(cls, d: dict) -> "DateRange":
        return cls(date.fromisoformat(d["start"]), date.fromisoformat(d["end"]), d.get("reason", ""))

    def to_dict(self) -> dict:
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Site:
    id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Visit:
    id: str
    lat: float
    lon: float
    duration_days: float
    windows: tuple[DateRange, ...]
    blackouts: tuple[DateRange, ...] = ()
    priority: float = 1.0
    fixed_start: date | None = None

    @property
    def half_day(self) -> bool:
        return self.duration_days == 0.5

    @property
    def slots(self) -> int:
        """Length in half-day slots."""
        return 1 if self.half_day else 2 * int(self.duration_days)


@dataclass(frozen=True)
class Matrix:
    """Road values (km, minutes) for the depot and every visit, in the order of `ids`."""
    ids: tuple[str, ...]
    km: tuple[tuple[float, ...], ...]
    minutes: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Problem:
    horizon: DateRange
    depot: Site
    visits: tuple[Visit, ...]
    working_weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    blackouts: tuple[DateRange, ...] = ()
    circuity: float = 1.3
    speed_kmh: float = 60.0
    max_transfer_minutes: float = 180.0
    time_limit_s: float = 2.0
    seed: int = 1
    matrix: Matrix | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "Problem":
        travel = d.get("travel") or {}
        matrix = travel.get("matrix") or d.get("matrix")
        visits = []
        for v in d["visits"]:
            duration = float(v["duration_days"])
            if duration != 0.5 and (duration != int(duration) or not 1 <= duration <= 5):
                raise ValueError(f"visit {v['id']}: duration_days must be 0.5 or an integer 1-5")
            visits.append(Visit(
                id=str(v["id"]), lat=float(v["lat"]), lon=float(v["lon"]), duration_days=duration,
                windows=tuple(DateRange.from_dict(w) for w in v.get("windows", [])),
                blackouts=tuple(DateRange.from_dict(b) for b in v.get("blackouts", []) or []),
                priority=float(v.get("priority", 1.0)),
                fixed_start=date.fromisoformat(v["fixed_start"]) if v.get("fixed_start") else None))
        ids = [v.id for v in visits]
        if len(set(ids)) != len(ids):
            raise ValueError("visit ids must be unique")
        return cls(
            horizon=DateRange.from_dict(d["horizon"]),
            depot=Site(str(d["depot"].get("id", "depot")), float(d["depot"]["lat"]), float(d["depot"]["lon"])),
            visits=tuple(visits),
            working_weekdays=tuple(int(x) for x in d.get("working_weekdays", (1, 2, 3, 4, 5))),
            blackouts=tuple(DateRange.from_dict(b) for b in d.get("blackouts", []) or []),
            circuity=float(travel.get("circuity", 1.3)), speed_kmh=float(travel.get("speed_kmh", 60.0)),
            max_transfer_minutes=float(d.get("max_transfer_minutes", 180.0)),
            time_limit_s=float(d.get("time_limit_s", 2.0)), seed=int(d.get("seed", 1)),
            matrix=Matrix(tuple(matrix["ids"]), tuple(map(tuple, matrix["km"])),
                          tuple(map(tuple, matrix["minutes"]))) if matrix else None,
        )

    def to_dict(self) -> dict:
        travel: dict = {"circuity": self.circuity, "speed_kmh": self.speed_kmh}
        if self.matrix:
            travel["matrix"] = {"ids": list(self.matrix.ids), "km": [list(r) for r in self.matrix.km],
                                "minutes": [list(r) for r in self.matrix.minutes]}
        return {
            "horizon": self.horizon.to_dict(), "working_weekdays": list(self.working_weekdays),
            "blackouts": [b.to_dict() for b in self.blackouts],
            "depot": {"id": self.depot.id, "lat": self.depot.lat, "lon": self.depot.lon},
            "travel": travel, "max_transfer_minutes": self.max_transfer_minutes,
            "visits": [{
                "id": v.id, "lat": v.lat, "lon": v.lon, "duration_days": v.duration_days,
                "windows": [w.to_dict() for w in v.windows], "blackouts": [b.to_dict() for b in v.blackouts],
                "priority": v.priority, "fixed_start": v.fixed_start.isoformat() if v.fixed_start else None,
            } for v in self.visits],
            "time_limit_s": self.time_limit_s, "seed": self.seed,
        }

    @classmethod
    def from_json(cls, text: str) -> "Problem":
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class Stop:
    visit: str
    start: date
    end: date
    half: str | None = None  # "am" / "pm" for half-day visits


@dataclass(frozen=True)
class Leg:
    frm: str
    to: str
    date: date
    km: float
    minutes: float


@dataclass(frozen=True)
class Unserved:
    visit: str
    reason: str


@dataclass
class Plan:
    stops: list[Stop]
    legs: list[Leg]
    unserved: list[Unserved]
    km: float
    drive_minutes: float
    served_priority: float
    solver: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "stops": [{"visit": s.visit, "start": s.start.isoformat(), "end": s.end.isoformat(), "half": s.half}
                      for s in self.stops],
            "legs": [{"from": g.frm, "to": g.to, "date": g.date.isoformat(), "km": round(g.km, 3),
                      "minutes": round(g.minutes, 3)} for g in self.legs],
            "unserved": [{"visit": u.visit, "reason": u.reason} for u in self.unserved],
            "km": round(self.km, 3), "drive_minutes": round(self.drive_minutes, 3),
            "served_priority": round(self.served_priority, 6), "solver": self.solver,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        return cls(
            stops=[Stop(s["visit"], date.fromisoformat(s["start"]), date.fromisoformat(s["end"]), s.get("half"))
                   for s in d["stops"]],
            legs=[Leg(g["from"], g["to"], date.fromisoformat(g["date"]), float(g["km"]), float(g["minutes"]))
                  for g in d["legs"]],
            unserved=[Unserved(u["visit"], u["reason"]) for u in d["unserved"]],
            km=float(d["km"]), drive_minutes=float(d["drive_minutes"]), served_priority=float(d["served_priority"]),
            solver=d.get("solver", {}),
        )
