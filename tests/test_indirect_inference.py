"""Indirect inference of the machinery trend g (jaxecon.models.specialization.indirect_inference; issue 19 item 6).

Fast tests: the estimator's logic on an analytic slope function m(g) (monkeypatched in for the model:
Gauss-Newton recovers the root, a target outside m's range gives the named outcome, a failed solve stops)
and the named input errors. Slow tests (the real model on a small grid, 50 synthetic CZs, 2 paths): the
autodiff d slope/d g equals finite differences to 1e-4 relative (the issue's must-show), estimate_trend
recovers a known g from the model's own slope, an out-of-range target gives the named outcome, and the
batched loss curve equals one-at-a-time evaluations.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxecon.models.specialization import Grid, initial_allocation
from jaxecon.models.specialization import indirect_inference as ii
from jaxecon.models.specialization import trade_off as to
from jaxecon.models.specialization.initial import cz_machinery_shares

ROOT = Path(__file__).resolve().parents[1]
SMALL = Grid(n_b=8, n_k=9, b_min=-0.3)
TOL = dict(tol=1e-11)


def _values():
    rec = json.loads((ROOT / "calibration" / "specialization_two_industry.json").read_text())["parameters"]
    return {"theta": rec["theta"], "beta": rec["beta"], "dmu": rec["mu_1_minus_mu_2"]}


def _median_rest_state(e):
    n = e.n_rest
    logz = np.log(np.asarray(e.params.z[e.level0 * n:(e.level0 + 1) * n]))
    return int(np.argmin(np.sum((logz - np.median(logz, axis=0)) ** 2, axis=1)))


@pytest.fixture(scope="module")
def setup():
    """The calibrated trend economy on a small grid, 50 synthetic CZs (those that fit the share grid
    enter the regressions), ergodic-mean-like bonds, 2 national paths of 10 periods."""
    e = to.trend_economy(_values(), 0.0)
    s0 = _median_rest_state(e)
    sh = cz_machinery_shares(source="synthetic").share[:50]
    ia = initial_allocation(sh, e.params, SMALL, state=e.state(s0), outside="flag")
    w = jnp.asarray((np.asarray(ia.status) == 0).astype(float))
    b0 = jnp.full((50,), -0.14)
    paths = to.national_shock_paths(e, jax.random.key(0), 10, 2, s0)
    return dict(economy=e, grid=SMALL, b0=b0, k0=ia.k, gini_weights=w, s_paths=paths)


def _args(s):
    return (s["economy"], s["grid"], s["b0"], s["k0"], s["gini_weights"], s["s_paths"])


# --------------------------------------------------------------------------------------------------
# fast: the estimator on an analytic m(g)
# --------------------------------------------------------------------------------------------------
class _Fake:
    """slope_and_gradient replaced by m(g) = a + b g + c g² (exact derivative), counting calls."""

    def __init__(self, a=-0.02, b=-0.8, c=20.0, fail_above=None):
        self.a, self.b, self.c, self.fail_above, self.calls = a, b, c, fail_above, 0

    def m(self, g):
        return self.a + self.b * g + self.c * g * g

    def __call__(self, g, *args, **kw):
        self.calls += 1
        g = float(g)
        conv = self.fail_above is None or g <= self.fail_above
        return ii.SlopeAt(g=jnp.asarray(g), slope=jnp.asarray(self.m(g)),
                          dslope=jnp.asarray(self.b + 2 * self.c * g if conv else np.nan),
                          slope_paths=jnp.asarray([self.m(g)]), converged=jnp.asarray(conv), result=None,
                          n_no_equilibrium=jnp.asarray(0 if conv else 2))


@pytest.fixture()
def fake_economy():
    return to.trend_economy(_values(), 0.0)


def test_gauss_newton_recovers_root_of_analytic_slope(monkeypatch, fake_economy):
    f = _Fake()
    monkeypatch.setattr(ii, "slope_and_gradient", f)
    g_true = 0.0042
    est = ii.estimate_trend(f.m(g_true), fake_economy, SMALL, None, None, None, None, g0=0.0, slope_tol=1e-13)
    assert est.outcome == "converged" and est.converged
    assert abs(est.g - g_true) < 1e-10
    assert est.steps == len(est.history) - 1 == f.calls - 1
    assert est.loss == pytest.approx((f.m(est.g) - f.m(g_true)) ** 2, abs=1e-30)
    # the same with an optax optimizer on the loss (slower, still the root)
    import optax

    est2 = ii.estimate_trend(f.m(g_true), fake_economy, SMALL, None, None, None, None, g0=0.0, slope_tol=1e-6,
                             optimizer=optax.adam(5e-4), steps=400)
    assert est2.outcome == "converged" and abs(est2.g - g_true) < 5e-6


def test_target_outside_range_is_named(monkeypatch, fake_economy):
    f = _Fake()
    monkeypatch.setattr(ii, "slope_and_gradient", f)
    lo, hi = ii.drift_bounds(fake_economy)
    # m is decreasing on the bounds: a target below m(hi) is out of reach; the estimate stops at hi
    est = ii.estimate_trend(f.m(hi) - 1e-3, fake_economy, SMALL, None, None, None, None, g0=0.0, steps=50)
    assert est.outcome == "target_outside_model_range" and not est.converged
    assert est.g == pytest.approx(hi) and est.gradient < 0
    # a flat m (no information on g): stops at once with the same outcome
    flat = _Fake(b=1e-9, c=0.0)
    monkeypatch.setattr(ii, "slope_and_gradient", flat)
    est = ii.estimate_trend(-0.0032, fake_economy, SMALL, None, None, None, None)
    assert est.outcome == "target_outside_model_range" and est.steps == 0


def test_failed_solve_stops_with_named_outcome(monkeypatch, fake_economy):
    f = _Fake(fail_above=0.003)
    monkeypatch.setattr(ii, "slope_and_gradient", f)
    est = ii.estimate_trend(f.m(0.006), fake_economy, SMALL, None, None, None, None, g0=0.0)
    assert est.outcome == "solver_failed" and not est.converged
    assert not est.history[-1]["converged"] and est.history[-2]["converged"]


def test_named_errors(fake_economy):
    e = fake_economy
    lo, hi = ii.drift_bounds(e)
    assert (lo, hi) == pytest.approx((-0.005, 0.01))
    k0 = jnp.tile(jnp.array([[0.3, 0.7]]), (5, 1))
    b0 = jnp.zeros(5)
    paths = jnp.zeros((2, 11), int)
    with pytest.raises(ValueError, match="bounds"):
        ii.estimate_trend(-0.003, e, SMALL, b0, k0, None, paths, bounds=(-0.01, 0.0))
    with pytest.raises(ValueError, match="g0"):
        ii.estimate_trend(-0.003, e, SMALL, b0, k0, None, paths, g0=0.009, bounds=(-0.005, 0.005))
    with pytest.raises(ValueError, match="finite"):
        ii.estimate_trend(np.nan, e, SMALL, b0, k0, None, paths)
    with pytest.raises(ValueError, match="horizon"):
        ii.slope_and_gradient(0.001, e, SMALL, b0, k0, None, paths, horizon=11)
    with pytest.raises(ValueError, match="b0"):
        ii.slope_and_gradient(0.001, e, SMALL, jnp.zeros(4), k0, None, paths, horizon=5)
    with pytest.raises(ValueError, match="fewer than 3"):
        ii.slope_and_gradient(0.001, e, SMALL, b0, k0, jnp.array([1.0, 1, 0, 0, 0]), paths, horizon=5)
    with pytest.raises(ValueError, match="trend state"):
        ii.slope_and_gradient(0.0, to.trend_economy(_values(), 0.0, n_trend=1), SMALL, b0, k0, None, paths, horizon=5)
    with pytest.raises(ValueError, match="gs"):
        ii.loss_curve([], -0.003, e, SMALL, b0, k0, None, paths, horizon=5)


# --------------------------------------------------------------------------------------------------
# slow: the real model
# --------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_gradient_equals_finite_differences(setup):
    """The issue's must-show: d slope/d g by jax.grad (implicit solve + simulation + OLS) equals
    central finite differences of re-solved slopes to 1e-4 relative, at h = 1e-5 (h = 1e-4 straddles
    kinks of the piecewise-linear policy interpolation here: ii.gradient_check's docstring)."""
    chk = ii.gradient_check(0.004, *_args(setup), horizon=10, hs=(1e-5,), **TOL)
    assert chk["converged"]
    assert np.isfinite(chk["autodiff"]) and chk["autodiff"] != 0.0
    assert chk["central"][0]["rel_err"] < 1e-4, chk
    # jax.grad of the plain scalar function agrees with the compiled value_and_grad
    gr = jax.grad(ii.slope_at)(0.004, *_args(setup), 10, **TOL)
    assert float(gr) == pytest.approx(chk["autodiff"], rel=1e-9)


@pytest.mark.slow
def test_estimate_recovers_own_slope_and_names_out_of_range(setup):
    g_true = 0.004
    target = float(ii.slope_and_gradient(g_true, *_args(setup), 10, **TOL).slope)
    est = ii.estimate_trend(target, *_args(setup), horizon=10, g0=0.0035, slope_tol=1e-12, **TOL)
    assert est.outcome == "converged", est.summary()
    assert abs(est.g - g_true) < 1e-6
    # the data-like slope -0.0032 is far outside what the model produces on this grid
    est = ii.estimate_trend(-0.0032, *_args(setup), horizon=10, g0=0.002, steps=5, **TOL)
    assert est.outcome == "target_outside_model_range" and not est.converged, est.summary()


@pytest.mark.slow
def test_loss_curve_batched_equals_single(setup):
    gs = [-0.003, 0.004]
    curve = ii.loss_curve(gs, -0.0032, *_args(setup), horizon=10, **TOL)
    for i, g in enumerate(gs):
        one = ii.slope_and_gradient(g, *_args(setup), 10, **TOL)
        assert curve.converged[i] == bool(one.converged)
        assert curve.slope[i] == pytest.approx(float(one.slope), rel=1e-8)
        assert curve.dslope[i] == pytest.approx(float(one.dslope), rel=1e-6)
        assert curve.loss[i] == pytest.approx((float(one.slope) + 0.0032) ** 2, rel=1e-8)
