"""Benchmark: jaxecon's time iteration (jit + vmap over economies) vs a vectorized NumPy time iteration.

Both run the same sweep (two Newton passes with the regime switch in between, two Newton steps per
pass: jaxecon is called with ``newton_sweep_iter=2`` to match) at the default grid (40 x 15 bonds x
shares, 25 exogenous states = 15,000 nodes). Economies in a batch are heterogeneous (theta, beta and
machinery volatility differ). Timed: full solves to convergence (tol 1e-7). jaxecon is compiled
first (the same program: ``max_iter`` is traced). NumPy handles one economy at a time (its arrays
are vectorized over the nodes); its time per sweep is measured over a few sweeps and multiplied by
the sweeps each economy needs (the same algorithm needs the same sweeps; a full NumPy solve of one
default economy takes about 8 minutes).

Run: python benchmarks/bench_specialization.py [--sweeps 3] [--batches 1 8] [--grids 40x15]
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
    """Full solves of the batch to convergence (tol 1e-7): seconds, sweeps per economy, compile s.

    ``max_iter`` is traced, so one compiled program serves the compile call (one sweep) and the
    timed full solve; ``newton_sweep_iter=2`` matches the NumPy sweep.
    """
    st = stack(ps)
    f = jax.jit(jax.vmap(lambda p, m: solve_equilibrium(p, grid, max_iter=m, newton_sweep_iter=2),
                         in_axes=(0, None)))
    t0 = time.perf_counter()
    jax.block_until_ready(f(st, 1).c)
    compile_s = time.perf_counter() - t0
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = f(st, 1000)
        jax.block_until_ready(out.c)
        ts.append(time.perf_counter() - t0)
    if not bool(np.all(np.asarray(out.converged))):
        raise RuntimeError("a benchmark economy did not converge")
    return float(np.median(ts)), np.asarray(out.iterations), compile_s


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
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--grids", type=str, nargs="+", default=["40x15", "20x7"])
    args = ap.parse_args()
    rows = []
    for gs in args.grids:
        nb, nk = (int(x) for x in gs.split("x"))
        grid = Grid(n_b=nb, n_k=nk)
        np_sweep = time_numpy(economies(1)[0], grid, args.sweeps)
        for n in args.batches:
            jx, its, comp = time_jax(economies(n), grid, args.sweeps, reps=1)
            np_total = np_sweep * float(its.sum())  # the same algorithm needs the same sweeps
            rows.append((gs, n, np_total, jx, np_total / jx, comp, float(its.mean())))
            print(f"grid {gs} batch {n:3d}: NumPy {np_total:8.1f} s  jaxecon {jx:8.1f} s  "
                  f"ratio {np_total / jx:6.2f}x  (sweeps {its.mean():.0f}, compile {comp:.1f} s)", flush=True)
    lines = [
        "# Benchmark: specialization-model time iteration (issue 6)",
        "",
        f"Script `benchmarks/bench_specialization.py`; {machine_line()}; float64. "
        "Both columns were taken in the same process.",
        "",
        "Wall time of full solves to convergence (tol 1e-7) of a batch of heterogeneous economies "
        "(two-industry preset, 25 exogenous states). jaxecon: `jit(vmap(solve_equilibrium))` over the batch, "
        "compiled beforehand. NumPy: the same sweep vectorized over nodes, one economy at a time; its time "
        f"per sweep is measured over {args.sweeps} sweeps and multiplied by the sweeps each economy needs "
        "(the same algorithm takes the same sweeps; a full NumPy solve of one default economy takes about "
        "8 minutes, of a 64 batch about 9 hours).",
        "",
        "| grid (n_b x n_k) | economies | NumPy s (extrapolated) | jaxecon s | speed-up | mean sweeps | jaxecon compile s |",
        "|---|---|---|---|---|---|---|",
    ]
    for gs, n, a, b, r, c, sw in rows:
        lines.append(f"| {gs} | {n} | {a:.1f} | {b:.1f} | {r:.2f}x | {sw:.0f} | {c:.1f} |")
    record("specialization", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
