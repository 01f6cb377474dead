"""Paper 002, Figure 7: impulse responses to an adverse one-standard-deviation shock to one industry,
with and without the collateral constraint (two-industry economy: machinery vs rest of manufacturing).

Also defines the shared helpers the other specialization experiments import
(``solve_default``, ``solve_unconstrained``, ``ergodic_state``).

Run: ``python experiments/specialization_figure7.py`` -> results/specialization_figure7/
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import jaxecon  # noqa: E402,F401
from jaxecon.models.specialization import (  # noqa: E402
    EquilibriumSolution, Grid, euler_errors, girf, simulate, solve_equilibrium, two_industry_params,
)
from jaxecon.reporting import ResultsDir, markdown_table  # noqa: E402

DEFAULT_GRID = Grid()
# Without the friction, impatient agents (beta R < 1) would borrow toward the natural debt limit;
# the counterfactual keeps the same grid and imposes the ad hoc limit b' >= b_min (Grid.debt_limit):
# a borrowing limit that does not move with the price of capital, so no fire-sale feedback.
UNCONSTRAINED_GRID = Grid(debt_limit=True)
CACHE = Path(os.environ.get("JAXECON_RESULTS", "results")) / "specialization_cache"
# bump when the solver's discretization changes, so that no stale solution is read back
# (3: expectation tables; 4: struct-of-arrays Newton with an analytic Jacobian, two steps per sweep;
# both 2026-11-22)
SOLVER_TAG = "v4"


def _cached(name: str, make) -> EquilibriumSolution:
    path = CACHE / f"{name}_{SOLVER_TAG}.npz"
    if path.exists():
        try:
            return EquilibriumSolution.from_npz(path)
        except Exception:  # stale or partial cache: recompute
            pass
    t0 = time.time()
    sol = make()
    jax.block_until_ready(sol.c)
    print(f"[{name}] {sol.summary()}\n[{name}] solved in {time.time() - t0:.1f} s", flush=True)
    if bool(sol.converged):  # never cache a failed solve
        CACHE.mkdir(parents=True, exist_ok=True)
        sol.to_npz(path)
    return sol


def solve_default() -> EquilibriumSolution:
    """The two-industry preset (θ = 0.02) on the default grid (cached in results/specialization_cache)."""
    return _cached("two_industry_default", lambda: solve_equilibrium(two_industry_params(), DEFAULT_GRID))


def solve_unconstrained() -> EquilibriumSolution:
    """The same economy with θ = inf (the paper's counterfactual without the financial friction).

    Two Newton steps per node and sweep: with the default one step, nodes near the debt limit keep
    the iteration from settling until the stall guard switches to full solves (65 sweeps); with two
    it converges in 40 sweeps to the same solution."""
    return _cached("two_industry_theta_inf",
                   lambda: solve_equilibrium(two_industry_params(theta=float("inf")), UNCONSTRAINED_GRID,
                                             newton_sweep_iter=2))


def ergodic_state(sol: EquilibriumSolution, seed: int = 0, n: int = 2000, periods: int = 300):
    """Mean (b, k) of the stationary distribution, from n paths of `periods` periods."""
    k0 = jnp.tile(jnp.array([[0.5, 0.5]]), (n, 1))
    paths = simulate(sol, jnp.zeros(n), k0, key=jax.random.key(seed), periods=periods)
    b = np.asarray(paths.b[:, -100:])
    k = np.asarray(paths.k[:, -100:, 0])
    return float(b.mean()), float(k.mean()), paths


def main():
    out = ResultsDir("specialization_figure7")
    con = solve_default()
    unc = solve_unconstrained()
    b0, k10, paths = ergodic_state(con)
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

Constrained solve: {con.summary() if int(con.iterations) >= 0 else '(loaded from cache)'}

Unconstrained solve: {unc.summary() if int(unc.iterations) >= 0 else '(loaded from cache)'}

Stationary distribution of the constrained economy (2000 paths, last 100 of 300 years): mean b = {b0:.3f},
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
