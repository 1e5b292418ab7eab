"""Tour planning for the Mobile InnovationLab: pure dataclasses in, dataclasses out (see PLANNER.md)."""
from .model import DateRange, Leg, Matrix, Plan, Problem, Site, Stop, Unserved, Visit
from .solver import solve
from .validate import validate
from .evaluate import evaluate

__all__ = ["evaluate", "DateRange", "Leg", "Matrix", "Plan", "Problem", "Site", "Stop", "Unserved", "Visit", "solve",
           "validate"]
