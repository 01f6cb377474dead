"""Paper 000 (Industry Clusters): the China shock through the clusters model on 722 CZs x 397 industries.

1. Baseline calibrated to ADH 1990 CZ-industry employment (exact), Foreign and τ from an import
   penetration target (``jaxecon.models.clusters.calibration``); written to ``baseline.npz``.
2. The ADH industry import changes (``g_importsUSA``) of 1990-2000, then of 2000-2007 (starting from
   the 1990-2000 end point), inverted into Foreign productivity changes (``shock_1990.npz``,
   ``shock_2000.npz``).
3. Per CZ and period: change in manufacturing employment per working-age person, imports per worker
   from model flows, HHI; the paper's Table 3 columns (2)-(5) on model data beside the same
   regressions on the real data, plus ADH Table 3 column (1).
4. The paper's question on model data: the HHI x imports coefficient and the imports coefficient
   as η rises from 0 towards the stability bound (one batched solve over η).
5. η by indirect inference (gradient, optax L-BFGS) so that the model's column (1) coefficient
   equals the real one; delta-method SE.

Needs the ADH files (exits 0 with a message when absent). Writes ``results/clusters_china_shock/``.

    python experiments/clusters_china_shock.py [--eta 0.1] [--n-eta 8] [--skip-ii]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

import jaxecon  # noqa: F401
import jax
import jax.numpy as jnp
from jaxecon.econometrics import iv, ols, regression_table
from jaxecon.reporting import ResultsDir, markdown_table


def table3(frame: pd.DataFrame) -> dict:
    """The paper's Table 3 columns (2)-(5) (dep. y, period FE, state clusters) and ADH column (1)."""
    kw = dict(fe="year", vcov="cluster", cluster="clus")
    return {
        "ADH (1)": iv(frame, "y", "x", "z", ["t2"], weights="wei", vcov="cluster", cluster="clus", ssc="none"),
        "(2) OLS": ols(frame, "y", "hhi", **kw),
        "(3) 2SLS": iv(frame, "y", "x", "z", ["hhi"], **kw),
        "(4) 2SLS": iv(frame, "y", "x", "z", ["hhi", "manuf"], **kw),
        "(5) 2SLS": iv(frame, "y", ["x", "hhi_x"], ["z", "hhi_z"], ["hhi", "manuf"], **kw),
    }


def real_frame(adh) -> pd.DataFrame:
    from jaxecon.measures import hhi

    e = adh.exposure[["czone", "year", "y", "x", "z", "wei", "clus", "t2", "Lsh_manuf"]].copy()
    parts = [pd.DataFrame({"czone": adh.czones, "year": lab, "hhi": 100 * np.asarray(hhi(adh.share_arrays[lab - 10]))})
             for lab in (1990, 2000)]
    e = e.merge(pd.concat(parts), on=["czone", "year"])
    e["manuf"] = 100 * e["Lsh_manuf"]
    return e


