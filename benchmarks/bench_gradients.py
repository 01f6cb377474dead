"""Benchmark: the cost of one gradient through a solve (forward solve + implicit adjoint) against
the forward solve alone, and the engine against the solver it replaced.

Rows:
- specialization, default grid (40 x 15 x 25 = 15,000 nodes): ``solve_equilibrium`` alone; the
  ergodic distribution and moments on top; ``jax.value_and_grad`` of the ergodic mean debt/output
  with respect to every float leaf of Params (forward solve + GMRES adjoint of the time iteration +
  adjoint of the stationary distribution).
- Bianchi (2011), 800 bond points: DE solve alone and ``value_and_grad`` of mean b' wrt Params.
- with ``--old-tree PATH`` (a checkout of the commit before the engine, e.g. made with
  ``git worktree add PATH 26606f7``): the same default solve by that tree's solver, in a subprocess
  run right after the engine's.

Every JAX function is compiled first; times are the median of ``--reps`` runs, with
``block_until_ready``. Run: python benchmarks/bench_gradients.py [--reps 3] [--old-tree PATH]
Records its table in benchmarks/RESULTS.md (section ``gradients``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxecon  # noqa: E402,F401
from jaxecon.models import overborrowing as ob  # noqa: E402
from jaxecon.models.specialization import (Grid, ergodic_moments, solve_equilibrium,  # noqa: E402
                                           two_industry_params)
from _record import machine_line, record  # noqa: E402

_OLD_SOLVE = """
import sys, time, statistics
sys.path.insert(0, sys.argv[1])
import jax, jaxecon
from jaxecon.models.specialization import Grid, solve_equilibrium, two_industry_params
p, g = two_industry_params(), Grid()
jax.block_until_ready(solve_equilibrium(p, g).c)
ts = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter(); s = solve_equilibrium(p, g); jax.block_until_ready(s.c); ts.append(time.perf_counter() - t0)
print(statistics.median(ts), int(s.iterations))
"""


def timed(fn, reps):
    """(median seconds, compile seconds, last output) of ``fn()`` after one compiling call."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    compile_s = time.perf_counter() - t0
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), compile_s, out


def specialization_rows(reps):
    p, g = two_industry_params(), Grid()
    solve = jax.jit(lambda p_: solve_equilibrium(p_, g))
    moments = jax.jit(lambda p_: ergodic_moments(solve_equilibrium(p_, g)).debt_output)
    grad = jax.jit(jax.value_and_grad(lambda p_: ergodic_moments(solve_equilibrium(p_, g)).debt_output))
    t_solve, c_solve, sol = timed(lambda: solve(p), reps)
    if not bool(sol.converged):
        raise RuntimeError(f"the benchmark economy did not converge: {sol.summary()}")
    t_mom, c_mom, _ = timed(lambda: moments(p), reps)
    t_grad, c_grad, (v, gp) = timed(lambda: grad(p), reps)
    leaves = [np.asarray(a) for a in jax.tree.leaves(gp)]
    if not all(np.all(np.isfinite(a)) for a in leaves):
        raise RuntimeError("the gradient has non-finite entries")
    return [(f"specialization 40x15x25 (default grid): solve by the engine, {int(sol.iterations)} sweeps", t_solve,
             c_solve, 1.0),
            ("  + ergodic distribution and moments", t_mom, c_mom, t_mom / t_solve),
            ("  value_and_grad of ergodic debt/output (all Params leaves)", t_grad, c_grad, t_grad / t_solve)], sol


def bianchi_rows(reps):
    try:
        chain = ob.load_income_process()
    except FileNotFoundError:
        chain = ob.synthetic_income_chain()
    p, g = ob.bianchi2011_params(chain=chain), ob.bond_grid(800)
    solve = jax.jit(lambda p_: ob.solve_equilibrium(p_, g))
    grad = jax.jit(jax.value_and_grad(lambda p_: jnp.mean(ob.solve_equilibrium(p_, g).b_next)))
    t_solve, c_solve, sol = timed(lambda: solve(p), reps)
    t_grad, c_grad, _ = timed(lambda: grad(p), reps)
    return [("Bianchi (2011) DE, 800 points: solve", t_solve, c_solve, 1.0),
            ("  value_and_grad of mean b' (all Params leaves)", t_grad, c_grad, t_grad / t_solve)]


def old_tree_row(path, reps, new_time):
    """The same default solve by the solver before the engine (``path``: a checkout of it)."""
    out = subprocess.run([sys.executable, "-c", _OLD_SOLVE, str(path), str(reps)], capture_output=True, text=True,
                         check=True)
    t_old, sweeps = out.stdout.split()
    return (f"  the same solve by the pre-engine solver ({path.name}), {sweeps} sweeps", float(t_old), float("nan"),
            float(t_old) / new_time)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--old-tree", type=Path, default=None)
    args = ap.parse_args()
    rows, sol = specialization_rows(args.reps)
    if args.old_tree is not None:
        rows.insert(1, old_tree_row(args.old_tree, args.reps, rows[0][1]))
    rows += bianchi_rows(args.reps)
    load = os.getloadavg()[0]
    lines = ["## Gradients through solves (implicit adjoint) and the time-iteration engine", "",
             machine_line() + f"; median of {args.reps} runs after compiling; default specialization solve: "
             f"{int(sol.iterations)} sweeps; load average at the end {load:.1f} on {os.cpu_count()} cores", "",
             "| what | seconds | compile s | ratio to the row's solve |", "|---|---|---|---|"]
    for name, t, c, r in rows:
        lines.append(f"| {name} | {t:.3f} | {c:.1f} | {r:.2f} |")
    text = "\n".join(lines)
    print(text)
    record("gradients", text)


if __name__ == "__main__":
    main()
