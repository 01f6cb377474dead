"""Paper 001 (Rossi-Hansberg, Sarte & Schwartzman 2021), §IV: the planner's sectoral hubs.

An economy with the paper's Table 1 externalities (τ^R by occupation, τ^L, by industry group; zero in
the non-traded sectors), its competitive equilibrium and the planner's allocation (subsidies Δ,
t_L = 1/(1+ν), equal-gain transfers R^k). Reports: welfare gains; CNR shares by city size (paper:
"cognitive hubs" concentrate CNR workers in larger cities); the number of cities whose output share
of each industry group rises; the Figure 1 trade-flow statistics for HE and PS (pairs with
π_mn > 5%, with π^opt_mn − π_mn above 0.25% (HE) / 1% (PS)); the Figure 2 price decomposition
Δln P^j_n = Δln x^j_n + ϑ^(−1) Δln π^j_nn by city size (the exact EK identity; the paper prints
the second term with a minus sign, but its text — more trade, lower π_nn, lower prices — is this
sign). Writes ``results/hubs_planner/`` (report.md, CSV tables, PNG figures, equilibrium.npz and
planner.npz with the keys of ``Equilibrium.to_npz``).

Economy: ``--economy adh`` (default; falls back to synthetic when the ADH files are absent) or ``synthetic`` (Zipf sizes, cities in the unit square)
(722 commuting zones with their 1990 populations and manufacturing shares from the ADH files, the
rest synthetic; see ``jaxecon.models.hubs.adh_economy``).

    python experiments/hubs_planner.py [--economy synthetic|adh] [--n-cities 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MPLBACKEND", "Agg")

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import jaxecon  # noqa: F401
from jaxecon.models import hubs
from jaxecon.reporting import ResultsDir, markdown_table

TRADED = ("HE", "PS", "M", "ATT")


def size_bins(Ln: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Quintile (or ``n_bins``) of city size, 1 = smallest."""
    ranks = np.argsort(np.argsort(Ln))
    return 1 + (ranks * n_bins) // len(Ln)


def group_sum(arr: np.ndarray, groups, g) -> np.ndarray:
    idx = [j for j, gg in enumerate(groups) if gg == g]
    return arr[idx].sum(0)


