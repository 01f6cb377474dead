"""Indirect inference of the relative machinery TFP trend g (issue 19 item 6; beyond paper 002).

g is chosen by gradient so that the model's 17-year cross-CZ slope of annualized output growth on the
initial Gini of the capital shares equals the ADH data slope (1990-2007 household income growth per
capita on the 1990 two-sector Gini, :func:`jaxecon.models.specialization.trade_off.adh_trade_off`).
The model side (:mod:`jaxecon.models.specialization.indirect_inference`): the calibrated two-industry
economy (``calibration/specialization_two_industry.json``) with a trend state drifting by g, every
CZ started from the capital shares inverted from its earliest (ADH 1980) machinery share and the
ergodic mean bonds of the stationary economy, simulated on a few fixed national shock paths; the
gradient d slope/d g is autodiff through the implicit solve, the simulation and the OLS.

θ is lowered to 0.8 × the calibrated θ for this exercise (``--theta-factor``): the calibrated θ sits at
its well-posedness bound, and on the calibration grid every trend economy (g from −0.5% to +1% a year,
g = 0 included: the trend state adds machinery TFP levels up to e^0.7) then has 1-7 grid states
without an equilibrium, so no converged solve and NaN implicit gradients. The initial bonds are the
ergodic mean of the stationary economy at the same θ.

Writes ``calibration/trend_estimate.json`` (estimate, outcome, data and model slopes, loss curve,
gradient check against finite differences, iterations, date) and ``calibration/trend_loss_curve.png``.

    python calibration/estimate_trend.py [--data PATH] [--paths 5] [--target SLOPE] [--theta-factor 0.8]

Without the ADH files the embedded synthetic CZs have no income growth, so there is no data slope:
the script says so and exits (status 0) without writing anything, unless ``--target`` gives a
placeholder target slope (recorded as such in the JSON).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid, initial_allocation, solve_equilibrium
from jaxecon.models.specialization import indirect_inference as ii
from jaxecon.models.specialization import trade_off as to
from jaxecon.models.specialization.initial import STATUS, cz_machinery_shares
from jaxecon.reporting import atomic_write_bytes

HERE = Path(__file__).resolve().parent
CALIBRATION = HERE / "specialization_two_industry.json"
OUT_JSON = HERE / "trend_estimate.json"
OUT_PNG = HERE / "trend_loss_curve.png"
GRID = Grid(n_b=12, n_k=15, b_min=-0.3)  # the calibration grid
GS = (-0.005, -0.0025, 0.0, 0.0025, 0.005, 0.0075, 0.01)  # the trend grid's span over 70 years
HORIZON = 17  # 1990-2007


def _plot(curve, est, target, path: Path, target_label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    ok = curve.converged
    g = 100 * curve.g
    axs[0].plot(g[ok], curve.slope[ok], "o-", label="model (mean over paths)")
    for j in range(curve.slope_paths.shape[1]):
        axs[0].plot(g[ok], curve.slope_paths[ok, j], "-", color="grey", lw=0.5, alpha=0.6)
    axs[0].axhline(target, color="k", lw=1, label=target_label)
    if (~ok).any():
        axs[0].plot(g[~ok], np.full((~ok).sum(), np.nanmean(curve.slope)), "rx", label="solve not converged")
    axs[0].axvline(100 * est.g, color="C3", ls="--", lw=1, label=f"estimate ({est.outcome})")
    axs[0].set_xlabel("g, relative machinery TFP drift (% a year)")
    axs[0].set_ylabel(f"slope of {HORIZON}-year annual growth on initial Gini")
    axs[0].set_title("Model slope m(g) against the target")
    axs[0].legend(fontsize=7)
    axs[1].plot(g[ok], curve.loss[ok], "o-")
    axs[1].ticklabel_format(axis="y", useOffset=True, style="sci", scilimits=(0, 0))
    axs[1].axvline(100 * est.g, color="C3", ls="--", lw=1)
    axs[1].set_xlabel("g (% a year)")
    axs[1].set_ylabel("loss (m(g) − target)²")
    axs[1].set_title("Loss curve: identification of g")
    fig.tight_layout()
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data directory (default: $JAXECON_DATA, then ../shared/data)")
    ap.add_argument("--paths", type=int, default=5, help="national shock paths averaged")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target", type=float, default=None,
                    help="placeholder target slope (only used without the ADH files, or to override the data slope)")
    ap.add_argument("--tol", type=float, default=1e-10, help="solver tolerance (tight: the gradient check re-solves)")
    ap.add_argument("--theta-factor", type=float, default=0.8,
                    help="θ = factor × calibrated θ (the calibrated θ sits at its well-posedness bound, where every trend "
                         "economy on the calibration grid has 1-7 no-equilibrium states)")
    ap.add_argument("--max-iter", type=int, default=300, help="solver sweeps (a failing solve stops there)")
    ap.add_argument("--batched", action="store_true",
                    help="the loss curve in one vmapped call (a GPU; on a CPU the per-g loop is much faster)")
    ap.add_argument("--out", default=str(OUT_JSON))
    ap.add_argument("--png", default=str(OUT_PNG))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    say = lambda s: print(s, flush=True)  # noqa: E731

    cz = cz_machinery_shares(a.data, source="auto", report=say)
    data_res = None
    if cz.source == "ADH":
        from jaxecon.data import load_adh

        data_res = to.adh_trade_off(load_adh(a.data))
    if a.target is not None:
        target, target_source = float(a.target), "placeholder given with --target"
    elif data_res is not None:
        target, target_source = float(data_res.slope_gini), (
            f"ADH: OLS slope of annualized log household income per capita growth 1990-2007 on the 1990 two-sector "
            f"Gini (SIC 35 vs rest of manufacturing), {data_res.n} CZs, unweighted")
    else:
        say("No ADH files found: the embedded synthetic CZs have no income growth, so there is no data slope to "
            "match. Nothing written. Pass --target SLOPE for a placeholder target.")
        return 0
    say(f"target slope {target:.6f} per year per unit Gini ({target_source})")

    rec = json.loads(CALIBRATION.read_text())
    par = rec["parameters"]
    values = {"theta": a.theta_factor * par["theta"], "beta": par["beta"], "dmu": par["mu_1_minus_mu_2"]}
    say(f"θ = {a.theta_factor} × calibrated {par['theta']:.5f} = {values['theta']:.5f}")
    kw = dict(tol=a.tol, max_iter=a.max_iter)

    # the stationary economy: ergodic mean bonds (every CZ's initial b)
    e_stat = to.trend_economy(values, 0.0, n_trend=1)
    sol_stat = solve_equilibrium(e_stat.params, GRID)
    if not bool(sol_stat.converged):
        raise RuntimeError(f"the stationary calibrated economy did not converge: {sol_stat.summary()}")
    b0_mean = float(to.ergodic_mean_bonds(sol_stat))
    # the trend economy (its drift is replaced by with_drift at every g), initial allocations per CZ
    e0 = to.trend_economy(values, 0.0)
    n = e0.n_rest
    logz = np.log(np.asarray(e0.params.z[e0.level0 * n:(e0.level0 + 1) * n]))
    s0 = int(np.argmin(np.sum((logz - np.median(logz, axis=0)) ** 2, axis=1)))
    ia = initial_allocation(cz.share, e0.params, GRID, state=e0.state(s0), outside="flag", czone=cz.czone)
    status = np.asarray(ia.status)
    w = jnp.asarray((status == 0).astype(float))
    b0 = jnp.full((status.size,), b0_mean)
    paths = to.national_shock_paths(e0, jax.random.key(a.seed), HORIZON, a.paths, s0)
    args = (e0, GRID, b0, ia.k, w, paths)
    say(f"{int((status == 0).sum())} of {status.size} CZs fit the share grid; b0 = {b0_mean:.4f}; {a.paths} paths")

    # 1. the loss curve (one solve + adjoint per g; --batched: one vmapped call, for a GPU)
    t1 = time.perf_counter()
    curve = ii.loss_curve(GS, target, *args, horizon=HORIZON, batched=a.batched, **kw)
    t_curve = time.perf_counter() - t1
    say(f"loss curve in {t_curve:.0f} s:")
    for i, g in enumerate(curve.g):
        say(f"  g = {g:+.4f}: slope {curve.slope[i]:.6g}, d slope/d g {curve.dslope[i]:.4g}, loss {curve.loss[i]:.3e}"
            f"{'' if curve.converged[i] else f' [not converged, {int(curve.n_no_equilibrium[i])} no-equilibrium states]'}")
    # the bounds: the contiguous run of converged g around 0
    ok = curve.converged
    i0 = int(np.argmin(np.abs(curve.g)))
    if not ok[i0]:
        say("the trend economy at g = 0 did not converge: no estimate (lower --theta-factor)")
        return 1
    lo_i, hi_i = i0, i0
    while lo_i > 0 and ok[lo_i - 1]:
        lo_i -= 1
    while hi_i < len(ok) - 1 and ok[hi_i + 1]:
        hi_i += 1
    bounds = (float(curve.g[lo_i]), float(curve.g[hi_i]))
    g_start = float(curve.g[lo_i + int(np.argmin(curve.loss[lo_i:hi_i + 1]))])

    # 2. the estimate, from the curve's best converged point
    t1 = time.perf_counter()
    est = ii.estimate_trend(target, *args, horizon=HORIZON, g0=g_start, bounds=bounds, steps=15, report=say, **kw)
    t_est = time.perf_counter() - t1
    say(est.summary())

    # 3. the gradient check (autodiff vs re-solved finite differences) at an interior g away from the kink at 0
    g_chk = est.g if (bounds[0] + 3e-4 <= est.g <= bounds[1] - 3e-4 and abs(est.g) > 3e-4) else 0.004
    t1 = time.perf_counter()
    chk = ii.gradient_check(g_chk, *args, horizon=HORIZON, hs=(1e-4, 1e-5), **kw)
    t_chk = time.perf_counter() - t1
    say(f"gradient check at g = {g_chk}: autodiff {chk['autodiff']:.6g}; "
        + "; ".join(f"central h = {r['h']:g}: {r['fd']:.6g} (rel {r['rel_err']:.2e})" for r in chk["central"]))

    lo_m, hi_m = curve.slope_range()
    max_d = float(np.nanmax(np.abs(curve.dslope)))
    ident = {
        "model_slope_range": [lo_m, hi_m],
        "target_inside_range": bool(lo_m <= target <= hi_m),
        "max_abs_dslope_dg": max_d,
        "dg_to_move_slope_by_10pct_of_target": (0.1 * abs(target) / max_d) if max_d > 0 else None,
        "slope_variation_over_bounds_relative_to_target": (hi_m - lo_m) / abs(target),
        "note": ("m(g) moves by (max − min) over the whole admissible g range; the g needed to move it by 10% of "
                 "the target, 0.1|target|/max|m'|, compared with the range's width says how well g is identified"),
    }
    out = {
        "what": "indirect inference of the relative machinery TFP trend g (issue 19 item 6)",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "g_estimate": est.g, "outcome": est.outcome, "outcome_meaning": ii.OUTCOMES[est.outcome],
        "converged": est.converged, "steps": est.steps,
        "data_slope": target, "target_source": target_source,
        "data_standardized_gini": None if data_res is None else data_res.standardized_gini,
        "model_slope": est.slope, "loss": est.loss, "dslope_dg": est.dslope, "dloss_dg": est.gradient,
        "bounds": list(bounds), "g0": g_start, "history": est.history,
        "identification": ident,
        "loss_curve": {"g": curve.g.tolist(), "slope": [None if not np.isfinite(v) else float(v) for v in curve.slope],
                       "dslope_dg": [None if not np.isfinite(v) else float(v) for v in curve.dslope],
                       "loss": [None if not np.isfinite(v) else float(v) for v in curve.loss],
                       "converged": curve.converged.tolist(),
                       "n_no_equilibrium": [int(v) for v in curve.n_no_equilibrium],
                       "slope_paths": [[None if not np.isfinite(v) else float(v) for v in row]
                                       for row in curve.slope_paths]},
        "gradient_check": chk,
        "settings": {"grid": {"n_b": GRID.n_b, "n_k": GRID.n_k, "b_min": GRID.b_min}, "horizon": HORIZON,
                     "n_paths": a.paths, "seed": a.seed, "solver_tol": a.tol, "b0": b0_mean, "s0_rest": s0,
                     "theta_factor": a.theta_factor, "solver_max_iter": a.max_iter,
                     "calibration": {"theta_calibrated": par["theta"], "theta": values["theta"], "beta": values["beta"], "dmu": values["dmu"],
                                     "file": CALIBRATION.name, "date": rec.get("date")},
                     "czs": {"source": cz.source, "share_year": cz.year,
                             "status_counts": {STATUS[k]: int((status == k).sum()) for k in STATUS}}},
        "run_time_s": {"loss_curve": round(t_curve, 1), "estimate": round(t_est, 1), "gradient_check": round(t_chk, 1),
                       "total": round(time.perf_counter() - t0, 1)},
    }
    atomic_write_bytes(Path(a.out), (json.dumps(out, indent=2) + "\n").encode())
    label = "ADH data 1990-2007" if a.target is None else "placeholder target"
    _plot(curve, est, target, Path(a.png), label)
    say(f"wrote {a.out} and {a.png} ({out['run_time_s']['total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
