"""Accuracy of the specialization model's time iteration: Euler-equation errors as the grid refines.

Solves the two-industry preset on a sequence of grids (bond points × capital-share points, all with
the 25 exogenous states of the preset; bond points concentrated near the borrowing region by the
default power spacing): a refinement path that halves both spacings twice (the order of
convergence) and grids of other shapes (which axis matters), and reports mean and max log10 Euler errors of the consistent allocation
(b', k' interpolated, c from the budget; DESIGN.md "Accuracy: the consistent allocation") at 20,000
random off-grid states for each (b and k uniform on the interior of the grid box, s uniform over all
exogenous states), with a uniform-spacing grid of the default size for comparison. Bonds are
interpolated net of output (``w = b'/R − Y``, the default of ``allocation_at``); the same errors with
``b'`` interpolated directly are listed beside them. Writes
``results/specialization_accuracy/`` (report.md, accuracy.csv, accuracy.png).

Usage::

    python experiments/specialization_accuracy.py [--n 20000]
"""

from __future__ import annotations

import argparse
import sys
import time

import jax
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tqdm import tqdm  # noqa: E402

import jaxecon  # noqa: E402,F401
from jaxecon.models.specialization import (Grid, allocation_at, euler_errors, solve_equilibrium,  # noqa: E402
                                           two_industry_params)
from jaxecon.reporting import ResultsDir, markdown_table  # noqa: E402

