"""Benchmark: jaxecon's time iteration (jit + vmap over economies) vs a vectorized NumPy time iteration.

Both run the same sweep (two Newton passes with the regime switch in between, two Newton steps per
pass: jaxecon is called with ``newton_sweep_iter=2`` to match) at the default grid (40 x 15 bonds x shares, 25 exogenous states = 15,000 nodes). Economies in
a batch are heterogeneous (theta, beta and machinery volatility differ). NumPy handles one economy
at a time (its arrays are already vectorized over the 15,000 nodes), so its batch time is the batch
size times its single-economy time. JAX: compiled once, then the median of repeated runs with
block_until_ready(). Timed: the marginal cost of a sweep, (time of S2 sweeps − time of S1 sweeps) /
(S2 − S1) from the same initial guess with tol = 0 (the same compiled program; the difference
removes jaxecon's final full-Newton sweep, which the NumPy baseline does not make).

Run: python benchmarks/bench_specialization.py [--sweeps 4] [--batches 1 8 64]
Records its table in benchmarks/RESULTS.md (section ``specialization``).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxecon  # noqa: E402,F401
from jaxecon.models.specialization import Grid, solve_equilibrium, two_industry_params  # noqa: E402
from jaxecon.numerics import stack  # noqa: E402
from numpy_time_iteration import NumpyTimeIteration  # noqa: E402
from _record import machine_line, record  # noqa: E402


def economies(n):
    rng = np.random.default_rng(0)
    return [two_industry_params(theta=float(rng.uniform(0.015, 0.025)), beta=float(rng.uniform(0.945, 0.955)),
                                sigma=(float(rng.uniform(0.02, 0.027)), 0.013)) for _ in range(n)]


def time_jax(ps, grid, sweeps, reps):
    """Marginal seconds per sweep for the whole batch, and the compile time."""
    st = stack(ps)
    f = jax.jit(jax.vmap(lambda p, m: solve_equilibrium(p, grid, max_iter=m, tol=0.0, newton_sweep_iter=2),
                         in_axes=(0, None)))
    t0 = time.perf_counter()
    jax.block_until_ready(f(st, 1).c)
    compile_s = time.perf_counter() - t0

    def run(m):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            out = f(st, m)
            jax.block_until_ready(out.c)
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts)), int(np.asarray(out.iterations).max())

    t1, n1 = run(1)
    t2, n2 = run(1 + sweeps)
    return (t2 - t1) / (n2 - n1), compile_s


def time_numpy(p, grid, sweeps):
    from jaxecon.models.specialization.grid import bond_axis, share_axis

    ti = NumpyTimeIteration(p, np.asarray(bond_axis(grid).points), np.asarray(share_axis(grid).points))
    t0 = time.perf_counter()
    for _ in range(sweeps):
        ti.sweep()
    return (time.perf_counter() - t0) / sweeps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweeps", type=int, default=4)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64])
    ap.add_argument("--grids", type=str, nargs="+", default=["40x15", "20x7"])
    args = ap.parse_args()
    rows = []
    for gs in args.grids:
        nb, nk = (int(x) for x in gs.split("x"))
        grid = Grid(n_b=nb, n_k=nk)
        np_sweep = time_numpy(economies(1)[0], grid, args.sweeps)
        for n in args.batches:
            jx, comp = time_jax(economies(n), grid, args.sweeps, reps=3 if n < 64 else 1)
            rows.append((gs, n, np_sweep * n, jx, np_sweep * n / jx, comp))
            print(f"grid {gs} batch {n:3d}: NumPy {np_sweep * n:8.3f} s/sweep  jaxecon {jx:8.3f} s/sweep  "
                  f"ratio {np_sweep * n / jx:6.2f}x  (compile {comp:.1f} s)", flush=True)
    lines = [
        "# Benchmark: specialization-model time iteration (issue 6)",
        "",
        f"Script `benchmarks/bench_specialization.py`; {machine_line()}; float64. "
        "Both columns were taken in the same process.",
        "",
        f"Marginal wall time per sweep ({args.sweeps} extra sweeps, medians of repeated runs), heterogeneous economies, "
        "two-industry preset, 25 exogenous states. NumPy: vectorized over nodes, one economy at a time "
        "(batch time = batch × single time). jaxecon: `jit(vmap(solve_equilibrium))` over the batch.",
        "",
        "| grid (n_b x n_k) | economies | NumPy s/sweep | jaxecon s/sweep | speed-up | jaxecon compile s |",
        "|---|---|---|---|---|---|",
    ]
    for gs, n, a, b, r, c in rows:
        lines.append(f"| {gs} | {n} | {a:.3f} | {b:.3f} | {r:.2f}x | {c:.1f} |")
    record("specialization", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
