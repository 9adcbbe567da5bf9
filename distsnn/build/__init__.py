"""From a Network to flat tables every backend can run (the BuildPlan)."""
from .plan import BuildPlan, make_plan

__all__ = ["BuildPlan", "make_plan"]
