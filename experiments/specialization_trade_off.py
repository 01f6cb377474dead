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
CALIBRATION = ROOT / "calibration" / "specialization_two_industry.json"
PAPER_FACT1 = -0.233  # Table 4 col. (1): SD of 1950-2020 growth per SD of the 1950 Gini
PAPER_FINANCIAL_SHARE = 0.56


def calibrated_values(grid: Grid, share_target: float, say) -> tuple[dict, dict]:
    """The calibrated (θ, β, μ_1 − μ_2) and the file's record; recalibrates when missing or stale."""
    p = load_calibration(CALIBRATION, grid=grid, share_target=share_target, report=say)
    if p is None:
        say(f"calibration {CALIBRATION.name} missing or stale: recalibrating (about 15 minutes on 2 cores)")
        sys.path.insert(0, str(ROOT / "calibration"))
        import calibrate_specialization  # noqa: PLC0415

        calibrate_specialization.main(["--n-b", str(grid.n_b), "--n-k", str(grid.n_k), "--b-min", str(grid.b_min)])
    rec = json.loads(CALIBRATION.read_text())
    par = rec["parameters"]
    return {"theta": par["theta"], "beta": par["beta"], "dmu": par["mu_1_minus_mu_2"]}, rec


def solve_batch(economies, grid: Grid):
    """All economies of one grid in ONE batched solve (:func:`jaxecon.models.specialization.trade_off.solve_batch`)."""
    return to.solve_batch(to.stack_params([e.params for e in economies]), grid)


def run(data=None, synthetic: bool = False, gs=to.DEFAULT_GS, n_paths: int = 20, seed: int = 0,
        planner: bool = True, heterogeneous: bool = False, results_dir_name: str = "specialization_trade_off"):
    t_start = time.perf_counter()
    out = ResultsDir(results_dir_name)
    bar = tqdm(total=8, desc="specialization trade-off", unit="step")
    say = lambda s: tqdm.write(s)  # noqa: E731
    grid = Grid(n_b=12, n_k=15, b_min=-0.3)          # the calibration grid
    frictionless_grid = Grid(n_b=12, n_k=15, b_min=-0.3, debt_limit=True)

    # 1. data and calibration
    cz = cz_machinery_shares(data, source="synthetic" if synthetic else "auto", report=say)
    share_target = cz.weighted_mean()
    values, rec = calibrated_values(grid, share_target, say)
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
    s0_rest = int(np.argmin(np.sum((np.log(np.asarray(e0.params.z[:e0.n_rest]))
                                    - np.median(np.log(np.asarray(e0.params.z[:e0.n_rest])), axis=0)) ** 2, axis=1)))
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
    bar.update(1)

    sg = np.asarray(r_all.slope_gini)        # (2 n_g, paths, horizons)
    sm = np.asarray(r_all.slope_machinery)
    sgf = np.asarray(r_fl.slope_gini)
    slope = sg[:n_g].mean(1)
    slope_phi0 = sg[n_g:].mean(1)
    slope_fl = sgf.mean(1)
    conv = np.asarray(sols.converged)
    conv_fl = np.asarray(sols_fl.converged)
    ok_g = conv[:n_g] & conv[n_g:] & conv_fl
    with np.errstate(divide="ignore", invalid="ignore"):
        fin = 1.0 - slope_fl[:, 0] / slope[:, 0]
        adj = 1.0 - slope_phi0[:, 0] / slope[:, 0]
    table = pd.DataFrame({
        "g": gs, "slope_gini": slope[:, 0], "slope_machinery": sm[:n_g].mean(1)[:, 0],
        "slope_gini_frictionless": slope_fl[:, 0], "slope_gini_no_adjustment": slope_phi0[:, 0],
        "financial_share": fin, "adjustment_share": adj,
        "slope_gini_sd_paths": sg[:n_g, :, 0].std(1), "slope_gini_17y": slope[:, 1],
        "binding_share": np.asarray(r_all.binding)[:n_g].mean(1), "gini_end": np.asarray(r_all.gini_end)[:n_g].mean(1),
        "converged": ok_g,
    })
    table.loc[~ok_g, ["slope_gini", "slope_machinery", "slope_gini_frictionless", "slope_gini_no_adjustment",
                      "financial_share", "adjustment_share", "slope_gini_17y"]] = np.nan
    bar.update(1)

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
        "model": [float(m.debt_output), float(m.share_1)],
    })
    out.csv(calib, "calibration.csv", index=False)
    figures(out, table, czs, data_res, gs)
    run_time = time.perf_counter() - t_start
    report = render(table, calib, rec, cz, data_res, status, n_paths, gs, planner_note, cz_planner,
                    dict(t_base=t_base, t_fl=t_fl, run=run_time, conv=conv, conv_fl=conv_fl, sols=sols), b0_mean)
    out.text(report)
    print(report)
    return table


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


def render(table, calib, rec, cz, data_res, status, n_paths, gs, planner_note, cz_planner, timing, b0_mean) -> str:
    ok = table["converged"].to_numpy()
    neg = table.loc[ok & (table["slope_gini"] < 0), "g"].tolist()
    counts = {STATUS[k]: int((status == k).sum()) for k in STATUS}
    lines = [f"# The specialization trade-off on {len(status)} commuting zones (paper 002 §4.2, Figures 5-6)", ""]
    lines += [f"Data: {cz.source} {cz.year} machinery (SIC 35) shares of manufacturing; initial allocations: "
              + ", ".join(f"{v} {k}" for k, v in counts.items()) + " (rows not 'ok' are flagged in `czs.csv` and left "
              "out of every regression).", ""]
    par = rec["parameters"]
    lines += ["## Calibration", "",
              f"θ = {par['theta']:.4f}, μ_1 − μ_2 = {par['mu_1_minus_mu_2']:.4f}, β = {par['beta']} "
              f"(`calibration/specialization_two_industry.json`, {rec.get('date', '?')}). Outcome: {rec.get('outcome', '')}", "",
              markdown_table(calib, floatfmt="{:.4f}", index=False), ""]
    lines += ["## Figure 5: the trade-off for each relative machinery trend g", "",
              f"Slopes of annualized output growth on the initial Gini (mean over {n_paths} national shock paths, "
              f"the same for every g and every counterfactual); initial bonds b = {b0_mean:.4f} (ergodic mean).", "",
              markdown_table(table, floatfmt="{:.4g}", index=False), ""]
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
    ap.add_argument("--no-planner", action="store_true", help="skip the per-CZ planner comparison")
    ap.add_argument("--heterogeneous", action="store_true", help="722 economies, each with its own volatility")
    ap.add_argument("--results-dir-name", default="specialization_trade_off")
    a = ap.parse_args(argv)
    run(data=a.data, synthetic=a.synthetic, n_paths=a.paths, seed=a.seed, planner=not a.no_planner,
        heterogeneous=a.heterogeneous, results_dir_name=a.results_dir_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
