"""The main job: the specialization trade-off on all 722 commuting zones (paper 002 §4.2, Figures 5-6).

The calibrated two-industry economy (``calibration/specialization_two_industry.json``; recalibrated
when missing or stale), each CZ started from the capital shares inverted from its machinery share of
manufacturing (ADH 1980 when the files are found, else the embedded synthetic CZs) and the ergodic
mean bonds, simulated for 70 years on common national shock paths for a grid of relative machinery
TFP trends g; the decomposition by friction (θ = ∞, φ = 0); the data slope (ADH 1990-2007); and,
unless ``--no-planner``, the per-CZ planner comparison (Figures 11, 13).

    python experiments/specialization_trade_off.py [--data PATH | --synthetic] [--paths 20]
        [--no-planner] [--heterogeneous]

Writes ``results/specialization_trade_off/``: ``report.md``, ``trade_off.csv``, ``calibration.csv``,
``czs.csv`` and figures. Library: :mod:`jaxecon.models.specialization.trade_off`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from jaxecon.numerics import use_cpu_cores

if __name__ == "__main__":
    use_cpu_cores()  # one JAX device per core: the batched solves split over them (before any JAX operation)

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm import tqdm

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid, initial_allocation, solve_equilibrium
from jaxecon.models.specialization.calibration import DEBT_OUTPUT_TARGET, load_calibration
from jaxecon.models.specialization.ergodic import ergodic_distribution, ergodic_moments
from jaxecon.models.specialization.initial import STATUS, cz_machinery_shares
from jaxecon.models.specialization import trade_off as to
from jaxecon.reporting import ResultsDir, markdown_table

ROOT = Path(__file__).resolve().parents[1]
#: calibration files per data source (their share targets differ)
CALIBRATIONS = {"ADH": ROOT / "calibration" / "specialization_two_industry.json",
                "synthetic": ROOT / "calibration" / "specialization_two_industry_synthetic.json"}
PAPER_FACT1 = -0.233  # Table 4 col. (1): SD of 1950-2020 growth per SD of the 1950 Gini
PAPER_FINANCIAL_SHARE = 0.56


def calibrated_values(grid: Grid, share_target: float, source: str, data, say) -> tuple[dict, dict]:
    """The calibrated (θ, β, μ_1 − μ_2) and the file's record; recalibrates when missing or stale."""
    path = CALIBRATIONS[source]
    p = load_calibration(path, grid=grid, share_target=share_target, report=say)
    if p is None:
        say(f"calibration {path.name} missing or stale: recalibrating (about 15 minutes on 2 cores)")
        sys.path.insert(0, str(ROOT / "calibration"))
        import calibrate_specialization  # noqa: PLC0415

        args = ["--n-b", str(grid.n_b), "--n-k", str(grid.n_k), "--b-min", str(grid.b_min), "--out", str(path)]
        args += ["--synthetic"] if source == "synthetic" else ([] if data is None else ["--data", str(data)])
        calibrate_specialization.main(args)
    rec = json.loads(path.read_text())
    rec["file"] = f"calibration/{path.name}"
    par = rec["parameters"]
    return {"theta": par["theta"], "beta": par["beta"], "dmu": par["mu_1_minus_mu_2"]}, rec


def solve_batch(economies, grid: Grid):
    """All economies of one grid in ONE batched solve (:func:`jaxecon.models.specialization.trade_off.solve_batch`)."""
    return to.solve_batch(to.stack_params([e.params for e in economies]), grid, max_iter=MAX_SWEEPS)


#: θ of the simulations: the calibrated θ sits on the well-posedness bound (fire-sale gain 0.87 at the
#: bound), and the trend economies there have no-equilibrium states at every g; at 0.02 they converge.
THETA_SIMULATION = 0.02
MAX_SWEEPS = 150


