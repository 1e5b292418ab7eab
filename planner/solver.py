"""The semester optimiser: one truck's route through a half-day clock, solved with PyVRP.

Model (chosen by measurement, see the benchmark): the tour is a single vehicle's route over slots (two per
working day). Every visit becomes one client per run of consecutive feasible start days (a time window), the
copies of one visit forming an optional, mutually exclusive group; its prize is its priority scaled so that
serving more priority always beats driving less. Travel takes no slots (the truck moves in the afternoon or
evening), except that a whole-day visit after a half-day visit waits for the next morning, and a transfer longer
than `max_transfer_minutes` needs a free working day and goes via the depot. The solver's route is then
re-timed on the real calendar (earliest feasible start in route order), visits it left out are inserted where
they fit, and a relocate pass shortens the tour with the exact transfer rules."""
from __future__ import annotations

import time
import warnings

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import NeighbourhoodParams, PerturbationParams
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from .days import Calendar
from .model import Plan, Problem
from . import select
from .placement import classify_unserved, open_days, place_fixed
from .timeline import Placement, Timeline
from .travel import matrices

PRIZE_STEPS = 100  # priority resolution: 0.01
ITERATIONS_PER_SECOND = 4500  # below what a second allows here, so runs stop on iterations and repeat
SETUP_SECONDS = 0.15  # calendar, matrices and model building, measured at 200 requests
SHARES = (0.15, 0.55)  # of the time left: routing with prizes, then selection; routing the chosen gets the rest
WORK_PER_SECOND = 0.3  # CP-SAT deterministic time per wall-clock second, measured here (model building included)


