"""Solomon VRPTW instances: reader, PyVRP model with exact-feasibility checks, and the distance in doubles."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp.search import NeighbourhoodParams, PerturbationParams
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

SCALE = 1000  # integer units per distance unit; travel times are rounded up so no route is late in doubles


@dataclass(frozen=True)
class Node:
    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    nodes: tuple[Node, ...]  # nodes[0] is the depot

    def dist(self, a: int, b: int) -> float:
        p, q = self.nodes[a], self.nodes[b]
        return math.hypot(p.x - q.x, p.y - q.y)


def read(path: str | Path) -> Instance:
    """Parse the classic text format: name, VEHICLE block, CUSTOMER block (node 0 = depot)."""
    lines = [ln.strip() for ln in Path(path).read_text().splitlines() if ln.strip()]
    name = lines[0]
    vehicles = capacity = None
    nodes = []
    for i, line in enumerate(lines):
        if line.upper().startswith("NUMBER") and vehicles is None:
            vehicles, capacity = (int(v) for v in lines[i + 1].split()[:2])
        parts = line.split()
        if len(parts) == 7 and all(_is_number(p) for p in parts):
            n, x, y, demand, ready, due, service = parts
            nodes.append(Node(int(n), float(x), float(y), int(float(demand)), float(ready), float(due), float(service)))
    if vehicles is None or not nodes or nodes[0].number != 0:
        raise ValueError(f"{path}: not a Solomon instance")
    return Instance(name, vehicles, capacity, tuple(nodes))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_problem_data(inst: Instance) -> pyvrp.ProblemData:
    xy = np.array([(n.x, n.y) for n in inst.nodes])
    exact = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    distance = np.rint(exact * SCALE).astype(np.int64)
    duration = np.ceil(exact * SCALE - 1e-9).astype(np.int64)
    depot = inst.nodes[0]
    locations = [pyvrp.Location(n.x, n.y) for n in inst.nodes]
    clients = [pyvrp.Client(location=i, delivery=[n.demand], service_duration=round(n.service * SCALE),
                            tw_early=round(n.ready * SCALE), tw_late=round(n.due * SCALE), name=str(n.number))
               for i, n in enumerate(inst.nodes) if i > 0]
    depots = [pyvrp.Depot(location=0, tw_early=round(depot.ready * SCALE), tw_late=round(depot.due * SCALE))]
    vehicle = pyvrp.VehicleType(num_available=inst.vehicles, capacity=[inst.capacity],
                                tw_early=round(depot.ready * SCALE), tw_late=round(depot.due * SCALE))
    return pyvrp.ProblemData(locations, clients, depots, [vehicle], [distance], [duration])


# Measured on the development instances (2 cores, one thread): with a 30-client granular neighbourhood and at
# most 10 perturbations an iteration is cheap, and 2,250 iterations per second of budget end at about 75 % of
# the time limit, so a seeded run normally stops on iterations and repeats exactly.
ITERATIONS_PER_SECOND = 2250
PARAMS = dict(num_neighbours=30, max_perturbations=10)


def iterations_for(seconds: float) -> int:
    return max(200, int(seconds * ITERATIONS_PER_SECOND))


def solve_params() -> pyvrp.SolveParams:
    return pyvrp.SolveParams(neighbourhood=NeighbourhoodParams(num_neighbours=PARAMS["num_neighbours"]),
                             perturbation=PerturbationParams(1, PARAMS["max_perturbations"]))


def solve(inst: Instance, time_limit: float = 2.0, seed: int = 1) -> dict:
    data = to_problem_data(inst)
    stop = MultipleCriteria([MaxIterations(iterations_for(time_limit)), MaxRuntime(time_limit)])
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=stop, seed=seed, display=False, params=solve_params())
    seconds = time.perf_counter() - started
    routes = [client_indices(route, offset=1) for route in result.best.routes()]
    problems = check_routes(inst, routes)
    return {
        "instance": inst.name, "customers": len(inst.nodes) - 1, "vehicles": len(routes),
        "distance": round(route_distance(inst, routes), 4), "seconds": round(seconds, 3), "routes": routes,
        "feasible": not problems, "iterations": result.num_iterations,
        "stopped_by": "iterations" if result.num_iterations >= iterations_for(time_limit) else "time",
    }


def client_indices(route: pyvrp.Route, offset: int = 0) -> list[int]:
    """The route's clients in order, as indices into the client list (+ offset)."""
    return [a.idx + offset for a in route.schedule() if a.type == pyvrp.ActivityType.CLIENT]


def route_distance(inst: Instance, routes: list[list[int]]) -> float:
    return sum(inst.dist(a, b) for r in routes for a, b in zip([0, *r], [*r, 0]))


def check_routes(inst: Instance, routes: list[list[int]]) -> list[str]:
    """Every violation of the VRPTW rules, computed in double precision without tolerance."""
    problems = []
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, len(inst.nodes))):
        problems.append("not every customer exactly once")
    if len(routes) > inst.vehicles:
        problems.append(f"{len(routes)} routes > {inst.vehicles} vehicles")
    depot = inst.nodes[0]
    for r in routes:
        t, load, prev = depot.ready, 0, 0
        for c in r:
            node = inst.nodes[c]
            t = max(t + inst.dist(prev, c), node.ready)
            if t > node.due:
                problems.append(f"customer {c} served at {t} after due {node.due}")
            t += node.service
            load += node.demand
            prev = c
        if t + inst.dist(prev, 0) > depot.due:
            problems.append(f"route {r[:3]}… returns after the depot closes")
        if load > inst.capacity:
            problems.append(f"route {r[:3]}… carries {load} > {inst.capacity}")
    return problems
