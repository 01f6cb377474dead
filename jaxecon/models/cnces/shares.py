"""Choice shares of the CNCES model (paper 004, eqs 2-7), computed in logs.

With a_ck = (t_ck Z_c^(-θ))^(1/(1-ρ_k)) and Z_c^(-θ) = T_c^θ (γ = 1, it cancels):

    λ_k   = Σ_c a_ck                                               (§2.2, the nest "price index")
    π_ck  = a_ck / λ_k                                              (eq 3)
    ω_k   = T_k λ_k^(1-ρ_k) / Σ_k' T_k' λ_k'^(1-ρ_k')               (eq 5)
    π_c   = Σ_k ω_k π_ck                                            (eq 7)
    φ_ck  = ω_k π_ck / π_c  (= t_ck^(1/(1-ρ)) T_k λ_k^(-ρ) / Σ_k' ..., eq 4, identity eq 6; with
            per-nest ρ_k the factor Z_c^(1/(1-ρ_k)) no longer cancels from eq 4, and φ_ck = ω_k π_ck / π_c
            is the general form)

Every sum is a ``logsumexp`` of log terms, so the shares stay accurate for thousands of locations
and for ρ near 1, where a_ck and λ_k themselves overflow (``lambda_k`` may then be ``inf``; use
``log_lambda_k``).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jax.scipy.special import logsumexp
from jaxtyping import Array, Float

from .params import Params

__all__ = ["Shares", "shares", "log_shares"]


class Shares(eqx.Module):
    """The model's shares (paper 004, eqs 3-7). Shapes for one parameter set; batched under vmap.

    Attributes:
        pi_c: ``(N,)`` location choice shares π_c (sum to 1 over c).
        pi_ck: ``(N, K)`` location shares within nest k, π_ck (sum to 1 over c for each k).
        phi_ck: ``(N, K)`` nest shares within location c, φ_ck (sum to 1 over k for each c).
        omega_k: ``(K,)`` nest market shares ω_k (sum to 1).
        lambda_k: ``(K,)`` λ_k = Σ_c (t_ck Z_c^(-θ))^(1/(1-ρ_k)) (may overflow; see log_lambda_k).
        log_pi_c, log_pi_ck, log_phi_ck, log_omega_k, log_lambda_k: the same in logs (exact, no
            underflow for tiny shares).
    """

    pi_c: Float[Array, " N"]
    pi_ck: Float[Array, "N K"]
    phi_ck: Float[Array, "N K"]
    omega_k: Float[Array, " K"]
    lambda_k: Float[Array, " K"]
    log_pi_c: Float[Array, " N"]
    log_pi_ck: Float[Array, "N K"]
    log_phi_ck: Float[Array, "N K"]
    log_omega_k: Float[Array, " K"]
    log_lambda_k: Float[Array, " K"]


def log_shares(log_t_ck, log_T_k, log_T_c, theta, rho) -> dict:
    """Log shares from log shifters (eqs 3-7 in logs); the differentiable core of :func:`shares`.

    Args:
        log_t_ck: ``(N, K)`` ln t_ck.  log_T_k: ``(K,)`` ln T_k.  log_T_c: ``(N,)`` ln T_c.
        theta: θ.  rho: ρ, scalar or ``(K,)``.

    Returns:
        dict with ``log_pi_c, log_pi_ck, log_phi_ck, log_omega_k, log_lambda_k``.
    """
    rho_k = jnp.broadcast_to(rho, jnp.shape(log_T_k))
    inv = 1.0 / (1.0 - rho_k)
    log_a = (log_t_ck + theta * log_T_c[:, None]) * inv                  # ln (t_ck Z_c^-θ)^(1/(1-ρ_k))
    log_lambda = logsumexp(log_a, axis=0)                                # ln λ_k
    log_pi_ck = log_a - log_lambda                                       # eq 3
    log_b = log_T_k + (1.0 - rho_k) * log_lambda                         # ln T_k λ_k^(1-ρ_k)
    log_omega = log_b - logsumexp(log_b)                                 # eq 5
    log_terms = log_omega + log_pi_ck                                    # ln ω_k π_ck
    log_pi_c = logsumexp(log_terms, axis=1)                              # eq 7
    log_phi = log_terms - log_pi_c[:, None]                              # eq 6 (φ_ck = ω_k π_ck / π_c)
    return dict(log_pi_c=log_pi_c, log_pi_ck=log_pi_ck, log_phi_ck=log_phi,
                log_omega_k=log_omega, log_lambda_k=log_lambda)


def shares(params: Params) -> Shares:
    """The CNCES shares π_c, π_ck, φ_ck, ω_k and λ_k (paper 004, eqs 3-7; see the module docstring).

    Pure and jit/vmap/grad-safe. Example: ``jax.vmap(shares)(numerics.stack([p1, p2]))``.
    """
    logs = log_shares(jnp.log(params.t_ck), jnp.log(params.T_k), jnp.log(params.T_c),
                      params.theta, params.rho)
    return Shares(
        pi_c=jnp.exp(logs["log_pi_c"]), pi_ck=jnp.exp(logs["log_pi_ck"]),
        phi_ck=jnp.exp(logs["log_phi_ck"]), omega_k=jnp.exp(logs["log_omega_k"]),
        lambda_k=jnp.exp(logs["log_lambda_k"]), **logs,
    )
