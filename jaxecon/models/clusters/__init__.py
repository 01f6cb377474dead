"""Clusters model (paper 000): CES/Armington trade with local industry spillovers (DESIGN.md).

Params(sigma, rho, eta, tau, L_star, z, z_star, mu)   validated parameters; eta_bound(rho) = 1/(ρ−1)
solve_equilibrium(params) -> Equilibrium               fixed point in (p_i, p*_i, w*), L_ic closed form
"""

from .params import Params, eta_bound
from .equilibrium import NPZ_KEYS, Equilibrium, solve_equilibrium

__all__ = ["Params", "eta_bound", "Equilibrium", "solve_equilibrium", "NPZ_KEYS"]
