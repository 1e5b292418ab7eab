"""Travel estimates between the depot and the visits: a given road matrix, or great-circle × circuity."""
from __future__ import annotations

import math

import numpy as np

from .model import Problem

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def matrices(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(km, minutes) over [depot, *visits] in problem order."""
    ids = [problem.depot.id] + [v.id for v in problem.visits]
    if problem.matrix is not None:
        pos = {i: n for n, i in enumerate(problem.matrix.ids)}
        missing = [i for i in ids if i not in pos]
        if missing:
            raise ValueError(f"travel matrix lacks {missing[:5]}")
        order = [pos[i] for i in ids]
        km = np.asarray(problem.matrix.km, dtype=float)[np.ix_(order, order)]
        minutes = np.asarray(problem.matrix.minutes, dtype=float)[np.ix_(order, order)]
        return km, minutes
    lat = np.radians([problem.depot.lat] + [v.lat for v in problem.visits])
    lon = np.radians([problem.depot.lon] + [v.lon for v in problem.visits])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))) * problem.circuity
    return km, km / problem.speed_kmh * 60.0
