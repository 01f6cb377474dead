"""Clusters model (paper 000): CES/Armington trade with local industry spillovers (DESIGN.md).

Params(sigma, rho, eta, tau, L_star, z, z_star, mu)   validated parameters; eta_bound(rho) = 1/(ρ−1)
solve_equilibrium(params) -> Equilibrium               fixed point in (p_i, p*_i, w*), L_ic closed form;
                                                       Equilibrium.to_npz(path) (keys NPZ_KEYS)
cluster_data(path) -> ClusterData                      ADH 1990 CZ x industry employment, or synthetic
calibrate_baseline(employment, ...) -> Baseline        μ, z reproduce employment exactly; τ from import penetration
china_shock(equilibrium, d_imports) -> ShockResult     z*_i so that Home imports change by d_imports (exactly)
adh_import_changes(shocks, sic87dd, period), to_model_units(g, L_i, markup=m)
baseline_params_at_eta(params, L, eta)                 the baseline for another η in closed form
adh_shock_data(adh, data, m), adh_panel_weights(adh)  both ADH periods' shocks; weights and state clusters
ShockData, simulate_periods(params, data)             baseline -> 1990-2000 -> 2000-2007 shocks, CZ panel
cz_outcomes / column1_coefficient / estimate_eta       model data, ADH Table 3 (1) on it, η by indirect inference
"""

from .params import Params, eta_bound
from .equilibrium import NPZ_KEYS, Equilibrium, solve_equilibrium
from .calibration import (FOREIGN_SIZE, IMPORT_PENETRATION, SHIPMENTS_PER_WORKER, Baseline, ClusterData,
                          calibrate_baseline, cluster_data)
from .shock import ShockResult, adh_import_changes, china_shock, feasible_import_changes, to_model_units
from .calibration import baseline_params_at_eta
from .inference import (ShockData, adh_panel_weights, adh_shock_data, column1_coefficient, cz_outcomes, estimate_eta,
                        simulate_periods)

__all__ = ["Params", "eta_bound", "Equilibrium", "solve_equilibrium", "NPZ_KEYS", "Baseline", "calibrate_baseline",
           "ClusterData", "cluster_data", "IMPORT_PENETRATION", "FOREIGN_SIZE", "SHIPMENTS_PER_WORKER",
           "ShockResult", "china_shock", "adh_import_changes", "to_model_units", "feasible_import_changes", "baseline_params_at_eta",
           "ShockData", "adh_shock_data", "adh_panel_weights", "cz_outcomes", "simulate_periods", "column1_coefficient", "estimate_eta"]
