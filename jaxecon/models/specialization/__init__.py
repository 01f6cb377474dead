"""The collateral-constrained multi-industry economy of papers 002/003 (DESIGN.md).

params       Params, Grid, presets (two_industry_params, one_industry_params, three_industry_params)
equilibrium  solve_equilibrium -> EquilibriumSolution (time iteration, per-element diagnostics)
policy       policy_at: interpolated policies at off-grid states; allocation_at: the consistent
             allocation (b', k' interpolated, c from the budget) that simulate, girf and euler_errors use
accuracy     euler_errors of the consistent allocation at random off-grid states
io           to_npz / from_npz with the keys of issue 6
simulate     simulate a batch of economies (paths of b, k, c, q, eta, output, binding, Gini)
irf          girf: generalized impulse responses to an adverse industry shock
ergodic      ergodic_distribution (lottery weights on the grid, Young 2010) and ergodic_moments,
             differentiable in the parameters through the implicitly differentiated solve
cache        solve_cached: a disk cache keyed by every parameter, grid value, solver setting and the
             solver's sources; solve_default / solve_unconstrained (the experiments' two economies)
trade_off    the trade-off on CZs: trend economies, paths with a deterministic trend, cross-CZ slopes of
             growth on initial specialization, the ADH data slope (paper 002 Figs 5-6)
cz_comparison  per-CZ DE vs planner next-period specialization and welfare gain (Figs 11, 13)
heterogeneous  per-CZ rest-of-manufacturing volatility σ·sqrt(HHI): stacked economies, solve_heterogeneous
"""

from .params import Grid, Params, exogenous_chain, one_industry_params, three_industry_params, two_industry_params
from .equilibrium import RESULTS, EquilibriumSolution, solve_equilibrium
from .policy import allocation_at, consistent_policies, full_shares, policy_at
from .accuracy import euler_errors, random_states
from .io import NPZ_KEYS, load_npz, save_npz
from .simulate import ErgodicState, SimulationPaths, check_shares, ergodic_state, simulate
from .irf import girf, median_state, shocked_state
from .ergodic import ErgodicMoments, ergodic_distribution, ergodic_moments
from .cache import cache_key, solve_cached, solve_default, solve_unconstrained

__all__ = [
    "Params", "Grid", "exogenous_chain", "two_industry_params", "one_industry_params", "three_industry_params",
    "EquilibriumSolution", "solve_equilibrium", "RESULTS", "policy_at", "full_shares",
    "euler_errors", "random_states", "NPZ_KEYS", "save_npz", "load_npz",
    "SimulationPaths", "simulate", "check_shares", "girf", "shocked_state",
    "allocation_at", "consistent_policies", "ErgodicState", "ergodic_state", "median_state", "solve_cached", "cache_key",
    "solve_default", "solve_unconstrained", "ErgodicMoments", "ergodic_distribution", "ergodic_moments",
]
from .params import trend_levels
from .initial import CZShares, InitialAllocation, cz_machinery_shares, income_share, initial_allocation

__all__ += ["trend_levels", "CZShares", "InitialAllocation", "cz_machinery_shares", "income_share",
            "initial_allocation"]

# the constrained-efficient planner, its optimal taxes and welfare (issue 15)
from .planner import PlannerSolution, planner_euler_errors, solve_planner
from .taxes import capital_tax_identity, optimal_taxes, solve_regulated
from .welfare import evaluate_policy, policy_value, simulated_comparison, welfare_gain

__all__ += ["PlannerSolution", "solve_planner", "planner_euler_errors", "optimal_taxes", "solve_regulated", "capital_tax_identity",
            "evaluate_policy", "policy_value", "welfare_gain", "simulated_comparison"]
from .calibration import (SpecializationCalibration, calibrate_moments, calibrate_two_industry, fire_sale_gain,
                          largest_well_posed_theta, load_calibration)

__all__ += ["SpecializationCalibration", "calibrate_moments", "calibrate_two_industry", "fire_sale_gain",
            "largest_well_posed_theta", "load_calibration"]

# the trade-off on commuting zones, the per-CZ planner comparison and heterogeneous CZs (issue 19)
from .trade_off import (DataTradeOff, TradeOffSlopes, TrendEconomy, TrendPaths, adh_trade_off, allocation_on_trend,
                        ergodic_mean_bonds, national_shock_paths, simulate_on_trend, solve_batch, trade_off_slopes,
                        trend_economy, with_drift)
from .cz_comparison import (CZPlannerComparison, by_group_summary, cz_planner_comparison, cz_planner_table,
                            cz_state_fips, interpolate_gain, plot_cz_comparison, tertile_summary)
from .heterogeneous import RestHHI, composite_sigma, heterogeneous_params, rest_of_manufacturing_hhi, solve_heterogeneous

__all__ += ["DataTradeOff", "TradeOffSlopes", "TrendEconomy", "TrendPaths", "adh_trade_off", "allocation_on_trend",
            "ergodic_mean_bonds", "national_shock_paths", "simulate_on_trend", "solve_batch", "trade_off_slopes",
            "trend_economy", "with_drift",
            "CZPlannerComparison", "cz_planner_comparison", "cz_planner_table", "cz_state_fips",
            "interpolate_gain", "tertile_summary", "by_group_summary", "plot_cz_comparison",
            "RestHHI", "rest_of_manufacturing_hhi", "composite_sigma", "heterogeneous_params", "solve_heterogeneous"]
from .indirect_inference import LossCurve, SlopeAt, TrendEstimate, estimate_trend, loss_curve, slope_and_gradient, slope_at

__all__ += ["slope_at", "slope_and_gradient", "SlopeAt", "estimate_trend", "TrendEstimate", "loss_curve", "LossCurve"]
