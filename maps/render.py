"""Folium maps of a tour, a day and the region, loading nothing but the given asset URLs and tile server.

folium does not escape popup or tooltip HTML, so every text that reaches a map is escaped here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import folium
from folium.plugins import MarkerCluster
from markupsafe import escape

WEEK_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
STATUS_COLOURS = {"requested": "#6c757d", "planned": "#0d6efd", "unplaced": "#dc3545"}


@dataclass(frozen=True)
class Assets:
    jquery_js: str  # folium builds popups with jQuery
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


def _base(tiles: Tiles, assets: Assets, centre: tuple[float, float], zoom: int) -> folium.Map:
    m = folium.Map(location=centre, zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=False)
    m.default_js = [("leaflet", assets.leaflet_js), ("jquery", assets.jquery_js)]
    m.default_css = [("leaflet_css", assets.leaflet_css)]
    folium.TileLayer(tiles=tiles.url, attr=str(escape(tiles.attribution)), name="tiles").add_to(m)
    return m


def _popup(*lines: str) -> folium.Popup:
    return folium.Popup("<br>".join(str(escape(x)) for x in lines if x), max_width=320)


def _split(m: folium.Map) -> Rendered:
    root = m.get_root()
    root.render()
    header = re.sub(r"<style>\s*html, body \{.*?</style>", "", root.header.render(), flags=re.S)
    body = root.html.render()
    script = root.script.render()
    return Rendered(header, body, script)


def _fit(m: folium.Map, points: list[tuple[float, float]]) -> None:
    if len(points) > 1:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))


def tour_map(stops: list[MapStop], legs: list[MapLeg], depot: tuple[float, float], depot_name: str,
             tiles: Tiles, assets: Assets) -> Rendered:
    """Numbered stops coloured by group, transfer legs with km and minutes, the depot."""
    m = _base(tiles, assets, depot, 9)
    for leg in legs:
        colour = WEEK_COLOURS[leg.group % len(WEEK_COLOURS)]
        text = f"{leg.label}: {leg.km:.0f} km, {leg.minutes:.0f} min"
        folium.PolyLine([leg.frm, leg.to], color=colour, weight=3, opacity=0.7,
                        tooltip=str(escape(text)), popup=_popup(text)).add_to(m)
    folium.Marker(depot, tooltip=str(escape(depot_name)),
                  icon=folium.DivIcon(html='<div class="map-depot">D</div>', class_name="map-icon")).add_to(m)
    for s in stops:
        group = s.group % len(WEEK_COLOURS)
        folium.Marker(
            (s.lat, s.lon), tooltip=str(escape(f"{s.number}. {s.name}")),
            popup=_popup(f"{s.number}. {s.name}", s.town, s.dates, f"{s.participants} TN"),
            icon=folium.DivIcon(html=f'<div class="map-stop map-group-{group}">{s.number}</div>',
                                class_name="map-icon")).add_to(m)
    _fit(m, [depot] + [(s.lat, s.lon) for s in stops])
    return _split(m)


def region_map(points: list[MapPoint], labels: list[Label], tiles: Tiles, assets: Assets,
               centre: tuple[float, float]) -> Rendered:
    """All requests clustered by status, district labels, Oberzentren marked."""
    m = _base(tiles, assets, centre, 8)
    for status in STATUS_COLOURS:
        cluster = MarkerCluster(name=status)
        cluster.default_js = [("markerclusterjs", assets.cluster_js)]
        cluster.default_css = [("markerclustercss", assets.cluster_css),
                               ("markerclusterdefaultcss", assets.cluster_default_css)]
        for p in (p for p in points if p.status == status):
            folium.CircleMarker((p.lat, p.lon), radius=7, color=STATUS_COLOURS[status], fill=True, fill_opacity=0.8,
                                tooltip=str(escape(p.name)),
                                popup=_popup(p.name, p.town, p.dates, f"{p.participants} TN")).add_to(cluster)
        cluster.add_to(m)
    for label in labels:
        css = "map-centre" if label.centre else "map-district"
        folium.Marker((label.lat, label.lon), icon=folium.DivIcon(
            html=f'<div class="{css}">{escape(label.text)}</div>', class_name="map-icon")).add_to(m)
    _fit(m, [(p.lat, p.lon) for p in points])
    return _split(m)


def external_hosts(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Hosts other than `allowed` that the HTML loads anything from (src/href attributes and url())."""
    hosts = set()
    for url in re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html):
        hosts.add(re.sub(r"^(?:https?:)?//", "", url).split("/")[0])
    return sorted(h for h in hosts if h not in allowed)
