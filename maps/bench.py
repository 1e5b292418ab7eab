"""python -m maps.bench: render a 120-stop tour map and a 300-request region map; time, size, external hosts."""
from __future__ import annotations

import json
import random
import sys
import time

from planner import generate

from . import render

ASSETS = render.Assets("/static/vendor/leaflet/leaflet.js",
                       "/static/vendor/leaflet/leaflet.css", "/static/vendor/markercluster/leaflet.markercluster.js",
                       "/static/vendor/markercluster/MarkerCluster.css",
                       "/static/vendor/markercluster/MarkerCluster.Default.css")
TILES = render.Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors")
DEPOT = (53.1053, 8.8497)


def _measure(name: str, build) -> dict:
    build()  # warm-up: templates compiled once per process
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        rendered = build()
        runs.append((time.perf_counter() - t) * 1000)
    html = rendered.html
    return {"map": name, "ms": round(sorted(runs)[len(runs) // 2], 1), "bytes": len(html.encode()),
            "external_hosts": render.external_hosts(html, allowed=("tile.openstreetmap.org",))}


def main() -> int:
    rng = random.Random(1)
    visits = generate.semester(300, seed=1).visits
    stops = [render.MapStop(n + 1, v.lat, v.lon, f"Organisation {v.id}", "Ort", "Mo. 01.03. – Di. 02.03.2027",
                            rng.randint(10, 90), n // 3) for n, v in enumerate(visits[:120])]
    legs = [render.MapLeg((a.lat, a.lon), (b.lat, b.lon), 30.0, 30.0, f"{a.name} → {b.name}", a.group)
            for a, b in zip(stops, stops[1:])]
    points = [render.MapPoint(v.lat, v.lon, f"Organisation {v.id}", "Ort",
                              ("requested", "planned", "unplaced")[n % 3], "01.03.–12.03.2027", 30)
              for n, v in enumerate(visits)]
    labels = [render.Label(53.1, 8.8, "Bremen", True), render.Label(53.3, 8.45, "Wesermarsch")]
    for result in (_measure("tour_120_stops", lambda: render.tour_map(stops, legs, DEPOT, "DHI", TILES, ASSETS)),
                   _measure("region_300_requests", lambda: render.region_map(points, labels, TILES, ASSETS, DEPOT))):
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
