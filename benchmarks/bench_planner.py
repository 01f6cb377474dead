"""Benchmark: the constrained-efficient planner's solve against the DE's on the same grid (1 and 64
economies), and the Figure 10 sweep (12 values of ξ) as one batched call against a loop of single
solves.

The planner starts from the DE (its default); its time excludes the DE's. Economies in the batch of
64 are heterogeneous (θ ∈ [0.015, 0.025]). Both programs are compiled first (``max_iter`` is traced,
so a one-sweep call compiles the program that the timed solve runs); times are the fastest of
``--reps`` runs (the machine is shared; the fastest run is the least disturbed). There is no NumPy
planner to compare with; the planner's correctness checks against NumPy live in tests/test_planner.py.
Elements of the heterogeneous batch that do not converge are listed with the table. With the cap on
the private multiplier (``solve_planner(h_slope=10)``, the default) 1 of the 64 does not: the regime of
one node next to the kink flips every other sweep, its planner multiplier μ swinging between ±1% of
u'(c) (a steep response that damping 0.8-0.9 does not break either); with ``h_slope=inf`` 6 do.

Run: python benchmarks/bench_planner.py [--grid 12x5] [--n-z 3] [--batch 64] [--reps 2] [--sweep-only]
Records its table in benchmarks/RESULTS.md (section ``planner``; with ``--sweep-only`` the Figure 10 sweep alone, section ``planner-fig10``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxecon  # noqa: E402,F401
from jaxecon.models.specialization import Grid, solve_equilibrium, solve_planner, two_industry_params  # noqa: E402
from jaxecon.numerics import map_batch, stack  # noqa: E402
from _record import machine_line, record  # noqa: E402


def fastest(fn, reps):
    best = np.inf
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        jax.block_until_ready(out.c)
        best = min(best, time.perf_counter() - t)
    return best, out


def _batch_rows(args, g, ps, rows) -> str:
    """The batch of heterogeneous economies: DE and planner, each one vmapped call; appends the row and
    returns the list of planner elements that did not converge."""
    P = stack(ps)
    de_b = jax.jit(jax.vmap(lambda p, m: solve_equilibrium(p, g, max_iter=m), in_axes=(0, None)))
    sp_b = jax.jit(jax.vmap(lambda p, d, m: solve_planner(p, g, init=d, max_iter=m), in_axes=(0, 0, None)))
    jax.block_until_ready(de_b(P, 1).c)
    t_deb, deb = fastest(lambda: de_b(P, 1000), 1)
    jax.block_until_ready(sp_b(P, deb, 1).c)
    t_spb, spb = fastest(lambda: sp_b(P, deb, 2000), 1)
    rows.append((f"{args.batch} economies (vmap)", t_deb, int(np.max(deb.iterations)), t_spb, int(np.max(spb.iterations)),
                 bool(np.all(spb.converged))))
    bad = np.flatnonzero(~np.asarray(spb.converged))
    return ", ".join(f"{j} (theta {float(P.theta[j]):.5f}, change {float(spb.max_change[j]):.1e})" for j in bad)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", default="12x5", help="bond x share points")
    ap.add_argument("--n-z", type=int, default=3, help="Tauchen nodes per industry")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--sweep-only", action="store_true",
                    help="only the Figure 10 sweep (recorded in its own section, planner-fig10)")
    args = ap.parse_args(argv)
    nb, nk = (int(v) for v in args.grid.split("x"))
    g = Grid(n_b=nb, n_k=nk, b_min=-0.35, b_max=0.8)
    rng = np.random.default_rng(0)
    ps = [two_industry_params(n_z=args.n_z, theta=float(t)) for t in rng.uniform(0.015, 0.025, args.batch)]
    p1 = ps[0]
    rows = []

    de_one = jax.jit(lambda p, m: solve_equilibrium(p, g, max_iter=m))
    sp_one = jax.jit(lambda p, d, m: solve_planner(p, g, init=d, max_iter=m))
    c0 = time.perf_counter()
    jax.block_until_ready(de_one(p1, 1).c)
    de_compile = time.perf_counter() - c0
    t_de, de1 = fastest(lambda: de_one(p1, 1000), args.reps)
    c0 = time.perf_counter()
    jax.block_until_ready(sp_one(p1, de1, 1).c)
    sp_compile = time.perf_counter() - c0
    t_sp, sp1 = fastest(lambda: sp_one(p1, de1, 2000), args.reps)
    rows.append(("1 economy", t_de, int(de1.iterations), t_sp, int(sp1.iterations), bool(sp1.converged)))

    sp_b = jax.jit(jax.vmap(lambda p, d, m: solve_planner(p, g, init=d, max_iter=m), in_axes=(0, 0, None)))
    if not args.sweep_only:
        not_converged = _batch_rows(args, g, ps, rows)

    # Figure 10 sweep: 12 values of xi_machinery, one batched planner call vs a loop of single solves
    xi_rest = float(p1.xi[1])
    px = [two_industry_params(n_z=args.n_z, xi=(float(x), xi_rest)) for x in np.linspace(0.0, 0.3, 12)]
    dex = [de_one(p, 1000) for p in px]
    t_loop = np.inf
    for _ in range(args.reps):
        t = time.perf_counter()
        outs = [sp_one(p, d, 2000) for p, d in zip(px, dex)]
        jax.block_until_ready([o.c for o in outs])
        t_loop = min(t_loop, time.perf_counter() - t)
    PX, DX = stack(px), stack(dex)
    jax.block_until_ready(sp_b(PX, DX, 1).c)
    t_bat, spx = fastest(lambda: sp_b(PX, DX, 2000), args.reps)
    same = max(float(np.max(np.abs(np.asarray(spx.c[j]) - np.asarray(o.c)))) for j, o in enumerate(outs))
    # the experiment's call: map_batch (lax.map on one CPU device, sharded over several; vmap on a GPU)
    sp_fn = lambda pd: solve_planner(pd[0], g, init=pd[1])  # noqa: E731
    jax.block_until_ready(map_batch(sp_fn, (PX, DX)).c)
    t_map, spm = fastest(lambda: map_batch(sp_fn, (PX, DX)), args.reps)
    same_map = max(float(np.max(np.abs(np.asarray(spm.c[j]) - np.asarray(o.c)))) for j, o in enumerate(outs))

    nodes = nb * nk * p1.n_states
    sweep = [
        "| Figure 10 sweep (12 values of xi, planner from the DE) | seconds |",
        "|---|---|",
        f"| loop of 12 single solves | {t_loop:.2f} |",
        f"| one batched (vmap) call | {t_bat:.2f} |",
        f"| batched speed-up | {t_loop / t_bat:.2f}x |",
        f"| max abs difference in c, batched vs loop | {same:.1e} |",
        f"| one map_batch call ({jax.default_backend()}, {len(jax.devices())} device(s)) | {t_map:.2f} |",
        f"| map_batch speed-up | {t_loop / t_map:.2f}x |",
        f"| max abs difference in c, map_batch vs loop | {same_map:.1e} |",
    ]
    if args.sweep_only:
        table = "\n".join([f"Grid {nb} x {nk} bonds x shares, {p1.n_states} exogenous states; {machine_line()}; "
                           f"fastest of {args.reps} runs after compiling.", ""] + sweep)
        print(table)
        record("planner-fig10", "### Figure 10 sweep: loop, vmap and map_batch (issue 15)\n\n" + table + "\n")
        return 0
    lines = [
        f"Grid {nb} x {nk} bonds x shares, {p1.n_states} exogenous states ({nodes} nodes per economy); "
        f"{machine_line()}. Shared, busy 2-core machine: read ratios, not absolute times.",
        "",
        "| economies | DE solve s | DE sweeps | planner solve s | planner sweeps | planner converged | planner / DE |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a, ia, b, ib, ok in rows:
        lines.append(f"| {name} | {a:.2f} | {ia} | {b:.2f} | {ib} | {ok} | {b / a:.1f}x |")
    lines += [
        "",
        f"Compile: DE {de_compile:.0f} s, planner {sp_compile:.0f} s (single economy).",
        "",
        f"Planner elements of the batch not converged: {not_converged or 'none'}.",
        "",
    ] + sweep
    table = "\n".join(lines)
    print(table)
    record("planner", "## Constrained-efficient planner (specialization, issue 15)\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
