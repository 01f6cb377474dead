"""The main job's specialization step: simulate all 722 commuting zones of the embedded default from
their own initial machinery shares for 70 years, and relate initial specialization to simulated growth.

Call ``run(results_dir_name="specialization_simulation", n_czs=722, periods=70, seed=0)`` or
``python experiments/specialization_simulate_czs.py [--n-czs 722] [--periods 70] [--seed 0]``.
Paths follow the consistent allocation (b', k' from the policies, c from the budget).
"""

from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm import tqdm

import jaxecon  # noqa: F401
from jaxecon.models.specialization import ergodic_state, girf, simulate, solve_default
from jaxecon.numerics import simulate_indices
from jaxecon.reporting import ResultsDir, markdown_table

MACHINERY_SIC2 = 35


def initial_machinery_shares(n_czs: int, seed: int):
    """Machinery (SIC 35) share of each CZ's manufacturing employment in the embedded synthetic data."""
    from jaxecon.data import synthetic_czs

    cz = synthetic_czs(seed=seed, n=n_czs)
    emp = np.asarray(cz.employment, float)
    mach = emp[:, np.asarray(cz.sic2) == MACHINERY_SIC2].sum(1)
    tot = emp.sum(1)
    share = np.where(tot > 0, mach / np.maximum(tot, 1e-300), np.nan)
    return share, np.asarray(cz.czone)


