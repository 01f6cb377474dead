"""The China shock: Foreign productivities z*_i that produce given changes in Home imports by industry.

Target: imports_i(new) = imports_i(baseline) + ΔM_i for every industry i at once. With Home's imports
M_i = (τ p^F_i)^(1−ρ) H_i, H_i = p_i^(ρ−σ) P^(σ−1) X (D2, D4) and p^F_i = m w*/z*_i (D1), the z*_i that
hits the target given the other prices is closed form,

    S1  ln z*_i(x) = ln τ + ln m + ln w* + (ln M^T_i − ln H_i(x)) / (ρ − 1),

so the shocked equilibrium is the fixed point of x ↦ T(x; z*(x)) (T the map of
:mod:`.equilibrium`): one root problem in x = (ln p, ln p*, ln w*) for all industries together,
batched under ``vmap``. It is solved by a quasi-Newton iteration on ln z* (with Anderson mixing, memory 5) whose diagonal is the
partial-equilibrium elasticity ∂ln M_i/∂ln z*_i = (ρ−1) − (ρ−σ) s_i (s_i = import share of Home's
spending on i; the elasticity is >= σ − 1 > 0), each step a warm-started :func:`solve_equilibrium`;
gradients are implicit in S1's fixed point (``jax.lax.custom_root``, the same tangent solve).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jaxtyping import Array, Bool, Float, Int

from ..._checks import is_concrete
from ...numerics import anderson_init, anderson_step
from .calibration import SHIPMENTS_PER_WORKER
from .equilibrium import (Equilibrium, _consts, _Diag, _map, _outcomes, _pieces, _split, _tangent_solve, log_b,
                          solve_equilibrium)

__all__ = ["ShockResult", "china_shock", "adh_import_changes", "to_model_units", "feasible_import_changes"]


class ShockResult(eqx.Module):
    """Outcome of :func:`china_shock` (batched under ``vmap``).

    Attributes:
        equilibrium: the shocked :class:`Equilibrium` (its params carry the new z*_i).
        d_log_z_star: ``(I,)`` ln z*_i(new) − ln z*_i(baseline).
        iterations: quasi-Newton steps; max_import_error: max |ΔM_i(model) − ΔM_i(target)| / max |M_i|;
        converged: the inversion met ``tol`` and the final equilibrium converged.
    """

    equilibrium: Equilibrium
    d_log_z_star: Float[Array, " I"]
    iterations: Int[Array, ""]
    max_import_error: Float[Array, ""]
    converged: Bool[Array, ""]


def _log_zs_of_x(x, k, log_MT):
    """S1: the ln z*_i that give imports M^T_i at prices x."""
    q = _pieces(x, k)
    lp, lps, lw = _split(x)
    return k.log_tau + q["lm"] + lw + (log_MT - q["lH"]) / (k.rho - 1.0)


def china_shock(equilibrium: Equilibrium, d_imports, *, tol: float = 1e-12, max_iter: int = 200) -> ShockResult:
    """Invert Foreign productivities so that Home imports change by ``d_imports`` in every industry.

    Args:
        equilibrium: the starting (e.g. baseline) :class:`Equilibrium` of one economy.
        d_imports: ``(I,)`` changes in Home imports by industry, in model units (see :func:`to_model_units`).
        tol: on max |ln M_i − ln M^T_i|; max_iter: quasi-Newton cap.

    Returns:
        :class:`ShockResult`. Raises ValueError (before solving) for a wrong shape, NaNs, or changes
        that would make an industry's imports nonpositive (naming the industries).
    """
    M0 = equilibrium.imports
    n = M0.shape[-1]
    dM = jnp.asarray(d_imports, dtype=float)
    if dM.shape != (n,):
        raise ValueError(f"d_imports must have shape (I,) = ({n},); got {dM.shape}")
    if is_concrete(dM) and not np.all(np.isfinite(np.asarray(dM))):
        raise ValueError(f"d_imports must be finite; got {int(np.sum(~np.isfinite(np.asarray(dM))))} NaN/inf entries")
    MT = M0 + dM
    if is_concrete(MT) and np.any(np.asarray(MT) <= 0):
        bad = np.flatnonzero(np.asarray(MT) <= 0)
        raise ValueError(f"d_imports would make imports nonpositive in industries {bad[:10].tolist()} "
                         f"({bad.size} in all; column indices)")
    params = equilibrium.params
    log_MT = jnp.log(MT)
    lb = log_b(params)
    log_B = jax.nn.logsumexp(lb, axis=0)
    k0 = _consts(params, log_B)
    r, s = params.rho, params.sigma

    def f(x):
        k = eqx.tree_at(lambda c: c.log_zs, k0, _log_zs_of_x(x, k0, log_MT))
        return _map(x, k) - x

    def solve(_, x_init):
        kk = jax.lax.stop_gradient(k0)
        lmt = jax.lax.stop_gradient(log_MT)
        p0 = jax.lax.stop_gradient(params)

        def body(c):
            lzs, x, it, _, ast = c
            eq = solve_equilibrium(eqx.tree_at(lambda p: p.z_star, p0, jnp.exp(lzs)), x)
            lM = jnp.log(eq.imports)
            share = eq.imports / _home_spending(eq)
            elas = (r - 1.0) - (r - s) * share
            err = jnp.max(jnp.abs(lmt - lM))
            # Anderson mixing of the diagonal quasi-Newton map (the common mode through w* converges slowly)
            lzs_new, ast = anderson_step(ast, lzs, lzs + (lmt - lM) / elas)
            return lzs_new, eq.x, it + 1, err, ast

        def cond(c):
            return (c[2] < max_iter) & (c[3] > tol) & jnp.isfinite(c[3])

        init = (kk.log_zs, x_init, jnp.asarray(0), jnp.asarray(1e300), anderson_init(kk.log_zs, 5))
        lzs, x, it, err, _ = jax.lax.while_loop(cond, body, init)
        return x, (it.astype(err.dtype), err)

    x, (it, err) = jax.lax.custom_root(f, jax.lax.stop_gradient(equilibrium.x), solve, _tangent_solve, has_aux=True)
    lzs = _log_zs_of_x(x, k0, log_MT)
    new_params = eqx.tree_at(lambda p: p.z_star, params, jnp.exp(lzs))
    k = _consts(new_params, log_B)
    xs = jax.lax.stop_gradient(x)
    resid = jnp.max(jnp.abs(jax.lax.stop_gradient(f(xs))))
    it, err = jax.lax.stop_gradient((it, err))
    conv = (err <= 1e3 * tol) & (resid <= 1e-10) & jnp.isfinite(resid)
    new = _outcomes(new_params, lb, x, k, _Diag(iterations=it.astype(jnp.int32), outer_residual=err), resid, conv)
    imp_err = jax.lax.stop_gradient(jnp.max(jnp.abs(new.imports - MT)) / jnp.max(MT))
    return ShockResult(equilibrium=new, d_log_z_star=lzs - jnp.log(params.z_star), iterations=it.astype(jnp.int32),
                       max_import_error=imp_err, converged=conv)


def _home_spending(eq: Equilibrium):
    """Home spending on each industry, p_i^(1−σ) P^(σ−1) X (X = m)."""
    s = eq.params.sigma
    return eq.p ** (1.0 - s) * eq.P ** (s - 1.0) * eq.params.markup


def adh_import_changes(shocks: pd.DataFrame, sic87dd, period: int, column: str = "g_importsUSA",
                       file: str = "industry_shocks.csv.gz") -> np.ndarray:
    """ADH change in US imports from China per US worker of each industry (k$ of 2007), in ``sic87dd`` order.

    Args:
        shocks: the ``industry_shocks`` frame (``year, sic87dd, <column>``); period: 1990 or 2000.
        sic87dd: ``(I,)`` the model's industries. Raises ValueError naming the industries missing from
        the file for that period, or a missing column, or NaN values.
    """
    for col in ("year", "sic87dd", column):
        if col not in shocks.columns:
            raise ValueError(f"column {col!r} missing from file {file}")
    rows = shocks[shocks["year"] == period].set_index("sic87dd")[column]
    codes = np.asarray(sic87dd)
    missing = [int(c) for c in codes if c not in rows.index]
    if missing:
        raise ValueError(f"industries {missing[:10]} ({len(missing)} in all, sic87dd) missing from file {file} "
                         f"for period {period}")
    g = rows.loc[codes].to_numpy(dtype=float)
    if not np.all(np.isfinite(g)):
        raise ValueError(f"column {column!r} of file {file} has NaN for period {period} in industries "
                         f"{codes[~np.isfinite(g)][:10].tolist()}")
    return g


def to_model_units(g_per_worker, employment_industry, *, markup, shipments_per_worker: float = SHIPMENTS_PER_WORKER):
    """ΔM_i in model units from ADH's ΔM_i / E_i (k$ per worker of industry i): ΔM_i = g_i L_i m / s.

    ``employment_industry`` is L_i = E_i / E (model employment, summing to one); Home revenue per worker
    is m in the model and ``shipments_per_worker`` (k$) in the data (calibration module docstring).
    """
    return np.asarray(g_per_worker, float) * np.asarray(employment_industry, float) * float(markup) / shipments_per_worker


def feasible_import_changes(imports, d_imports, *, floor: float = 0.05):
    """ΔM_i clipped below at −(1 − floor) M_i, so that no industry's imports fall below ``floor`` of their level.

    The model's imports are all Foreign's, calibrated to a uniform import share; a fall in imports from
    China larger than that (ADH 2000-2007 has one industry, SIC 2386, at −651 k$ per worker) cannot be
    matched. Traceable; returns (clipped ΔM, number of industries clipped).
    """
    lo = -(1.0 - floor) * imports
    return jnp.maximum(d_imports, lo), jnp.sum(d_imports < lo)
