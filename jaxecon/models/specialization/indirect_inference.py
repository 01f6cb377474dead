"""Indirect inference of the relative machinery TFP trend ``g`` by gradient (issue 19 item 6; beyond paper 002).

The auxiliary statistic is the cross-CZ trade-off slope of :mod:`.trade_off`: the OLS slope of
annualized output growth over ``h`` periods on the initial Gini of the capital shares (paper 002
eq. 1 without controls), averaged over a fixed set of national TFP shock paths,

    m(g) = (1/P) Σ_p  slope_p(g),   slope_p = OLS coefficient of (log Y_h − log Y_0)/h on [1, Gini(k_0)],

in the economy whose trend state drifts by ``g`` per period (:func:`.trade_off.with_drift`), simulated on
the deterministic trend ``ℓ_t = g t`` (:func:`.trade_off.simulate_on_trend`). The estimate solves

    min_g  L(g) = (m(g) − m_data)²      (m_data: the ADH 1990-2007 slope, :func:`.trade_off.adh_trade_off`).

``dm/dg`` is exact autodiff through all three stages: the equilibrium (implicit function theorem at
the time-iteration fixed point, :func:`.equilibrium.solve_equilibrium`; the transition matrix
``P_trend(g) ⊗ P_rest`` is traced in ``g``), the simulation (the shock paths are held fixed, common
random numbers) and the regression (:func:`jaxecon.econometrics.ols_arrays`). The minimization is a
Gauss-Newton iteration on the scalar residual ``r(g) = m(g) − m_data``,

    g ← clip(g − r(g)/m'(g), bounds)  (step bounded by ``max_step``),

or any optax optimizer on ``L`` (``optimizer=``).

Smoothness. ``m(g)`` is piecewise smooth: the trend's lottery chain and the interpolation of the
policies between trend nodes have a kink at ``g = 0`` (for ``g > 0`` the trend moves toward the next
node up, for ``g < 0`` toward the next node down), and the multilinear policy interpolation in
``(b, k)`` has kinks where a simulated state crosses a grid line. At ``g = 0`` ``jax.grad`` returns the
right derivative. Gradient checks use ``g ≠ 0``.

Non-convergence. A solve that does not converge (e.g. "no equilibrium at some grid states" at the
calibrated θ, which sits at its well-posedness bound, for larger drifts) has NaN gradients; every
result here carries the solver's ``converged`` flag and the estimation stops with the named outcome
``"solver_failed"`` instead of stepping on a NaN.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ...measures import gini
from .equilibrium import solve_equilibrium
from .params import Grid
from .trade_off import TrendEconomy, annual_growth, ols_slope, simulate_on_trend, with_drift

__all__ = ["slope_at", "slope_and_gradient", "SlopeAt", "estimate_trend", "TrendEstimate", "loss_curve", "LossCurve",
           "OUTCOMES", "drift_bounds", "gradient_check"]

#: Named outcomes of :func:`estimate_trend`.
OUTCOMES = {
    "converged": "the model slope equals the target within the tolerance",
    "target_outside_model_range": "no g in the bounds gives the target slope: the minimizer sits at a bound (or at an "
                                  "interior extremum of the slope), where the model's closest slope is reported",
    "max_steps_reached": "the step budget ran out before the slope matched the target",
    "solver_failed": "the equilibrium solve did not converge at an iterate (NaN gradient); stopped there",
}


class SlopeAt(eqx.Module):
    """The model's trade-off statistic at one drift (:func:`slope_and_gradient`).

    Attributes:
        g: the drift.
        slope: ``m(g)``, the mean over paths of the slope of ``horizon``-period annualized growth on the
            initial Gini.
        dslope: ``dm/dg`` (autodiff: implicit solve, simulation, regression); NaN if the solve failed.
        slope_paths: ``(n_paths,)`` the per-path slopes.
        converged: the equilibrium solve converged.
        result: the solver's result code (:data:`.equilibrium.RESULTS`).
        n_no_equilibrium: grid states without an equilibrium.
    """

    g: Array
    slope: Array
    dslope: Array
    slope_paths: Array
    converged: Array
    result: Array
    n_no_equilibrium: Array


def _check_inputs(economy, grid, b0, k0, weights, s_paths, horizon):
    if not isinstance(economy, TrendEconomy):
        raise ValueError(f"economy must be a TrendEconomy (trade_off.trend_economy); got {type(economy).__name__}")
    if economy.n_trend < 2:
        raise ValueError("indirect inference of g needs a trend state: build the economy with n_trend >= 2")
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    k0 = jnp.asarray(k0, float)
    if k0.ndim != 2 or k0.shape[1] != 2:
        raise ValueError(f"k0 must be (n, 2) capital shares; got shape {k0.shape}")
    n = k0.shape[0]
    if jnp.shape(b0) != (n,):
        raise ValueError(f"b0 must have shape ({n},) like k0's rows; got {jnp.shape(b0)}")
    if weights is not None and jnp.shape(weights) != (n,):
        raise ValueError(f"gini_weights must have shape ({n},); got {jnp.shape(weights)}")
    if weights is not None and float(jnp.sum(jnp.asarray(weights) > 0)) < 3:
        raise ValueError("gini_weights: fewer than 3 CZs with positive weight; the slope is not identified")
    s_paths = jnp.asarray(s_paths)
    if s_paths.ndim != 2:
        raise ValueError(f"s_paths must be (n_paths, T+1) national TFP state paths; got shape {s_paths.shape}")
    if not (isinstance(horizon, (int, np.integer)) and 1 <= horizon < s_paths.shape[1]):
        raise ValueError(f"horizon must be an integer in [1, {s_paths.shape[1] - 1}] (the paths' periods); got {horizon!r}")


def _slope_aux(g, economy, grid, b0, k0, weights, s_paths, horizon, solver_kw):
    """``(m(g), aux)`` — the function every public entry differentiates (module docstring)."""
    sol = solve_equilibrium(with_drift(economy, g).params, grid, **solver_kw)
    k0 = jnp.asarray(k0, float)
    gini0 = gini(k0)
    s_paths = jnp.asarray(s_paths, jnp.int32)[:, : horizon + 1]

    def one(path):
        pth = simulate_on_trend(sol, economy.levels, economy.n_rest, b0, k0, path, g)
        return ols_slope(annual_growth(pth.output, horizon), gini0, weights)

    per_path = jax.vmap(one)(s_paths)
    return jnp.mean(per_path), (per_path, sol.converged, sol.result, sol.n_no_equilibrium)


@eqx.filter_jit
def _value_and_grad(g, economy, grid, b0, k0, weights, s_paths, horizon, solver_kw):
    (m, aux), dm = jax.value_and_grad(_slope_aux, has_aux=True)(g, economy, grid, b0, k0, weights, s_paths, horizon,
                                                                solver_kw)
    per_path, conv, result, n_ne = aux
    return SlopeAt(g=g, slope=m, dslope=jnp.where(conv, dm, jnp.nan), slope_paths=per_path, converged=conv,
                   result=result, n_no_equilibrium=n_ne)


def slope_at(g, economy: TrendEconomy, grid: Grid, b0, k0, gini_weights, s_paths, horizon: int = 17,
             **solver_kw) -> Float[Array, ""]:
    """The model's trade-off slope ``m(g)`` (module docstring): solve the economy with drift ``g``
    (:func:`.trade_off.with_drift`, :func:`.equilibrium.solve_equilibrium` with ``solver_kw``), simulate
    the CZs from ``(b0, k0)`` on every fixed national path ``s_paths (n_paths, T+1)`` (``vmap``), regress
    growth over ``horizon`` periods on the initial Gini (rows with ``gini_weights`` 0 drop out), mean over
    paths. Pure JAX: ``jax.grad(slope_at)`` is ``dm/dg`` through the implicit solve, the simulation and
    the regression. The solve's convergence is not reported here (use :func:`slope_and_gradient`); a
    non-converged solve gives NaN gradients.
    """
    return _slope_aux(g, economy, grid, b0, k0, gini_weights, s_paths, horizon, solver_kw)[0]


def slope_and_gradient(g, economy: TrendEconomy, grid: Grid, b0, k0, gini_weights, s_paths, horizon: int = 17,
                       **solver_kw) -> SlopeAt:
    """``m(g)`` and ``dm/dg`` in one compiled call, with the solver's diagnostics (:class:`SlopeAt`).

    Raises:
        ValueError: the economy has no trend state, shapes disagree, or ``horizon`` is not within the paths.
    """
    _check_inputs(economy, grid, b0, k0, gini_weights, s_paths, horizon)
    return _value_and_grad(jnp.asarray(g, float), economy, grid, jnp.asarray(b0, float), jnp.asarray(k0, float),
                           None if gini_weights is None else jnp.asarray(gini_weights, float), jnp.asarray(s_paths),
                           int(horizon), dict(solver_kw))


def gradient_check(g, economy: TrendEconomy, grid: Grid, b0, k0, gini_weights, s_paths, horizon: int = 17, *,
                   hs=(1e-5,), **solver_kw) -> dict:
    """``dm/dg`` by autodiff against central finite differences of re-solved slopes,
    ``D(h) = (m(g + h) − m(g − h)) / (2h)``, at each step ``h`` of ``hs``.

    ``m`` is only piecewise smooth (module docstring): the multilinear policy interpolation has kinks
    where a simulated state crosses a grid line, and a difference whose interval ``[g − h, g + h]``
    straddles such a kink mixes two branches. Steps around 1e-5 keep the kinks out (on the test
    economy ``h = 1e-5`` agrees with autodiff to ~1e-6 relative, ``h = 1e-4`` only to ~1e-3); much
    smaller steps divide the solver's error (use a tight ``tol``, e.g. ``1e-11``) by ``2h``.

    Returns a dict: ``g``, ``autodiff``, ``converged`` (all solves) and ``central``: a list of
    ``{"h", "fd", "rel_err"}`` (``rel_err = |fd − autodiff| / |autodiff|``).
    """
    hs = tuple(float(h) for h in hs)
    if not hs or not all(h > 0 for h in hs):
        raise ValueError(f"hs must be positive finite-difference steps; got {hs}")
    ev = lambda x: slope_and_gradient(x, economy, grid, b0, k0, gini_weights, s_paths, horizon, **solver_kw)  # noqa: E731
    at = ev(g)
    ad = float(at.dslope)
    conv = bool(at.converged)
    rows = []
    for h in hs:
        up, dn = ev(float(g) + h), ev(float(g) - h)
        conv = conv and bool(up.converged) and bool(dn.converged)
        fd = (float(up.slope) - float(dn.slope)) / (2 * h)
        rows.append({"h": h, "fd": fd, "rel_err": abs(fd - ad) / abs(ad)})
    return {"g": float(g), "autodiff": ad, "converged": conv, "central": rows}


def drift_bounds(economy: TrendEconomy, trend_periods: float = 70.0) -> tuple[float, float]:
    """The drifts whose trend stays on the economy's trend grid for ``trend_periods`` periods
    (:func:`.params.trend_levels`): ``(ℓ_min/T, ℓ_max/T)``."""
    lv = np.asarray(economy.levels)
    return float(lv[0] / trend_periods), float(lv[-1] / trend_periods)


# --------------------------------------------------------------------------------------------------
# the estimate
# --------------------------------------------------------------------------------------------------
class TrendEstimate(eqx.Module):
    """Result of :func:`estimate_trend`.

    Attributes:
        g: the estimate (the last iterate).
        slope: ``m(g)``; target: ``m_data``; loss: ``(m(g) − m_data)²``; dslope: ``m'(g)``;
        gradient: ``dL/dg = 2 (m − m_data) m'``.
        steps: iterations taken (model evaluations − 1).
        converged: True only for ``outcome == "converged"``.
        outcome: a key of :data:`OUTCOMES`.
        history: per evaluation ``{"g", "slope", "loss", "dslope", "converged"}`` (floats).
        bounds: the admissible drifts.
    """

    g: float
    slope: float
    target: float
    loss: float
    dslope: float
    gradient: float
    steps: int
    converged: bool
    outcome: str
    history: list
    bounds: tuple

    def summary(self) -> str:
        return (f"g = {self.g:+.6f} ({self.outcome}: {OUTCOMES[self.outcome]}); model slope {self.slope:.6g} vs target "
                f"{self.target:.6g}, loss {self.loss:.3e}, dL/dg {self.gradient:.3e}, {self.steps} steps")


def estimate_trend(data_slope: float, economy: TrendEconomy, grid: Grid, b0, k0, gini_weights, s_paths, *,
                   horizon: int = 17, g0: float = 0.0, bounds: tuple[float, float] | None = None, steps: int = 20,
                   slope_tol: float = 1e-7, max_step: float = 0.0025, optimizer=None, report=None,
                   **solver_kw) -> TrendEstimate:
    """Estimate ``g`` by minimizing ``L(g) = (m(g) − m_data)²`` by gradient (module docstring).

    Each iteration evaluates ``m`` and ``m'`` by :func:`slope_and_gradient` (one solve + its implicit
    adjoint). Default: Gauss-Newton on the scalar residual, ``g ← g − r/m'`` with ``|step| <= max_step``
    and projected onto ``bounds``. With ``optimizer`` (an ``optax.GradientTransformation``, e.g.
    ``optax.adam(1e-3)``) the update is the optimizer's on ``dL/dg`` (projected onto ``bounds``).

    Stops with a named outcome (:data:`OUTCOMES`): ``"converged"`` when ``|m(g) − m_data| <= slope_tol``;
    ``"target_outside_model_range"`` when the iterate is at a bound and the descent direction leaves the
    bounds, or ``|m'| (bound width) < |r|/1e3`` at an interior point (a flat slope extremum: no g nearby
    reaches the target); ``"solver_failed"`` when a solve does not converge; else ``"max_steps_reached"``.

    Args:
        data_slope: the target ``m_data`` (per period per unit Gini).
        economy, grid, b0, k0, gini_weights, s_paths, horizon, solver_kw: as :func:`slope_at`.
        g0: the starting drift (inside ``bounds``).
        bounds: admissible drifts (default :func:`drift_bounds`, the trend grid's span over 70 periods).
        steps: the most iterations.
        slope_tol: absolute tolerance on ``m(g) − m_data``.
        max_step: the largest Gauss-Newton step in ``g``.
        optimizer: optional optax optimizer (see above).
        report: optional callable taking one line per iteration.

    Raises:
        ValueError: non-finite target, ``g0`` outside ``bounds``, bounds outside the trend grid's span,
            ``steps < 1`` or non-positive tolerances.
    """
    if not math.isfinite(float(data_slope)):
        raise ValueError(f"data_slope must be finite; got {data_slope}")
    span = drift_bounds(economy) if isinstance(economy, TrendEconomy) and economy.n_trend >= 2 else None
    if span is None:
        _check_inputs(economy, grid, b0, k0, gini_weights, s_paths, horizon)
    lo, hi = span if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not (lo < hi and span[0] - 1e-12 <= lo and hi <= span[1] + 1e-12):
        raise ValueError(f"bounds {bounds} must satisfy lo < hi inside the trend grid's span [{span[0]}, {span[1]}] "
                         "(beyond it the trend leaves its grid within 70 periods)")
    if not lo <= float(g0) <= hi:
        raise ValueError(f"g0 = {g0} is outside the bounds [{lo}, {hi}]")
    if int(steps) < 1 or not slope_tol > 0 or not max_step > 0:
        raise ValueError(f"steps must be >= 1 and slope_tol, max_step > 0; got {steps}, {slope_tol}, {max_step}")
    target = float(data_slope)
    g = float(g0)
    history = []
    opt_state = optimizer.init(jnp.asarray(g)) if optimizer is not None else None
    outcome = "max_steps_reached"
    at = None
    for it in range(int(steps) + 1):
        at = slope_and_gradient(g, economy, grid, b0, k0, gini_weights, s_paths, horizon, **solver_kw)
        m, dm, conv = float(at.slope), float(at.dslope), bool(at.converged)
        r = m - target
        history.append({"g": g, "slope": m, "loss": r * r, "dslope": dm, "converged": conv})
        if report is not None:
            report(f"  step {it}: g = {g:+.6f}, slope {m:.6g} (target {target:.6g}), loss {r * r:.3e}, "
                   f"dslope/dg {dm:.4g}{'' if conv else ' [solve not converged]'}")
        if not conv or not math.isfinite(dm):
            outcome = "solver_failed"
            break
        if abs(r) <= slope_tol:
            outcome = "converged"
            break
        grad = 2.0 * r * dm
        at_lo, at_hi = g <= lo + 1e-15, g >= hi - 1e-15
        if (at_lo and grad > 0) or (at_hi and grad < 0) or abs(dm) * (hi - lo) < abs(r) * 1e-3:
            outcome = "target_outside_model_range"
            break
        if it == int(steps):
            break
        if optimizer is None:
            step = -r / dm
            step = max(-max_step, min(max_step, step))
            g_new = g + step
        else:
            upd, opt_state = optimizer.update(jnp.asarray(grad), opt_state, jnp.asarray(g))
            g_new = g + float(upd)
        g = max(lo, min(hi, g_new))
    last = history[-1]
    r = last["slope"] - target
    return TrendEstimate(g=last["g"], slope=last["slope"], target=target, loss=last["loss"], dslope=last["dslope"],
                         gradient=2.0 * r * last["dslope"], steps=len(history) - 1, converged=outcome == "converged",
                         outcome=outcome, history=history, bounds=(lo, hi))


# --------------------------------------------------------------------------------------------------
# identification: the loss curve
# --------------------------------------------------------------------------------------------------
class LossCurve(eqx.Module):
    """``m(g)``, ``m'(g)`` and the loss on a grid of drifts (:func:`loss_curve`).

    Attributes:
        g, slope, dslope, loss, converged, n_no_equilibrium: ``(n_g,)``; entries where the solve did not
            converge hold NaN slope/loss/dslope (never a silently wrong number).
        slope_paths: ``(n_g, n_paths)``.
        target: the target slope.
    """

    g: np.ndarray
    slope: np.ndarray
    dslope: np.ndarray
    loss: np.ndarray
    converged: np.ndarray
    n_no_equilibrium: np.ndarray
    slope_paths: np.ndarray
    target: float

    def slope_range(self) -> tuple[float, float]:
        """The smallest and largest converged model slope on the curve."""
        ok = self.converged
        return float(np.min(self.slope[ok])), float(np.max(self.slope[ok]))


_CURVES: dict = {}


def _curve_fn(grid, horizon, kw):
    # one function object per settings, so the jitted vmap reuses its compiled program
    key = (grid, horizon, kw)
    if key not in _CURVES:
        def fn(g, economy, b0, k0, weights, s_paths):
            (m, aux), dm = jax.value_and_grad(_slope_aux, has_aux=True)(g, economy, grid, b0, k0, weights, s_paths,
                                                                        horizon, dict(kw))
            return m, dm, aux[0], aux[1], aux[3]

        _CURVES[key] = fn
    return _CURVES[key]


def loss_curve(gs, target: float, economy: TrendEconomy, grid: Grid, b0, k0, gini_weights, s_paths, *,
               horizon: int = 17, batched: bool = True, **solver_kw) -> LossCurve:
    """``m(g)``, ``m'(g)`` and ``L(g) = (m(g) − target)²`` at every drift of ``gs``; with ``batched`` in
    ONE batched call (``jax.vmap`` over the drifts of the solve, its implicit adjoint, the simulation
    and the OLS), else one :func:`slope_and_gradient` per drift (one compiled program reused). The
    flatness of ``L`` and the size of ``m'`` say how well ``g`` is identified.

    On a CPU the loop is much faster: a vmapped time iteration runs every drift for as many sweeps as
    the slowest needs and its chunked second pass walks the union of the switched nodes (on the
    calibration grid with 722 CZs and 7 drifts the batched call had not finished after 9 minutes on
    the shared 2-core CPU; the loop takes one compile plus a few seconds per drift). Use
    ``batched=True`` on a GPU.

    Not :func:`jaxecon.numerics.sharded_map`: the implicit adjoint's closure conversion fails under its
    ``lax.map`` inside ``shard_map`` (equinox "Closure-converted function called with different dynamic
    arguments", the solver's RESULTS item traced vs unknown); ``vmap`` works.

    Raises:
        ValueError: as :func:`slope_and_gradient`; ``gs`` empty or non-finite.
    """
    _check_inputs(economy, grid, b0, k0, gini_weights, s_paths, horizon)
    garr = np.asarray(gs, float).ravel()
    if garr.size == 0 or not np.all(np.isfinite(garr)):
        raise ValueError(f"gs must be a non-empty array of finite drifts; got {gs}")
    fn = _curve_fn(grid, int(horizon), tuple(sorted(solver_kw.items())))
    w = jnp.ones(jnp.shape(b0)) if gini_weights is None else jnp.asarray(gini_weights, float)
    args = (economy, jnp.asarray(b0, float), jnp.asarray(k0, float), w, jnp.asarray(s_paths, jnp.int32))
    if batched:
        m, dm, per, conv, nne = _vmapped(fn)(jnp.asarray(garr), *args)
    else:
        one = [slope_and_gradient(g, economy, grid, b0, k0, w, s_paths, horizon, **solver_kw) for g in garr]
        m, dm, per, conv, nne = (np.stack([np.asarray(getattr(o, f)) for o in one])
                                 for f in ("slope", "dslope", "slope_paths", "converged", "n_no_equilibrium"))
    conv = np.asarray(conv, bool)
    nan = lambda a: np.where(conv.reshape((-1,) + (1,) * (np.ndim(a) - 1)), np.asarray(a), np.nan)  # noqa: E731
    m, dm, per = nan(m), nan(dm), nan(per)
    return LossCurve(g=garr, slope=m, dslope=dm, loss=(m - float(target)) ** 2, converged=conv,
                     n_no_equilibrium=np.asarray(nne), slope_paths=per, target=float(target))


@functools.lru_cache(maxsize=8)
def _vmapped(fn):
    return eqx.filter_jit(jax.vmap(fn, in_axes=(0, None, None, None, None, None)))