def run(data=None, synthetic: bool = False, gs=to.DEFAULT_GS, n_paths: int = 20, seed: int = 0,
        planner: bool = True, heterogeneous: bool = False, theta: float | None = THETA_SIMULATION,
        results_dir_name: str = "specialization_trade_off"):
    t_start = time.perf_counter()
    out = ResultsDir(results_dir_name)
    bar = tqdm(total=8, desc="specialization trade-off", unit="step")
    say = lambda s: tqdm.write(s)  # noqa: E731
    grid = Grid(n_b=12, n_k=15, b_min=-0.3)          # the calibration grid
    frictionless_grid = Grid(n_b=12, n_k=15, b_min=-0.3, debt_limit=True)

    # 1. data and calibration
    cz = cz_machinery_shares(data, source="synthetic" if synthetic else "auto", report=say)
    share_target = cz.weighted_mean()
    values_cal, rec = calibrated_values(grid, share_target, cz.source, data, say)
    values = dict(values_cal) if theta is None else {**values_cal, "theta": float(theta)}
    bar.update(1)

    # 2. the stationary economy (g = 0, no trend state): ergodic moments, mean bonds, initial allocation
    e_stat = to.trend_economy(values, 0.0, n_trend=1)
    sol_stat = solve_equilibrium(e_stat.params, grid)
    dist = ergodic_distribution(sol_stat)
    mom = ergodic_moments(sol_stat, dist)
    b0_mean = float(to.ergodic_mean_bonds(sol_stat, dist))
    bar.update(1)

    # 3. trend economies: baseline, no adjustment costs (φ = 0), frictionless (θ = ∞, debt limit)
    gs = tuple(float(g) for g in gs)
    base = [to.trend_economy(values, g) for g in gs]
    e0 = base[gs.index(0.0)] if 0.0 in gs else base[0]
    no_adj = [to.trend_economy(values, g, phi=0.0) for g in gs]
    frictionless = [to.trend_economy({**values, "theta": np.inf}, g) for g in gs]
    t0 = time.perf_counter()
    sols = solve_batch(base + no_adj, grid)
    jax.block_until_ready(sols.c)
    t_base = time.perf_counter() - t0
    bar.update(1)
    t0 = time.perf_counter()
    sols_fl = solve_batch(frictionless, frictionless_grid)
    jax.block_until_ready(sols_fl.c)
    t_fl = time.perf_counter() - t0
    bar.update(1)

    # 4. initial allocation per CZ at trend level 0, median TFP state
    s0_rest = e0.median_rest_state()
    ia = initial_allocation(cz.share, e0.params, grid, state=e0.state(s0_rest), outside="flag", czone=cz.czone)
    status = np.asarray(ia.status)
    fits = status == 0
    k0 = ia.k
    n = k0.shape[0]
    b0 = jnp.full((n,), b0_mean)
    w = jnp.asarray(fits.astype(float))
    share0 = jnp.asarray(np.where(np.isfinite(cz.share), cz.share, 0.0))
    s_paths = to.national_shock_paths(e0, jax.random.key(seed), 70, n_paths, s0_rest)
    bar.update(1)

    # 5. simulate every economy on the same national paths; slopes at 70 and 17 years
    horizons = (70, 17)
    sweep = jax.jit(jax.vmap(lambda s, g: to.trade_off_slopes(s, e0.levels, e0.n_rest, g, b0, k0, share0, s_paths,
                                                              w, horizons=horizons)))
    garr = jnp.asarray(gs)
    n_g = len(gs)
    r_all = sweep(sols, jnp.concatenate([garr, garr]))
    r_fl = sweep(sols_fl, garr)
    jax.block_until_ready(r_fl.slope_gini)
    # how fast CZs converge: cross-CZ dispersion of k_1 along the first path (g = 0 or the first g), and
    # the level effect −(d log Y_0 / d Gini_0)/T (all of the slope when every CZ converges within T)
    i0 = gs.index(0.0) if 0.0 in gs else 0
    sol0 = jax.tree.map(lambda a: a[i0], sols)
    p0 = to.simulate_on_trend(sol0, e0.levels, e0.n_rest, b0, k0, s_paths[0], gs[i0])
    k1p = np.asarray(p0.k1)[fits]
    disp = {t: float(k1p[:, t].std()) for t in (0, 1, 2, 5, 10, 17, 35, 70)}
    gini0_ = np.asarray(jaxecon.measures.gini(k0))[fits]
    level = float(np.polyfit(gini0_, np.log(np.asarray(p0.output)[fits, 0]), 1)[0])
    bar.update(1)

    sg = np.asarray(r_all.slope_gini)        # (2 n_g, paths, horizons)
    sm = np.asarray(r_all.slope_machinery)
    sgf = np.asarray(r_fl.slope_gini)
    slope = sg[:n_g].mean(1)
    slope_phi0 = sg[n_g:].mean(1)
    slope_fl = sgf.mean(1)
    conv = np.asarray(sols.converged)
    conv_fl = np.asarray(sols_fl.converged)
    ok_g = conv[:n_g]
    noeq = np.asarray(sols.n_no_equilibrium)
    noeq_fl = np.asarray(sols_fl.n_no_equilibrium)
    res_name = lambda sol, i: "converged" if bool(np.asarray(sol.converged)[i]) else (  # noqa: E731
        f"no equilibrium at {int(np.asarray(sol.n_no_equilibrium)[i])} states" if int(np.asarray(sol.n_no_equilibrium)[i])
        else "not converged")
    with np.errstate(divide="ignore", invalid="ignore"):
        fin = 1.0 - slope_fl[:, 0] / slope[:, 0]
        adj = 1.0 - slope_phi0[:, 0] / slope[:, 0]
    table = pd.DataFrame({
        "g": gs, "slope_gini": slope[:, 0], "slope_machinery": sm[:n_g].mean(1)[:, 0],
        "slope_gini_frictionless": slope_fl[:, 0], "slope_gini_no_adjustment": slope_phi0[:, 0],
        "financial_share": fin, "adjustment_share": adj,
        "slope_gini_sd_paths": sg[:n_g, :, 0].std(1), "slope_gini_17y": slope[:, 1],
        "binding_share": np.asarray(r_all.binding)[:n_g].mean(1), "gini_end": np.asarray(r_all.gini_end)[:n_g].mean(1),
        "result": [res_name(sols, i) for i in range(n_g)],
        "result_no_adjustment": [res_name(sols, n_g + i) for i in range(n_g)],
        "result_frictionless": [res_name(sols_fl, i) for i in range(n_g)],
    })
    bar.update(1)

    # heterogeneous CZs (behind --heterogeneous): each CZ's rest of manufacturing with its own volatility
    het_note = "not run (pass --heterogeneous: 722 economies, several minutes on 2 cores)"
    het = None
    if heterogeneous:
        het, het_note = heterogeneous_slopes(data, synthetic, e_stat, grid, ia, cz, b0_mean, w, s_paths, say)

    # 6. the data side
    data_res = None
    if cz.source == "ADH":
        from jaxecon.data import load_adh

        data_res = to.adh_trade_off(load_adh(data))
    # the per-CZ planner comparison (Figures 11, 13)
    cz_planner = None
    planner_note = "not run (--no-planner)"
    if planner:
        from jaxecon.models.specialization import solve_planner
        from jaxecon.models.specialization.cz_comparison import cz_planner_table, plot_cz_comparison, tertile_summary

        t0 = time.perf_counter()
        sp = solve_planner(e_stat.params, grid, init=sol_stat)
        jax.block_until_ready(sp.c)
        t_sp = time.perf_counter() - t0
        if not bool(sp.converged):
            planner_note = f"the planner did not converge ({sp.summary()}); no per-CZ comparison"
        else:
            tab = cz_planner_table(sol_stat, sp, data=data, source="synthetic" if synthetic else "auto",
                                   b0=b0_mean, s0=e_stat.state(s0_rest), report=say)
            cz_planner = tab[["czone", "gini_sp_minus_de", "welfare_gain"]]
            okp = tab["status"].to_numpy() == 0 if tab["status"].dtype != object else (tab["status"] == "ok").to_numpy()
            lam = 100 * tab.loc[okp, "welfare_gain"]
            dif = tab.loc[okp, "gini_sp_minus_de"]
            plot_cz_comparison(tab.loc[okp], out.path / "figure13_planner_by_cz.png")
            terc = tertile_summary(tab)
            out.csv(terc, "planner_tertiles.csv")
            if "state_fips" in tab.columns:
                from jaxecon.models.specialization.cz_comparison import by_group_summary

                out.csv(by_group_summary(tab, "state_fips"), "planner_by_state.csv")
            planner_note = (
                f"Planner solved in {t_sp:.0f} s ({int(sp.iterations)} sweeps, {sp.summary().splitlines()[0]}). "
                f"Over the {int(okp.sum())} CZs that fit the share grid, at their initial state (ergodic mean bonds, "
                f"median TFP): welfare gain Λ mean {lam.mean():.3f}%, range [{lam.min():.3f}%, {lam.max():.3f}%] of "
                f"permanent consumption (the paper: 1.2-2.2%); the planner is less specialized next period than the DE "
                f"in {100 * float((dif < 0).mean()):.0f}% of them (mean SP − DE Gini {dif.mean():+.4f}). Tertiles of "
                f"the difference (`planner_tertiles.csv`):\n\n{markdown_table(terc, floatfmt='{:.4g}')}\n\n"
                "Figure: `figure13_planner_by_cz.png`; per-state summary `planner_by_state.csv` (ADH data).")
    bar.update(1)
    bar.close()

    # --- outputs ---------------------------------------------------------------------------------
    g_star_i = int(np.argmin(np.abs(np.asarray(gs))))
    growth = np.asarray(r_all.growth)[g_star_i, :, 0, :].mean(0)
    gini0 = np.asarray(jaxecon.measures.gini(k0))
    czs = pd.DataFrame({"czone": cz.czone, "share0": np.where(np.isfinite(cz.share), cz.share, -1.0),
                        "k0": np.asarray(k0[:, 0]), "gini0": gini0, "growth": growth,
                        "status": [STATUS[int(s)] for s in status]})
    if cz_planner is not None:
        czs = czs.merge(cz_planner, on="czone", how="left")
    out.csv(czs, "czs.csv", index=False)
    out.csv(table, "trade_off.csv", index=False)
    m = mom
    calib = pd.DataFrame({
        "target": ["debt_output", "share_1"],
        "data": [DEBT_OUTPUT_TARGET, share_target],
        "model": [rec["model_moments"]["debt_output"], rec["model_moments"]["share_1"]],
        "model_at_simulation_theta": [float(m.debt_output), float(m.share_1)],
    })
    out.csv(calib, "calibration.csv", index=False)
    figures(out, table, czs, data_res, gs)
    run_time = time.perf_counter() - t_start
    extra = {"dispersion": disp, "level": level}
    report = render(table, calib, rec, cz, values, extra, data_res, status, n_paths, gs, planner_note, cz_planner,
                    dict(t_base=t_base, t_fl=t_fl, run=run_time, conv=conv, conv_fl=conv_fl, sols=sols), b0_mean, het_note)
    out.text(report)
    print(report)
    return table