def with_interactions(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f["hhi_x"] = f["hhi"] * f["x"]
    f["hhi_z"] = f["hhi"] * f["z"]
    return f


def model_frame(panel: dict, adh) -> pd.DataFrame:
    C = len(adh.czones)
    ex = adh.exposure
    rows = []
    for j, lab in enumerate((1990, 2000)):
        e = ex[ex["year"] == lab]  # sorted by czone, the model's row order
        rows.append(pd.DataFrame({"czone": adh.czones, "year": lab, "t2": j, "wei": e["wei"].to_numpy(),
                                  "clus": e["clus"].to_numpy(),
                                  **{k: np.asarray(v)[j * C:(j + 1) * C] for k, v in panel.items()}}))
    return pd.concat(rows, ignore_index=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eta", type=float, default=0.1, help="η of the main run (default 0.1; bound 1/(ρ-1) = 0.25)")
    ap.add_argument("--n-eta", type=int, default=8, help="points of the η sweep (0 .. 0.95 x bound)")
    ap.add_argument("--skip-ii", action="store_true", help="skip the indirect inference of η")
    args = ap.parse_args(argv)

    from tqdm import tqdm

    from jaxecon.data import load_adh_if_present
    from jaxecon.models import clusters as cl

    adh = load_adh_if_present(otherwise="set JAXECON_DATA or place the files in ../shared/data. Skipping.")
    if adh is None:
        return 0
    t0 = time.perf_counter()
    out = ResultsDir("clusters_china_shock")
    steps = tqdm(total=6, desc="clusters_china_shock", unit="step")

    d = cl.cluster_data(adh.path)
    base = cl.calibrate_baseline(d.employment, eta=args.eta)
    P0 = base.params
    data = cl.adh_shock_data(adh, d, P0.markup)
    steps.update()

    # --- main run: baseline and both periods ---------------------------------------------------------
    sim = jax.jit(cl.simulate_periods)
    panel, ok, (e0, r1, r2, n_clip) = sim(P0, data)
    e0.to_npz(out.path / "baseline.npz")
    r1.equilibrium.to_npz(out.path / "shock_1990.npz")
    r2.equilibrium.to_npz(out.path / "shock_2000.npz")
    e1, e2 = r1.equilibrium, r2.equilibrium
    # independent check of the inversions: re-solve from the inverted Params alone
    solve = jax.jit(cl.solve_equilibrium)
    chk1, chk2 = solve(e1.params), solve(e2.params)
    dM1 = np.asarray(cl.feasible_import_changes(e0.imports, data.g1 * e0.L_industry * data.units)[0])
    dM2 = np.asarray(cl.feasible_import_changes(e1.imports, data.g2 * e1.L_industry * data.units)[0])
    err1 = float(np.max(np.abs(np.asarray(chk1.imports - e0.imports) - dM1)) / np.max(np.abs(dM1)))
    err2 = float(np.max(np.abs(np.asarray(chk2.imports - chk1.imports) - dM2)) / np.max(np.abs(dM2)))
    steps.update()

    mod = with_interactions(model_frame(panel, adh))
    real = with_interactions(real_frame(adh))
    res_m, res_r = table3(mod), table3(real)
    labels = {"x": "Imports per worker (k$)", "hhi": "HHI (4-digit SIC manufacturing)",
              "manuf": "Manufacturing employment share (%)", "hhi_x": "HHI x imports per worker"}
    t_m = regression_table(res_m, rows=list(labels), labels=labels)
    t_r = regression_table(res_r, rows=list(labels), labels=labels)
    out.csv(t_m, "table3_model.csv")
    out.csv(t_r, "table3_real.csv")
    out.csv(mod, "model_panel.csv", index=False)
    steps.update()

    # --- η sweep (one batched solve) ---------------------------------------------------------------
    bound = cl.eta_bound(P0.rho)
    etas = np.linspace(0.0, 0.95 * bound, args.n_eta)
    stacked = jax.vmap(lambda eta: cl.baseline_params_at_eta(P0, base.target_L, eta))(jnp.asarray(etas))
    panels, oks, (_, rs1, rs2, _) = jax.jit(jax.vmap(cl.simulate_periods, in_axes=(0, None)))(stacked, data)
    rows = []
    for j, eta in enumerate(etas):
        f = with_interactions(model_frame({k: v[j] for k, v in panels.items()}, adh))
        r = table3(f)
        rows.append({"eta": eta, "eta*(rho-1)": eta * (float(P0.rho) - 1), "converged": bool(oks[j]),
                     "ADH (1) imports": r["ADH (1)"].params["x"], "(3) imports": r["(3) 2SLS"].params["x"],
                     "(5) imports": r["(5) 2SLS"].params["x"], "(5) HHI x imports": r["(5) 2SLS"].params["hhi_x"],
                     "(5) HHI x imports SE": r["(5) 2SLS"].se["hhi_x"], "(2) HHI": r["(2) OLS"].params["hhi"],
                     "mean y 1990-2000": float(np.mean(f.loc[f.year == 1990, "y"])),
                     "sd y 1990-2000": float(np.std(f.loc[f.year == 1990, "y"]))})
    sweep = pd.DataFrame(rows)
    out.csv(sweep, "eta_sweep.csv", index=False)
    steps.update()

    # --- indirect inference -------------------------------------------------------------------------
    target = res_r["ADH (1)"]
    ii = None
    if not args.skip_ii:
        w, codes, n_cl = cl.adh_panel_weights(adh)
        ii = cl.estimate_eta(P0, base.target_L, float(target.params["x"]), float(target.se["x"]), data, w, codes,
                             n_cl, eta0=args.eta)
        # recovery check: the model's own coefficient at a known η as the target
        eta_true = 0.15
        b_true = float(cl.column1_coefficient(cl.baseline_params_at_eta(P0, base.target_L, eta_true), data, w,
                                              codes, n_cl)[0])
        ii_check = cl.estimate_eta(P0, base.target_L, b_true, float(target.se["x"]), data, w, codes, n_cl,
                                   eta0=args.eta)
    steps.update()

    # --- figure ---------------------------------------------------------------------------------------
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(sweep["eta"], sweep["ADH (1) imports"], "o-", label="model, ADH (1)")
    ax[0].plot(sweep["eta"], sweep["(5) imports"], "s-", label="model, (5)")
    ax[0].axhline(target.params["x"], color="k", ls="--", label=f"real ADH (1): {target.params['x']:.3f}")
    ax[0].set_xlabel("η (spillover)"); ax[0].set_ylabel("coefficient on imports per worker"); ax[0].legend()
    ax[1].plot(sweep["eta"], sweep["(5) HHI x imports"], "o-", label="model")
    ax[1].fill_between(sweep["eta"], sweep["(5) HHI x imports"] - 1.96 * sweep["(5) HHI x imports SE"],
                       sweep["(5) HHI x imports"] + 1.96 * sweep["(5) HHI x imports SE"], alpha=0.2)
    ax[1].axhline(res_r["(5) 2SLS"].params["hhi_x"], color="k", ls="--", label="real data")
    ax[1].axhline(0, color="grey", lw=0.5)
    ax[1].set_xlabel("η (spillover)"); ax[1].set_ylabel("HHI x imports, column (5)"); ax[1].legend()
    fig.tight_layout()
    out.figure(fig, "eta_sweep.png")
    plt.close(fig)
    steps.update()
    steps.close()

    # --- report -------------------------------------------------------------------------------------
    pr = P0
    hx = sweep["(5) HHI x imports"].to_numpy()
    hse = sweep["(5) HHI x imports SE"].to_numpy()
    rep = [
        "# Paper 000: the China shock through the clusters model (722 CZs x 397 industries)",
        "",
        f"Data: {d.source} employment ({d.employment.shape[0]} CZs x {d.employment.shape[1]} industries, full size, not"
        " coarsened); ADH industry import changes `g_importsUSA` (k$ of 2007 per industry worker; the 2000-2007 period"
        " in ADH's decadal-equivalent scaling) and the instrument's `g`.",
        f"Model: σ = {float(pr.sigma)}, ρ = {float(pr.rho)}, η = {float(pr.eta)} (bound 1/(ρ-1) = {bound:.3f}); calibrated"
        f" τ = {float(pr.tau):.4f}, L* = {float(pr.L_star)} (Foreign/Home expenditure), import penetration"
        f" {cl.IMPORT_PENETRATION} (targets and sources in `jaxecon.models.clusters.calibration`), k$ -> model units with"
        f" {cl.SHIPMENTS_PER_WORKER} k$ of shipments per worker.",
        "",
        "## Checks",
        f"- baseline: max |L_ic(model) - L_ic(data)| = {float(base.employment_error):.2e}; {e0.summary()}",
        f"- shocks: {r1.equilibrium.summary()} (1990-2000, {int(r1.iterations)} inversion steps); "
        f"{r2.equilibrium.summary()} (2000-2007, {int(r2.iterations)} steps)",
        f"- import changes reproduced by an independent re-solve from the inverted z*: max error / max |ΔM| = {err1:.2e}"
        f" (1990-2000), {err2:.2e} (2000-2007)",
        f"- industries whose import fall exceeds 95% of their model imports (clipped there): {int(n_clip[0])}"
        f" (1990-2000), {int(n_clip[1])} (2000-2007)",
        f"- Foreign wage w*: baseline {float(e0.w_star):.4f}, after 1990-2000 {float(e1.w_star):.4f}, after 2000-2007"
        f" {float(e2.w_star):.4f} (balanced trade: Foreign's productivity gains raise its wage, and Home's exports)",
        f"- Foreign productivity changes, mean Δln z*: {float(np.mean(np.asarray(r1.d_log_z_star))):.3f} (1990-2000),"
        f" {float(np.mean(np.asarray(r2.d_log_z_star))):.3f} (2000-2007)",
        "",
        "## Table 3 on model data (dependent: change in manufacturing employment / working-age population, pp)",
        "", markdown_table(t_m), "",
        "## The same regressions on the real ADH data", "", markdown_table(t_r), "",
        "Columns (2)-(5): the paper's specification (period fixed effects, unweighted, SEs clustered by state);",
        "'ADH (1)': ADH Table 3 column (1) (period dummy, population weights, clustered SEs without small-sample",
        "correction). Model period 1 starts from 1990 shares (the calibration), the real data's from 1980 shares.",
        "",
        "## The paper's question on model data: does HHI x imports turn negative as η rises?", "",
        markdown_table(sweep, floatfmt="{:.4f}", index=False), "",
        (f"Answer (this model): the HHI x imports coefficient goes from {hx[0]:.5f} (SE {hse[0]:.5f}) at η = 0 to"
         f" {hx[-1]:.5f} (SE {hse[-1]:.5f}) at η = {etas[-1]:.3f}: {'negative' if hx[-1] < 0 else 'not negative'} at the"
         f" top of the range but {'within' if abs(hx[-1]) < 1.96 * hse[-1] else 'outside'} 1.96 SE of zero, i.e. the"
         " model gives no economically meaningful interaction (the real CZ data: "
         f"{res_r['(5) 2SLS'].params['hhi_x']:.4f}; the paper's counties: -0.011, insignificant). The imports"
         " coefficient itself grows with η (column (1): "
         f"{sweep['ADH (1) imports'].iloc[0]:.3f} -> {sweep['ADH (1) imports'].iloc[-1]:.3f}). Why: in this model"
         " the spillover scales every CZ's loss in an industry by the same elasticity 1/(1-η(ρ-1)) (L_ic = b_ic"
         " A_i^(1/κ)), so concentration matters only through the industry mix, which the exposure measure already"
         " weights; an HHI interaction needs spillovers that differ across locations within an industry."),
        "",
    ]
    if ii is not None:
        lo, hi = sweep["ADH (1) imports"].iloc[0], sweep["ADH (1) imports"].iloc[-1]
        rep += ["## Indirect inference of η (gradient through the equilibria and the 2SLS, optax L-BFGS)", "",
                f"Target: real ADH column (1) coefficient {target.params['x']:.4f} (SE {target.se['x']:.4f}).",
                f"Estimate: η = {float(ii['eta']):.4f} (delta-method SE {float(ii['se']):.4f}); model coefficient at the"
                f" estimate {float(ii['coef']):.4f}, dβ/dη = {float(ii['slope']):.3f}; optimizer: {ii['result'].summary()};"
                f" {'AT THE EDGE of [0, 0.95/(ρ-1)]: NOT an interior estimate (converged = False)' if ii['at_edge'] else 'interior estimate'}.",
                f"On [0, 0.95/(ρ-1)] the model's column (1) coefficient runs from {lo:.3f} to {hi:.3f} (sweep above), so"
                f" {'the real coefficient is outside what the model attains: η is not identified by this target here' if not (min(lo, hi) <= target.params['x'] <= max(lo, hi)) else 'the target is attainable'}."
                " Reasons: Home labor is fixed and fully employed in tradables (no exit from manufacturing, the"
                " margin behind ADH's estimate), and the k$ -> model-units conversion (shipments per worker) is uncertain"
                " by a factor of about two to five (value added or wages per worker would scale the shocks up).",
                f"Recovery check (target = the model's own coefficient {b_true:.4f} at η = {eta_true}): η̂ ="
                f" {float(ii_check['eta']):.5f} (SE {float(ii_check['se']):.4f} with the real coefficient's SE);"
                f" {ii_check['result'].summary()}.", ""]
    rep += [f"Runtime {time.perf_counter() - t0:.0f} s (2-core shared CPU, incl. compilation)."]
    out.text("\n".join(rep))
    print("\n".join(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
