"""Parameters of the hubs model (paper 001, Rossi-Hansberg, Sarte & Schwartzman 2021; DESIGN.md
"The hubs model").

N cities n, J sectors j, K occupations k (2 in the paper: CNR and non-CNR). Array layouts follow
``Equilibrium.to_npz``: sector-first for sector objects (``d[j, m, n]`` = d^j_mn, ``T[j, n]``),
occupation-first for occupation objects (``lam_hat[k, j, n]``, ``A[k, n]``).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import check_finite, check_in_range, check_positive, is_concrete

__all__ = ["Params"]

_SUM_TOL = 1e-9


def _as_float(x):
    return jnp.asarray(x, dtype=float)


def _shape(x, name, shape):
    if np.shape(x) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {np.shape(x)}")


class Params(eqx.Module):
    """Preferences, technology, geography and externalities of the hubs model.

    Attributes:
        nu: Fréchet shape ν > 0 of location tastes (migration elasticity).
        vartheta: Eaton-Kortum shape ϑ > 0 (trade elasticity).
        epsilon: elasticity of substitution ε > 0, ε ≠ 1, between occupations in production.
        alpha: ``(J,)`` consumption shares α^j >= 0, Σ_j α^j = 1.
        gamma_L: ``(J,)`` labor shares γ^j_L > 0 of gross output.
        gamma_H: ``(J,)`` structures shares γ^j_H >= 0.
        gamma_io: ``(J, J)`` materials shares, ``gamma_io[j, l]`` = γ^jl >= 0 (sector j's spending on
            sector l's good); γ^j_L + γ^j_H + Σ_l γ^jl = 1 for every j.
        d: ``(J, N, N)`` iceberg costs ``d[j, m, n]`` = d^j_mn >= 1 from m to n, d^j_nn = 1.
        H: ``(N,)`` structures H_n > 0 (fixed).
        T: ``(J, N)`` Eaton-Kortum scale T^j_n > 0.
        lam_hat: ``(K, J, N)`` exogenous productivity λ̂^kj_n > 0 (eq. 1).
        A: ``(K, N)`` amenities A^k_n > 0.
        tau_R: ``(K, J)`` composition externality τ^R,kj (eq. 1).
        tau_L: ``(J,)`` scale externality τ^L,j (eq. 1).
        Lk: ``(K,)`` national population of each occupation L^k > 0.

    Validation (``__check_init__``) names the field and the allowed range; value checks are skipped
    for tracers (inside ``jit``), shape checks always run. Batches are built with
    :func:`jaxecon.numerics.stack` (which does not re-run the checks).

    Not identified from allocations (the solver's outcome does not change): a common scale of A^k
    across cities, a common scale of λ̂^·j (all k and n) or of T^j per sector, and T^j_n versus a
    k-common factor of λ^·j_n; :func:`jaxecon.models.hubs.invert` fixes them as documented there.
    """

    nu: Float[Array, ""] = eqx.field(converter=_as_float)
    vartheta: Float[Array, ""] = eqx.field(converter=_as_float)
    epsilon: Float[Array, ""] = eqx.field(converter=_as_float)
    alpha: Float[Array, " J"] = eqx.field(converter=_as_float)
    gamma_L: Float[Array, " J"] = eqx.field(converter=_as_float)
    gamma_H: Float[Array, " J"] = eqx.field(converter=_as_float)
    gamma_io: Float[Array, "J J"] = eqx.field(converter=_as_float)
    d: Float[Array, "J N N"] = eqx.field(converter=_as_float)
    H: Float[Array, " N"] = eqx.field(converter=_as_float)
    T: Float[Array, "J N"] = eqx.field(converter=_as_float)
    lam_hat: Float[Array, "K J N"] = eqx.field(converter=_as_float)
    A: Float[Array, "K N"] = eqx.field(converter=_as_float)
    tau_R: Float[Array, "K J"] = eqx.field(converter=_as_float)
    tau_L: Float[Array, " J"] = eqx.field(converter=_as_float)
    Lk: Float[Array, " K"] = eqx.field(converter=_as_float)

    def __check_init__(self):
        if np.ndim(self.lam_hat) != 3:
            raise ValueError(f"lam_hat must have shape (K, J, N); got {np.shape(self.lam_hat)}")
        K, J, N = np.shape(self.lam_hat)
        for name in ("nu", "vartheta", "epsilon"):
            _shape(getattr(self, name), name, ())
        for name, shp in (("alpha", (J,)), ("gamma_L", (J,)), ("gamma_H", (J,)), ("gamma_io", (J, J)),
                          ("d", (J, N, N)), ("H", (N,)), ("T", (J, N)), ("A", (K, N)), ("tau_R", (K, J)),
                          ("tau_L", (J,)), ("Lk", (K,))):
            _shape(getattr(self, name), name, shp)
        for name in self.__dataclass_fields__:
            check_finite(getattr(self, name), name)
        check_positive(self.nu, "nu")
        check_positive(self.vartheta, "vartheta")
        check_positive(self.epsilon, "epsilon")
        if is_concrete(self.epsilon) and abs(float(self.epsilon) - 1.0) < 1e-8:
            raise ValueError("epsilon must be > 0 and != 1 (the CES labor aggregate is undefined at 1); "
                             f"got {float(self.epsilon)}")
        check_positive(self.alpha, "alpha", strict=False)
        check_positive(self.gamma_L, "gamma_L")
        check_positive(self.gamma_H, "gamma_H", strict=False)
        check_positive(self.gamma_io, "gamma_io", strict=False)
        for name in ("H", "T", "lam_hat", "A", "Lk"):
            check_positive(getattr(self, name), name)
        if is_concrete(self):
            a = np.asarray(self.alpha)
            if abs(a.sum() - 1.0) > _SUM_TOL:
                raise ValueError(f"alpha (consumption shares) must sum to one; got sum {a.sum():.12g}")
            tot = np.asarray(self.gamma_L) + np.asarray(self.gamma_H) + np.asarray(self.gamma_io).sum(axis=1)
            bad = np.flatnonzero(np.abs(tot - 1.0) > _SUM_TOL)
            if bad.size:
                raise ValueError("cost shares gamma_L + gamma_H + sum_l gamma_io[j, l] must equal one for every "
                                 f"sector j; sectors {bad[:8].tolist()} sum to {tot[bad][:8].tolist()}")
            d = np.asarray(self.d)
            if np.any(d <= 0):
                raise ValueError(f"d (trade costs) must be > 0 (and >= 1); got min {d.min()}")
            diag = np.diagonal(d, axis1=1, axis2=2)
            if np.any(diag != 1.0):
                raise ValueError("d[j, n, n] (own-city trade cost) must equal 1; got values in "
                                 f"[{diag.min()}, {diag.max()}]")
            check_in_range(d, "d (trade costs)", 1.0, None)

    @property
    def n_cities(self) -> int:
        return self.lam_hat.shape[-1]

    @property
    def n_sectors(self) -> int:
        return self.lam_hat.shape[-2]

    @property
    def n_occupations(self) -> int:
        return self.lam_hat.shape[-3]
