"""Folium maps of a tour, a day and the region, loading nothing but the given asset URLs and tile server.

folium does not escape popup or tooltip HTML, so texts never go through folium's popups: they travel as JSON
and become DOM text nodes in the browser."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import folium
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import escape

WEEK_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
STATUS_COLOURS = {"requested": "#6c757d", "planned": "#0d6efd", "unplaced": "#dc3545"}


@dataclass(frozen=True)
class Assets:
    leaflet_js: str
    leaflet_css: str
    cluster_js: str
    cluster_css: str
    cluster_default_css: str


@dataclass(frozen=True)
class Tiles:
    url: str
    attribution: str


@dataclass(frozen=True)
class MapStop:
    number: int
    lat: float
    lon: float
    name: str
    town: str
    dates: str
    participants: int
    group: int  # colour group, e.g. the week of the tour


@dataclass(frozen=True)
class MapLeg:
    frm: tuple[float, float]
    to: tuple[float, float]
    km: float
    minutes: float
    label: str
    group: int


@dataclass(frozen=True)
class MapPoint:
    lat: float
    lon: float
    name: str
    town: str
    status: str  # requested / planned / unplaced
    dates: str
    participants: int


@dataclass(frozen=True)
class Label:
    lat: float
    lon: float
    text: str
    centre: bool = False  # an Oberzentrum


@dataclass
class Rendered:
    """The map split for embedding in a page: header (assets, styles), body (the map div), script."""
    header: str
    body: str
    script: str
    external: list[str] = field(default_factory=list)

    def with_nonce(self, nonce: str) -> "Rendered":
        def add(html: str) -> str:
            return re.sub(r"<(script|style)(?![^>]*\bnonce=)", rf'<\1 nonce="{nonce}"', html)
        return Rendered(add(self.header), self.body, add(self.script), self.external)

    @property
    def html(self) -> str:
        return f"<!DOCTYPE html><html><head>{self.header}</head><body>{self.body}<script>{self.script}</script>" \
               f"</body></html>"


_JS = """
(function (map, d) {
  function text(lines) {
    var div = document.createElement('div');
    lines.forEach(function (t, i) { if (i) div.appendChild(document.createElement('br'));
                                     div.appendChild(document.createTextNode(t)); });
    return div;
  }
  function badge(cls, label) {
    var el = document.createElement('div'); el.className = cls; el.textContent = label; return el;
  }
  var bounds = [];
  (d.legs || []).forEach(function (l) {
    L.polyline([l.a, l.b], {color: l.colour, weight: 3, opacity: 0.7})
      .bindTooltip(text([l.label])).bindPopup(text([l.label])).addTo(map);
  });
  if (d.depot) {
    L.marker(d.depot.at, {icon: L.divIcon({className: 'map-icon', html: badge('map-depot', 'D')})})
      .bindTooltip(text([d.depot.name])).addTo(map);
    bounds.push(d.depot.at);
  }
  (d.stops || []).forEach(function (s) {
    var icon = L.divIcon({className: 'map-icon', html: badge('map-stop map-group-' + s.group, String(s.number))});
    L.marker(s.at, {icon: icon}).bindTooltip(text([s.number + '. ' + s.lines[0]])).bindPopup(text(s.lines))
      .addTo(map);
    bounds.push(s.at);
  });
  Object.keys(d.clusters || {}).forEach(function (status) {
    var group = L.markerClusterGroup();
    d.clusters[status].points.forEach(function (p) {
      L.circleMarker(p.at, {radius: 7, color: d.clusters[status].colour, fill: true, fillOpacity: 0.8})
        .bindTooltip(text([p.lines[0]])).bindPopup(text(p.lines)).addTo(group);
      bounds.push(p.at);
    });
    group.addTo(map);
  });
  (d.labels || []).forEach(function (l) {
    L.marker(l.at, {icon: L.divIcon({className: 'map-icon', html: badge(l.centre ? 'map-centre' : 'map-district',
                                                                         l.text)}), interactive: false}).addTo(map);
  });
  if (bounds.length > 1) { map.fitBounds(bounds, {padding: [20, 20]}); }
})(%(map)s, %(data)s);
"""


def _safe_json(data) -> str:
    """JSON that cannot end or open a tag inside a <script> element."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class _DataLayer(MacroElement):
    """Markers, lines and popups drawn by a few lines of JavaScript from one JSON blob. Popup texts become DOM
    text nodes, so no organisation name is ever parsed as HTML; one element instead of hundreds keeps
    rendering fast."""
    _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

    def __init__(self, data: dict):
        super().__init__()
        self._name = "DataLayer"
        self.data = data

    def render(self, **kwargs):
        self.js = _JS % {"map": self._parent.get_name(), "data": _safe_json(self.data)}
        super().render(**kwargs)


def _base(tiles: Tiles, assets: Assets, centre: tuple[float, float], zoom: int, cluster: bool = False) -> folium.Map:
    m = folium.Map(location=centre, zoom_start=zoom, tiles=None, control_scale=True)
    m.default_js = [("leaflet", assets.leaflet_js)] + ([("markercluster", assets.cluster_js)] if cluster else [])
    m.default_css = [("leaflet_css", assets.leaflet_css)] + (
        [("markercluster_css", assets.cluster_css), ("markercluster_default_css", assets.cluster_default_css)]
        if cluster else [])
    folium.TileLayer(tiles=tiles.url, attr=str(escape(tiles.attribution)), name="tiles").add_to(m)
    return m


def _split(m: folium.Map) -> Rendered:
    root = m.get_root()
    root.render()
    header = re.sub(r"<style>\s*html, body \{.*?</style>", "", root.header.render(), flags=re.S)
    return Rendered(header, root.html.render(), root.script.render())


def tour_map(stops: list[MapStop], legs: list[MapLeg], depot: tuple[float, float], depot_name: str,
             tiles: Tiles, assets: Assets) -> Rendered:
    """Numbered stops coloured by group, transfer legs with km and minutes, the depot."""
    m = _base(tiles, assets, depot, 9)
    data = {
        "depot": {"at": depot, "name": depot_name},
        "legs": [{"a": l.frm, "b": l.to, "colour": WEEK_COLOURS[l.group % len(WEEK_COLOURS)],
                  "label": f"{l.label}: {l.km:.0f} km, {l.minutes:.0f} min"} for l in legs],
        "stops": [{"at": (s.lat, s.lon), "number": s.number, "group": s.group % len(WEEK_COLOURS),
                   "lines": [s.name, s.town, s.dates, f"{s.participants} TN"]} for s in stops],
    }
    _DataLayer(data).add_to(m)
    return _split(m)


def region_map(points: list[MapPoint], labels: list[Label], tiles: Tiles, assets: Assets,
               centre: tuple[float, float]) -> Rendered:
    """All requests clustered by status, district labels, Oberzentren marked."""
    m = _base(tiles, assets, centre, 8, cluster=True)
    data = {
        "clusters": {status: {"colour": colour, "points": [
            {"at": (p.lat, p.lon), "lines": [p.name, p.town, p.dates, f"{p.participants} TN"]}
            for p in points if p.status == status]} for status, colour in STATUS_COLOURS.items()},
        "labels": [{"at": (l.lat, l.lon), "text": l.text, "centre": l.centre} for l in labels],
    }
    _DataLayer(data).add_to(m)
    return _split(m)


def external_hosts(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Hosts other than `allowed` that the HTML loads anything from (src/href attributes and url())."""
    hosts = set()
    for url in re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html):
        hosts.add(re.sub(r"^(?:https?:)?//", "", url).split("/")[0])
    return sorted(h for h in hosts if h not in allowed)
