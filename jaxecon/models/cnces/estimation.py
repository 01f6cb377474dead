"""Estimation of ρ (paper 004, §3.1) and shifter recovery from the fixed effects (§3.2), with a
simulated panel for round trips.

§3.1: with t_ckt = w_ckt η_ckt, eq 3 in logs gives

    ln π_ckt = β ln w_ckt + δ_ct + δ_kt + β ln η_ckt,     β = 1/(1-ρ)   (so ρ = 1 - 1/β)

estimated by 2SLS with location-year and occupation-year fixed effects, the wage instrumented by the
shift-share ln w^IV_ckt = ln Σ_s κ_cks A_st (pre-determined sector composition × sector productivity).
The 2SLS is :func:`jaxecon.econometrics.iv` (the package's single implementation); standard errors are
clustered on location-occupation pairs as in Table 1. ρ's standard error is the delta method, se_β/β².

§3.2: given ρ (and θ), the fixed-effect decomposition of ln π_ckt recovers t_ckt, λ_kt, T_kt, T_ct
(:func:`jaxecon.models.cnces.recover_shifters`, one cross-section per year).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .params import Params
from .recovery import recover_shifters
from .shares import shares

__all__ = ["SimulatedPanel", "simulate_panel", "RhoEstimate", "estimate_rho", "recover_panel"]


@dataclasses.dataclass(frozen=True)
class SimulatedPanel:
    """A simulated location × occupation × year panel (see :func:`simulate_panel`).

    Attributes:
        data: long DataFrame, one row per (loc, occ, year): ``log_pi`` (ln π_ckt), ``log_w`` (ln w_ckt,
            endogenous), ``log_w_iv`` (the shift-share instrument), ``log_eta`` (the structural error),
            ``pair`` (loc-occ cluster id), ``loc_year``, ``occ_year`` (fixed-effect ids), ``omega`` (ω_kt).
        params: Params with a leading year axis (the true t_ckt, T_kt, T_ct).
        pi_ck: ``(T, N, K)`` true π_ckt.  omega_k: ``(T, K)`` true ω_kt.
    """

    data: pd.DataFrame
    params: Params
    pi_ck: np.ndarray
    omega_k: np.ndarray


@functools.partial(jax.jit, static_argnums=(2, 3))
def _simulate(key, base, n_years, n_sectors, sigma_eta, endogeneity, sigma_nu, sigma_A, sigma_drift):
    n, k = base.t_ck.shape
    keys = jax.random.split(key, 7)
    e = jax.random.exponential(keys[0], (n, k, n_sectors))
    kappa = e / e.sum(-1, keepdims=True)                                               # κ_cks ~ Dirichlet(1)
    log_A = jnp.cumsum(sigma_A * jax.random.normal(keys[1], (n_years, n_sectors)), axis=0)
    log_w_iv = jnp.log(jnp.einsum("cks,ts->tck", kappa, jnp.exp(log_A)))
    log_eta = sigma_eta * jax.random.normal(keys[2], (n_years, n, k))
    nu = sigma_nu * jax.random.normal(keys[3], (n_years, n, k))
    log_w = jnp.log(base.t_ck)[None] + log_w_iv - endogeneity * log_eta + nu
    log_t = log_w + log_eta
    d_c = jnp.cumsum(sigma_drift * jax.random.normal(keys[4], (n_years, n)), axis=0)
    d_k = jnp.cumsum(sigma_drift * jax.random.normal(keys[5], (n_years, k)), axis=0)
    make = lambda lt, dk, dc: Params(t_ck=jnp.exp(lt), T_k=base.T_k * jnp.exp(dk),  # noqa: E731
                                     T_c=base.T_c * jnp.exp(dc), theta=base.theta, rho=base.rho)
    params_t = jax.vmap(make)(log_t, d_k, d_c)       # Params with a leading year axis
    return params_t, log_w, log_w_iv, log_eta, jax.vmap(shares)(params_t)


def simulate_panel(key, base: Params, n_years: int = 8, *, n_sectors: int = 10, sigma_eta: float = 0.2,
                   endogeneity: float = 1.0, sigma_nu: float = 0.1, sigma_A: float = 0.15,
                   sigma_drift: float = 0.02) -> SimulatedPanel:
    """Simulate §3.1's panel from known parameters (``base``: θ, ρ and the year-0 shifters).

    Data-generating process, per year t (shocks drawn from ``key``):
      * sector productivity ln A_st: random walk, innovations N(0, σ_A²); pre-determined composition
        κ_cks ~ Dirichlet(1) over S sectors; instrument ln w^IV_ckt = ln Σ_s κ_cks A_st;
      * structural error ln η_ckt ~ N(0, σ_η²), independent of the instrument (a valid instrument);
      * wage ln w_ckt = ln t̄_ck + ln w^IV_ckt - endogeneity · ln η_ckt + N(0, σ_ν²): locations with a
        better unobserved draw attract workers and pay less per worker, so cov(ln w, ln η) < 0 and
        OLS is biased towards zero (as in the paper's Table 1);
      * t_ckt = w_ckt η_ckt; T_ct, T_kt drift by N(0, σ_drift²) a year; shares from eqs 3-7.
    """
    n, k = base.t_ck.shape
    params_t, log_w, log_w_iv, log_eta, s = _simulate(key, base, n_years, n_sectors, sigma_eta, endogeneity,
                                                      sigma_nu, sigma_A, sigma_drift)
    t_idx, c_idx, k_idx = np.meshgrid(np.arange(n_years), np.arange(n), np.arange(k), indexing="ij")
    data = pd.DataFrame({
        "year": t_idx.ravel(), "loc": c_idx.ravel(), "occ": k_idx.ravel(),
        "log_pi": np.asarray(s.log_pi_ck).ravel(), "log_w": np.asarray(log_w).ravel(),
        "log_w_iv": np.asarray(log_w_iv).ravel(), "log_eta": np.asarray(log_eta).ravel(),
        "omega": np.asarray(s.omega_k)[t_idx.ravel(), k_idx.ravel()],
    })
    data["pair"] = data["loc"] * k + data["occ"]
    data["loc_year"] = data["loc"] * n_years + data["year"]
    data["occ_year"] = data["occ"] * n_years + data["year"]
    return SimulatedPanel(data=data, params=params_t, pi_ck=np.asarray(s.pi_ck), omega_k=np.asarray(s.omega_k))


@dataclasses.dataclass(frozen=True)
class RhoEstimate:
    """ρ from §3.1: ``beta`` (2SLS), ``beta_se``, ``rho = 1 - 1/beta``, ``rho_se`` (delta method),
    ``beta_ols``, ``beta_ols_se``, ``first_stage_f`` (effective F), and the two regression results."""

    beta: float
    beta_se: float
    rho: float
    rho_se: float
    beta_ols: float
    beta_ols_se: float
    first_stage_f: float
    iv_result: object
    ols_result: object


def estimate_rho(data: pd.DataFrame, *, y: str = "log_pi", wage: str = "log_w", instrument: str = "log_w_iv",
                 fe=("loc_year", "occ_year"), cluster: str | None = "pair") -> RhoEstimate:
    """2SLS of ln π_ckt on ln w_ckt with location-year and occupation-year fixed effects, instrumented
    by the shift-share ``instrument`` (paper 004, §3.1, Table 1), and the OLS for comparison.
    Uses :func:`jaxecon.econometrics.iv` / :func:`~jaxecon.econometrics.ols`."""
    from ...econometrics import iv, ols

    r_iv = iv(data, y, wage, instrument, fe=list(fe), cluster=cluster)
    r_ols = ols(data, y, wage, fe=list(fe), cluster=cluster)
    b, se = float(r_iv.params[wage]), float(r_iv.se[wage])
    return RhoEstimate(beta=b, beta_se=se, rho=1.0 - 1.0 / b, rho_se=se / b**2,
                       beta_ols=float(r_ols.params[wage]), beta_ols_se=float(r_ols.se[wage]),
                       first_stage_f=float(r_iv.first_stage_f.iloc[0]), iv_result=r_iv, ols_result=r_ols)


def recover_panel(pi_ck, omega_k, theta, rho) -> Params:
    """§3.2 for every year: :func:`recover_shifters` vmapped over a leading year axis of
    π_ckt ``(T, N, K)`` and ω_kt ``(T, K)`` (canonical normalization each year)."""
    return jax.vmap(lambda p, o: recover_shifters(p, o, theta, rho))(jnp.asarray(pi_ck), jnp.asarray(omega_k))
