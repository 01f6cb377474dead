"""Cross-nested CES (CNCES) city-occupation choice: correlated migration (paper 004, Tan Sein Jone 2024).

Params(t_ck, T_k, T_c, theta, rho)         shifters, Fréchet shape θ, within-nest correlation ρ (scalar or per nest)
shares(params) -> Shares                   π_c, π_ck, φ_ck, ω_k, λ_k (eqs 3-7), in logs for stability
elasticities(params)                       exact Jacobians of ln π_c w.r.t. ln t_c'k, ln T_c', ln T_k (autodiff)
elasticity_operators(params)               the same exactly, as O(N K) operators (diagonal + rank K):
                                           .T_c.mv / .diagonal() / .column(c) / .as_matrix(), .t.mv(Δ)
analytic_elasticities / closed_form_elasticities / approximation_errors
                                           exact analytic forms; the paper's eqs 8-11; where and how much they err
recover_shifters(pi_ck, omega_k, θ, ρ)     closed-form shifter recovery (§3.2), canonical normalization
normalize(params)                          canonical representative of the observationally equivalent Params
calibrate_shifters(...)                    the same by gradient (jaxecon.calibrate, optax)
counterfactual(params, Δ...)               shares before/after shocks; composition_correlation for Figures 2-3
default_params(seed, n)                    embedded 722 x 8 default (Table 2 shifters)
simulate_panel / estimate_rho / recover_panel   §3 round trip (2SLS via jaxecon.econometrics.iv)
data.adh_shares / data.adh_params         CZs x 10 ADH industry groups (real data)
"""

from .params import Params
from .shares import Shares, log_shares, shares
from .elasticities import (Elasticities, analytic_elasticities, approximation_errors, closed_form_elasticities,
                           elasticities)
from .operators import DiagonalPlusLowRank, ElasticityOperators, ShifterJacobian, elasticity_operators
from .recovery import normalize, recover_shifters
from .calibration import calibrate_shifters
from .counterfactual import (Counterfactual, composition_correlation, counterfactual, relative_changes,
                             shock_location, shock_occupation)
from .estimation import RhoEstimate, SimulatedPanel, estimate_rho, recover_panel, simulate_panel
from . import data  # noqa: F401  (real-data economy: cnces.data.adh_shares)
from .synthetic import OCCUPATIONS, OCCUPATION_SHIFTERS, TOP_CITIES, TOP_CITY_SHIFTERS, default_params, location_names

__all__ = [
    "Params", "Shares", "shares", "log_shares",
    "Elasticities", "elasticities", "analytic_elasticities", "closed_form_elasticities", "approximation_errors",
    "elasticity_operators", "ElasticityOperators", "DiagonalPlusLowRank", "ShifterJacobian",
    "recover_shifters", "normalize", "calibrate_shifters",
    "Counterfactual", "counterfactual", "relative_changes", "shock_location", "shock_occupation",
    "composition_correlation",
    "simulate_panel", "estimate_rho", "recover_panel", "RhoEstimate", "SimulatedPanel", "data",
    "default_params", "location_names", "OCCUPATIONS", "OCCUPATION_SHIFTERS", "TOP_CITIES", "TOP_CITY_SHIFTERS",
]