def run(results_dir_name: str = "specialization_simulation", n_czs: int = 722, periods: int = 70, seed: int = 0):
    out = ResultsDir(results_dir_name)
    steps = tqdm(total=4 + periods // 10, desc="specialization: 722-CZ simulation", unit="step")
    sol = solve_default()
    steps.update(1)
    share, czone = initial_machinery_shares(n_czs, seed)
    kmin, kmax = float(sol.axes[1].points[0]), float(sol.axes[1].points[-1])
    missing = ~np.isfinite(share)
    k1 = np.clip(np.where(missing, np.nanmedian(share), share), kmin, kmax)
    b_erg = ergodic_state(sol, seed=seed, n=1000, periods=200, keep=100).b
    steps.update(1)
    b0 = jnp.full((n_czs,), b_erg)
    k0 = jnp.stack([jnp.asarray(k1), 1 - jnp.asarray(k1)], 1)
    # national industry shocks: one path of the exogenous state shared by all CZs
    s_path = simulate_indices(sol.params.chain, jax.random.key(seed), periods + 1)
    b, k = b0, k0
    chunks = []
    for t0 in range(0, periods, 10):
        t1 = min(periods + 1, t0 + 11)
        sp = jnp.broadcast_to(s_path[t0:t1], (n_czs, t1 - t0))
        pth = simulate(sol, b, k, s_paths=sp)
        chunks.append(jax.tree.map(lambda a: np.asarray(a)[:, : (t1 - t0 - 1) if t1 < periods + 1 else None], pth))
        b, k = pth.b[:, -1], pth.k[:, -1]
        steps.update(1)
    cat = lambda name: np.concatenate([getattr(c, name) for c in chunks], axis=1)
    Y, K, B, G, bind = cat("output"), cat("k"), cat("b"), cat("gini"), cat("binding")
    growth = np.log(Y[:, -1] / Y[:, 0]) / (Y.shape[1] - 1)
    g0 = G[:, 0]
    X = np.column_stack([np.ones(n_czs), g0])
    slope_g = np.linalg.lstsq(X, growth, rcond=None)[0][1]
    X2 = np.column_stack([np.ones(n_czs), k1])
    slope_m = np.linalg.lstsq(X2, growth, rcond=None)[0][1]
    corr = float(np.corrcoef(g0, growth)[0, 1])
    # IRF of the constrained economy at the average initial state (the main job's IRF report)
    irf = girf(sol, industry=0, b0=b_erg, k0=[float(np.mean(k1)), 1 - float(np.mean(k1))],
               key=jax.random.key(seed + 1), periods=30, n_draws=2000)
    steps.update(1)
    df = pd.DataFrame({"czone": czone, "machinery_share_0": k1, "gini_0": g0, "gini_T": G[:, -1],
                       "k1_T": K[:, -1, 0], "b_T": B[:, -1], "output_0": Y[:, 0], "output_T": Y[:, -1],
                       "annual_growth": growth, "share_binding": bind.mean(1)})
    out.csv(df, "cz_simulation.csv", index=False)
    out.csv(pd.DataFrame({k: irf[k] for k in ("b", "k", "c", "q", "output", "binding")}), "girf_constrained.csv")
    q = pd.qcut(df["gini_0"], 5, labels=False, duplicates="drop")
    quint = df.groupby(q).agg(gini_0=("gini_0", "mean"), machinery_share_0=("machinery_share_0", "mean"),
                              annual_growth=("annual_growth", "mean"), share_binding=("share_binding", "mean"))
    quint.index.name = "quintile of initial Gini"

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(11, 4.2))
    axs[0].scatter(g0, 100 * growth, s=6, alpha=0.5)
    xs = np.linspace(g0.min(), g0.max(), 10)
    axs[0].plot(xs, 100 * (np.linalg.lstsq(X, growth, rcond=None)[0][0] + slope_g * xs), "r-")
    axs[0].set_xlabel("initial specialization (Gini of capital shares)")
    axs[0].set_ylabel("simulated annual output growth, %")
    axs[0].set_title(f"{n_czs} CZs, {periods} years, common industry shocks")
    for v in ("c", "q", "k"):
        axs[1].plot(irf[v], label=v)
    axs[1].axhline(0, color="grey", lw=0.5)
    axs[1].set_title("GIRF to a −1 s.d. machinery shock (constrained)")
    axs[1].legend()
    out.figure(fig, "specialization_growth.png")
    steps.close()
    report = f"""# Specialization model — {n_czs} commuting zones simulated for {periods} years

Two-industry preset (θ = 0.02), default grid ({sol.summary()}).
Each CZ starts from its own machinery (SIC 35) share of manufacturing employment in the embedded synthetic
data (`jaxecon.data.synthetic_czs(seed={seed})`; {int(missing.sum())} CZs without manufacturing get the median,
shares clipped to the grid [{kmin}, {kmax}]) and the ergodic mean bond position b = {b_erg:.3f};
all CZs face one common path of national industry shocks (seed {seed}).

- Slope of annual output growth on the initial Gini: {slope_g:.5f} (correlation {corr:.3f}).
- Slope of annual output growth on the initial machinery share: {slope_m:.5f}.
- Share of CZ-years with a binding constraint: {100 * float(bind.mean()):.1f}%.
- Mean Gini of capital shares: {float(G[:, 0].mean()):.3f} at t = 0, {float(G[:, -1].mean()):.3f} at t = {periods}.

{markdown_table(quint, floatfmt="{:.4f}")}

In the model, more specialized CZs {'grow more slowly over ' + str(periods) + ' years, as in paper 002 (Figure 5: specialization lowers long-run growth)' if slope_g < 0 else 'grow FASTER over ' + str(periods) + ' years: the opposite of paper 002 (Figure 5: specialization lowers long-run growth)'}.
With stationary TFP shocks only (no industry trends) every CZ's capital shares converge toward the
diversified allocation (mean Gini {float(G[:, 0].mean()):.3f} → {float(G[:, -1].mean()):.3f}), so initially specialized CZs gain
output as they diversify; this convergence, not the paper's risk channel, drives the slope here. The
magnitude is not calibrated to the paper's.

Files: `cz_simulation.csv`, `girf_constrained.csv`, `specialization_growth.png`.
"""
    out.text(report)
    print(report)
    return df


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-czs", type=int, default=722, help="number of commuting zones simulated")
    ap.add_argument("--periods", type=int, default=70, help="years simulated")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic CZs and of the shocks")
    ap.add_argument("--results-dir-name", default="specialization_simulation", help="folder under results/")
    args = ap.parse_args(argv)
    run(results_dir_name=args.results_dir_name, n_czs=args.n_czs, periods=args.periods, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
