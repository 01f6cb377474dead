"""Parameters of the clusters model (paper 000; DESIGN.md "The clusters model").

Home: C locations (commuting zones) and I tradable industries, labor L = 1 mobile at the wage w = 1
(numeraire). Industry i at Home is a measure-one continuum of varieties, μ_ic of them in location c
(Σ_c μ_ic = 1), with productivity z_ic L_ic^η (η: local within-industry spillover). Foreign is one
location with L* workers, productivities z*_i, no spillover. CES across industries (σ) and across
varieties within an industry (ρ), markup m = ρ/(ρ−1), iceberg cost τ both ways.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import check_finite, check_in_range, check_ndim, check_positive, is_concrete

__all__ = ["Params", "eta_bound"]


def _as_float(x):
    return jnp.asarray(x, dtype=float)


def eta_bound(rho) -> float:
    """The stability bound on η: η(ρ−1) < 1, i.e. η < 1/(ρ−1) (DESIGN.md; beyond it L_ic explodes)."""
    return 1.0 / (float(rho) - 1.0)


class Params(eqx.Module):
    """Elasticities, trade cost, Foreign size and productivities of the clusters model.

    Attributes:
        sigma: σ > 1, elasticity of substitution across industries.
        rho: ρ > σ, elasticity of substitution across varieties within an industry (markup ρ/(ρ−1)).
        eta: η >= 0, local within-industry spillover (productivity z_ic L_ic^η), with η(ρ−1) < 1.
        tau: τ >= 1, iceberg trade cost (both directions).
        L_star: L* > 0, Foreign labor.
        z: ``(C, I)`` Home productivities z_ic > 0 (finite; irrelevant where μ_ic = 0).
        z_star: ``(I,)`` Foreign productivities z*_i > 0.
        mu: ``(C, I)`` measures of varieties μ_ic >= 0 with each column summing to one.

    Validation (``__check_init__``): shapes, finiteness, 1 < σ < ρ, 0 <= η < 1/(ρ−1), τ >= 1,
    L* > 0, z > 0, z* > 0, μ >= 0 and Σ_c μ_ic = 1 (to 1e-10) for every industry. Value checks are
    skipped for traced fields (inside ``jit``/``vmap``); shape checks always run.
    """

    sigma: Float[Array, ""] = eqx.field(converter=_as_float)
    rho: Float[Array, ""] = eqx.field(converter=_as_float)
    eta: Float[Array, ""] = eqx.field(converter=_as_float)
    tau: Float[Array, ""] = eqx.field(converter=_as_float)
    L_star: Float[Array, ""] = eqx.field(converter=_as_float)
    z: Float[Array, "C I"] = eqx.field(converter=_as_float)
    z_star: Float[Array, " I"] = eqx.field(converter=_as_float)
    mu: Float[Array, "C I"] = eqx.field(converter=_as_float)

    def __check_init__(self):
        for name in ("sigma", "rho", "eta", "tau", "L_star"):
            if np.ndim(getattr(self, name)) != 0:
                raise ValueError(f"{name} must be a scalar; got shape {np.shape(getattr(self, name))}")
        check_ndim(self.z, "z", 2)
        check_ndim(self.mu, "mu", 2)
        if np.shape(self.mu) != np.shape(self.z):
            raise ValueError(f"mu must have the shape of z (C, I) = {np.shape(self.z)}; got {np.shape(self.mu)}")
        n_ind = np.shape(self.z)[1]
        if np.shape(self.z_star) != (n_ind,):
            raise ValueError(f"z_star must have shape (I,) = ({n_ind},) to match z {np.shape(self.z)}; "
                             f"got {np.shape(self.z_star)}")
        for name in ("sigma", "rho", "eta", "tau", "L_star", "z", "z_star", "mu"):
            check_finite(getattr(self, name), name)
        check_in_range(self.sigma, "sigma", 1.0, None, lo_open=True)
        if is_concrete((self.sigma, self.rho)) and not float(self.rho) > float(self.sigma):
            raise ValueError(f"rho must be > sigma (1 < sigma < rho); got sigma={float(self.sigma)}, "
                             f"rho={float(self.rho)}")
        check_in_range(self.eta, "eta", 0.0, None)
        if is_concrete((self.eta, self.rho)) and not float(self.eta) * (float(self.rho) - 1.0) < 1.0:
            raise ValueError(f"eta must satisfy eta*(rho-1) < 1, i.e. eta < {eta_bound(self.rho):.6g} for "
                             f"rho={float(self.rho)} (stronger spillovers make employment explode); "
                             f"got eta={float(self.eta)}")
        check_in_range(self.tau, "tau", 1.0, None)
        check_positive(self.L_star, "L_star")
        check_positive(self.z, "z")
        check_positive(self.z_star, "z_star")
        check_positive(self.mu, "mu", strict=False)
        if is_concrete(self.mu):
            col = np.asarray(self.mu).sum(axis=0)
            bad = np.abs(col - 1.0) > 1e-10
            if np.any(bad):
                j = int(np.argmax(bad))
                raise ValueError(f"mu: each column (industry) must sum to one over locations; industry {j} "
                                 f"sums to {col[j]:.12g} ({int(bad.sum())} of {col.size} industries off)")

    @property
    def n_locations(self) -> int:
        return self.z.shape[-2]

    @property
    def n_industries(self) -> int:
        return self.z.shape[-1]

    @property
    def markup(self):
        """m = ρ/(ρ−1)."""
        return self.rho / (self.rho - 1.0)

    def replace(self, **changes) -> "Params":
        """A copy with some fields replaced (runs the validation again)."""
        fields = {k: getattr(self, k) for k in ("sigma", "rho", "eta", "tau", "L_star", "z", "z_star", "mu")}
        fields.update(changes)
        return Params(**fields)
