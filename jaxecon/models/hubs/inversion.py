"""Model inversion (paper 001 §III): the productivities λ^kj_n and amenities A^k_n that make observed
wages, employment and geography an equilibrium of the hubs model.

Given w^k_n, L^kj_n (so L^k_n = Σ_j L^kj_n) and the elasticities, shares, d, H and T of ``params``,
every step is closed form except one gravity (Sinkhorn) fixed point per sector:

1. revenue R^j_n = Σ_k w^k_n L^kj_n / γ^j_L (labor market), rents r_n = Σ_j γ^j_H R^j_n / H_n,
   χ = Σ_n r_n H_n / Σ_k L^k, expenditure X^j_n = α^j Σ_k (w^k_n + χ) L^k_n + Σ_l γ^lj R^l_n;
2. y^j_m = T^j_m (x^j_m)^(−ϑ) solves R^j_m = y^j_m Σ_n d^j_mn^(−ϑ) X^j_n / Φ^j_n, Φ^j_n = Σ_m y^j_m d^j_mn^(−ϑ)
   (Newton in logs, see :func:`_gravity`; solvable when Σ_m R^j_m = Σ_n X^j_n, checked first);
   then x^j_m = (y^j_m/T^j_m)^(−1/ϑ) and P^j_n = (Φ^j_n)^(−1/ϑ);
3. labor cost c^j_n from the unit cost, ln c = (ln x − ln B − γ_H ln r − Σ_l γ^jl ln P^l)/γ_L, and
   λ^kj_n = w^k_n / (c^j_n (s^kj_n)^(1/(1−ε))) with s^kj_n = w^k_n L^kj_n / Σ_k' w^k'_n L^k'j_n;
4. A^k_n ∝ (L^k_n)^(1/ν) P_n / (w^k_n + χ^k) (location choice).

Normalizations (the allocation does not identify them, see :class:`Params`): mean_{k,n} ln λ^kj_n = 0
for every j and mean_n ln A^k_n = 0 for every k. Nominal units are irrelevant (λ and A are invariant
to a common scale of the wages).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import check_finite, is_concrete
from .equilibrium import Equilibrium, _log_B, price_index
from .params import Params

__all__ = ["CityData", "invert", "data_from_equilibrium", "normalize_lambda", "normalize_amenities",
           "consistent_alpha", "sector_imbalance"]

_BALANCE_TOL = 1e-8


class CityData(eqx.Module):
    """Observed allocation: wages ``w`` (K, N) and employment ``Lkj`` (K, J, N) (occupation k,
    sector j, city n). Populations are L^k_n = Σ_j L^kj_n."""

    w: Float[Array, "K N"] = eqx.field(converter=lambda x: jnp.asarray(x, dtype=float))
    Lkj: Float[Array, "K J N"] = eqx.field(converter=lambda x: jnp.asarray(x, dtype=float))

    def __check_init__(self):
        if np.ndim(self.Lkj) != 3:
            raise ValueError(f"Lkj must have shape (K, J, N); got {np.shape(self.Lkj)}")
        K, J, N = np.shape(self.Lkj)
        if np.shape(self.w) != (K, N):
            raise ValueError(f"w must have shape (K, N) = ({K}, {N}) to match Lkj; got {np.shape(self.w)}")
        check_finite(self.w, "w")
        check_finite(self.Lkj, "Lkj")
        if is_concrete(self):
            if np.any(np.asarray(self.w) <= 0):
                raise ValueError("w (wages) must be > 0 in every (occupation, city) cell; the inversion takes logs")
            bad = np.argwhere(np.asarray(self.Lkj) <= 0)
            if bad.size:
                raise ValueError(f"Lkj (employment) has {len(bad)} zero or negative cell(s), e.g. (k, j, n) = "
                                 f"{tuple(int(i) for i in bad[0])}; the inversion takes logs of every cell "
                                 "(drop or merge such cells first)")

    @property
    def L(self):
        return jnp.sum(self.Lkj, axis=-2)


def data_from_equilibrium(eq: Equilibrium) -> CityData:
    """The observable part of a solution (wages and employment)."""
    return CityData(w=eq.w, Lkj=eq.Lkj)


def _accounts(data: CityData, p: Params):
    w, Lkj = data.w, data.Lkj
    L = jnp.sum(Lkj, axis=1)
    bill = w[:, None, :] * Lkj                                          # (K, J, N)
    R = jnp.sum(bill, axis=0) / p.gamma_L[:, None]
    r = jnp.sum(p.gamma_H[:, None] * R, axis=0) / p.H
    chi = jnp.sum(r * p.H) / jnp.sum(L)
    E = jnp.sum((w + chi) * L, axis=0)
    X = p.alpha[:, None] * E + p.gamma_io.T @ R
    return L, bill, R, r, chi, X


def sector_imbalance(data: CityData, params: Params):
    """(Σ_n X^j_n − Σ_n R^j_n) / Σ_n X^j_n per sector: data can be an equilibrium only where it is 0
    (national goods market clearing pins sector totals through α and γ)."""
    _, _, R, _, _, X = _accounts(data, params)
    return (jnp.sum(X, axis=1) - jnp.sum(R, axis=1)) / jnp.sum(X, axis=1)


def consistent_alpha(data: CityData, params: Params):
    """Consumption shares α^j that make the data's sector totals clear: α^j = (R^j − Σ_l γ^lj R^l) / E,
    national totals. Raises if some α^j < 0 (the data's sector sizes cannot come from final demand)."""
    L, bill, R, r, chi, X = _accounts(data, params)
    Rj = jnp.sum(R, axis=1)
    E = jnp.sum((data.w + chi) * L)
    alpha = (Rj - params.gamma_io.T @ Rj) / E
    if is_concrete(alpha) and np.any(np.asarray(alpha) < 0):
        raise ValueError(f"consistent_alpha: sectors {np.flatnonzero(np.asarray(alpha) < 0).tolist()} need alpha < 0; "
                         "their revenue is smaller than their sales of materials implied by gamma_io")
    return alpha


def normalize_lambda(lam):
    """λ rescaled per sector so that mean_{k,n} ln λ^kj_n = 0 (``(..., K, J, N)``)."""
    ll = jnp.log(lam)
    return jnp.exp(ll - jnp.mean(ll, axis=(-3, -1), keepdims=True))


def normalize_amenities(A):
    """A rescaled per occupation so that mean_n ln A^k_n = 0 (``(..., K, N)``)."""
    la = jnp.log(A)
    return jnp.exp(la - jnp.mean(la, axis=-1, keepdims=True))


def _gravity(lD, lR, lX, tol, max_iter):
    """ln y with R_m = y_m Σ_n D_mn X_n/Φ_n, Φ_n = Σ_m y_m D_mn, per sector (leading axis), mean ln y = 0.

    Newton on F(u) = u + ln Σ_n D_mn X_n/Φ_n(u) − ln R_m: its Jacobian I − M (M = A B with A, B
    row-stochastic, A_mn ∝ D_mn X_n/Φ_n, B_nk = π_kn) is singular only along the free scale (the
    ones vector), removed by adding 11ᵀ/N and the condition mean(u) = 0. Sinkhorn scaling solves the
    same system but crawls when a sector is almost non-traded (M close to the identity).
    """
    J, N = lR.shape
    ones = jnp.ones((N, N)) / N

    def parts(u):
        lphi = jax.scipy.special.logsumexp(u[:, :, None] + lD, axis=1)                # (J, N) ln Φ_n
        la = lD + (lX - lphi)[:, None, :]                                             # ln D_mn X_n/Φ_n
        lsum = jax.scipy.special.logsumexp(la, axis=2)
        return lphi, la, lsum

    def resid(u):
        _, _, lsum = parts(u)
        return u + lsum - lR + jnp.mean(u, axis=1, keepdims=True)

    def body(c):
        u, _, it = c
        lphi, la, lsum = parts(u)
        F = u + lsum - lR + jnp.mean(u, axis=1, keepdims=True)
        Am = jnp.exp(la - lsum[:, :, None])                                          # (J, m, n)
        B = jnp.exp(u[:, None, :] + lD.transpose(0, 2, 1) - lphi[:, :, None])        # (J, n, k) = π_kn
        Jac = jnp.eye(N) - Am @ B + ones
        un = u - jnp.linalg.solve(Jac, F[..., None])[..., 0]
        return un, jnp.max(jnp.abs(resid(un))), it + 1

    def cond(c):
        return (c[1] > tol) & (c[2] < max_iter)

    u0 = lR - jnp.mean(lR, axis=1, keepdims=True)
    u, err, it = jax.lax.while_loop(cond, body, (u0, jnp.max(jnp.abs(resid(u0))), 0))
    lphi, _, _ = parts(u)
    return u, lphi, err, it


def invert(data: CityData, params: Params, *, tol: float = 1e-12, max_iter: int = 100):
    """Productivities λ^kj_n ``(K, J, N)`` and amenities A^k_n ``(K, N)`` that make ``data`` an
    equilibrium of ``params``' economy (the λ̂, A, τ fields of ``params`` are not used).

    Steps and normalizations in the module docstring. Raises ``ValueError`` (before any iteration)
    on zero employment cells (in :class:`CityData`), mismatched shapes, and data whose sector totals
    cannot clear (:func:`sector_imbalance` above 1e-8; :func:`consistent_alpha` gives the α that
    fits). Raises ``RuntimeError`` if the gravity step does not converge.

    Returns:
        (lam, A), normalized.
    """
    K, J, N = params.lam_hat.shape
    if data.Lkj.shape != (K, J, N):
        raise ValueError(f"data.Lkj has shape {data.Lkj.shape}; params describe (K, J, N) = {(K, J, N)}")
    imb = sector_imbalance(data, params)
    if is_concrete(imb) and np.max(np.abs(np.asarray(imb))) > _BALANCE_TOL:
        bad = np.flatnonzero(np.abs(np.asarray(imb)) > _BALANCE_TOL)
        raise ValueError(f"data cannot be an equilibrium: national revenue and expenditure differ in sectors "
                         f"{bad[:8].tolist()} (relative {np.asarray(imb)[bad][:8]}); use consistent_alpha(data, params) "
                         "for the consumption shares that fit")
    return _invert(data, params, tol, max_iter)


def _invert(data, p, tol, max_iter):
    L, bill, R, r, chi, X = _accounts(data, p)
    lD = -p.vartheta * jnp.log(p.d)
    u, lphi, err, it = _gravity(lD, jnp.log(R), jnp.log(X), tol, max_iter)
    if is_concrete(err) and not float(err) <= tol:
        raise RuntimeError(f"invert: the gravity step did not converge in {int(it)} Newton steps (residual {float(err):.2e})")
    lx = -(u - jnp.log(p.T)) / p.vartheta
    lP = -lphi / p.vartheta
    lc = (lx - _log_B(p)[:, None] - p.gamma_H[:, None] * jnp.log(r)[None, :] - p.gamma_io @ lP) / p.gamma_L[:, None]
    ls = jnp.log(bill) - jnp.log(jnp.sum(bill, axis=0, keepdims=True))
    llam = jnp.log(data.w)[:, None, :] - lc[None] - ls / (1.0 - p.epsilon)
    lPn = price_index(p, lP)
    lA = jnp.log(L) / p.nu + lPn[None, :] - jnp.log(data.w + chi)
    return normalize_lambda(jnp.exp(llam)), normalize_amenities(jnp.exp(lA))