# mean log10 errors (bond / capital) of an independent plain bilinear NumPy solve (b' interpolated
# directly): 40 x 15 as issue 14 quotes it on the consistent allocation; 80 x 25 from issue 6
REFERENCE = {(40, 15): (-3.25, -2.71), (80, 25): (-3.66, -3.12)}
# the refinement path (each step halves both spacings) gives the order of convergence; the other rows
# show which axis matters (at a fixed number of nodes, share points buy more accuracy than bond points)
PATH = [("10 x 15", Grid(n_b=10, n_k=15)), ("20 x 30", Grid(n_b=20, n_k=30)), ("40 x 60", Grid(n_b=40, n_k=60))]
OTHERS = [
    ("20 x 7", Grid(n_b=20, n_k=7)),
    ("30 x 11", Grid(n_b=30, n_k=11)),
    ("40 x 15 (default)", Grid()),
    ("80 x 15", Grid(n_b=80, n_k=15)),
    ("30 x 20", Grid(n_b=30, n_k=20)),
    ("20 x 30 uniform b", Grid(n_b=20, n_k=30, b_curvature=1.0)),
    ("60 x 21", Grid(n_b=60, n_k=21)),
    ("80 x 25", Grid(n_b=80, n_k=25)),
]
# the reference for the policies' own errors: finer on both axes, and its bond points (another
# spacing) coincide with no interior point of the grids above
REFERENCE_GRID = Grid(n_b=61, n_k=45, b_curvature=1.3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="number of random off-grid states")
    args = ap.parse_args(argv)
    out = ResultsDir("specialization_accuracy")
    p = two_industry_params()
    ref_sol = solve_equilibrium(p, REFERENCE_GRID)
    if not bool(ref_sol.converged):
        raise RuntimeError(f"the reference grid did not converge: {ref_sol.summary()}")
    rows = []
    for name, g in tqdm(PATH + OTHERS, desc="grids", unit="grid"):
        t0 = time.perf_counter()
        sol = solve_equilibrium(p, g)
        jax.block_until_ready(sol.c)
        secs = time.perf_counter() - t0
        e = euler_errors(sol, jax.random.key(0), args.n)
        direct = euler_errors(sol, jax.random.key(0), args.n, bonds="direct")
        ref = REFERENCE.get((g.n_b, g.n_k), (float("nan"), float("nan")))
        # the policies' own errors: distance of the consistent allocation to the reference solve's
        b, k, s = e["states"]
        here, there = allocation_at(sol, b, k, s), allocation_at(ref_sol, b, k, s)
        dist = {key: float(np.median(np.abs(np.asarray(here[key]) - np.asarray(there[key]))
                                     / (1.0 + np.abs(np.asarray(there[key]))))) for key in ("c", "q", "b_next")}
        rows.append({
            "grid": name, "nodes": g.n_b * g.n_k * int(p.P.shape[0]), "converged": bool(sol.converged),
            "result": sol.message, "sweeps": int(sol.iterations),
            "bond mean log10": e["bond"]["mean_log10"], "bond max log10": e["bond"]["max_log10"],
            "capital mean log10": e["capital"]["mean_log10"], "capital max log10": e["capital"]["max_log10"],
            "bond mean, b' direct": direct["bond"]["mean_log10"],
            "capital mean, b' direct": direct["capital"]["mean_log10"],
            "interpolated-c budget gap mean log10": e["budget_interpolated_c"]["mean_log10"],
            "c vs reference (median rel)": dist["c"], "q vs reference": dist["q"], "b' vs reference": dist["b_next"],
            "reference bond mean": ref[0], "reference capital mean": ref[1], "solve s (incl. compile)": secs,
        })
        tqdm.write(f"{name}: bond {rows[-1]['bond mean log10']:.2f}, capital {rows[-1]['capital mean log10']:.2f}")
    df = pd.DataFrame(rows).set_index("grid")
    out.csv(df, "accuracy.csv")

    on_path = df.loc[[name for name, _ in PATH]]
    ok = on_path[on_path["converged"]]
    failed = df[~df["converged"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ok["nodes"], ok["bond mean log10"], "o-", label="bond Euler (mean), refinement path")
    ax.plot(ok["nodes"], ok["capital mean log10"], "s-", label="capital Euler (mean), refinement path")
    rest = df.drop(index=on_path.index)
    rest = rest[rest["converged"]]
    ax.plot(rest["nodes"], rest["bond mean log10"], "o", mfc="none", color="C0", label="bond, other shapes")
    ax.plot(rest["nodes"], rest["capital mean log10"], "s", mfc="none", color="C1", label="capital, other shapes")
    ax.axhline(-3.5, color="C0", lw=0.6, ls=":")
    ax.axhline(-3.0, color="C1", lw=0.6, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("grid nodes (b × k × s)")
    ax.set_ylabel("mean log10 Euler error")
    ax.set_title("Euler errors of the consistent allocation off the grid")
    ax.legend(fontsize=7)
    out.figure(fig, "accuracy.png")
    # order of convergence in the grid spacing h (each path step halves h on both axes)
    order = {col: [(ok[col].iloc[i] - ok[col].iloc[i + 1]) / np.log10(2.0) for i in range(len(ok) - 1)]
             for col in ("bond mean log10", "capital mean log10")}
    order_text = "; ".join(f"{col.split()[0]} " + ", ".join(f"{v:.2f}" for v in vals) for col, vals in order.items())
    d = df.loc["40 x 15 (default)"]
    alt = df.loc["20 x 30"]
    u = df.loc["20 x 30 uniform b"]
    gain_b, gain_k = u["bond mean log10"] - alt["bond mean log10"], u["capital mean log10"] - alt["capital mean log10"]
    placement = ("make no measurable difference (within 0.1 log10 points)" if max(abs(gain_b), abs(gain_k)) < 0.1 else
                 f"change the mean errors by {gain_b:+.2f} (bond) and {gain_k:+.2f} (capital) log10 points")
    meets = d["bond mean log10"] <= -3.5 and d["capital mean log10"] <= -3.0
    fail_lines = "".join(
        f"\n- **{name} did not converge** ({r['result']} after {int(r['sweeps'])} sweeps; "
        "errors of its last iterate shown for the record). This is an open robustness problem of the "
        "time iteration on fine grids." for name, r in failed.iterrows())
    shown = df.copy()
    for col in ("c vs reference (median rel)", "q vs reference", "b' vs reference"):
        shown[col] = [f"{v:.1e}" for v in df[col]]
    report = f"""# Specialization model: accuracy of the time iteration as the grid refines

Two-industry preset (θ = 0.02), {args.n:,} random off-grid states (b and k_1 uniform on the interior of the
grid box, one cell in from each edge; s uniform over all exogenous states), the consistent allocation today
and tomorrow (b', k' interpolated, c from the budget, q and η interpolated). Errors: bond Euler
|1 − u'⁻¹(βR E[u'(c')] + η)/c|, capital Euler |RHS/LHS − 1| (every industry), in log10. For information,
the budget gap of the separately interpolated c table (not part of the allocation) is listed too.

{markdown_table(shown, floatfmt="{:.2f}")}

- Every grid converged: **{'yes' if failed.empty else 'no'}**.{fail_lines}
- Order of convergence along the refinement path ({", ".join(ok.index)}), in powers of the grid spacing h
  per halving: {order_text} (2 is the order of multilinear interpolation).
- On the default 40 × 15 grid the mean log10 errors are {d['bond mean log10']:.2f} (bond) and
  {d['capital mean log10']:.2f} (capital) against the targets −3.5 and −3.0: **{'met' if meets else 'NOT met'}**.
  With b' interpolated directly instead of net of output they are {d["bond mean, b' direct"]:.2f} /
  {d["capital mean, b' direct"]:.2f}: output Y(k) bends sharply in the shares near the edges of the simplex and
  b' inherits that curvature from the budget, w = b'/R − Y does not (the independent bilinear NumPy solve,
  b' direct: −3.25 / −2.71 at that size, −3.66 / −3.12 at 80 × 25).
- 20 × 30 (as many nodes) gives {alt['bond mean log10']:.2f} / {alt['capital mean log10']:.2f}, but the policies
  themselves are farther from a {REFERENCE_GRID.n_b} × {REFERENCE_GRID.n_k} solve (other bond spacing): median relative
  distance of c, q, b' {alt['c vs reference (median rel)']:.1e}, {alt['q vs reference']:.1e}, {alt["b' vs reference"]:.1e}
  against {d['c vs reference (median rel)']:.1e}, {d['q vs reference']:.1e}, {d["b' vs reference"]:.1e} on the default: the default keeps
  its bond points.
- Which axis matters: from 40 × 15, doubling the bond points (80 × 15) gives {df.loc['80 x 15', 'bond mean log10']:.2f} /
  {df.loc['80 x 15', 'capital mean log10']:.2f}, while trading half the bond points for twice the share points
  (20 × 30) gives {alt['bond mean log10']:.2f} / {alt['capital mean log10']:.2f}: bond points buy bond-Euler accuracy,
  share points capital-Euler accuracy.
- Bond-point placement: uniformly spaced bonds on the 20 × 30 grid give {u['bond mean log10']:.2f} / {u['capital mean log10']:.2f};
  against the default power spacing (curvature {Grid().b_curvature}) they {placement}.

![accuracy](accuracy.png)
"""
    out.text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
