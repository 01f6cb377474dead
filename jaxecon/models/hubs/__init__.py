"""The hubs model (paper 001, Rossi-Hansberg, Sarte & Schwartzman 2021, "Local Industrial Policy and
Sectoral Hubs"): N cities, J sectors trading with iceberg costs (Eaton-Kortum), K occupations choosing
cities (Fréchet), local occupational and scale externalities (eq. 1), model inversion, externality
estimation with model-implied instruments, and the constrained planner with its subsidies.

Equations: DESIGN.md "The hubs model" and the module docstrings (equilibrium, inversion, planner,
estimation).
"""

from .params import Params
from .equilibrium import Equilibrium, Policy, market_residuals, solve_equilibrium
from .inversion import (CityData, consistent_alpha, data_from_equilibrium, invert, normalize_amenities,
                        normalize_lambda, sector_imbalance)
from .planner import PlannerSolution, solve_planner, subsidies
from .estimation import ExternalityEstimates, counterfactual_allocation, estimate_externalities, regression_frame
from .adh import HubsEconomy, adh_economy
from .synthetic import SECTORS, TABLE1, sector_groups, synthetic_economy, table1_externalities, zipf_sizes

__all__ = [
    "Params", "Policy", "Equilibrium", "solve_equilibrium", "market_residuals",
    "CityData", "invert", "data_from_equilibrium", "normalize_lambda", "normalize_amenities", "consistent_alpha",
    "sector_imbalance", "PlannerSolution", "solve_planner", "subsidies",
    "ExternalityEstimates", "estimate_externalities", "counterfactual_allocation", "regression_frame",
    "HubsEconomy", "adh_economy",
    "synthetic_economy", "sector_groups", "table1_externalities", "zipf_sizes", "SECTORS", "TABLE1",
]
