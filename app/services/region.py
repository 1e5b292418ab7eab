"""The VISURGIS region: towns with real postcodes, districts, states and postcode centroids."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CSV_PATH = Path(__file__).resolve().parent.parent / "data" / "region_towns.csv"
OBERZENTREN = ("Bremen", "Bremerhaven", "Oldenburg (Oldb)")
OTHER_DISTRICT = "andere"


@dataclass(frozen=True)
class Town:
    town: str
    postcode: str
    district: str
    state: str
    oberzentrum: bool
    lat: float
    lon: float


@lru_cache(maxsize=1)
def towns() -> tuple[Town, ...]:
    with CSV_PATH.open(encoding="utf-8") as fh:
        return tuple(
            Town(r["town"], r["postcode"], r["district"], r["state"], r["oberzentrum"] == "1",
                 float(r["lat"]), float(r["lon"]))
            for r in csv.DictReader(fh)
        )


@lru_cache(maxsize=1)
def districts() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for t in towns():
        seen.setdefault(t.district, None)
    return tuple(sorted(seen))


def state_of(district: str, postcode: str = "") -> str:
    """HB for the two cities of the state of Bremen, NI otherwise (the region lies in these two states)."""
    for t in towns():
        if t.district == district:
            return t.state
    if postcode[:3] in {"281", "282", "283", "284", "285", "286", "287"} or postcode[:4] in {"2756", "2757", "2758"}:
        return "HB"
    return "NI"


def centroid(postcode: str, town: str = "") -> tuple[float, float] | None:
    """Offline position: the postcode's centroid, else the town's, else unknown."""
    for t in towns():
        if t.postcode == postcode:
            return t.lat, t.lon
    for t in towns():
        if town and t.town.lower() == town.strip().lower():
            return t.lat, t.lon
    return None