def heterogeneous_slopes(data, synthetic, e_stat, grid, ia, cz, b0_mean, w, s_paths, say):
    """Slopes of growth on initial Gini when every CZ has its own economy: rest-of-manufacturing
    volatility σ_c = σ·sqrt(HHI_c) (:mod:`jaxecon.models.specialization.heterogeneous`), g = 0."""
    from jaxecon.models.specialization.heterogeneous import (heterogeneous_params, rest_of_manufacturing_hhi,
                                                             solve_heterogeneous)

    rest = rest_of_manufacturing_hhi(data, source="synthetic" if synthetic else "auto", report=say)
    if not np.array_equal(np.asarray(rest.czone), np.asarray(cz.czone)):
        raise ValueError("heterogeneous mode: the HHI and the machinery shares come in different CZ orders")
    sigma_base = 0.013  # the preset's σ of the rest of manufacturing (two_industry_params)
    okh = rest.ok & (np.asarray(w) > 0)
    sig = np.full(len(rest.hhi), sigma_base)
    sig[okh] = sigma_base * np.sqrt(rest.hhi[okh])
    t0 = time.perf_counter()
    ps = heterogeneous_params(e_stat.params, sig)
    sols = solve_heterogeneous(ps, grid, report=say)
    jax.block_until_ready(sols.c)
    t_h = time.perf_counter() - t0
    conv = np.asarray(sols.converged)
    gr = to.growth_per_economy(sols, e_stat.levels, e_stat.n_rest, 0.0, jnp.full((len(sig),), b0_mean), ia.k,
                               s_paths, horizons=(70, 17))
    wt = jnp.asarray((okh & conv).astype(float))
    gini0 = jaxecon.measures.gini(ia.k)
    slopes = np.asarray(jax.vmap(lambda y: to.ols_slope(y, gini0, wt))(gr[:, 0, :]))
    note = (f"{len(sig)} economies solved in one call in {t_h:.0f} s, {int(conv.sum())} converged; σ_c from "
            f"{sig[okh].min():.4f} to {sig[okh].max():.4f} (σ = {sigma_base}, 2-digit HHI of the rest of manufacturing; "
            f"assumption: independent industry shocks with a common σ). Slope of 70-year growth on initial Gini at g = 0: "
            f"{slopes.mean():.5f} (s.d. over paths {slopes.std():.5f}), CZs that fit and converged only.")
    return slopes, note


