"""Elasticities of location shares: exact (autodiff), exact (analytic) and the paper's closed forms.

Notation: ε^t_{c,c'k} = ∂ln π_c / ∂ln t_c'k, ε^T_{c,c'} = ∂ln π_c / ∂ln T_c', ε^K_{c,k} = ∂ln π_c / ∂ln T_k.

Exact derivatives (differentiating eqs 3-7; ρ_k per nest):

    ε^t_{c,c'k} = 1[c = c'] φ_ck/(1-ρ_k) - π_c'k [ω_k + ρ_k/(1-ρ_k) φ_ck]
    ε^T_{c,c'}  = θ Σ_k ε^t_{c,c'k}            (T_c enters as Z_c^(-θ) = T_c^θ, scaling all t_ck)
    ε^K_{c,k}   = φ_ck - ω_k = ω_k (π_ck/π_c - 1)

The paper's small-city closed forms (§2.3) drop the terms from ∂ln λ_k/∂ln t_ck on the diagonal:

    eq 8:  ∂ln π_c/∂ln t_ck   ≈ φ_ck / (1-ρ)
    eq 9:  ∂ln π_c/∂ln t_c'k  = -π_c' φ_c'k [1 + ρ/(1-ρ) π_ck/π_c] = -π_c'k [ω_k + ρ/(1-ρ) φ_ck]
           (the printed eq 9 has φ_ck where the appendix derivation, eq 12's first line and eq 10
           give φ_c'k; the code uses the derived form)
    own T_c: ∂ln π_c/∂ln Z_c^(-θ) ≈ 1/(1-ρ)   (×θ for ln T_c)
    eq 10: ∂ln π_c/∂ln T_c'   = -π_c' Σ_k φ_c'k [1 + ρ/(1-ρ) π_ck/π_c]   (×θ for ln T_c')
    eq 11: ∂ln π_c/∂ln T_k    = ω_k [π_ck/π_c - 1]

So the cross-location forms (9, 10) and eq 11 are exact; the own-location forms (8 and its T_c sum)
overstate the exact value by π_ck [ω_k + ρ_k/(1-ρ_k) φ_ck] (resp. θ [π_c + Σ_k ρ_k/(1-ρ_k) π_ck φ_ck]),
which vanishes as the location's share goes to 0. :func:`approximation_errors` reports it.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jaxtyping import Array, Float

from .params import Params
from .operators import elasticity_operators
from .shares import log_shares, shares

__all__ = ["Elasticities", "elasticities", "analytic_elasticities", "closed_form_elasticities",
           "approximation_errors", "log_pi_c"]


class Elasticities(eqx.Module):
    """Elasticities of ln π_c (rows c) with respect to log shifters.

    Attributes:
        t: ``(N, N, K)`` ∂ln π_c / ∂ln t_c'k, indexed [c, c', k].
        T_c: ``(N, N)`` ∂ln π_c / ∂ln T_c', indexed [c, c'].
        T_k: ``(N, K)`` ∂ln π_c / ∂ln T_k, indexed [c, k].
    """

    t: Float[Array, "N N K"]
    T_c: Float[Array, "N N"]
    T_k: Float[Array, "N K"]


def log_pi_c(log_t_ck, log_T_k, log_T_c, theta, rho):
    """ln π_c as a function of the log shifters (eq 7 in logs): the function the Jacobians differentiate."""
    return log_shares(log_t_ck, log_T_k, log_T_c, theta, rho)["log_pi_c"]


@functools.partial(jax.jit, static_argnames="which")
def elasticities(params: Params, *, which=("t", "T_c", "T_k")) -> Elasticities:
    """Exact Jacobians of ln π_c by automatic differentiation (reverse mode for the N x NK and N x N
    blocks, forward mode for the N x K block). ``which`` limits the blocks computed (others are None).
    """
    lt, lk, lc = jnp.log(params.t_ck), jnp.log(params.T_k), jnp.log(params.T_c)
    th, rho = params.theta, params.rho
    out = {}
    if "t" in which:
        out["t"] = jax.jacrev(log_pi_c, argnums=0)(lt, lk, lc, th, rho)
    if "T_c" in which:
        out["T_c"] = jax.jacrev(log_pi_c, argnums=2)(lt, lk, lc, th, rho)
    if "T_k" in which:
        out["T_k"] = jax.jacfwd(log_pi_c, argnums=1)(lt, lk, lc, th, rho)
    return Elasticities(t=out.get("t"), T_c=out.get("T_c"), T_k=out.get("T_k"))


@functools.partial(jax.jit, static_argnames="which")
def analytic_elasticities(params: Params, *, which=("t", "T_c", "T_k")) -> Elasticities:
    """Exact elasticities from the analytic derivatives in the module docstring (no approximation),
    as dense arrays: the ``as_matrix()`` of :func:`elasticity_operators`.

    Equals :func:`elasticities` to rounding; cheaper: the N x N block is one (N, K) @ (K, N) product
    instead of N backward passes. For products, own/cross summaries or columns at large N use
    :func:`elasticity_operators` directly (O(N K), nothing N x N is built). ``which`` limits the
    blocks computed (others are None).
    """
    ops = elasticity_operators(params)
    return Elasticities(t=ops.t.as_matrix() if "t" in which else None,
                        T_c=ops.T_c.as_matrix() if "T_c" in which else None,
                        T_k=ops.T_k if "T_k" in which else None)


@jax.jit
def closed_form_elasticities(params: Params) -> Elasticities:
    """The paper's closed forms, eqs 8-11 (small-city approximation on the diagonal).

    Own-location entries: eq 8 (φ_ck/(1-ρ_k)) and its sum θ Σ_k φ_ck/(1-ρ_k) (= θ/(1-ρ)); off-diagonal:
    eq 9 (derived form) and θ × eq 10; eq 11 for T_k. See the module docstring for the θ factor.
    """
    s = shares(params)
    ops = elasticity_operators(params)
    eye = jnp.eye(params.n_locations)[:, :, None]
    # exact cross entries (eq 9, derived form) off the diagonal, eq 8 on it
    t = ops.t.as_matrix() * (1.0 - eye) + eye * ops.t.own_ck[:, None, :]
    return Elasticities(t=t, T_c=params.theta * t.sum(-1), T_k=s.omega_k * (s.pi_ck / s.pi_c[:, None] - 1.0))


def approximation_errors(params: Params, exact: Elasticities | None = None) -> pd.DataFrame:
    """Where and by how much the closed forms (eqs 8-11) differ from the exact elasticities.

    Args:
        params: one parameter set.
        exact: exact elasticities (default: :func:`elasticities`, autodiff).

    Returns:
        DataFrame, one row per location c, sorted by ``pi_c`` descending, with columns
        ``pi_c``; ``own_T_c_exact``, ``own_T_c_closed``, ``own_T_c_err`` (closed - exact) and
        ``own_T_c_rel_err``; ``own_t_max_err`` = max_k |eq 8 - exact| ; ``own_T_c_err_predicted``
        = θ [π_c + Σ_k ρ_k/(1-ρ_k) π_ck φ_ck] (the analytic size of the error); ``cross_t_max_err`` =
        max over c' != c, k of |eq 9 - exact| and ``T_k_max_err`` = max_k |eq 11 - exact| (both
        rounding only, since those forms are exact). ``df.attrs`` holds the overall maxima.
    """
    exact = exact if exact is not None else elasticities(params)
    closed = closed_form_elasticities(params)
    s = shares(params)
    n = params.n_locations
    idx = np.arange(n)
    et, ct = np.asarray(exact.t), np.asarray(closed.t)
    eT, cT = np.asarray(exact.T_c), np.asarray(closed.T_c)
    diff_t = np.abs(ct - et)
    own_t = diff_t[idx, idx, :].max(-1)
    diff_t[idx, idx, :] = 0.0
    cross_t = diff_t.max(axis=(1, 2))
    rho_k = np.asarray(params.rho_k)
    g = rho_k / (1 - rho_k)
    pred = float(params.theta) * (np.asarray(s.pi_c) + (np.asarray(s.pi_ck) * np.asarray(s.phi_ck) * g).sum(-1))
    df = pd.DataFrame({
        "pi_c": np.asarray(s.pi_c),
        "own_T_c_exact": eT[idx, idx], "own_T_c_closed": cT[idx, idx],
        "own_T_c_err": cT[idx, idx] - eT[idx, idx],
        "own_T_c_rel_err": (cT[idx, idx] - eT[idx, idx]) / np.abs(eT[idx, idx]),
        "own_T_c_err_predicted": pred,
        "own_t_max_err": own_t, "cross_t_max_err": cross_t,
        "T_k_max_err": np.abs(np.asarray(closed.T_k) - np.asarray(exact.T_k)).max(-1),
    }, index=pd.Index(idx, name="location"))
    df = df.sort_values("pi_c", ascending=False)
    df.attrs.update({c: float(df[c].abs().max()) for c in
                     ("own_T_c_err", "own_T_c_rel_err", "own_t_max_err", "cross_t_max_err", "T_k_max_err")})
    return df
