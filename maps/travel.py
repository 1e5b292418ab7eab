"""Distance and travel-time matrices behind one interface: great-circle estimate, or an OSRM `table` server."""
from __future__ import annotations

import json
import math
import urllib.request
from abc import ABC, abstractmethod
from typing import Protocol

EARTH_RADIUS_KM = 6371.0088
Point = tuple[float, float]  # (lat, lon)


class TravelMatrix(Protocol):
    def matrix(self, points: list[Point]) -> tuple[list[list[float]], list[list[float]]]:
        """(km, minutes) between every pair of points."""


def haversine_km(a: Point, b: Point) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


class Cached(ABC):
    """Results kept per exact set of coordinates: re-planning the same semester asks nothing twice."""

    def __init__(self):
        self._cache: dict[tuple[Point, ...], tuple[list[list[float]], list[list[float]]]] = {}

    def matrix(self, points: list[Point]):
        key = tuple((round(p[0], 6), round(p[1], 6)) for p in points)
        if key not in self._cache:
            self._cache[key] = self.compute(list(key))
        return self._cache[key]

    @abstractmethod
    def compute(self, points: list[Point]) -> tuple[list[list[float]], list[list[float]]]:
        """(km, minutes) for these points, uncached."""


class GreatCircle(Cached):
    """Great-circle distance × circuity (≈1.3 in this region), at an average speed."""

    def __init__(self, circuity: float = 1.3, speed_kmh: float = 60.0):
        super().__init__()
        self.circuity, self.speed_kmh = circuity, speed_kmh

    def compute(self, points: list[Point]):
        km = [[haversine_km(a, b) * self.circuity for b in points] for a in points]
        return km, [[d / self.speed_kmh * 60 for d in row] for row in km]


class Osrm(Cached):
    """An OSRM server's table service (road distances and durations)."""

    def __init__(self, base_url: str, profile: str = "driving", timeout: float = 20.0):
        super().__init__()
        self.base_url, self.profile, self.timeout = base_url.rstrip("/"), profile, timeout

    def compute(self, points: list[Point]):
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}?annotations=distance,duration"
        with urllib.request.urlopen(url, timeout=self.timeout) as response:
            data = json.load(response)
        if data.get("code") != "Ok":
            raise RuntimeError(f"OSRM table failed: {data.get('code')}: {data.get('message', '')}")
        km = [[(d or 0.0) / 1000 for d in row] for row in data["distances"]]
        minutes = [[(t or 0.0) / 60 for t in row] for row in data["durations"]]
        return km, minutes
