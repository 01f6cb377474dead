"""Parameters of the cross-nested CES (CNCES) city-occupation choice model (paper 004, §2).

N locations c (cities or commuting zones), K nests k (occupations or industry groups). The scale of
the Fréchet productivity draw of location-nest pair (c, k) is T_ck = T_c T_k t_ck (paper §2.1); the
location term enters through Z_c^(-θ) = γ^(-θ) T_c^θ (paper §2.2). The constant γ cancels from every
share (it rescales each λ_k^(1-ρ_k) by the same factor), so the code sets γ = 1: Z_c^(-θ) = T_c^θ.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import as_float, check_finite, check_in_range, check_ndim, check_positive

__all__ = ["Params"]


class Params(eqx.Module):
    """Shifters, dispersion and correlation of the CNCES model (paper 004, eqs 1-2).

    Attributes:
        t_ck: ``(N, K)`` location-occupation shifters t_ck > 0.
        T_k: ``(K,)`` occupation shifters T_k > 0 (common to all locations).
        T_c: ``(N,)`` location shifters T_c > 0; they enter as Z_c^(-θ) = T_c^θ (γ = 1, see module).
        theta: Fréchet shape θ > 0 (migration elasticity across nests; paper uses θ = 3).
        rho: within-nest correlation ρ in [0, 1): a scalar, or ``(K,)`` one per nest (ρ_k).

    Validation (``__check_init__``): shapes must agree (t_ck is (N, K), T_k (K,), T_c (N,), ρ scalar
    or (K,)); shifters must be finite and > 0, θ > 0, 0 <= ρ < 1. Value checks are skipped when the
    fields are tracers (inside ``jit``); batches of Params are built with
    :func:`jaxecon.numerics.stack` (which does not re-run the checks).

    The parameters are identified from shares only up to N + K + 1 normalizations
    (t_ck -> t_ck x_c with T_c^θ -> T_c^θ / x_c; t_ck -> t_ck y_k with T_k -> T_k / y_k; and a common
    scale of all T_k); :func:`jaxecon.models.cnces.normalize` picks the canonical representative.
    """

    t_ck: Float[Array, "N K"] = eqx.field(converter=as_float)
    T_k: Float[Array, " K"] = eqx.field(converter=as_float)
    T_c: Float[Array, " N"] = eqx.field(converter=as_float)
    theta: Float[Array, ""] = eqx.field(converter=as_float)
    rho: Float[Array, "..."] = eqx.field(converter=as_float)

    def __check_init__(self):
        check_ndim(self.t_ck, "t_ck", 2)
        n, k = np.shape(self.t_ck)
        if np.shape(self.T_k) != (k,):
            raise ValueError(f"T_k must have shape (K,) = ({k},) to match t_ck {np.shape(self.t_ck)}; "
                             f"got {np.shape(self.T_k)}")
        if np.shape(self.T_c) != (n,):
            raise ValueError(f"T_c must have shape (N,) = ({n},) to match t_ck {np.shape(self.t_ck)}; "
                             f"got {np.shape(self.T_c)}")
        if np.shape(self.theta) != ():
            raise ValueError(f"theta must be a scalar; got shape {np.shape(self.theta)}")
        if np.shape(self.rho) not in ((), (k,)):
            raise ValueError(f"rho must be a scalar or have shape (K,) = ({k},); got {np.shape(self.rho)}")
        for name in ("t_ck", "T_k", "T_c"):
            check_finite(getattr(self, name), name)
            check_positive(getattr(self, name), name)
        check_positive(self.theta, "theta")
        check_in_range(self.rho, "rho", 0.0, 1.0, hi_open=True)

    @property
    def n_locations(self) -> int:
        return self.t_ck.shape[-2]

    @property
    def n_nests(self) -> int:
        return self.t_ck.shape[-1]

    @property
    def rho_k(self) -> Float[Array, " K"]:
        """ρ broadcast to one value per nest, ``(K,)``."""
        return jnp.broadcast_to(self.rho, self.t_ck.shape[-1:])

    def replace(self, **changes) -> "Params":
        """A copy with some fields replaced (runs the validation again)."""
        fields = dict(t_ck=self.t_ck, T_k=self.T_k, T_c=self.T_c, theta=self.theta, rho=self.rho)
        fields.update(changes)
        return Params(**fields)
