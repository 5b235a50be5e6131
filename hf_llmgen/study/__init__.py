"""The diversity paper's study on real data: diversification x human intervention, every metric, a table and a
figure (`run_study`, `hf-llmgen study`)."""

from .grid import DIVERSIFICATIONS, GRIDS
from .interventions import INTERVENTIONS
from .run import run_study

__all__ = ["DIVERSIFICATIONS", "GRIDS", "INTERVENTIONS", "run_study"]