def _runs(days: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and d == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


class SemesterModel:
    """Builds the PyVRP data for a problem and turns PyVRP's route back into placements."""

    def __init__(self, problem: Problem, cal: Calendar, km: np.ndarray, minutes: np.ndarray,
                 fixed: Timeline, candidates: dict[int, list[int]], required: bool = False):
        self.problem, self.cal, self.km, self.minutes = problem, cal, km, minutes
        self.client_visit: list[int] = []
        visits = problem.visits
        n_loc = len(visits) + 1
        half = np.array([False] + [v.half_day for v in visits])
        dist = np.rint(km * 1000).astype(np.int64)
        dur = np.zeros((n_loc, n_loc), dtype=np.int64)
        dur[np.ix_(half, ~half)] = 1
        dur[:, 0] = dur[0, :] = 0
        too_long = minutes > problem.max_transfer_minutes
        too_long[0, :] = too_long[:, 0] = False
        np.fill_diagonal(too_long, False)
        via_depot = np.rint((km[:, [0]] + km[[0], :]) * 1000).astype(np.int64)
        dist = np.where(too_long, via_depot, dist)
        dur = np.where(too_long, 2 + half[:, None].astype(np.int64), dur)
        self.prize_unit = int(4 * max(1.0, float(km.max())) * 1000)

        locations = [pyvrp.Location(problem.depot.lon, problem.depot.lat)] + [
            pyvrp.Location(v.lon, v.lat) for v in visits]
        clients: list[pyvrp.Client] = []
        groups: list[pyvrp.ClientGroup] = []
        for p in fixed.items:
            clients.append(pyvrp.Client(location=p.visit + 1, service_duration=visits[p.visit].slots,
                                        tw_early=p.start, tw_late=p.start, required=True))
            self.client_visit.append(p.visit)
        for i, days in candidates.items():
            v = visits[i]
            prize = 0 if required else max(1, round(v.priority * PRIZE_STEPS)) * self.prize_unit
            runs = _runs(days)
            group = len(groups) if len(runs) > 1 else None
            members = []
            for a, b in runs:
                members.append(len(clients))
                clients.append(pyvrp.Client(location=i + 1, service_duration=v.slots, tw_early=2 * a,
                                            tw_late=2 * b + (1 if v.half_day else 0), prize=prize,
                                            required=required and group is None, group=group))
                self.client_visit.append(i)
            if group is not None:
                groups.append(pyvrp.ClientGroup(members, required=required))
        horizon = cal.slots
        self.data = pyvrp.ProblemData(
            locations, clients, [pyvrp.Depot(location=0, tw_early=0, tw_late=horizon)],
            [pyvrp.VehicleType(num_available=1, tw_early=0, tw_late=horizon)], [dist], [dur], groups)
        self.max_prize = max([c.prize for c in clients] + [1])

    def params(self) -> pyvrp.SolveParams:
        """Time warp must always cost more than any prize it could buy."""
        floor = float(10 * max(self.max_prize, self.prize_unit))
        return pyvrp.SolveParams(
            penalty=pyvrp.PenaltyParams(min_penalty=floor, max_penalty=100 * floor),
            neighbourhood=NeighbourhoodParams(num_neighbours=30),
            perturbation=PerturbationParams(1, 10))

    def route_order(self, solution: pyvrp.Solution) -> list[tuple[int, int]]:
        """(visit, start slot) in the order the truck meets them; whole days start in the morning."""
        order: list[tuple[int, int]] = []
        for route in solution.routes():
            for act in route.schedule():
                if act.type == pyvrp.ActivityType.CLIENT:
                    visit = self.client_visit[act.idx]
                    slot = int(act.start_time)
                    order.append((visit, slot if self.problem.visits[visit].half_day else slot - slot % 2))
        return order


def solve(problem: Problem) -> Plan:
    """Three passes, each keeping the best tour so far (most priority, then fewest km):
    PyVRP with prizes proposes a short tour; CP-SAT, hinted with it, finds a schedule with more priority where
    there is one; PyVRP then routes the chosen visits (all required) for the fewest kilometres."""
    started = time.perf_counter()
    deadline = started + problem.time_limit_s
    cal = Calendar(problem)
    km, minutes = matrices(problem)
    fixed = Timeline(problem, cal, km, minutes)
    rejected = place_fixed(problem, cal, fixed)
    candidates = {i: days for i, v in enumerate(problem.visits) if v.fixed_start is None
                  for days in [open_days(problem, cal, fixed, i)] if days}
    reserve = 0.05 + 0.001 * len(candidates)  # re-timing, repair and reasons: 0.06 s at 200 requests, measured
    status, iterations = [], 0
    best = decode(problem, cal, km, minutes, fixed, candidates, [])

    def keep(tl: Timeline) -> None:
        nonlocal best
        if _score(tl) > _score(best):
            best = tl

    def left() -> float:
        return deadline - time.perf_counter() - reserve

    # Work budgets follow from the time limit alone (not the clock), so a seeded run repeats exactly;
    # the clock only caps each stage.
    work = max(0.1, problem.time_limit_s - SETUP_SECONDS - reserve)
    if candidates:
        prizes = SemesterModel(problem, cal, km, minutes, fixed, candidates)
        order, n, note = _run(prizes, problem.seed, work * SHARES[0], left() * 0.5)
        iterations += n
        status.append(f"routing with prizes: {note}")
        keep(decode(problem, cal, km, minutes, fixed, candidates, order))
        hint = [(p.visit, p.start) for p in best.items if p.visit in candidates]
        chosen, note = select.choose(problem, fixed, candidates, km, work * SHARES[1] * WORK_PER_SECOND,
                                     problem.seed, hint, cap=left() * 0.8)
        status.append(f"selection (CP-SAT): {note}")
        keep(decode(problem, cal, km, minutes, fixed, candidates, chosen))
        served = {p.visit: candidates[p.visit] for p in best.items if p.visit in candidates}
        chosen_only = SemesterModel(problem, cal, km, minutes, fixed, served)
        order, n, note = _run(chosen_only, problem.seed, work * (1 - sum(SHARES)), left())
        iterations += n
        status.append(f"routing the chosen visits: {note}")
        keep(decode(problem, cal, km, minutes, fixed, candidates, order))
    unserved = classify_unserved(problem, cal, best, km, minutes, rejected)
    return best.to_plan(unserved, {"name": "pyvrp+cp-sat", "seconds": round(time.perf_counter() - started, 3),
                                   "status": "; ".join(status) or "nothing to plan", "iterations": iterations})


def _run(model: SemesterModel, seed: int, work: float, cap: float) -> tuple[list[tuple[int, int]], int, str]:
    """Solve with an iteration budget (reproducible), capped by the wall clock."""
    budget = max(0.05, cap)
    limit = max(100, int(work * ITERATIONS_PER_SECOND))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)  # an infeasible stage falls back to the other result
        result = pyvrp.solve(model.data, stop=MultipleCriteria([MaxIterations(limit), MaxRuntime(budget)]),
                             seed=seed, display=False, params=model.params())
    how = "iterations" if result.num_iterations >= limit else "time limit"
    if not result.best.is_feasible():
        return [], result.num_iterations, f"found no feasible route (stopped on {how})"
    return model.route_order(result.best), result.num_iterations, f"feasible (stopped on {how})"


