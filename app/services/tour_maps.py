"""Maps of tours and of the region: turns rows into plain map data for maps.render (never contact data)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_date

from maps import render

from ..extensions import db
from ..models import RequestStatus, Tour, VisitRequest
from . import region, tours


def _assets() -> render.Assets:
    s = lambda path: url_for("static", filename=path)  # noqa: E731
    return render.Assets(s("vendor/leaflet/leaflet.js"), s("vendor/leaflet/leaflet.css"),
                         s("vendor/markercluster/leaflet.markercluster.js"),
                         s("vendor/markercluster/MarkerCluster.css"),
                         s("vendor/markercluster/MarkerCluster.Default.css"))


def _tiles() -> render.Tiles:
    return render.Tiles(current_app.config["TILE_URL"], current_app.config["TILE_ATTRIBUTION"])


def _position(req: VisitRequest) -> tuple[float, float]:
    org = req.organisation
    if org.lat is not None and org.lon is not None:
        return org.lat, org.lon
    depot = current_app.config["DEPOT"]
    return region.centroid(org.postcode, org.town) or (depot["lat"], depot["lon"])


def _dates(start: date, end: date) -> str:
    if start == end:
        return format_date(start, "EEE dd.MM.yyyy")
    return f"{format_date(start, 'EEE dd.MM.')} – {format_date(end, 'EEE dd.MM.yyyy')}"


def tour_map(tour: Tour, day: date | None = None) -> render.Rendered:
    """The whole tour (colour per week), or one day with the transfers that reach it."""
    depot_cfg = current_app.config["DEPOT"]
    depot = (depot_cfg["lat"], depot_cfg["lon"])
    first_week = tour.horizon_start.isocalendar()[:2]

    def week_group(d: date) -> int:
        y, w = d.isocalendar()[:2]
        return (y - first_week[0]) * 53 + (w - first_week[1])

    visits = [v for v in tour.visits if day is None or v.start <= day <= v.end]
    numbers = {v.request_id: n for n, v in enumerate(tour.visits, start=1)}
    stops = [render.MapStop(numbers[v.request_id], *_position(v.request), v.request.organisation.name,
                            v.request.organisation.town, _dates(v.start, v.end), v.request.participants,
                            week_group(v.start)) for v in visits]
    shown = {v.request_id for v in visits}
    legs = []
    for leg in tour.legs:
        if day is not None and leg.to_request_id not in shown and leg.from_request_id not in shown:
            continue
        frm = _position(leg_from) if (leg_from := _req(leg.from_request_id)) else depot
        to = _position(leg_to) if (leg_to := _req(leg.to_request_id)) else depot
        name = lambda r: r.organisation.name if r else depot_cfg["name"]  # noqa: E731
        legs.append(render.MapLeg(frm, to, leg.km, leg.minutes, f"{name(leg_from)} → {name(leg_to)}",
                                  week_group(leg.day)))
    return render.tour_map(stops, legs, depot, depot_cfg["name"], _tiles(), _assets())


def _req(request_id: int | None) -> VisitRequest | None:
    return db.session.get(VisitRequest, request_id) if request_id else None


def week_legend(tour: Tour) -> list[tuple[int, str]]:
    """(colour group, first visit date) per week that has visits."""
    first_week = tour.horizon_start.isocalendar()[:2]
    seen: dict[int, date] = {}
    for v in tour.visits:
        y, w = v.start.isocalendar()[:2]
        seen.setdefault((y - first_week[0]) * 53 + (w - first_week[1]), v.start)
    return [(g % len(render.WEEK_COLOURS), format_date(d, "'KW' w, dd.MM.")) for g, d in sorted(seen.items())]


def region_map() -> render.Rendered:
    """Every open request: requested (grey), planned in the published tour (blue), approved but unplaced (red)."""
    pub = tours.published()
    planned = {v.request_id: v for v in pub.visits} if pub else {}
    requests = db.session.scalars(sa.select(VisitRequest).where(VisitRequest.status.in_([
        RequestStatus.REQUESTED, RequestStatus.WAITLISTED, RequestStatus.APPROVED, RequestStatus.PLANNED,
        RequestStatus.CONFIRMED]))).all()
    points = []
    for req in requests:
        v = planned.get(req.id)
        status = "planned" if v else ("unplaced" if req.status in (RequestStatus.APPROVED, RequestStatus.CONFIRMED)
                                      else "requested")
        dates = _dates(v.start, v.end) if v else ", ".join(_dates(w.start, w.end) for w in req.windows)
        points.append(render.MapPoint(*_position(req), req.organisation.name, req.organisation.town, status, dates,
                                      req.participants))
    by_district: dict[str, list[region.Town]] = defaultdict(list)
    for t in region.towns():
        by_district[t.district].append(t)
    labels = [render.Label(sum(t.lat for t in ts) / len(ts), sum(t.lon for t in ts) / len(ts) - 0.05, d)
              for d, ts in by_district.items() if not any(t.oberzentrum for t in ts)]
    labels += [render.Label(t.lat, t.lon, t.town, centre=True) for t in region.towns() if t.oberzentrum]
    depot = current_app.config["DEPOT"]
    return render.region_map(points, labels, _tiles(), _assets(), (depot["lat"], depot["lon"]))
