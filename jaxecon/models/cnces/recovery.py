"""Closed-form recovery of the shifters from observed shares (paper 004, §3.2), and the normalization.

Given θ and ρ, the shares π_ck and ω_k pin down (t_ck, T_k, T_c) up to N + K + 1 normalizations
(see :class:`Params`). jaxecon's canonical normalization:

    (i)   Σ_c ln t_ck = 0 for every k          (t_ck carries no nest-wide level: that is T_k)
    (ii)  Σ_k ln t_ck = 0 for every c          (t_ck carries no location-wide level: that is T_c)
    (iii) Σ_c ln T_c = 0
    (iv)  Σ_k T_k λ_k^(1-ρ_k) = 1              (the denominator of ω_k, G(), is 1)

Recovery is the two-way fixed-effect decomposition of §3.2. With x_ck = (1-ρ_k) ln π_ck
= ln t_ck + θ ln T_c - (1-ρ_k) ln λ_k (eq 3 in logs), row means r_c, column means s_k, grand mean g:

    ln t_ck = x_ck - r_c - s_k + g        (the paper's t̂ = exp((1-ρ) ε̂))
    θ ln T_c = r_c - g                    (paper: T̂_c = γ exp(-(1-ρ)/θ δ̂_c); here γ = 1, and the sign is
                                           that of eq 3, where T_c raises π_ck; §3.2's log form carries a
                                           sign slip on the Z_c term)
    (1-ρ_k) ln λ_k = -s_k                 (paper: λ̂_k = exp(-δ̂_k) with δ_k = s_k/(1-ρ))
    ln T_k = ln ω_k - (1-ρ_k) ln λ_k      (paper: from ω_k/ω_k' = T_k λ_k^(1-ρ)/(T_k' λ_k'^(1-ρ)), eq 5)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .params import Params
from .shares import log_shares

__all__ = ["recover_shifters", "normalize"]


def recover_shifters(pi_ck, omega_k, theta, rho) -> Params:
    """Shifters (t_ck, T_k, T_c) that reproduce the shares π_ck (N, K) and ω_k (K,) exactly, in the
    canonical normalization (module docstring; paper 004 §3.2). Shares must be > 0.

    jit/vmap-safe (vmap over years: one recovery per cross-section). Under tracing, the value checks
    of Params are skipped.
    """
    pi_ck = jnp.asarray(pi_ck, dtype=float)
    omega_k = jnp.asarray(omega_k, dtype=float)
    if pi_ck.ndim != 2 or omega_k.shape != pi_ck.shape[-1:]:
        raise ValueError(f"pi_ck must be (N, K) and omega_k (K,); got {pi_ck.shape} and {omega_k.shape}")
    rho_k = jnp.broadcast_to(jnp.asarray(rho, dtype=float), omega_k.shape)
    x = (1.0 - rho_k) * jnp.log(pi_ck)
    r = x.mean(axis=1, keepdims=True)
    s = x.mean(axis=0, keepdims=True)
    g = x.mean()
    log_t = x - r - s + g
    log_Tc = (r[:, 0] - g) / theta
    log_Tk = jnp.log(omega_k) + s[0]
    return Params(t_ck=jnp.exp(log_t), T_k=jnp.exp(log_Tk), T_c=jnp.exp(log_Tc), theta=theta, rho=rho)


@jax.jit
def normalize(params: Params) -> Params:
    """The observationally equivalent Params in the canonical normalization (module docstring).

    Built from the model's invariances, not from its shares: t_ck -> t_ck x_c y_k, T_c^θ -> T_c^θ / x_c
    (then a common rescaling of T_c absorbed by T_k), T_k -> T_k (λ_k/λ'_k)^(1-ρ_k) / G. Shares are
    unchanged (tested).
    """
    lt = jnp.log(params.t_ck)
    theta = params.theta
    rho_k = params.rho_k
    r = lt.mean(axis=1, keepdims=True)
    s = lt.mean(axis=0, keepdims=True)
    g = lt.mean()
    lt_new = lt - r - s + g                                              # x_c = exp(-(r_c - g)), y_k = exp(-s_k)
    thl = theta * jnp.log(params.T_c) + (r[:, 0] - g)                  # θ ln T_c - ln x_c
    lc_new = (thl - thl.mean()) / theta
    old = log_shares(lt, jnp.log(params.T_k), jnp.log(params.T_c), theta, params.rho)
    new = log_shares(lt_new, jnp.zeros_like(params.T_k), lc_new, theta, params.rho)
    log_b = jnp.log(params.T_k) + (1.0 - rho_k) * old["log_lambda_k"]    # ln T_k λ_k^(1-ρ_k), invariant
    log_G = jnp.log(jnp.sum(jnp.exp(log_b - log_b.max()))) + log_b.max()
    lk_new = log_b - (1.0 - rho_k) * new["log_lambda_k"] - log_G
    return Params(t_ck=jnp.exp(lt_new), T_k=jnp.exp(lk_new), T_c=jnp.exp(lc_new), theta=theta, rho=params.rho)