def figures(out, table, czs, data_res, gs):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    g = np.asarray(gs)
    axs[0].plot(100 * g, table["slope_gini"], "o-", label="model, 70 years")
    axs[0].plot(100 * g, table["slope_gini_17y"], "s--", label="model, 17 years")
    if data_res is not None:
        axs[0].axhline(data_res.slope_gini, color="k", lw=1, label="ADH data 1990-2007")
    axs[0].axhline(0, color="grey", lw=0.5)
    axs[0].set_xlabel("g, relative machinery TFP drift (% a year)")
    axs[0].set_ylabel("slope of annual growth on initial Gini")
    axs[0].set_title("Figure 5: the trade-off across g")
    axs[0].legend(fontsize=8)
    ok = czs["status"] == "ok"
    axs[1].scatter(czs.loc[ok, "gini0"], 100 * czs.loc[ok, "growth"], s=5, alpha=0.5)
    axs[1].set_xlabel("initial Gini of capital shares")
    axs[1].set_ylabel("simulated annual output growth, % (g = 0)")
    axs[1].set_title("CZs (g closest to 0)")
    out.figure(fig, "figure5_trade_off.png")

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    width = 0.25 * (g[1] - g[0]) * 100 if len(g) > 1 else 0.2
    ax.bar(100 * g - width, table["slope_gini"], width, label="baseline")
    ax.bar(100 * g, table["slope_gini_frictionless"], width, label="θ = ∞ (no financial friction)")
    ax.bar(100 * g + width, table["slope_gini_no_adjustment"], width, label="φ = 0 (no adjustment costs)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("g (% a year)")
    ax.set_ylabel("slope of 70-year annual growth on initial Gini")
    ax.set_title("Figure 6: decomposition by friction")
    ax.legend(fontsize=8)
    out.figure(fig, "figure6_decomposition.png")


def render(table, calib, rec, cz, values, extra, data_res, status, n_paths, gs, planner_note, cz_planner, timing, b0_mean,
           het_note) -> str:
    ok = (table["result"] == "converged").to_numpy()
    neg = table.loc[ok & (table["slope_gini"] < 0), "g"].tolist()
    counts = {STATUS[k]: int((status == k).sum()) for k in STATUS}
    lines = [f"# The specialization trade-off on {len(status)} commuting zones (paper 002 §4.2, Figures 5-6)", ""]
    lines += [f"Data: {cz.source} {cz.year} machinery (SIC 35) shares of manufacturing; initial allocations: "
              + ", ".join(f"{v} {k}" for k, v in counts.items()) + " (rows not 'ok' are flagged in `czs.csv` and left "
              "out of every regression).", ""]
    par = rec["parameters"]
    lines += ["## Calibration", "",
              f"θ = {par['theta']:.4f}, μ_1 − μ_2 = {par['mu_1_minus_mu_2']:.4f}, β = {par['beta']} "
              f"(`{rec.get('file', 'calibration/')}`, {rec.get('date', '?')}). Outcome: {rec.get('outcome', '')}", "",
              markdown_table(calib, floatfmt="{:.4f}", index=False), "",
              f"The simulations use θ = {values['theta']:.4f} (`model_at_simulation_theta`): the calibrated θ sits on the "
              "well-posedness bound, where the trend economies (trend levels ℓ in [−0.35, 0.7]) have no-equilibrium grid "
              "states at every g (measured: 1-4 of 18,000 states in the baseline, 120-170 without adjustment costs), "
              "and at θ = 0.02 the baseline converges at every g. μ_1 − μ_2 and β are the calibrated ones.", ""]
    lines += ["## Figure 5: the trade-off for each relative machinery trend g", "",
              f"Slopes of annualized output growth on the initial Gini (mean over {n_paths} national shock paths, "
              f"the same for every g and every counterfactual); initial bonds b = {b0_mean:.4f} (ergodic mean).", "",
              markdown_table(table, floatfmt="{:.4g}", index=False), ""]
    disp = extra["dispersion"]
    lines += ["Cross-CZ standard deviation of the machinery capital share along the first national path (g = 0): "
              + ", ".join(f"t = {t}: {v:.4f}" for t, v in disp.items()) + ". "
              f"The level effect −(d log Y_0/d Gini_0)/T: {-extra['level'] / 70:.5f} at T = 70, {-extra['level'] / 17:.5f} "
              "at T = 17."]
    spread = float(np.nanmax(table["slope_gini"]) - np.nanmin(table["slope_gini"]))
    if disp[17] < 1e-3 * max(disp[0], 1e-300):
        lines += ["", f"**Every CZ converges to the common allocation within 17 years** (dispersion of k_1 "
                  f"{disp[0]:.3f} → {disp[17]:.1e}), so the CZs' output differs at the end only by a common factor: the "
                  "slope is the level effect above, the same for every g and every friction (spread across g "
                  f"{spread:.1e}); in this calibration adjustment costs and the constraint do not make initial "
                  "specialization persist, and the paper's mechanism (persistence, amplification of shocks in "
                  "specialized CZs) does not appear. The financial and adjustment shares are then 0 by construction.", ""]
    lines += [f"- g with the paper's sign (specialized CZs grow more slowly over 70 years): "
              f"{', '.join(f'{g:+.3f}' for g in neg) if neg else 'none'}."]
    if data_res is not None:
        best = table.loc[ok].iloc[(table.loc[ok, "slope_gini_17y"] - data_res.slope_gini).abs().argsort()[:1]]
        lines += [f"- ADH data, 1990-2007 household income growth on the 1990 two-sector Gini ({data_res.n} CZs): slope "
                  f"{data_res.slope_gini:.5f} a year per unit Gini ({data_res.standardized_gini:+.3f} SD per SD; the "
                  f"paper's Fact 1, 1950-2020 with controls: {PAPER_FACT1} SD per SD)."]
        for _, r in best.iterrows():
            lines += [f"- Closest model 17-year slope: g = {r['g']:+.3f}, {r['slope_gini_17y']:.5f}, i.e. "
                      f"{100 * r['slope_gini_17y'] / data_res.slope_gini:.0f}% of the data slope (the paper: about half)."]
        share_g0 = table.loc[np.isclose(table['g'], 0.0), "slope_gini_17y"]
        if len(share_g0):
            lines += [f"- At g = 0 the model explains {100 * float(share_g0.iloc[0]) / data_res.slope_gini:.0f}% of the data slope."]
    else:
        lines += ["- No ADH files found: the data slope is not computed (the paper's Fact 1: "
                  f"{PAPER_FACT1} SD per SD)."]
    lines += ["", "## Figure 6: decomposition", "",
              f"financial_share = 1 − slope(θ = ∞)/slope, adjustment_share = 1 − slope(φ = 0)/slope, per g "
              f"(the paper: {100 * PAPER_FINANCIAL_SHARE:.0f}% financial). Shares are only meaningful where the baseline "
              "slope is clearly nonzero.", ""]
    lines += ["## Per-CZ planner comparison (Figures 11, 13)", "", planner_note, ""]
    lines += ["## Heterogeneous CZs (own rest-of-manufacturing volatility)", "", het_note, ""]
    lines += ["## Run", "",
              f"Baseline and φ = 0 economies ({2 * len(gs)}) solved in one batched call in {timing['t_base']:.0f} s "
              f"(converged: {int(timing['conv'].sum())}/{timing['conv'].size}); frictionless ({len(gs)}) in "
              f"{timing['t_fl']:.0f} s (converged: {int(timing['conv_fl'].sum())}/{timing['conv_fl'].size}); "
              f"whole job {timing['run']:.0f} s.", "",
              "Files: `trade_off.csv`, `calibration.csv`, `czs.csv`, `figure5_trade_off.png`, `figure6_decomposition.png`."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="ADH data folder (default: $JAXECON_DATA, then ../shared/data)")
    ap.add_argument("--synthetic", action="store_true", help="use the embedded synthetic CZs even if real files exist")
    ap.add_argument("--paths", type=int, default=20, help="national shock paths averaged")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--theta", type=float, default=THETA_SIMULATION,
                    help="θ of the simulations (default 0.02; a negative value: the calibrated θ)")
    ap.add_argument("--no-planner", action="store_true", help="skip the per-CZ planner comparison")
    ap.add_argument("--heterogeneous", action="store_true", help="722 economies, each with its own volatility")
    ap.add_argument("--results-dir-name", default="specialization_trade_off")
    a = ap.parse_args(argv)
    run(data=a.data, synthetic=a.synthetic, n_paths=a.paths, seed=a.seed, planner=not a.no_planner, theta=None if a.theta < 0 else a.theta,
        heterogeneous=a.heterogeneous, results_dir_name=a.results_dir_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
