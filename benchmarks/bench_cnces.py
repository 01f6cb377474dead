"""Benchmark: CNCES shares + elasticity summaries of ∂ln π_c/∂ln T_c' over a batch of shocks.

For each shock Δ to ln t_ck the shares and the exact N x N location Jacobian J = ∂ln π_c/∂ln T_c' are
evaluated at the shocked parameters and summarized as the experiments and ``approximation_errors``
use them: π_c, the own elasticities diag(J), the cross column sums Σ_{c != c'} J_cc' (how a shock to
c' moves everyone else), the columns J[:, c0] of the largest and of the smallest location (Figures
2-3 to first order) and the product J v with a fixed direction v (a first-order counterfactual).

Methods (all exact; ``max diff`` is their largest gap on the first shocks):

* NumPy dense loop: the dense J per shock (log-sum-exp shares, analytic Jacobian vectorized within a
  shock), then the summaries; the baseline of the previous benchmark row.
* NumPy structured loop: the same O(N K) formulas as ``cnces.elasticity_operators`` in a NumPy loop.
* jaxecon dense autodiff / dense analytic: ``jit(vmap(...))`` of ``elasticities(which=("T_c",))``
  (N backward passes) / ``analytic_elasticities`` (the operator's ``as_matrix()``), then the summaries.
* jaxecon operator: ``jit(vmap(...))`` of ``elasticity_operators(p, d_log_t_ck=Δ).T_c`` (diagonal +
  rank K, at the shocked shifters, computed in logs like the NumPy loops) and its ``diagonal``,
  ``cross_column_sums``, ``column``, ``mv``; nothing N x N is built.

Dense methods run in chunks of ``--chunk`` shocks (1,000 x 722 x 722 doubles would be 4.2 GB), the
operator in one batch (its outputs are 5 N numbers per shock). JAX is compiled once before timing;
each time is the median of ``--repeats`` runs of the whole batch, the methods taking turns within
each repeat.

    python benchmarks/bench_cnces.py [--sizes 100 250 722] [--batch 1000] [--chunk 20] [--repeats 3] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# NumPy's BLAS on one thread (before NumPy loads it; override by setting the variable): on a shared
# 2-core machine its default two threads, competing with other processes, ran the dense loop 5x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp

import jaxecon  # noqa: F401
from jaxecon.models import cnces

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import cpu_ticks, machine_line, record, steal_share  # noqa: E402


def numpy_shares(lt, lk, lc, theta, rho):
    """π_c, π_ck, φ_ck (eqs 3-7 in logs) in NumPy."""
    la = (lt + theta * lc[:, None]) / (1 - rho)
    llam = logsumexp(la, axis=0)
    lpik = la - llam
    lb = lk + (1 - rho) * llam
    lom = lb - logsumexp(lb)
    lpc = logsumexp(lom + lpik, axis=1)
    return np.exp(lpc), np.exp(lpik), np.exp(lom + lpik - lpc[:, None])


def numpy_dense(lt, lk, lc, theta, rho, cols, v):
    """Dense J (exact analytic form, see cnces.elasticities), then the summaries."""
    pc, pik, phi = numpy_shares(lt, lk, lc, theta, rho)
    g = rho / (1 - rho)
    J = -pc[None, :] - g * phi @ pik.T                    # cross: -Σ_k π_c'k [ω_k + g φ_ck] (Σ_k ω_k π_c'k = π_c')
    J[np.diag_indices_from(J)] += (phi / (1 - rho)).sum(1)
    J *= theta
    d = np.diag(J)
    return pc, d, J.sum(0) - d, J[:, cols].T, J @ v


def numpy_structured(lt, lk, lc, theta, rho, cols, v):
    """The same summaries from J = diag(d) + U Vᵀ (U = -θ φ, V_c'k = π_c' + g π_c'k), O(N K)."""
    pc, pik, phi = numpy_shares(lt, lk, lc, theta, rho)
    g = rho / (1 - rho)
    dd = theta * (phi / (1 - rho)).sum(1)
    U, V = -theta * phi, pc[:, None] + g * pik
    diag = dd + (U * V).sum(1)
    colsum = dd + V @ U.sum(0) - diag
    C = U @ V[cols].T
    C[cols, np.arange(len(cols))] += dd[cols]
    return pc, diag, colsum, C.T, dd * v + U @ (V.T @ v)


def _shocked(p, d):
    return eqx.tree_at(lambda q: q.t_ck, p, p.t_ck * jnp.exp(d))


def make_fns(p, cols, v):
    cols_j = jnp.asarray(cols)

    def dense_summaries(J):
        d = jnp.diag(J)
        return d, J.sum(0) - d, J[:, cols_j].T, J @ v

    def one_autodiff(d):
        q = _shocked(p, d)
        return (cnces.shares(q).pi_c, *dense_summaries(cnces.elasticities(q, which=("T_c",)).T_c))

    def one_analytic(d):
        q = _shocked(p, d)
        return (cnces.shares(q).pi_c, *dense_summaries(cnces.analytic_elasticities(q, which=("T_c",)).T_c))

    def one_operator(d):
        op = cnces.elasticity_operators(p, d_log_t_ck=d).T_c       # at the shocked shifters, in logs
        return (cnces.counterfactual(p, d_log_t_ck=d).pi_c1, op.diagonal(), op.cross_column_sums(),
                jax.vmap(op.column)(cols_j), op.mv(v))

    return {name: jax.jit(jax.vmap(f)) for name, f in
            (("autodiff", one_autodiff), ("analytic", one_analytic), ("operator", one_operator))}


def time_batch(fn, shocks, chunk):
    t0 = time.perf_counter()
    for i in range(0, len(shocks), chunk):
        jax.block_until_ready(fn(shocks[i:i + chunk]))
    return time.perf_counter() - t0


def _loadavg() -> str:
    """The machine's 1-minute load average (Linux ``/proc/loadavg``), or '?'."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def max_gap(a, b):
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(a, b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 722])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-record", action="store_true", help="print the table without writing RESULTS.md")
    a = ap.parse_args()
    if a.batch % a.chunk:
        ap.error("--batch must be a multiple of --chunk (another chunk shape would compile inside the timing)")
    rng = np.random.default_rng(0)
    rows = []
    ticks0, load0 = cpu_ticks(), _loadavg()
    for n in a.sizes:
        p = cnces.default_params(n=n)
        s0 = cnces.shares(p)
        cols = np.array([int(np.argmax(s0.pi_c)), int(np.argmin(s0.pi_c))])
        v = rng.normal(0, 1.0, n)
        shocks = jnp.asarray(rng.normal(0, 0.05, (a.batch, n, 8)))
        sh = np.asarray(shocks)
        lt, lk, lc = (np.log(np.asarray(x)) for x in (p.t_ck, p.T_k, p.T_c))
        th, rho = float(p.theta), float(p.rho)
        fns = make_fns(p, cols, jnp.asarray(v))
        # correctness on the first shocks: every method against the NumPy dense baseline
        err = 0.0
        for i in range(2):
            ref = numpy_dense(lt + sh[i], lk, lc, th, rho, cols, v)
            err = max(err, max_gap(ref, numpy_structured(lt + sh[i], lk, lc, th, rho, cols, v)))
            for f in fns.values():
                err = max(err, max_gap(ref, [x[i] for x in f(shocks[:2])]))
        if not err < 1e-10:
            raise SystemExit(f"N={n}: the methods disagree by {err:.2e} (> 1e-10); not timing them")
        chunks = {"autodiff": a.chunk, "analytic": a.chunk, "operator": a.batch}
        for name, f in fns.items():
            jax.block_until_ready(f(shocks[:chunks[name]]))          # compile the timed shape

        def np_loop(fn):
            t0 = time.perf_counter()
            for d in sh:
                fn(lt + d, lk, lc, th, rho, cols, v)
            return time.perf_counter() - t0

        # the methods take turns within each repeat, so that a change in the machine's load hits all
        runs = {name: [] for name in (*fns, "np_dense", "np_struct")}
        for _ in range(a.repeats):
            for name, f in fns.items():
                runs[name].append(time_batch(f, shocks, chunks[name]))
            runs["np_dense"].append(np_loop(numpy_dense))
            runs["np_struct"].append(np_loop(numpy_structured))
        times = {name: float(np.median(r)) for name, r in runs.items()}
        rows.append((n, times, err))
        print(f"N={n}: " + "  ".join(f"{k} {t:.3f}s" for k, t in times.items()) + f"  max diff {err:.1e}", flush=True)
    steal, load1 = steal_share(ticks0, cpu_ticks()), _loadavg()
    lines = [
        "# CNCES benchmark: shares + elasticity summaries of ∂ln π_c/∂ln T_c' over a batch of shocks\n",
        f"Script `benchmarks/bench_cnces.py`; {machine_line()}; float64; CPU only (no GPU for this task). "
        f"Shared, busy 2-core machine: 1-minute load average {load0} at the start and {load1} at the end "
        f"of the run (other processes competing for the two cores), {100 * steal:.0f}% of the CPU time "
        f"stolen by other guests. NumPy's BLAS ran on {os.environ.get('OPENBLAS_NUM_THREADS', 'default')} "
        "thread(s) (`OPENBLAS_NUM_THREADS`; its default two threads, oversubscribed on this machine, ran "
        "the dense loop about 5x slower); JAX used its own thread pool.\n",
        f"K = 8 occupations; {a.batch} random shocks to ln t_ck per N (sd 0.05). Per shock: π_c and, at the "
        "shocked parameters, the own elasticities diag(J), the cross column sums, the columns of the "
        "largest and the smallest location and J v for a fixed v, where J = ∂ln π_c/∂ln T_c' (exact). "
        f"Dense methods build J (chunks of {a.chunk} shocks); the operator uses diag + rank K "
        "(`cnces.elasticity_operators`, one batch). JAX compiled once before timing; median of "
        f"{a.repeats} runs of the whole batch, the methods taking turns within each run. `max diff`: "
        "largest absolute gap between all methods' outputs on the first two shocks.\n",
        "| N | shocks | NumPy dense loop (s) | NumPy structured loop (s) | jaxecon dense autodiff (s) "
        "| jaxecon dense analytic (s) | jaxecon operator (s) | NumPy dense / operator "
        "| NumPy structured / operator | max diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, t, err in rows:
        lines.append(f"| {n} | {a.batch} | {t['np_dense']:.3f} | {t['np_struct']:.3f} | {t['autodiff']:.3f} "
                     f"| {t['analytic']:.3f} | {t['operator']:.3f} | {t['np_dense'] / t['operator']:.1f} "
                     f"| {t['np_struct'] / t['operator']:.1f} | {err:.1e} |")
    if len(rows) > 1:
        (n0, t0, _), (n1, t1, _) = rows[0], rows[-1]
        k = np.log(n1 / n0)
        lines.append(f"\nScaling from N = {n0} to {n1}: time grows as "
                     + ", ".join(f"N^{np.log(t1[m] / t0[m]) / k:.2f} ({lbl})" for m, lbl in
                                 (("np_dense", "NumPy dense"), ("autodiff", "dense autodiff"),
                                  ("analytic", "dense analytic"), ("operator", "operator")))
                     + ". The dense Jacobian has N² entries; the operator's summaries cost O(N K) per shock.")
    if not a.no_record:
        record("cnces", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
