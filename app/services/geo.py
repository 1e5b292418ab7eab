"""Positions of organisations (maps.geocode chain, Nominatim answers cached in the database) and the travel
matrix the planner uses (OSRM when configured)."""
from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping

from flask import current_app

from maps import geocode, travel
from planner.model import Matrix, Problem

from ..extensions import db
from ..models import GeocodeCache, GeoSource, Organisation, User
from . import audit, region


class _DbCache(MutableMapping):
    def __getitem__(self, query):
        row = db.session.get(GeocodeCache, query)
        if row is None:
            raise KeyError(query)
        return (row.lat, row.lon) if row.lat is not None else None

    def __setitem__(self, query, value):
        db.session.merge(GeocodeCache(query=query, lat=value[0] if value else None, lon=value[1] if value else None))

    def __delitem__(self, query):
        db.session.delete(db.session.get(GeocodeCache, query))

    def __iter__(self):
        return iter(db.session.scalars(db.select(GeocodeCache.query)))

    def __len__(self):
        return db.session.scalar(db.select(db.func.count()).select_from(GeocodeCache))


def _geocoder():
    cfg = current_app.config["MAPS"]
    if not cfg.get("nominatim"):
        return None
    return geocode.Nominatim(cfg["user_agent"], _DbCache(), cfg.get("nominatim_url") or None)


def locate(street: str, postcode: str, town: str) -> geocode.Position | None:
    """Geocoder when enabled, else the postcode centroid, else the town of the region table."""
    found = geocode.locate(street, postcode, town, geocoder=_geocoder())
    if found is None:
        known = region.centroid(postcode, town)
        found = geocode.Position(known[0], known[1], "postcode") if known else None
    return found


def pin(user: User, org: Organisation, lat: float, lon: float) -> None:
    """Staff put the organisation exactly where the truck should go."""
    before = {"lat": org.lat, "lon": org.lon, "source": org.geo_source.value if org.geo_source else None}
    org.lat, org.lon, org.geo_source = lat, lon, GeoSource.MANUAL
    audit.record(user, "organisation", org.id, "pinned", before, {"lat": lat, "lon": lon, "source": "manual"})
    db.session.commit()


_osrm: dict[str, travel.Osrm] = {}


def with_road_matrix(problem: Problem) -> Problem:
    """The problem with OSRM road values when `MAPS.osrm_url` is set; unchanged (great-circle) otherwise."""
    url = current_app.config["MAPS"].get("osrm_url")
    if not url:
        return problem
    backend = _osrm.setdefault(url, travel.Osrm(url))
    points = [(problem.depot.lat, problem.depot.lon)] + [(v.lat, v.lon) for v in problem.visits]
    km, minutes = backend.matrix(points)
    ids = (problem.depot.id,) + tuple(v.id for v in problem.visits)
    return dataclasses.replace(problem, matrix=Matrix(ids, tuple(map(tuple, km)), tuple(map(tuple, minutes))))
