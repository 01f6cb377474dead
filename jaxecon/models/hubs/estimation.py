"""Estimation of the externalities of eq. (1) (paper 001 §III): 2SLS of ln λ^kj_n on ln(L^k_n/L_n)
(one coefficient per occupation, τ^R,k) and ln L_n (τ^L), by industry group, with occupation × industry
fixed effects, standard errors clustered by city, and model-implied instruments.

    ln λ^kj_n = a^kj + Σ_k' τ^R,k' 1{k = k'} ln(L^k_n/L_n) + τ^L ln L_n + u^kj_n,   j in group g

(u = ln λ̂ minus its (k, j) mean). The regressors are endogenous: cities with high λ̂ attract
workers. The instruments are the same regressors computed from the counterfactual allocation in
which every λ^kj_n is set to its cross-city (geometric) mean and held fixed (no externality): that
allocation depends only on amenities and geography (A, d, H, T), not on the city-specific λ̂
(paper §III). Regressions run through :func:`jaxecon.econometrics.iv` / :func:`~jaxecon.econometrics.ols`.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np
import pandas as pd

from ...econometrics import iv, ols
from .equilibrium import Equilibrium, solve_equilibrium
from .params import Params

__all__ = ["ExternalityEstimates", "estimate_externalities", "counterfactual_allocation", "regression_frame"]


def counterfactual_allocation(lam, params: Params, *, A=None, **solve_kwargs) -> Equilibrium:
    """The equilibrium with λ^kj_n = exp(mean_n ln λ^kj_n) for every n and τ = 0 (amenities ``A``,
    default ``params.A``): the source of the model-implied instruments."""
    lam_bar = jnp.exp(jnp.mean(jnp.log(jnp.asarray(lam, dtype=float)), axis=-1, keepdims=True))
    fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    fields.update(lam_hat=jnp.broadcast_to(lam_bar, params.lam_hat.shape), tau_R=jnp.zeros_like(params.tau_R),
                  tau_L=jnp.zeros_like(params.tau_L))
    if A is not None:
        fields["A"] = A
    return solve_equilibrium(Params(**fields), **solve_kwargs)


def regression_frame(lam, L, L_iv, groups) -> pd.DataFrame:
    """Long table, one row per (k, j, n): ``y`` = ln λ, ``share_k`` = ln(L^k/L_n) · 1{occupation k}
    for each k, ``size`` = ln L_n, their instrument twins ``z_share_k``, ``z_size`` (from ``L_iv``),
    and ``group``, ``occ_ind`` (fixed-effect label), ``city`` (cluster)."""
    lam, L, L_iv = (np.asarray(a, dtype=float) for a in (lam, L, L_iv))
    K, J, N = lam.shape
    if len(groups) != J:
        raise ValueError(f"groups must label each of the J = {J} sectors; got {len(groups)} labels")
    if L.shape != (K, N) or L_iv.shape != (K, N):
        raise ValueError(f"L and the counterfactual L must have shape (K, N) = {(K, N)}; got {L.shape}, {L_iv.shape}")
    kk, jj, nn = np.meshgrid(np.arange(K), np.arange(J), np.arange(N), indexing="ij")
    kk, jj, nn = kk.ravel(), jj.ravel(), nn.ravel()
    out = dict(y=np.log(lam).ravel(), occ=kk, sector=jj, city=nn, group=np.asarray(groups, dtype=object)[jj],
               occ_ind=kk * J + jj)
    for tag, M in (("", L), ("z_", L_iv)):
        share = np.log(M / M.sum(0, keepdims=True))
        for k in range(K):
            out[f"{tag}share_{k}"] = np.where(kk == k, share[kk, nn], 0.0)
        out[f"{tag}size"] = np.log(M.sum(0))[nn]
    return pd.DataFrame(out)


@dataclasses.dataclass(frozen=True)
class ExternalityEstimates:
    """Estimates by industry group.

    Attributes:
        table: DataFrame indexed by group with columns ``tau_R_k`` (one per occupation), ``tau_L``,
            their ``se_*``, ``first_stage_F_min`` (smallest effective first-stage F, 2SLS only),
            ``nobs``, ``clusters``.
        results: dict group -> :class:`jaxecon.econometrics.RegressionResult`.
        method: ``"2sls"`` or ``"ols"``.
    """

    table: pd.DataFrame
    results: dict
    method: str


def estimate_externalities(lam, equilibrium, groups, *, params: Params | None = None, A=None,
                           method: str = "2sls", exclude=("NT",), counterfactual: Equilibrium | None = None,
                           **solve_kwargs) -> ExternalityEstimates:
    """τ^R,k and τ^L of eq. (1) by industry group (module docstring).

    Args:
        lam: ``(K, J, N)`` productivities (e.g. from :func:`jaxecon.models.hubs.invert`).
        equilibrium: the observed allocation: an :class:`Equilibrium` or a ``(K, N)`` array of L^k_n.
        groups: group label of each sector (e.g. :func:`jaxecon.models.hubs.sector_groups`); groups in
            ``exclude`` (the paper's non-traded sectors) are not estimated.
        params: geography and elasticities for the counterfactual (default ``equilibrium.params``);
            A: amenities for it (e.g. the inverted ones; default ``params.A``).
        method: ``"2sls"`` (model-implied instruments) or ``"ols"``.
        counterfactual: the instrument allocation if already solved.
    """
    if method not in ("2sls", "ols"):
        raise ValueError(f"method must be '2sls' or 'ols'; got {method!r}")
    L = equilibrium.L if isinstance(equilibrium, Equilibrium) else jnp.asarray(equilibrium, dtype=float)
    if params is None:
        if not isinstance(equilibrium, Equilibrium):
            raise ValueError("params is needed when equilibrium is an array of populations")
        params = equilibrium.params
    K = L.shape[0]
    if method == "2sls" and counterfactual is None:
        counterfactual = counterfactual_allocation(lam, params, A=A, **solve_kwargs)
        if not bool(counterfactual.converged):
            raise RuntimeError("the counterfactual allocation (instruments) did not converge "
                               f"(residual {float(counterfactual.max_residual):.2e})")
    L_iv = counterfactual.L if counterfactual is not None else L
    frame = regression_frame(lam, L, L_iv, groups)
    endog = [f"share_{k}" for k in range(K)] + ["size"]
    rows, results = {}, {}
    for g in [g for g in dict.fromkeys(groups) if g not in exclude]:
        sub = frame[frame["group"] == g]
        if method == "2sls":
            res = iv(sub, "y", endog, ["z_" + c for c in endog], fe="occ_ind", cluster="city")
        else:
            res = ols(sub, "y", endog, fe="occ_ind", cluster="city")
        results[g] = res
        row = {f"tau_R_{k}": res.params[f"share_{k}"] for k in range(K)}
        row["tau_L"] = res.params["size"]
        row.update({f"se_tau_R_{k}": res.se[f"share_{k}"] for k in range(K)})
        row["se_tau_L"] = res.se["size"]
        if method == "2sls":
            row["first_stage_F_min"] = float(np.min(res.first_stage_f.to_numpy()))
        row["nobs"] = res.nobs
        row["clusters"] = res.n_clusters
        rows[g] = row
    return ExternalityEstimates(table=pd.DataFrame(rows).T, results=results, method=method)
