"""Bianchi (2011) overborrowing: the validation benchmark of jaxecon's collateral-constraint engine.

A small open economy with tradables and nontradables whose borrowing is limited by a fraction κ
of income valued at the endogenous price of nontradables. ``solve_equilibrium`` (decentralized)
and ``solve_planner`` (constrained-efficient) are time iterations on the Euler equations, batched
over stacked Params; ``evaluate_policy`` / ``welfare_gain`` / ``optimal_tax`` value the
allocations; ``simulate`` runs both economies on the same shocks; ``euler_errors`` measures accuracy.
"""

from .params import Params, bianchi2011_chain, bianchi2011_params, bond_grid, check_grid, load_income_process, synthetic_income_chain
from .economy import (
    binding_consumption,
    collateral_slack,
    composite,
    externality,
    marginal_utility,
    price,
    price_index,
    utility,
)
from .time_iteration import Solution, policy_step
from .equilibrium import solve_equilibrium
from .planner import solve_planner

__all__ = [
    "Params", "bianchi2011_params", "bianchi2011_chain", "load_income_process", "synthetic_income_chain", "bond_grid", "check_grid",
    "composite", "utility", "marginal_utility", "price", "price_index", "externality",
    "collateral_slack", "binding_consumption",
    "Solution", "policy_step", "solve_equilibrium", "solve_planner",
]

from .welfare import evaluate_policy, optimal_tax, welfare_gain
from .simulate import crisis_flags, event_study, moments, simulate_pair, simulate_path
from .accuracy import euler_errors

__all__ += [
    "evaluate_policy", "welfare_gain", "optimal_tax",
    "simulate_path", "simulate_pair", "crisis_flags", "moments", "event_study",
    "euler_errors",
]

from .replication import PAPER, path_average, replicate

__all__ += ["PAPER", "replicate", "path_average"]
