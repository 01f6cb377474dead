"""Calibration of the CNCES shifters by gradient descent through :mod:`jaxecon.calibrate`.

Finds (t_ck, T_k, T_c) that reproduce observed shares π_ck and ω_k, given θ and ρ, by minimizing

    L = Σ_c,k (ln π_ck(p) - ln π̂_ck)² + Σ_k (ln ω_k(p) - ln ω̂_k)²

over the unconstrained log-shifters (so positivity holds by construction) with optax (L-BFGS by
default). The optimum is a flat manifold (the N + K + 1 normalizations of :class:`Params`); compare
results after :func:`normalize`, which must equal :func:`recover_shifters` (the closed form).
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from ...calibrate import CalibrationResult, calibrate, target_loss
from .params import Params
from .recovery import normalize
from .shares import log_shares

__all__ = ["calibrate_shifters"]


def _log_model(p, theta, rho):
    logs = log_shares(p["log_t_ck"], p["log_T_k"], p["log_T_c"], theta, rho)
    return {"log_pi_ck": logs["log_pi_ck"], "log_omega_k": logs["log_omega_k"]}


def calibrate_shifters(pi_ck, omega_k, theta, rho, *, init: Params | None = None,
                       optimizer: optax.GradientTransformation | None = None, max_steps: int = 2000,
                       grad_tol: float = 1e-10, loss_tol: float = 1e-22) -> tuple[Params, CalibrationResult]:
    """Shifters reproducing shares π_ck (N, K) and ω_k (K,) by gradient-based calibration.

    Returns ``(params, result)``: the calibrated Params in the canonical normalization and the raw
    :class:`CalibrationResult` (loss history, iterations, ``converged``).
    """
    pi_ck = jnp.asarray(pi_ck, dtype=float)
    omega_k = jnp.asarray(omega_k, dtype=float)
    n, k = pi_ck.shape
    if init is None:
        p0 = {"log_t_ck": jnp.zeros((n, k)), "log_T_k": jnp.zeros(k), "log_T_c": jnp.zeros(n)}
    else:
        p0 = {"log_t_ck": jnp.log(init.t_ck), "log_T_k": jnp.log(init.T_k), "log_T_c": jnp.log(init.T_c)}
    targets = {"log_pi_ck": jnp.log(pi_ck), "log_omega_k": jnp.log(omega_k)}
    loss = target_loss(_log_model, targets, distance="sse")
    res = calibrate(loss, p0, theta, rho, optimizer=optimizer, max_steps=max_steps, grad_tol=grad_tol,
                    loss_tol=loss_tol)
    q = res.params
    params = Params(t_ck=jnp.exp(q["log_t_ck"]), T_k=jnp.exp(q["log_T_k"]), T_c=jnp.exp(q["log_T_c"]),
                    theta=theta, rho=rho)
    return normalize(params), res
