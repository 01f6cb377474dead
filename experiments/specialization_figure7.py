"""Paper 002, Figure 7: impulse responses to an adverse one-standard-deviation shock to one industry,
with and without the collateral constraint (two-industry economy: machinery vs rest of manufacturing).

The two solutions come from the library's cache (``jaxecon.models.specialization.solve_default`` and
``solve_unconstrained``); paths follow the consistent allocation (c from the budget).

Run: ``python experiments/specialization_figure7.py`` -> results/specialization_figure7/
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

import jaxecon  # noqa: F401
from jaxecon.models.specialization import ergodic_state, girf, solve_default, solve_unconstrained
from jaxecon.models.specialization.cache import DEFAULT_GRID, UNCONSTRAINED_GRID
from jaxecon.reporting import ResultsDir, markdown_table


def main():
    out = ResultsDir("specialization_figure7")
    con = solve_default()
    unc = solve_unconstrained()
    erg = ergodic_state(con, seed=0, n=2000, periods=300, keep=100)
    b0, k10, paths = erg.b, float(erg.k[0]), erg.paths
    Y = np.asarray(paths.output[:, -100:])
    debt_gdp = float(np.mean(np.asarray(paths.b[:, -100:]) / Y))
    bind_share = float(np.asarray(paths.binding[:, -100:]).mean())
    q_range = (float(np.asarray(paths.q).min()), float(np.asarray(paths.q).max()))
    key = jax.random.key(7)
    T = 30
    res = {}
    for name, sol in (("constrained", con), ("unconstrained", unc)):
        res[name] = girf(sol, industry=0, b0=b0, k0=[k10, 1 - k10], key=key, periods=T, n_draws=4000)
    table = pd.DataFrame({"t": np.arange(T)})
    for name in res:
        for v in ("b", "k", "c", "q", "output", "binding"):
            table[f"{v}_{name}"] = res[name][v]
    out.csv(table, "girf.csv", index=False)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 2, figsize=(10, 7))
    labels = {"b": "bonds b", "k": "capital share of the shocked industry", "c": "consumption c", "q": "price of capital q"}
    for ax, v in zip(axs.ravel(), ("b", "k", "c", "q")):
        for name, style in (("constrained", "-"), ("unconstrained", "--")):
            ax.plot(np.arange(T), res[name][v], style, label=name if name == "constrained" else "no financial friction (θ = ∞)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(labels[v])
        ax.set_xlabel("years after the shock")
    axs[0, 0].legend()
    fig.suptitle("GIRF to a −1 s.d. shock to machinery TFP (shocked − baseline, mean of 4000 draws)")
    fig.tight_layout()
    out.figure(fig, "figure7.png")

    rc, ru = res["constrained"], res["unconstrained"]
    peak = lambda x: float(np.min(x))
    cum_k = lambda r: float(np.sum(r["k"][1:11]))
    rows = pd.DataFrame({
        "constrained": [peak(rc["c"]), peak(rc["q"]), cum_k(rc), float(rc["k"][5]), float(rc["b"][5]), float(rc["binding"][1])],
        "no friction": [peak(ru["c"]), peak(ru["q"]), cum_k(ru), float(ru["k"][5]), float(ru["b"][5]), float(ru["binding"][1])],
    }, index=["min Δc", "min Δq", "Σ Δk_1 (t=1..10)", "Δk_1 at t=5", "Δb at t=5", "Δ P(binding) at t=1"])
    amp_c = peak(rc["c"]) / peak(ru["c"]) if peak(ru["c"]) < 0 else float("nan")
    amp_q = peak(rc["q"]) / peak(ru["q"]) if peak(ru["q"]) < 0 else float("nan")
    sluggish = abs(cum_k(rc)) / abs(cum_k(ru)) if cum_k(ru) != 0 else float("nan")
    hump = int(np.argmin(rc["c"])) > 0 or int(np.argmin(rc["k"])) > 1
    claims = [
        f"- Amplification (constrained falls more): consumption trough ratio constrained/unconstrained = {amp_c:.2f}, "
        f"price trough ratio = {amp_q:.2f} -> **{'holds' if amp_c > 1 and amp_q > 1 else 'does not hold'}**.",
        f"- Sluggish reallocation (constrained moves capital out of the shocked industry less): "
        f"|Σ Δk_1| constrained / unconstrained over 10 years = {sluggish:.2f} -> "
        f"**{'holds' if sluggish < 0.9 else ('does not hold: reallocation is nearly identical' if sluggish < 1.1 else 'does not hold')}** "
        "(paper: reallocation almost halved; here the collateral constraint amplifies the fall in "
        "consumption and q but barely changes how fast capital leaves the shocked industry).",
        f"- Propagation (hump / persistence): consumption trough at t = {int(np.argmin(rc['c']))}, capital-share trough at "
        f"t = {int(np.argmin(rc['k']))} -> **{'holds' if hump else 'does not hold'}**.",
    ]
    report = f"""# Specialization model — Figure 7: impulse responses with and without the collateral constraint

Two-industry economy (machinery = industry 1 vs rest of manufacturing), preset `two_industry_params()`
(θ = 0.02, see DESIGN.md for why not 0.35), default grid {DEFAULT_GRID.n_b}×{DEFAULT_GRID.n_k}×25.
The counterfactual without the financial friction is θ = ∞ on the same grid with the ad hoc debt
limit b' ≥ {UNCONSTRAINED_GRID.b_min} (`Grid(debt_limit=True)`): impatient agents (βR < 1) would
otherwise borrow toward the natural debt limit; this limit does not move with the price of capital,
so the comparison isolates the collateral-price (fire-sale) channel.

Constrained solve: {con.summary()}

Unconstrained solve: {unc.summary()}

Stationary distribution of the constrained economy (2000 paths, last 100 of 300 years; consistent
allocation: b' and k' from the policies, c from the budget): mean b = {b0:.3f},
mean k_1 = {k10:.3f}, mean b / output = {debt_gdp:.3f}, constraint binds in {100 * bind_share:.1f}% of periods,
q in [{q_range[0]:.2f}, {q_range[1]:.2f}].

Generalized impulse responses (Koop-Pesaran-Potter): shocked minus baseline paths, common random numbers,
4000 draws, both economies starting from the constrained economy's ergodic mean state; the shock lowers
log z̄_machinery by one unconditional standard deviation (a lottery between its median node and the node below).

{markdown_table(rows, floatfmt="{:.4f}")}

## Does the paper's claim hold?

{chr(10).join(claims)}

Files: `figure7.png`, `girf.csv`.
"""
    out.text(report)
    print(report)


if __name__ == "__main__":
    main()
