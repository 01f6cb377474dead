"""Generalized impulse responses to an adverse industry-specific productivity shock."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import simulate_indices, stationary_distribution
from .equilibrium import EquilibriumSolution
from .policy import check_state_indices
from .simulate import simulate

__all__ = ["median_state", "shocked_state", "girf"]


def median_state(params) -> int:
    """The exogenous state with every log z̄_i closest to its median over the states (the first such
    state when several tie, e.g. across interest-rate nodes)."""
    logz = np.log(np.asarray(params.z))
    med = np.median(logz, axis=0)
    return int(np.argmin(np.sum((logz - med) ** 2, axis=1)))


def shocked_state(params, s0: int | None = None, industry: int = 0) -> int:
    """The state equal to ``s0`` except that ``z̄_industry`` sits one node lower (the other
    industries' z̄ and R unchanged). ``s0`` defaults to :func:`median_state`: then this is the
    state "industry one node below its median, the others at their median" of the figures."""
    z = np.asarray(params.z)
    R = np.asarray(params.R)
    if not (isinstance(industry, (int, np.integer)) and 0 <= industry < z.shape[1]):
        raise ValueError(f"industry must be an index in [0, {z.shape[1] - 1}]; got {industry!r}")
    s0 = median_state(params) if s0 is None else s0
    check_state_indices(s0, z.shape[0], "s0")
    s0 = int(s0)
    others = [i for i in range(z.shape[1]) if i != industry]
    same = np.all(np.isclose(z[:, others], z[s0, others]), axis=1) & np.isclose(R, R[s0])
    lower = same & (z[:, industry] < z[s0, industry] - 1e-14)
    if not lower.any():
        raise ValueError(f"state {s0} has no lower node for industry {industry}")
    cand = np.where(lower)[0]
    return int(cand[np.argmax(z[cand, industry])])


def girf(solution: EquilibriumSolution, *, industry: int = 0, b0: float, k0, key, periods: int = 30,
         n_draws: int = 2000, size_sd: float = 1.0, s0: int | None = None) -> dict:
    """Generalized impulse response (Koop-Pesaran-Potter) to an adverse shock to ``industry``.

    Baseline: ``n_draws`` paths from ``(b0, k0, s0)`` (``s0`` default: the state with every log z̄ at
    its median node). Shocked: the same draws (common random numbers) from the state where
    ``log z̄_industry`` is lower by ``size_sd`` unconditional standard deviations, implemented as a
    lottery between ``s0`` and the next lower node so that the expected shift is exact. Paths follow
    the consistent allocation (:func:`~jaxecon.models.specialization.simulate.simulate`). Returns the
    mean over draws of shocked minus baseline paths of ``b, k_industry, c, q, output, binding``, plus
    both mean paths.
    """
    p = solution.params
    z = np.asarray(p.z)
    ns, I = z.shape
    logz = np.log(z)
    if s0 is None:
        s0 = median_state(p)
    check_state_indices(s0, ns, "s0")
    s0 = int(s0)
    s_low = shocked_state(p, s0, industry)
    pi = np.asarray(stationary_distribution(p.P))
    col = logz[:, industry]
    mean = pi @ col
    sd = np.sqrt(pi @ (col - mean) ** 2)
    step = logz[s0, industry] - logz[s_low, industry]
    w = min(1.0, size_sd * sd / step)
    k_draw, k_path = jax.random.split(key)
    use_low = jax.random.uniform(k_draw, (n_draws,)) < w
    base_init = jnp.full((n_draws,), s0, dtype=jnp.int32)
    shock_init = jnp.where(use_low, s_low, s0).astype(jnp.int32)
    base_s = simulate_indices(p.chain, k_path, periods, n_paths=n_draws, init=base_init)
    shock_s = simulate_indices(p.chain, k_path, periods, n_paths=n_draws, init=shock_init)
    b0v = jnp.full((n_draws,), float(b0))
    k0v = jnp.broadcast_to(jnp.asarray(k0, float), (n_draws, I))
    base = simulate(solution, b0v, k0v, s_paths=base_s)
    shock = simulate(solution, b0v, k0v, s_paths=shock_s)
    out = {}
    for name in ("b", "c", "q", "output", "binding"):
        bm = np.asarray(getattr(base, name), float).mean(0)
        sm = np.asarray(getattr(shock, name), float).mean(0)
        out[name] = sm - bm
        out[name + "_base"] = bm
        out[name + "_shock"] = sm
    kb = np.asarray(base.k[..., industry]).mean(0)
    ks = np.asarray(shock.k[..., industry]).mean(0)
    out["k"] = ks - kb
    out["k_base"], out["k_shock"] = kb, ks
    out["weight_low"] = w
    out["shock_log_z"] = -w * step
    return out