def _score(tl: Timeline) -> tuple[float, float]:
    return round(sum(tl.problem.visits[p.visit].priority for p in tl.items), 6), -round(tl.total_km(), 6)


def decode(problem: Problem, cal: Calendar, km: np.ndarray, minutes: np.ndarray, fixed: Timeline,
           candidates: dict[int, list[int]], order: list[tuple[int, int]]) -> Timeline:
    """Put the proposed (visit, start slot) schedule on the real calendar — at the proposed slot where the rules
    allow, else at the earliest feasible start after its predecessor — then insert what is missing, serve
    higher-priority visits in place of lower ones, and move and swap visits while that saves kilometres."""
    tl = Timeline(problem, cal, km, minutes)
    for p in fixed.items:
        tl.add(p)
    pinned = {p.visit for p in fixed.items}
    cursor = 0
    for i, slot in order:
        if i in pinned:
            cursor = max(cursor, next(p.end for p in tl.items if p.visit == i))
            continue
        p = tl.placement(i, slot)
        if slot // 2 not in candidates[i] or not tl.fits(p):
            p = _earliest(tl, i, candidates[i], cursor)
        if p is not None:
            tl.add(p)
            cursor = p.end
    _insert_missing(tl, candidates)
    _eject(tl, candidates, pinned)
    for _ in range(3):
        moved = _relocate(tl, candidates, pinned) + _swap(tl, candidates, pinned)
        if not moved:
            break
    _insert_missing(tl, candidates)
    return tl


def _local_km(tl: Timeline, ps: list[Placement]) -> float:
    """Kilometres of the arcs touching the given placements (each arc once)."""
    arcs = set()
    for p in ps:
        pos = tl.items.index(p)
        if pos > 0:
            arcs.add((pos - 1, pos))
        arcs.add((pos, pos + 1))
    seq = tl.items
    return sum(tl.arc_km(seq[a] if a >= 0 else None, seq[b] if b < len(seq) else None) for a, b in arcs)


