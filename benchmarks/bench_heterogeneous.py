"""Benchmark: N heterogeneous CZ economies solved in one call against a loop of single solves
(issue 19 item 8).

The economies: the calibrated two-industry economy (``calibration/specialization_two_industry.json``)
with each CZ's rest-of-manufacturing volatility ``σ_c = 0.013 · sqrt(HHI_c)`` (2-digit SIC HHI of its
1980 non-SIC-35 manufacturing employment, :mod:`jaxecon.models.specialization.heterogeneous`; real
ADH files when present, else the synthetic CZs). With ``N`` below the number of CZs, ``N`` CZs evenly
spread over them (sorted by czone). Grid: the calibration grid ``Grid(n_b=12, n_k=15, b_min=-0.3)``.

Timed, after compiling each program once (``block_until_ready``), the median of ``--reps`` runs:

- batched: :func:`solve_heterogeneous` (on a CPU ``numerics.sharded_map`` with the CPU split into one
  device per core by ``numerics.use_cpu_cores``, each device solving its share one economy after
  another);
- loop: ``solve_equilibrium`` called once per economy from Python (one compiled program). The loop is
  run on ``--loop-n`` economies evenly spread over the N and its time is extrapolated linearly to N
  (time per economy × N), stated in the table.

Timed runs alternate (loop, batched, loop, ...) so both sides see the same shared, changing load.
Peak memory: the process's peak resident set (``ru_maxrss``, cumulative: compiler and data included)
before the solves, after compiling both sides and at the end.

Run: python benchmarks/bench_heterogeneous.py [--n 722] [--loop-n 16] [--reps 3]
Records its table in benchmarks/RESULTS.md (section ``heterogeneous-N``, one per N).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jaxecon.numerics import use_cpu_cores  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=722, help="economies (CZs with rest-of-manufacturing employment; "
                                                       "capped at their number)")
    ap.add_argument("--loop-n", type=int, default=16, help="economies of the timed loop of single solves")
    ap.add_argument("--reps", type=int, default=3, help="timed runs of each side (median reported)")
    ap.add_argument("--chunk", type=int, default=0,
                    help="solve the batch in chunks of this many economies (one compiled program for every chunk, "
                         "compiled on the first chunk; 0: the whole batch at once)")
    ap.add_argument("--devices", type=int, default=0, help="CPU devices (default: one per core)")
    args = ap.parse_args()
    n_dev = use_cpu_cores(args.devices or None)

    import jax
    import numpy as np

    import jaxecon  # noqa: F401
    from jaxecon.models.specialization import Grid, solve_equilibrium
    from jaxecon.models.specialization.calibration import load_calibration
    from jaxecon.models.specialization.heterogeneous import (heterogeneous_params, rest_of_manufacturing_hhi,
                                                             solve_heterogeneous)
    from _record import cpu_ticks, machine_line, record, steal_share

    root = Path(__file__).resolve().parents[1]
    base = load_calibration(root / "calibration" / "specialization_two_industry.json")
    if base is None:
        raise SystemExit("calibration/specialization_two_industry.json is missing")
    grid = Grid(n_b=12, n_k=15, b_min=-0.3)
    h = rest_of_manufacturing_hhi()
    sig_all = h.sigma(0.013)
    n = min(args.n, sig_all.size)
    pick = np.unique(np.round(np.linspace(0, sig_all.size - 1, n)).astype(int))
    n = pick.size
    sig = sig_all[pick]
    ps = heterogeneous_params(base, sig)
    m = min(args.loop_n, n)
    loop_pick = np.unique(np.round(np.linspace(0, n - 1, m)).astype(int))
    m = loop_pick.size
    singles = [jax.tree.map(lambda x, j=j: x[j], ps) for j in loop_pick]
    print(f"{n} economies ({h.source} {h.year}, sigma_c {sig.min():.4f}-{sig.max():.4f}), {n_dev} CPU devices; "
          f"loop on {m}", flush=True)
    mem0 = peak_mb()
    k_start = cpu_ticks()

    chunk = args.chunk or None
    # compile both sides first (with chunks: on the first chunk, the same program)
    t0 = time.perf_counter()
    warm = ps if chunk is None else jax.tree.map(lambda x: x[:chunk], ps)
    jax.block_until_ready(solve_heterogeneous(warm, grid, chunk=chunk, report=None).c)
    first_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(solve_equilibrium(singles[0], grid).c)
    first_l = time.perf_counter() - t0
    mem_c = peak_mb()

    def loop_run():
        k0 = cpu_ticks()
        t0 = time.perf_counter()
        outs = []
        for p in singles:
            o = solve_equilibrium(p, grid)
            jax.block_until_ready(o.c)
            outs.append(o)
        tl.append(time.perf_counter() - t0)
        steal_l.append(steal_share(k0, cpu_ticks()))
        print(f"  loop run ({m} economies): {tl[-1]:.1f} s", flush=True)
        return outs

    # timed runs alternate, a loop run before and after every batched run, so that both sides see the
    # same (shared, changing) load
    tb, steal_b, tl, steal_l = [], [], [], []
    outs = loop_run()
    for _ in range(args.reps):
        k0 = cpu_ticks()
        t0 = time.perf_counter()
        sol = solve_heterogeneous(ps, grid, chunk=chunk, report=None)
        jax.block_until_ready(sol.c)
        tb.append(time.perf_counter() - t0)
        steal_b.append(steal_share(k0, cpu_ticks()))
        print(f"  batched run: {tb[-1]:.1f} s", flush=True)
        outs = loop_run()
    mem_end = peak_mb()
    conv = np.asarray(sol.converged)
    czs = np.asarray(h.czone[h.ok])[pick]
    from jaxecon.models.specialization import RESULTS

    failed = [(int(czs[j]), float(sig[j]), RESULTS[jax.tree.map(lambda x, j=j: x[j], sol.result)])
              for j in np.nonzero(~conv)[0]]
    for f in failed:
        print(f"  not converged: czone {f[0]}, sigma_c {f[1]:.4f}: {f[2]}", flush=True)
    diff = max(float(np.max(np.abs(np.asarray(o.c) - np.asarray(sol.c[j])) / (1 + np.abs(np.asarray(o.c)))))
               for o, j in zip(outs, loop_pick))
    same_conv = all(bool(o.converged) == bool(conv[j]) for o, j in zip(outs, loop_pick))

    t_b = float(np.median(tb))
    t_l_sub = float(np.median(tl))
    t_l = t_l_sub / m * n
    import os

    load = os.getloadavg()[0]
    its = np.asarray(sol.iterations)
    lines = [
        "# Heterogeneous CZs: N economies in one call vs a loop of single solves (issue 19 item 8)",
        "",
        f"Script `benchmarks/bench_heterogeneous.py`; {machine_line()}; float64; load average at the end "
        f"{load:.1f} on {os.cpu_count()} cores (the machine is shared: read the ratio, not absolute times); "
        f"{100 * steal_share(k_start, cpu_ticks()):.0f}% of the machine's CPU time stolen during the run.",
        "",
        f"Economies: the calibrated two-industry economy with each CZ's rest-of-manufacturing volatility "
        f"σ_c = 0.013·sqrt(HHI_c) (2-digit SIC HHI of its {h.year} non-SIC-35 employment, {h.source} data), "
        f"{n} CZs evenly spread over the {sig_all.size} with rest-of-manufacturing employment "
        f"(σ_c {sig.min():.4f} to {sig.max():.4f}, median {np.median(sig):.4f}); grid 12 x 15, b_min = -0.3, "
        f"25 exogenous states. Batched: `solve_heterogeneous` (`numerics.sharded_map` over {n_dev} CPU devices, "
        f"`numerics.use_cpu_cores`)"
        f"{f', in chunks of {chunk} economies (one compiled program' + (', the last chunk padded)' if n % chunk else ')') if chunk else ''}. Loop: `solve_equilibrium` once per economy from Python, run on {m} of "
        f"the {n} economies (evenly spread) and extrapolated linearly to {n} (time per economy × {n}). "
        f"Times: after one compiling call each, the median of {args.reps} batched runs and of the {args.reps + 1} loop runs "
        "that bracket them (loop, batched, loop, ...: both sides under the same shared load). ",
        "",
        f"| what | seconds | per economy s | ratio to batched | first call (compile + solve{f' of one chunk' if chunk else ''}) s |",
        "|---|---|---|---|---|",
        f"| batched, {n} economies in one call{f' (chunks of {chunk})' if chunk else ''} | {t_b:.1f} | {t_b / n:.3f} | 1.00 | {first_b:.1f} |",
        f"| loop of single solves, {m} economies timed | {t_l_sub:.1f} | {t_l_sub / m:.3f} | | {first_l:.1f} |",
        f"| loop, extrapolated to {n} | {t_l:.1f} | {t_l / n:.3f} | {t_l / t_b:.2f}x | |",
        "",
        f"Converged: {int(conv.sum())} of {n} (sweeps {its.min()}-{its.max()}, mean {its.mean():.1f}); the loop's "
        f"{m} economies {'agree' if same_conv else 'DISAGREE'} on convergence and differ from the batched solution "
        f"by at most {diff:.1e} (relative, c). Peak RSS of the process: {mem0:.0f} MB before the solves, "
        f"{mem_c:.0f} MB after compiling both sides, {mem_end:.0f} MB at the end. Steal during the timed "
        f"runs: batched {100 * np.nanmedian(steal_b):.0f}%, loop {100 * np.nanmedian(steal_l):.0f}%.",
    ]
    if failed:
        lines += ["", "Not converged: " + "; ".join(f"czone {c} (σ_c {s_:.4f}): {r}" for c, s_, r in failed) + "."]
    record(f"heterogeneous-{n}", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