def build(args):
    key = jax.random.key(args.seed)
    if args.economy == "adh":
        from jaxecon.data import load_adh_if_present
        adh = load_adh_if_present(otherwise="ADH files not found: falling back to the synthetic economy.")
        if adh is not None:
            econ = hubs.adh_economy(adh, key, externalities=1.0)
            return econ.params, econ.info, econ.note
    p, info = hubs.synthetic_economy(key, args.n_cities, 22, externalities=1.0)
    return p, info, (f"Synthetic economy: {args.n_cities} cities with Zipf sizes in the unit square, 22 sectors "
                     "(`hubs.synthetic_economy`).")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--economy", choices=("synthetic", "adh"), default="adh")
    ap.add_argument("--n-cities", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = ResultsDir("hubs_planner")
    t0 = time.time()
    p, info, note = build(args)
    groups = info["groups"]
    N = p.n_cities
    print(f"economy: N={N}, J={p.n_sectors}; solving equilibrium and planner ...", flush=True)
    sol = jax.jit(lambda q: hubs.solve_planner(q))(p)
    eq, pl = sol.laissez_faire, sol.allocation
    if not (bool(eq.converged) and bool(pl.converged)):
        raise SystemExit(f"not converged: equilibrium {bool(eq.converged)} (residual {float(eq.max_residual):.1e}), "
                         f"planner {bool(pl.converged)} (residual {float(pl.max_residual):.1e})")
    solve_s = time.time() - t0
    eq.to_npz(out.path / "equilibrium.npz")
    pl.to_npz(out.path / "planner.npz")
    res_eq = {k: float(v) for k, v in hubs.market_residuals(eq).items()}
    res_pl = {k: float(v) for k, v in hubs.market_residuals(pl).items()}

    Ln = np.asarray(eq.L.sum(0))
    bins = size_bins(Ln)
    cnr_eq = np.asarray(eq.L[0] / eq.L.sum(0))
    cnr_pl = np.asarray(pl.L[0] / pl.L.sum(0))
    Ln_pl = np.asarray(pl.L.sum(0))
    rate = np.asarray(sol.Delta / pl.w)
    by_size = pd.DataFrame({
        "cities": pd.Series(bins).value_counts().sort_index(),
        "mean population (eq)": pd.Series(Ln).groupby(bins).mean(),
        "CNR share (eq)": pd.Series(cnr_eq).groupby(bins).mean(),
        "CNR share (planner)": pd.Series(cnr_pl).groupby(bins).mean(),
        "population change (%)": 100 * (pd.Series(Ln_pl).groupby(bins).sum() / pd.Series(Ln).groupby(bins).sum() - 1),
        "subsidy rate CNR Δ/w": pd.Series(rate[0]).groupby(bins).mean(),
        "subsidy rate non-CNR Δ/w": pd.Series(rate[1]).groupby(bins).mean(),
    })
    by_size.index.name = "size quintile"
    out.csv(by_size, "cnr_by_size.csv")

    R_eq, R_pl = np.asarray(eq.R), np.asarray(pl.R)
    rises = {}
    for g in TRADED:
        se = group_sum(R_eq, groups, g); sp = group_sum(R_pl, groups, g)
        share_eq, share_pl = se / se.sum(), sp / sp.sum()
        up = share_pl > share_eq
        rises[g] = {"cities whose output share rises": int(up.sum()), "of": N,
                    "mean size of those (eq pop.)": float(Ln[up].mean()) if up.any() else np.nan,
                    "mean size of the others": float(Ln[~up].mean()) if (~up).any() else np.nan,
                    "output share of top-5% cities (eq)": float(np.sort(share_eq)[-max(1, N // 20):].sum()),
                    "output share of top-5% cities (planner)": float(np.sort(share_pl)[-max(1, N // 20):].sum())}
    rises = pd.DataFrame(rises).T
    out.csv(rises, "output_rises.csv")

    # Figure 1: trade flows of the first HE and PS sectors
    pi_eq, pi_pl = np.asarray(eq.pi), np.asarray(pl.pi)
    off = ~np.eye(N, dtype=bool)
    flows, fig1 = {}, plt.figure(figsize=(11, 10))
    coords = np.asarray(info["coords"])
    for col, (g, thr) in enumerate((("HE", 0.0025), ("PS", 0.01))):
        j = groups.index(g)
        a, b = pi_eq[j], pi_pl[j]
        big_eq, big_pl, more = (a > 0.05) & off, (b > 0.05) & off, ((b - a) > thr) & off
        flows[f"{g} ({info['names'][j]})"] = {
            "pairs with π_mn > 5% (eq)": int(big_eq.sum()), "pairs with π_mn > 5% (planner)": int(big_pl.sum()),
            "threshold of π^opt − π (%)": 100 * thr, "pairs with π^opt − π above it": int(more.sum()),
            "mean own share π_nn (eq)": float(np.diag(a).mean()), "mean own share π_nn (planner)": float(np.diag(b).mean()),
            "import share 1 − π_nn of top-10 cities (eq)": float(1 - np.diag(a)[np.argsort(Ln)[-10:]].mean()),
            "import share 1 − π_nn of top-10 cities (planner)": float(1 - np.diag(b)[np.argsort(Ln)[-10:]].mean())}
        for row, (mask, title) in enumerate(((big_eq, f"{g}: π_mn > 5% (equilibrium)"),
                                             (more, f"{g}: π^opt_mn − π_mn > {100 * thr:g}%"))):
            ax = fig1.add_subplot(2, 2, 2 * row + col + 1)
            m, n = np.nonzero(mask)
            for mm, nn in zip(m, n):
                ax.plot(coords[[mm, nn], 0], coords[[mm, nn], 1], color="tab:blue", lw=0.4, alpha=0.5)
            ax.scatter(coords[:, 0], coords[:, 1], s=4 + 400 * Ln / Ln.max(), c=cnr_eq, cmap="viridis", zorder=3)
            ax.set_title(f"{title} ({mask.sum()} pairs)", fontsize=9)
            ax.set_xticks([]); ax.set_yticks([])
    fig1.suptitle("Figure 1 analogue: trade flows (dot size: population, colour: CNR share)")
    out.figure(fig1, "figure1_trade_flows.png")
    flows = pd.DataFrame(flows).T
    out.csv(flows, "trade_flows.csv")

    # Figure 2: Δ ln P = Δ ln x + Δ ln π_nn / ϑ, by group (revenue-weighted over the group's sectors) and size
    th = float(p.vartheta)
    dlP = np.log(np.asarray(pl.P) / np.asarray(eq.P))
    dlx = np.log(np.asarray(pl.x) / np.asarray(eq.x))
    dlpi = np.log(np.diagonal(pi_pl, axis1=1, axis2=2) / np.diagonal(pi_eq, axis1=1, axis2=2)) / th
    identity_gap = float(np.max(np.abs(dlP - dlx - dlpi)))
    rows = []
    for g in TRADED:
        idx = [j for j, gg in enumerate(groups) if gg == g]
        wgt = R_eq[idx] / R_eq[idx].sum(0)
        for q in range(1, 6):
            sel = bins == q
            rows.append({"group": g, "size quintile": q,
                         "Δ ln P": float((wgt * dlP[idx]).sum(0)[sel].mean()),
                         "Δ ln x (unit cost)": float((wgt * dlx[idx]).sum(0)[sel].mean()),
                         "Δ ln π_nn / ϑ (market access)": float((wgt * dlpi[idx]).sum(0)[sel].mean())})
    decomp = pd.DataFrame(rows)
    out.csv(decomp, "price_decomposition.csv", index=False)
    fig2, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharey=True)
    for ax, g in zip(axes, TRADED):
        d = decomp[decomp["group"] == g]
        x = d["size quintile"].to_numpy()
        ax.bar(x - 0.2, d["Δ ln x (unit cost)"], 0.4, label="Δ ln x")
        ax.bar(x + 0.2, d["Δ ln π_nn / ϑ (market access)"], 0.4, label="Δ ln π_nn/ϑ")
        ax.plot(x, d["Δ ln P"], "k.-", label="Δ ln P")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(g); ax.set_xlabel("city size quintile")
    axes[0].legend(fontsize=8)
    fig2.suptitle("Figure 2 analogue: planner vs equilibrium price changes")
    out.figure(fig2, "figure2_price_decomposition.png")

    fig3, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter(np.log(Ln), cnr_eq, s=6, label="equilibrium")
    ax.scatter(np.log(Ln), cnr_pl, s=6, label="planner")
    ax.set_xlabel("ln population (equilibrium)"); ax.set_ylabel("CNR share"); ax.legend()
    out.figure(fig3, "cnr_share_by_size.png")

    gain = np.asarray(sol.welfare_gain)
    welfare = pd.DataFrame({"welfare gain (%)": 100 * gain, "transfer R^k": np.asarray(sol.R),
                            "mean subsidy rate Δ/w": rate.mean(1), "population": np.asarray(p.Lk)},
                           index=["CNR", "non-CNR"])
    out.csv(welfare, "welfare.csv")
    residuals = pd.DataFrame({"equilibrium": res_eq, "planner": res_pl})
    out.csv(residuals, "market_residuals.csv")
    report = f"""# Hubs model: the planner's reallocation (paper 001 §IV)

{note} Externalities: paper 001 Table 1 (τ^R CNR, τ^R non-CNR, τ^L by group; 0 in non-traded sectors).
ν = {float(p.nu):g}, ϑ = {th:g}, ε = {float(p.epsilon):g}; t_L = 1/(1+ν) = {float(sol.t_L):.3f}.
Equilibrium: {int(eq.iterations)} iterations, residual {float(eq.max_residual):.1e}; planner: {int(pl.iterations)}
iterations, residual {float(pl.max_residual):.1e}; largest market-clearing residual {max(res_eq.values()):.1e} /
{max(res_pl.values()):.1e}. Solve time (both, with compilation) {solve_s:.1f} s.

## Welfare
{markdown_table(welfare, "{:.4g}")}

## CNR shares by city size
{markdown_table(by_size, "{:.4g}")}

## Cities whose output share rises, by industry group
{markdown_table(rises, "{:.4g}")}

## Trade flows (Figure 1 statistics)
{markdown_table(flows, "{:.4g}")}

![trade flows](figure1_trade_flows.png)

## Price decomposition (Figure 2): Δln P = Δln x + Δln π_nn / ϑ
Largest gap of the identity over all sectors and cities: {identity_gap:.1e}.

{markdown_table(decomp.set_index(["group", "size quintile"]), "{:.4f}")}

![price decomposition](figure2_price_decomposition.png) ![CNR shares](cnr_share_by_size.png)

Files: `equilibrium.npz`, `planner.npz` (keys of `Equilibrium.to_npz`), the CSV tables above.
"""
    out.text(report)
    print(f"wrote {out.path} in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
