"""Benchmark the main job's g-sweep (issue 19): the trend economies for every g of the sweep solved in
ONE batched call (`trade_off.solve_batch`: `numerics.sharded_map` over the CPU cores) against a loop
of single `solve_equilibrium` calls, and the simulation of all 722 CZs on every national path for
every g (one `jit(vmap)` call) against a Python loop over g of the same jitted single-economy
simulation.

    python benchmarks/bench_trade_off.py [--reps 3] [--paths 10]

Times: one compiling call each, then the median of ``reps`` runs with `block_until_ready`. Records
its section in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jaxecon.numerics import use_cpu_cores  # noqa: E402

N_DEV = use_cpu_cores()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxecon  # noqa: E402, F401
from _record import machine_line, record  # noqa: E402
from jaxecon.models.specialization import Grid, initial_allocation, solve_equilibrium  # noqa: E402
from jaxecon.models.specialization import trade_off as to  # noqa: E402
from jaxecon.models.specialization.initial import cz_machinery_shares  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(f, reps):
    out = f()
    jax.block_until_ready(out)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(f())
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--paths", type=int, default=10)
    a = ap.parse_args(argv)
    rec = json.loads((ROOT / "calibration" / "specialization_two_industry.json").read_text())["parameters"]
    values = {"theta": 0.02, "beta": rec["beta"], "dmu": rec["mu_1_minus_mu_2"]}
    grid = Grid(n_b=12, n_k=15, b_min=-0.3)
    gs = to.DEFAULT_GS
    ecos = [to.trend_economy(values, g) for g in gs]
    P = to.stack_params([e.params for e in ecos])
    t0 = time.perf_counter()
    sols = to.solve_batch(P, grid, max_iter=150)
    jax.block_until_ready(sols.c)
    first_batch = time.perf_counter() - t0
    t_batch, sols = timed(lambda: to.solve_batch(P, grid, max_iter=150), a.reps)
    single = jax.jit(lambda p: solve_equilibrium(p, grid, max_iter=150))
    t0 = time.perf_counter()
    jax.block_until_ready(single(ecos[0].params).c)
    first_single = time.perf_counter() - t0
    t_loop, loop = timed(lambda: [single(e.params) for e in ecos], a.reps)
    diff = max(float(np.max(np.abs(np.asarray(sols.c[i]) - np.asarray(loop[i].c)) / np.asarray(loop[i].c)))
               for i in range(len(gs)))

    e0 = ecos[gs.index(0.0)]
    cz = cz_machinery_shares(report=lambda s: None)
    ia = initial_allocation(cz.share, e0.params, grid, state=e0.state(12), outside="flag")
    n = ia.k.shape[0]
    b0 = jnp.full((n,), -0.08)
    w = jnp.asarray((np.asarray(ia.status) == 0).astype(float))
    share0 = jnp.asarray(np.where(np.isfinite(cz.share), cz.share, 0.0))
    paths = to.national_shock_paths(e0, jax.random.key(0), 70, a.paths)
    one = jax.jit(lambda s, g: to.trade_off_slopes(s, e0.levels, e0.n_rest, g, b0, ia.k, share0, paths, w).slope_gini)
    sweep = jax.jit(jax.vmap(lambda s, g: to.trade_off_slopes(s, e0.levels, e0.n_rest, g, b0, ia.k, share0, paths,
                                                              w).slope_gini))
    garr = jnp.asarray(gs)
    t_sim_batch, sb = timed(lambda: sweep(sols, garr), a.reps)
    t_sim_loop, sl = timed(lambda: [one(jax.tree.map(lambda x: x[i], sols), garr[i]) for i in range(len(gs))], a.reps)
    sim_diff = float(np.max(np.abs(np.asarray(sb) - np.stack([np.asarray(x) for x in sl]))))

    conv = np.asarray(sols.converged)
    load = os.getloadavg()[0]
    rows = [
        f"| {len(gs)} trend economies, one batched call (`solve_batch`, sharded over {N_DEV} devices) | {t_batch:.2f} | 1.00 | {first_batch:.1f} |",
        f"| loop of single jitted `solve_equilibrium` | {t_loop:.2f} | {t_loop / t_batch:.2f}x | {first_single:.1f} |",
        f"| simulate {n} CZs x {a.paths} paths x 70 periods for every g, one `jit(vmap)` call | {t_sim_batch:.2f} | 1.00 | |",
        f"| loop over g of the jitted single-economy simulation | {t_sim_loop:.2f} | {t_sim_loop / t_sim_batch:.2f}x | |",
    ]
    md = "\n".join([
        "## The main job's g-sweep: batched vs loop (issue 19)", "",
        f"Script `benchmarks/bench_trade_off.py`; {machine_line()}; float64; load average at the end {load:.1f} on "
        f"{os.cpu_count()} cores (shared machine: read the ratios). Economies: the calibrated two-industry economy at "
        f"θ = 0.02 with a relative machinery trend g in {list(gs)} (4 trend levels, 100 exogenous states), grid 12 x 15, "
        f"b_min = −0.3, at most 150 sweeps. Median of {a.reps} runs after one compiling call.", "",
        "| what | seconds | ratio to batched | first call s |", "|---|---|---|---|", *rows, "",
        f"Converged: {int(conv.sum())} of {conv.size}; batched and loop solutions differ by at most {diff:.1e} "
        f"(relative, c); batched and loop slopes by at most {sim_diff:.1e}.",
    ])
    print(md)
    record("trade-off-g-sweep", md)


if __name__ == "__main__":
    main(sys.argv[1:])
