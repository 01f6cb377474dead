"""The specialization trade-off on commuting zones (paper 002 §4.2, Figures 5 and 6; issue 19 items 4-5).

Every CZ is the same calibrated two-industry small open economy (1 = machinery, 2 = rest of
manufacturing) started from its own capital shares ``k0`` (inverted from its machinery income share,
:func:`.initial.initial_allocation`) and the ergodic mean bonds, hit by one common path of national
industry TFP shocks. Machinery TFP drifts relative to the rest by ``g`` per period (DESIGN.md
"Relative productivity trend"): agents expect the drift through the lottery chain of the trend state,
and along a simulated path the trend level is the deterministic ``ℓ_t = g t`` (clamped to the trend
grid), the policies interpolated linearly between the two trend nodes around ``ℓ_t``, so paths (and
every slope computed from them) are smooth in ``g``.

The trade-off is the cross-CZ OLS slope of annualized output growth over ``T`` periods,
``(log Y_T − log Y_0)/T``, on initial specialization, the Gini of the two capital shares
``|k_1 − k_2|/2`` (paper eq. 1 without controls; the model has none), and on the initial machinery
share. Slopes are averaged over several national shock paths (the same paths for every ``g`` and
every counterfactual economy, so differences between them are not sampling noise).

Decomposition (Figure 6): the same simulation in the frictionless economy (``θ = ∞`` with the ad hoc
debt limit ``b' >= b_min``, ``Grid(debt_limit=True)``) and without adjustment costs (``φ = 0``); the
share of the slope due to the financial friction is ``1 − slope_frictionless/slope``, that due to
adjustment costs ``1 − slope_{φ=0}/slope``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...econometrics import ols_arrays
from ...measures import gini
from ...numerics import drift_chain, simulate_indices
from ...numerics.markov import MarkovChain
from . import primitives as pr
from .equilibrium import EquilibriumSolution
from .params import Params, trend_levels, two_industry_params
from .policy import _K_FLOOR, consistent_policies

__all__ = ["TrendEconomy", "trend_economy", "with_drift", "solve_batch", "stack_params", "ergodic_mean_bonds", "national_shock_paths",
           "allocation_on_trend", "TrendPaths", "simulate_on_trend", "annual_growth", "ols_slope",
           "trade_off_slopes", "TradeOffSlopes", "DataTradeOff", "adh_trade_off", "growth_per_economy", "DEFAULT_GS", "DEFAULT_TREND_RANGE", "DEFAULT_N_TREND"]

#: The g grid of the main job: relative machinery TFP drift from −0.5% to +1% a year (no trend, a
#: declining and a rising machinery industry). Larger drifts move machinery TFP by more than e^0.7 in
#: 70 years, and at the calibrated θ (at its well-posedness bound) the fire-sale gain then passes one
#: at more and more states (no equilibrium there).
DEFAULT_GS = (-0.005, -0.0025, 0.0, 0.0025, 0.005, 0.0075, 0.01)
#: Trend levels: 4 nodes 0.35 apart on [−0.35, 0.7], covering 70 years at every g of DEFAULT_GS.
DEFAULT_TREND_RANGE = (-0.35, 0.7)
DEFAULT_N_TREND = 4


class TrendEconomy(eqx.Module):
    """A two-industry economy with a trend state (:func:`trend_economy`).

    Attributes:
        params: the :class:`Params` (``n_trend · n_rest`` exogenous states, ``s = j · n_rest + s_rest``).
        levels: ``(n_trend,)`` the trend levels ℓ_j (0 is a node).
        n_rest: exogenous states per trend level (the TFP chain).
        level0: index of the level ℓ = 0 (where every simulation starts).
    """

    params: Params
    levels: Float[Array, " M"]
    n_rest: int = eqx.field(static=True)
    level0: int = eqx.field(static=True)

    @property
    def n_trend(self) -> int:
        return int(self.levels.shape[-1])

    def median_rest_state(self) -> int:
        """The TFP state (within a trend level) with every log z̄_i closest to its median over the TFP
        states: where the initial allocations are inverted and national paths start."""
        lo = self.level0 * self.n_rest
        logz = np.log(np.asarray(self.params.z[lo:lo + self.n_rest]))
        return int(np.argmin(np.sum((logz - np.median(logz, axis=0)) ** 2, axis=1)))

    def state(self, s_rest: int, level: int | None = None) -> int:
        """Exogenous state index of TFP state ``s_rest`` at trend level ``level`` (default ℓ = 0)."""
        return (self.level0 if level is None else int(level)) * self.n_rest + int(s_rest)


def trend_economy(values: dict, g: float, *, n_trend: int = DEFAULT_N_TREND, trend_range=DEFAULT_TREND_RANGE,
                  trend_periods: float = 70.0, **overrides) -> TrendEconomy:
    """The calibrated two-industry economy with relative machinery TFP drift ``g`` per period.

    Args:
        values: calibrated values for :func:`.calibration.with_values` (``theta``, ``beta``, ``dmu``).
        g: drift of log machinery TFP relative to the rest per period.
        n_trend, trend_range, trend_periods: the trend grid (:func:`.params.trend_levels`; its checks
            apply: a ``g`` that leaves the grid within ``trend_periods`` periods raises ``ValueError``).
        overrides: further :func:`.params.two_industry_params` keywords (e.g. ``phi``).
    """
    from .calibration import with_values

    if n_trend == 1:
        base = two_industry_params(g=float(g), n_trend=1, trend_periods=trend_periods, **overrides)
        levels = np.zeros(1)
    else:
        base = two_industry_params(g=float(g), n_trend=n_trend, trend_range=trend_range, trend_periods=trend_periods,
                                   **overrides)
        levels = trend_levels(g, n_trend, trend_range, trend_periods)
    p = with_values(base, values)
    level0 = int(np.argmin(np.abs(levels)))
    return TrendEconomy(params=p, levels=jnp.asarray(levels), n_rest=p.n_states // len(levels), level0=level0)


def with_drift(economy: TrendEconomy, g) -> TrendEconomy:
    """``economy`` with the drift replaced by ``g`` (traceable: ``jax.grad`` in ``g`` flows through the
    transition matrix ``P = P_trend(g) ⊗ P_rest``; :func:`jaxecon.numerics.drift_chain`)."""
    p = economy.params
    n, M = economy.n_rest, economy.n_trend
    if M == 1:
        raise ValueError("with_drift needs a trend state (n_trend >= 2)")
    # P = P_trend ⊗ P_rest: any block row of the level-0 block column is P_rest scaled by P_trend[j, j']
    block = p.P[:n, :].reshape(n, M, n).sum(axis=1)  # Σ_j' P_trend[0, j'] P_rest = P_rest
    P = jnp.kron(drift_chain(economy.levels, g).P, block)
    return eqx.tree_at(lambda e: e.params.P, economy, P)


def ergodic_mean_bonds(solution: EquilibriumSolution, dist=None):
    """Mean bonds ``E[b]`` under the lottery-weighted ergodic distribution
    (:func:`.ergodic.ergodic_distribution`); differentiable like it."""
    from .ergodic import ergodic_distribution
    from .grid import grid_states

    dist = ergodic_distribution(solution) if dist is None else dist
    b, _, _, _ = grid_states(solution.grid, solution.n_industries, solution.params.n_states)
    return jnp.sum(dist.dist * b)


def solve_batch(params, grid, **solver_kw) -> EquilibriumSolution:
    """Solve every economy of the stacked ``params`` in ONE call (:func:`jaxecon.numerics.map_batch`:
    on a CPU each economy runs only its own sweeps, over the devices of
    :func:`jaxecon.numerics.use_cpu_cores` when there are several; ``vmap`` on a GPU)."""
    from ...numerics import map_batch

    return map_batch(_batch_solver(grid, tuple(sorted(solver_kw.items()))), params)


_SOLVERS: dict = {}


def _batch_solver(grid, kw):
    # one function object per (grid, settings), so sharded_map reuses its compiled program
    from .equilibrium import solve_equilibrium

    key = (grid, kw)
    if key not in _SOLVERS:
        _SOLVERS[key] = lambda p: solve_equilibrium(p, grid, **dict(kw))
    return _SOLVERS[key]


def stack_params(params_list) -> Params:
    """Stack unbatched :class:`Params` of one shape along a new leading axis (for ``jax.vmap``)."""
    return jax.tree.map(lambda *a: jnp.stack(a), *params_list)


def national_shock_paths(economy: TrendEconomy, key, periods: int, n_paths: int, s0_rest: int | None = None):
    """``(n_paths, periods + 1)`` paths of the TFP state ``s_rest`` (common to all CZs), from ``s0_rest``
    (default: the median TFP state, where the initial allocation was inverted)."""
    p = economy.params
    n = economy.n_rest
    lo = economy.level0 * n
    P_rest = p.P[lo:lo + n, :].reshape(n, economy.n_trend, n).sum(axis=1)
    chain = MarkovChain(values=p.z[lo:lo + n], P=P_rest)
    if s0_rest is None:
        s0_rest = economy.median_rest_state()
    return simulate_indices(chain, key, periods + 1, n_paths=n_paths, init=jnp.full((n_paths,), s0_rest))


def allocation_on_trend(solution: EquilibriumSolution, levels, n_rest: int, b, k, s_rest, ell):
    """The consistent allocation at ``(b, k, s_rest)`` and continuous trend level ``ell`` (scalar).

    ``k', q, η`` and the saving net of output ``w = b'/R − Y`` are linear in ℓ between their values at
    the two trend nodes around ``ell`` (each from :func:`.policy.consistent_policies`, which
    interpolates ``b'`` in ``w``); with output at the exact ``z̄_1 = z̄_1(s_j) e^(ℓ − ℓ_j)``,
    ``b' = R (w + Y(k; ℓ, s))`` and ``c`` comes from the budget (paper eq. 10)::

        c = Y(k; ℓ, s) − Σ_i Φ_i(k_i, k'_i) + b − b'/R(s).
    """
    p = solution.params
    levels = jnp.asarray(levels)
    M = levels.shape[0]
    ell = jnp.clip(ell, levels[0], levels[-1])
    if M == 1:
        j, w = jnp.asarray(0), jnp.asarray(0.0)
        j1 = j
    else:
        j = jnp.clip(jnp.searchsorted(levels, ell, side="right") - 1, 0, M - 2)
        w = (ell - levels[j]) / (levels[j + 1] - levels[j])
        j1 = j + 1
    s_lo = j * n_rest + s_rest
    s_hi = j1 * n_rest + s_rest
    a = consistent_policies(solution, b, k, s_lo)
    h = consistent_policies(solution, b, k, s_hi)
    for node, s_node in ((a, s_lo), (h, s_hi)):
        node["saving"] = node["b_next"] / p.R[s_node] - node["output"]
    mix = lambda key: (1.0 - w) * a[key] + w * h[key]  # noqa: E731
    q, eta = mix("q"), mix("eta")
    kn = jnp.maximum(mix("k_next"), _K_FLOOR)
    kn = kn / jnp.sum(kn, axis=-1, keepdims=True)
    z = p.z[s_lo]
    z = z.at[..., 0].multiply(jnp.exp(ell - levels[j]))
    Y = pr.output(p, z, k)
    R = p.R[s_lo]
    bn = R * (mix("saving") + Y)
    c = Y - jnp.sum(pr.adj_cost(p, k, kn), axis=-1) + b - bn / R
    binding = eta > 1e-6 * pr.marginal_utility(p, jnp.maximum(c, 1e-300))
    return {"c": c, "q": q, "eta": eta, "b_next": bn, "k_next": kn, "output": Y, "binding": binding}


class TrendPaths(eqx.Module):
    """Paths of ``n`` CZs over ``T + 1`` periods (:func:`simulate_on_trend`); period 0 is the start.

    Attributes:
        output: ``(n, T+1)`` ``Y``; gini: ``(n, T+1)`` Gini of the capital shares; k1: ``(n, T+1)``
        machinery capital share; b: ``(n, T+1)`` bonds; c: ``(n, T+1)`` consumption (budget);
        binding: ``(n, T+1)`` constraint binds.
    """

    output: Float[Array, "n T"]
    gini: Float[Array, "n T"]
    k1: Float[Array, "n T"]
    b: Float[Array, "n T"]
    c: Float[Array, "n T"]
    binding: Array


def simulate_on_trend(solution: EquilibriumSolution, levels, n_rest: int, b0, k0, s_rest_path, g) -> TrendPaths:
    """Simulate ``n`` CZs from ``(b0, k0)`` along one national TFP path ``s_rest_path (T+1,)`` with the
    trend ``ℓ_t = g t`` (:func:`allocation_on_trend`). Pure JAX: ``jax.vmap`` over paths, over a
    batch of ``(solution, g)``; differentiable in the solution and in ``g``."""
    b0 = jnp.asarray(b0, float)
    k0 = jnp.asarray(k0, float)
    n = b0.shape[0]
    T1 = s_rest_path.shape[0]

    def step(carry, inp):
        b, k = carry
        t, s = inp
        a = allocation_on_trend(solution, levels, n_rest, b, k, jnp.full((n,), s), g * t)
        rec = (a["output"], gini(k), k[:, 0], b, a["c"], a["binding"])
        return (a["b_next"], a["k_next"]), rec

    ts = jnp.arange(T1, dtype=float)
    _, rec = jax.lax.scan(step, (b0, k0), (ts, jnp.asarray(s_rest_path, jnp.int32)))
    rec = [jnp.moveaxis(r, 0, 1) for r in rec]
    return TrendPaths(output=rec[0], gini=rec[1], k1=rec[2], b=rec[3], c=rec[4], binding=rec[5])


def annual_growth(output, horizon: int):
    """Annualized log growth ``(log Y_h − log Y_0)/h`` over the first ``horizon`` periods (last axis)."""
    return (jnp.log(output[..., horizon]) - jnp.log(output[..., 0])) / horizon


def ols_slope(y, x, weights=None):
    """The OLS slope of ``y`` on ``[1, x]`` (:func:`jaxecon.econometrics.ols_arrays`; ``weights`` 0
    drops a row). Differentiable."""
    X = jnp.stack([jnp.ones_like(x), x], axis=1)
    return ols_arrays(y, X, weights).coef[1]


class TradeOffSlopes(eqx.Module):
    """Cross-CZ slopes per economy and national shock path (:func:`trade_off_slopes`).

    Attributes:
        slope_gini, slope_machinery: ``(..., n_paths, n_horizons)`` slope of annualized output growth
            on the initial Gini and on the initial machinery share.
        binding: ``(..., n_paths)`` share of CZ-periods with a binding constraint.
        gini_end: ``(..., n_paths)`` mean Gini at the end of the simulation.
        growth: ``(..., n_paths, n_horizons, n)`` the CZs' growth rates.
    """

    slope_gini: Array
    slope_machinery: Array
    binding: Array
    gini_end: Array
    growth: Array


def trade_off_slopes(solution, levels, n_rest: int, g, b0, k0, share0, s_paths, weights=None,
                     horizons=(70,)) -> TradeOffSlopes:
    """Simulate every national path ``s_paths (n_paths, T+1)`` and regress growth on initial
    specialization (the Gini of ``k0``) and on ``share0`` (the machinery share) at each horizon.
    One economy; ``jax.vmap`` over a batch of ``(solution, g)``."""
    gini0 = gini(jnp.asarray(k0, float))

    def one(path):
        pth = simulate_on_trend(solution, levels, n_rest, b0, k0, path, g)
        gr = jnp.stack([annual_growth(pth.output, h) for h in horizons])
        sg = jnp.stack([ols_slope(gr[i], gini0, weights) for i in range(len(horizons))])
        sm = jnp.stack([ols_slope(gr[i], share0, weights) for i in range(len(horizons))])
        return sg, sm, jnp.mean(pth.binding), jnp.mean(pth.gini[:, -1]), gr

    sg, sm, bind, gend, gr = jax.vmap(one)(jnp.asarray(s_paths, jnp.int32))
    return TradeOffSlopes(slope_gini=sg, slope_machinery=sm, binding=bind, gini_end=gend, growth=gr)


# --------------------------------------------------------------------------------------------------
# the data side: household income growth 1990-2007 on 1990 specialization (ADH workfile)
# --------------------------------------------------------------------------------------------------
class DataTradeOff(eqx.Module):
    """The trade-off in the ADH CZs (:func:`adh_trade_off`).

    Attributes:
        czone, gini, share, growth: ``(n,)`` per CZ: 1990 two-sector Gini ``|s − (1 − s)|/2`` of the
            machinery share ``s`` of manufacturing employment, ``s`` itself, and the annualized log
            growth of household income per capita 1990-2007 (NaN rows are dropped from the fits).
        slope_gini, slope_machinery: OLS slopes of growth on ``[1, gini]`` and on ``[1, share]``.
        standardized_gini: the slope in standard deviations of growth per standard deviation of the
            Gini (the units of the paper's Fact 1, Table 4: −0.233 over 1950-2020).
        n: CZs in the fits.
    """

    czone: np.ndarray
    gini: np.ndarray
    share: np.ndarray
    growth: np.ndarray
    slope_gini: float
    slope_machinery: float
    standardized_gini: float
    n: int


def adh_trade_off(adh) -> DataTradeOff:
    """Growth of household income per capita 1990-2007 on 1990 specialization across the ADH CZs.

    Income per capita is the workfile's ``l_avg_hhincsum_pc_pw`` (1990 and 2000 rows); its 2000 row's
    ``d_avg_hhincsum_pc_pw`` is ADH's 2000-2007 change scaled to a decade (× 10/7), so income in 2007
    is ``l_2000 + 0.7 d_2000``. Growth is ``log(inc_2007/inc_1990)/17``. Specialization is the model's
    measure on the data: the Gini of the two manufacturing shares (SIC 35 machinery and the rest), from
    the 1990 industry employment shares (``share_arrays[1990]``). Unweighted OLS.

    Raises:
        ValueError: the workfile lacks the income columns or the 1990 shares are absent.
    """
    wf = adh.workfile
    need = ["l_avg_hhincsum_pc_pw", "d_avg_hhincsum_pc_pw"]
    missing = [c for c in need if c not in wf.columns]
    if missing:
        raise ValueError(f"adh_trade_off: the ADH workfile lacks column(s) {', '.join(missing)} "
                         "(household income per capita, level and change)")
    if 1990 not in adh.share_arrays:
        raise ValueError("adh_trade_off: the 1990 industry shares (cz_industry_shares rows labelled 2000) are missing")
    w90 = wf[wf["year"] == 1990].set_index("czone").reindex(adh.czones)
    w00 = wf[wf["year"] == 2000].set_index("czone").reindex(adh.czones)
    inc90 = w90["l_avg_hhincsum_pc_pw"].to_numpy(float)
    inc07 = w00["l_avg_hhincsum_pc_pw"].to_numpy(float) + 0.7 * w00["d_avg_hhincsum_pc_pw"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where((inc90 > 0) & (inc07 > 0), np.log(inc07 / inc90) / 17.0, np.nan)
    sh = np.asarray(adh.share_arrays[1990], float)
    sic2 = np.asarray(adh.industries["sic2"])
    manuf = sh.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(manuf > 0, sh[:, sic2 == 35].sum(axis=1) / np.where(manuf > 0, manuf, 1.0), np.nan)
    g2 = np.abs(2.0 * share - 1.0) / 2.0
    ok = np.isfinite(growth) & np.isfinite(share)
    X = lambda x: np.column_stack([np.ones(ok.sum()), x[ok]])  # noqa: E731
    sg = float(np.linalg.lstsq(X(g2), growth[ok], rcond=None)[0][1])
    sm = float(np.linalg.lstsq(X(share), growth[ok], rcond=None)[0][1])
    std = sg * float(np.std(g2[ok]) / np.std(growth[ok]))
    return DataTradeOff(czone=np.asarray(adh.czones), gini=g2, share=share, growth=growth, slope_gini=sg,
                        slope_machinery=sm, standardized_gini=std, n=int(ok.sum()))


def growth_per_economy(solutions, levels, n_rest: int, g, b0, k0, s_paths, horizons=(70,)):
    """Growth of ``n`` CZs that each have their OWN economy (heterogeneous mode, issue 19 item 8).

    ``solutions`` is a batched solution with one element per CZ (e.g. from
    :func:`.heterogeneous.solve_heterogeneous`); CZ ``c`` is simulated in economy ``c`` from
    ``(b0[c], k0[c])`` on the common national paths ``s_paths (n_paths, T+1)`` with trend ``g``.

    Returns:
        ``(n_paths, n_horizons, n)`` annualized output growth (regress it across CZs with
        :func:`ols_slope`).
    """
    b0 = jnp.asarray(b0, float)
    k0 = jnp.asarray(k0, float)

    def one_cz(sol, b, k):
        def one_path(path):
            out = simulate_on_trend(sol, levels, n_rest, b[None], k[None], path, g).output[0]
            return jnp.stack([annual_growth(out, h) for h in horizons])

        return jax.vmap(one_path)(jnp.asarray(s_paths, jnp.int32))  # (n_paths, n_h)

    gr = jax.vmap(one_cz)(solutions, b0, k0)  # (n, n_paths, n_h)
    return jnp.moveaxis(gr, 0, -1)