def _swap(tl: Timeline, candidates: dict[int, list[int]], pinned: set[int]) -> int:
    """Exchange the days of two visits of the same length where both may take the other's days and it saves km."""
    moves = 0
    allowed = {i: set(days) for i, days in candidates.items()}
    by_length: dict[int, list[Placement]] = {}
    for p in tl.items:
        if p.visit not in pinned:
            by_length.setdefault(p.end - p.start, []).append(p)
    for group in by_length.values():
        for a_pos, a in enumerate(group):
            for b_pos in range(a_pos + 1, len(group)):
                b = group[b_pos]
                if b.first_day not in allowed[a.visit] or a.first_day not in allowed[b.visit]:
                    continue
                if a not in tl.items or b not in tl.items:
                    continue
                before = _local_km(tl, [a, b])
                a2, b2 = Placement(a.visit, b.start, b.end), Placement(b.visit, a.start, a.end)
                tl.remove(a)
                tl.remove(b)
                tl.add(a2)
                tl.add(b2)
                ok = tl.transfer_ok_around(a2) and tl.transfer_ok_around(b2)
                if ok and _local_km(tl, [a2, b2]) < before - 1e-6:
                    group[a_pos], group[b_pos] = a2, b2
                    a = a2
                    moves += 1
                    continue
                tl.remove(a2)
                tl.remove(b2)
                tl.add(a)
                tl.add(b)
    return moves


def _insert_missing(tl: Timeline, candidates: dict[int, list[int]]) -> None:
    """Cheapest feasible insertion of every left-out visit, highest priority first."""
    served = {p.visit for p in tl.items}
    visits = tl.problem.visits
    for i in sorted((i for i in candidates if i not in served),
                    key=lambda i: (-visits[i].priority, len(candidates[i]), i)):
        best = tl.best_insertion(i, candidates[i])
        if best is not None:
            tl.add(best[1])


def _eject(tl: Timeline, candidates: dict[int, list[int]], pinned: set[int]) -> None:
    """Serve a left-out visit in place of lower-priority ones that block it, then re-place those elsewhere."""
    visits = tl.problem.visits
    served = {p.visit for p in tl.items}
    for u in sorted((i for i in candidates if i not in served), key=lambda i: (-visits[i].priority, i)):
        if u in {p.visit for p in tl.items}:
            continue
        best = None
        for day in candidates[u]:
            for slot in tl.start_slots(u, day):
                p = tl.placement(u, slot)
                blocking = [q for q in tl.items if q.start < p.end + 2 and p.start < q.end + 2]
                clash = [q for q in blocking if q.start < p.end and p.start < q.end]
                if not clash or any(q.visit in pinned for q in clash):
                    continue
                loss = sum(visits[q.visit].priority for q in clash)
                if loss >= visits[u].priority - 1e-9:
                    continue
                for q in clash:
                    tl.remove(q)
                ok = tl.fits(p)
                cost = tl.insertion_km(p) if ok else 0.0
                for q in clash:
                    tl.add(q)
                if ok and (best is None or (visits[u].priority - loss, -cost) > best[0]):
                    best = ((visits[u].priority - loss, -cost), p, clash)
        if best is None:
            continue
        _gain, p, clash = best
        for q in clash:
            tl.remove(q)
        tl.add(p)
        for q in sorted(clash, key=lambda q: -visits[q.visit].priority):
            again = tl.best_insertion(q.visit, candidates[q.visit])
            if again is not None:
                tl.add(again[1])


def _earliest(tl: Timeline, i: int, days: list[int], cursor: int) -> Placement | None:
    for day in days:
        for slot in tl.start_slots(i, day):
            if slot >= cursor:
                p = tl.placement(i, slot)
                if tl.fits(p):
                    return p
    return None


def _relocate(tl: Timeline, candidates: dict[int, list[int]], pinned: set[int]) -> int:
    """Move single visits to the feasible start that saves the most kilometres."""
    moves = 0
    for p in list(tl.items):
        if p.visit in pinned:
            continue
        pos = tl.items.index(p)
        prev = tl.items[pos - 1] if pos > 0 else None
        nxt = tl.items[pos + 1] if pos + 1 < len(tl.items) else None
        saving = tl.arc_km(prev, p) + tl.arc_km(p, nxt) - tl.arc_km(prev, nxt)
        tl.remove(p)
        best = tl.best_insertion(p.visit, candidates[p.visit])
        if best is not None and best[0] < saving - 1e-6:
            tl.add(best[1])
            moves += 1
        else:
            tl.add(p)
    return moves
