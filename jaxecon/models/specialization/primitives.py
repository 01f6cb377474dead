"""Model primitives (DESIGN.md "The specialization model"): output, adjustment costs, utility.

All functions are elementwise JAX and safe under ``vmap``.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["output", "private_mpk", "adj_gap", "adj_cost_of_gap", "adj_cost", "adj_cost_d1", "adj_cost_d2", "marginal_utility",
           "inverse_marginal_utility", "finite_theta"]


def output(params, z, k):
    """Y(k, s) = Σ_i z̄_i(s) k_i^(α+ξ_i) (paper eqs. 6 and 8: agglomeration z_i = z̄_i k_i^ξ_i)."""
    return jnp.sum(z * k ** (params.alpha + params.xi), axis=-1)


def private_mpk(params, z, k):
    """Private marginal product α z̄_i k_i^(α+ξ_i−1) (ξ_i external, not internalized; eq. 12)."""
    return params.alpha * z * k ** (params.alpha + params.xi - 1.0)


def adj_gap(k, k_next, delta):
    """The adjustment gap ``g = k'/k − 1 − δ`` of the adjustment cost (paper eq. 34)."""
    return k_next / k - 1.0 - delta


def adj_cost_of_gap(phi, g, k):
    """Φ = (φ/2) g² k for the gap ``g`` of :func:`adj_gap` (paper eq. 34)."""
    return 0.5 * phi * g**2 * k


def adj_cost(params, k, k_next):
    """Φ_i(k, k') = (φ_i/2)(k'/k − 1 − δ_i)² k (paper eq. 34)."""
    return adj_cost_of_gap(params.phi, adj_gap(k, k_next, params.delta), k)


def adj_cost_d1(params, k, k_next):
    """Φ_i,1 = ∂Φ_i/∂k = (φ_i/2) g² − φ_i g k'/k with g = k'/k − 1 − δ_i."""
    g = adj_gap(k, k_next, params.delta)
    return 0.5 * params.phi * g**2 - params.phi * g * (k_next / k)


def adj_cost_d2(params, k, k_next):
    """Φ_i,2 = ∂Φ_i/∂k' = φ_i (k'/k − 1 − δ_i)."""
    return params.phi * adj_gap(k, k_next, params.delta)


def marginal_utility(params, c):
    """u'(c) = c^(−γ) for u(c) = (c^(1−γ) − 1)/(1−γ)."""
    return c ** (-params.gamma)


def inverse_marginal_utility(params, m):
    """u'^(−1)(m) = m^(−1/γ)."""
    return m ** (-1.0 / params.gamma)


def finite_theta(params):
    """θ with ``inf`` replaced by 0 for terms multiplied by η = 0 (avoids inf·0 = NaN)."""
    return jnp.where(jnp.isfinite(params.theta), params.theta, 0.0)
