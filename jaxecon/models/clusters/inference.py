"""Model data for the paper's regressions and indirect inference of η (issue 16, items 4-5).

CZ outcomes over a period from a start and an end :class:`Equilibrium` (ADH definitions, model flows):

    y_c = 100 (L_c^end − L_c^start) E / N_c            change in manufacturing employment per working-age person (pp)
    x_c = Σ_i L_ic^start E g_i / T_c                    imports per worker: Σ_i (L_ic/L_i) ΔM_i / T_c with
                                                        ΔM_i = g_i L_i E (k$), the model's own import changes
    z_c = Σ_i L_ic^start E g^oth_i / T_c                the instrument, with other countries' import growth
    hhi_c = 100 Σ_i (L_ic / L_c)^2, manuf_c = 100 L_c E / T_c   (start of period)

E: national manufacturing employment (workers), N_c working-age population, T_c total CZ employment.
Since china_shock reproduces ΔM_i = g_i L_i E exactly, x_c uses the model's import changes.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from ...calibrate import calibrate
from ...econometrics import iv_arrays
from .calibration import baseline_params_at_eta
from .equilibrium import Equilibrium, solve_equilibrium
from .params import eta_bound
from .shock import china_shock, feasible_import_changes

__all__ = ["ShockData", "cz_outcomes", "simulate_periods", "column1_coefficient", "estimate_eta", "adh_shock_data",
           "adh_panel_weights"]


class ShockData(NamedTuple):
    """The two ADH periods' shocks and the CZ denominators (arrays; a pytree).

    g1, g2: ``(I,)`` ADH ΔM_i / E_i (k$ per industry worker, ``g_importsUSA``) for 1990-2000 and 2000-2007;
    g_other1, g_other2: ``(I,)`` the instrument's other-country growth (``g``); E_manuf: national
    manufacturing employment (workers); total_employment ``(C,)``; pop1, pop2 ``(C,)`` working-age
    population at the start of each period; units: model units per k$ and worker, m / shipments per worker.
    """

    g1: jax.Array
    g2: jax.Array
    g_other1: jax.Array
    g_other2: jax.Array
    E_manuf: jax.Array
    total_employment: jax.Array
    pop1: jax.Array
    pop2: jax.Array
    units: jax.Array


def cz_outcomes(start: Equilibrium, end: Equilibrium, g, g_other, E_manuf, total_employment, population):
    """Per-CZ (y, x, z, hhi, manuf) of one period (module docstring); pure JAX."""
    Ls, Le = start.L, end.L
    Lc = Ls.sum(axis=1)
    y = 100.0 * (Le.sum(axis=1) - Lc) * E_manuf / population
    x = (Ls @ g) * E_manuf / total_employment
    z = (Ls @ g_other) * E_manuf / total_employment
    share = Ls / jnp.where(Lc > 0, Lc, 1.0)[:, None]
    hhi = 100.0 * jnp.sum(share ** 2, axis=1)
    manuf = 100.0 * Lc * E_manuf / total_employment
    return dict(y=y, x=x, z=z, hhi=hhi, manuf=manuf)


def simulate_periods(params, data: ShockData):
    """Baseline -> 1990-2000 shock -> 2000-2007 shock (each period starts where the last ended).

    Returns (panel, ok, (e0, r1, r2, n_clipped)): panel a dict of stacked (2 C,) arrays y, x, z, hhi,
    manuf (period 1 rows, then period 2), ok the joint convergence flag, the baseline equilibrium, both
    :class:`ShockResult` and the number of industries per period whose import fall had to be clipped
    (:func:`feasible_import_changes`; x_c still uses the ADH g_i). Traceable (``jit``/``vmap``/``grad``).
    """
    e0 = solve_equilibrium(params)
    dM1, n1 = feasible_import_changes(e0.imports, data.g1 * e0.L_industry * data.units)
    r1 = china_shock(e0, dM1)
    e1 = r1.equilibrium
    dM2, n2 = feasible_import_changes(e1.imports, data.g2 * e1.L_industry * data.units)
    r2 = china_shock(e1, dM2)
    e2 = r2.equilibrium
    a = cz_outcomes(e0, e1, data.g1, data.g_other1, data.E_manuf, data.total_employment, data.pop1)
    b = cz_outcomes(e1, e2, data.g2, data.g_other2, data.E_manuf, data.total_employment, data.pop2)
    ok = e0.converged & r1.converged & r2.converged
    panel = {k: jnp.concatenate([a[k], b[k]]) for k in a}
    return panel, ok, (e0, r1, r2, jnp.stack([n1, n2]))


def column1_coefficient(params, data: ShockData, weights, cluster, n_clusters):
    """ADH Table 3 column (1) on model data: 2SLS of y on x (instrument z), period dummy, weights, by state.

    Returns (coefficient, its clustered SE without small-sample correction as ADH, converged flag);
    differentiable in ``params``. ``weights``, ``cluster``: ``(2 C,)`` in the panel's row order.
    """
    panel, ok, _ = simulate_periods(params, data)
    n = panel["y"].shape[0]
    t2 = jnp.concatenate([jnp.zeros(n // 2), jnp.ones(n // 2)])
    X_exog = jnp.stack([jnp.ones(n), t2], axis=1)
    fit = iv_arrays(panel["y"], panel["x"][:, None], X_exog, panel["z"][:, None], weights, None, cluster,
                    n_clusters=n_clusters, vcov="cluster", ssc="none")
    return fit.coef[0], fit.se[0], ok


def estimate_eta(base_params, target_L, target_coef, target_se, data: ShockData, weights, cluster, n_clusters,
                 *, eta0: float = 0.1, max_steps: int = 15, eta_max_frac: float = 0.95):
    """Indirect inference: the η at which the model's column (1) coefficient equals ``target_coef``.

    η = η̄ sigmoid(θ) with η̄ = ``eta_max_frac``/(ρ−1) (inside the stability bound; the shock inversions
    on ADH data stop converging beyond about 0.95 of it); the loss (β(η) − target)² is
    minimized by optax L-BFGS (:func:`jaxecon.calibrate.calibrate`), its gradient through the
    equilibria (implicit) and the 2SLS. Delta-method SE: se(η) = target_se / |dβ/dη| (the model is
    deterministic given the data's shocks, so the only sampling noise is the data coefficient's).

    Returns dict(eta, se, coef, slope, result, at_edge, converged): ``at_edge`` when η̂ is within 1% of 0 or
    η̄ (the target is then outside what the model attains on [0, η̄], and the sigmoid's flat tail can
    satisfy the optimizer's gradient test); ``converged`` = the optimizer converged and not ``at_edge``.
    """
    bound = eta_max_frac * eta_bound(base_params.rho)

    def beta(eta):
        p = baseline_params_at_eta(base_params, target_L, eta)
        return column1_coefficient(p, data, weights, cluster, n_clusters)[0]

    def loss(theta):
        return (beta(bound * jax.nn.sigmoid(theta)) - target_coef) ** 2

    theta0 = jnp.log(eta0 / (bound - eta0))
    res = calibrate(loss, theta0, optimizer=optax.lbfgs(), max_steps=max_steps, loss_tol=1e-16, grad_tol=1e-9)
    eta = bound * jax.nn.sigmoid(res.params)
    b, slope = jax.jit(jax.value_and_grad(beta))(eta)
    at_edge = (eta < 0.01 * bound) | (eta > 0.99 * bound)
    return dict(eta=eta, se=target_se / jnp.abs(slope), coef=b, slope=slope, result=res, at_edge=bool(at_edge),
                converged=bool(res.converged) and not bool(at_edge))


def adh_shock_data(adh, data, markup, *, shipments_per_worker: float | None = None) -> ShockData:
    """:class:`ShockData` of both ADH periods for the model's industries and CZs.

    Args:
        adh: :class:`jaxecon.data.ADHData`; data: the :class:`ClusterData` calibrated to (its ``sic87dd``,
            employment and total employment); markup: the model's m = ρ/(ρ−1);
        shipments_per_worker: k$ per worker for the unit conversion (default ``SHIPMENTS_PER_WORKER``).
    """
    from .calibration import SHIPMENTS_PER_WORKER
    from .shock import adh_import_changes

    s = SHIPMENTS_PER_WORKER if shipments_per_worker is None else shipments_per_worker
    g = {(y, c): jnp.asarray(adh_import_changes(adh.shocks, data.sic87dd, y, column=c))
         for y in (1990, 2000) for c in ("g_importsUSA", "g")}
    return ShockData(g1=g[1990, "g_importsUSA"], g2=g[2000, "g_importsUSA"], g_other1=g[1990, "g"],
                     g_other2=g[2000, "g"], E_manuf=jnp.asarray(float(data.employment.sum())),
                     total_employment=jnp.asarray(data.total_employment),
                     pop1=jnp.asarray(adh.population[1990]), pop2=jnp.asarray(adh.population[2000]),
                     units=jnp.asarray(float(markup) / s))


def adh_panel_weights(adh):
    """ADH's population weights ``wei`` and state cluster codes in the panel's row order (period 1990 rows,
    then 2000, CZs sorted): ``(weights (2 C,), cluster codes (2 C,), number of clusters)``."""
    import numpy as np
    import pandas as pd

    ex = adh.exposure
    w = np.concatenate([ex.loc[ex["year"] == y, "wei"].to_numpy() for y in (1990, 2000)])
    codes, uniq = pd.factorize(np.concatenate([ex.loc[ex["year"] == y, "clus"].to_numpy() for y in (1990, 2000)]))
    return jnp.asarray(w), jnp.asarray(codes), len(uniq)
