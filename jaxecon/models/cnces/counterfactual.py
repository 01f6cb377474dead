"""Counterfactual shocks to shifters and the resulting relative changes in location shares (paper 004, §5).

A shock multiplies shifters: ln t_ck += Δ_ck (e.g. a 5% negative shock to every occupation in
location c0: Δ_c0,k = ln 0.95), ln T_k += Δ_k (a +10% occupation shock: Δ_k = ln 1.1), ln T_c += Δ_c.
Shares before and after are both exact (eqs 3-7); the outcome of interest is π_c1 / π_c0.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import check_finite, check_positive, is_concrete
from .params import Params
from .shares import log_shares

__all__ = ["Counterfactual", "counterfactual", "shock_location", "shock_occupation",
           "composition_correlation", "relative_changes"]


class Counterfactual(eqx.Module):
    """Shares before (0) and after (1) a shock.

    Attributes:
        pi_c0, pi_c1: ``(N,)`` location shares. ratio: ``(N,)`` π_c1 / π_c0 (computed in logs).
        phi_ck0, phi_ck1: ``(N, K)`` compositions φ_ck. omega_k0, omega_k1: ``(K,)``.
    """

    pi_c0: Float[Array, " N"]
    pi_c1: Float[Array, " N"]
    ratio: Float[Array, " N"]
    phi_ck0: Float[Array, "N K"]
    phi_ck1: Float[Array, "N K"]
    omega_k0: Float[Array, " K"]
    omega_k1: Float[Array, " K"]


def _logs(params: Params, d_t=0.0, d_k=0.0, d_c=0.0):
    return log_shares(jnp.log(params.t_ck) + d_t, jnp.log(params.T_k) + d_k, jnp.log(params.T_c) + d_c,
                      params.theta, params.rho)


def _check_shock(d, name: str, shape: tuple, batched: bool = False) -> None:
    """A log shock must broadcast to ``shape`` (its leading batch axis aside) and be finite (a NaN
    or a factor <= 0, whose log is NaN or -inf, would turn every share NaN)."""
    got = np.shape(d)[1:] if batched else np.shape(d)
    try:
        ok = np.broadcast_shapes(got, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must broadcast to shape {shape}{' after its batch axis' if batched else ''}; "
                         f"got shape {np.shape(d)}")
    check_finite(d, f"{name} (log shock: a NaN, or the log of a factor <= 0)")


def counterfactual(params: Params, d_log_t_ck=0.0, d_log_T_k=0.0, d_log_T_c=0.0) -> Counterfactual:
    """Shares before and after the log shocks Δ (broadcast to (N, K), (K,), (N,)). jit/vmap-safe:
    vmap over a leading axis of the shocks to run thousands of counterfactuals at once.

    Raises:
        ValueError: a shock that does not broadcast to its shifter's shape, or (concrete values) one
            with a NaN or infinite entry (e.g. the log of a factor <= 0), naming the argument.
    """
    n, k = np.shape(params.t_ck)
    _check_shock(d_log_t_ck, "d_log_t_ck", (n, k))
    _check_shock(d_log_T_k, "d_log_T_k", (k,))
    _check_shock(d_log_T_c, "d_log_T_c", (n,))
    a = _logs(params)
    b = _logs(params, d_log_t_ck, d_log_T_k, d_log_T_c)
    return Counterfactual(
        pi_c0=jnp.exp(a["log_pi_c"]), pi_c1=jnp.exp(b["log_pi_c"]),
        ratio=jnp.exp(b["log_pi_c"] - a["log_pi_c"]),
        phi_ck0=jnp.exp(a["log_phi_ck"]), phi_ck1=jnp.exp(b["log_phi_ck"]),
        omega_k0=jnp.exp(a["log_omega_k"]), omega_k1=jnp.exp(b["log_omega_k"]),
    )


def relative_changes(params: Params, d_log_t_ck: Float[Array, "B N K"]) -> Float[Array, "B N"]:
    """π_c1/π_c0 for a batch of B location-occupation shocks (vmap of :func:`counterfactual`)."""
    if np.ndim(d_log_t_ck) != 3:
        raise ValueError(f"d_log_t_ck must have shape (B, N, K); got {np.shape(d_log_t_ck)}")
    _check_shock(d_log_t_ck, "d_log_t_ck", tuple(np.shape(params.t_ck)), batched=True)
    return jax.vmap(lambda d: counterfactual(params, d_log_t_ck=d).ratio)(d_log_t_ck)


def _check_index(i, name: str, size: int, what: str):
    """A concrete index must be an integer in [0, size-1] (``.at[i]`` would clamp it silently)."""
    if not is_concrete(i):
        return i
    if isinstance(i, (bool, np.bool_)) or np.ndim(i) != 0 or not np.issubdtype(np.asarray(i).dtype, np.integer):
        raise ValueError(f"{name} must be an integer {what} index in [0, {size - 1}]; got {i!r}")
    if not 0 <= int(i) < size:
        raise ValueError(f"{name} must be a {what} index in [0, {size - 1}] (the economy has {size} {what}s); "
                         f"got {int(i)}")
    return int(i)


def shock_location(params: Params, c: int, factor: float = 0.95) -> Float[Array, "N K"]:
    """Δ ln t for a shock multiplying every occupation's shifter in location ``c`` by ``factor``.

    Raises:
        ValueError: ``c`` not an integer in [0, N-1] (no clamping or wrap-around), or ``factor``
            not a finite number > 0.
    """
    n, k = params.t_ck.shape
    c = _check_index(c, "c", n, "location")
    check_finite(factor, "factor")
    check_positive(factor, "factor")
    return jnp.zeros((n, k)).at[c].set(jnp.log(factor))


def shock_occupation(params: Params, k: int, factor: float = 1.10) -> Float[Array, " K"]:
    """Δ ln T_k for a shock multiplying occupation ``k``'s shifter T_k by ``factor`` (all locations).

    Raises:
        ValueError: ``k`` not an integer in [0, K-1], or ``factor`` not a finite number > 0.
    """
    k = _check_index(k, "k", params.T_k.shape[0], "nest")
    check_finite(factor, "factor")
    check_positive(factor, "factor")
    return jnp.zeros(params.T_k.shape).at[k].set(jnp.log(factor))


def composition_correlation(phi_ck: Float[Array, "N K"], c0: int) -> Float[Array, " N"]:
    """Pearson correlation across nests k of each location's composition φ_c· with location c0's
    (the x axis of the paper's Figures 2-3)."""
    x = phi_ck - phi_ck.mean(axis=1, keepdims=True)
    x0 = x[c0]
    return (x @ x0) / (jnp.linalg.norm(x, axis=1) * jnp.linalg.norm(x0))
