"""Benchmark: CNCES shares + the exact N x N Jacobian ∂ln π_c/∂ln T_c' over a batch of shocks.

jaxecon: ``jit(vmap(shares + elasticities(which=("T_c",))))`` (reverse-mode autodiff, N backward
passes per shock) and the same with the exact analytic Jacobian; baseline: a NumPy loop over shocks
(log-sum-exp shares and the exact analytic Jacobian, vectorized within a shock). The batch is processed
in chunks (outputs of 1,000 × 722 × 722 doubles would be 4.2 GB); each chunk's results are
materialized (block_until_ready) and discarded. JAX is compiled once (first chunk, not timed);
each time is the median of ``--repeats`` runs of the whole batch.

    python benchmarks/bench_cnces.py [--sizes 100 250 722] [--batch 1000] [--chunk 20] [--repeats 3]
"""

from __future__ import annotations

import sys
import argparse
import datetime
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp

import jaxecon  # noqa: F401
from jaxecon.models import cnces

DATE = "2026-11-22"
MACHINE = "2-core Intel Xeon, 24 GiB, CPU only"


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import record  # noqa: E402

def numpy_shares_jacobian(lt, lk, lc, theta, rho):
    """Shares (eqs 3-7 in logs) and the exact ∂ln π_c/∂ln T_c' (see cnces.elasticities) in NumPy."""
    la = (lt + theta * lc[:, None]) / (1 - rho)
    llam = logsumexp(la, axis=0)
    lpik = la - llam
    lb = lk + (1 - rho) * llam
    lom = lb - logsumexp(lb)
    lpc = logsumexp(lom + lpik, axis=1)
    pik, om = np.exp(lpik), np.exp(lom)
    phi = np.exp(lom + lpik - lpc[:, None])
    g = rho / (1 - rho)
    J = -(om * pik).sum(1)[None, :] - g * phi @ pik.T           # cross: -Σ_k π_c'k [ω_k + g φ_ck]
    J[np.diag_indices_from(J)] += (phi / (1 - rho)).sum(1)
    return np.exp(lpc), theta * J


def make_fns(p):
    def one_autodiff(d):
        q = _with_t(p, p.t_ck * jnp.exp(d))
        return cnces.shares(q).pi_c, cnces.elasticities(q, which=("T_c",)).T_c

    def one_analytic(d):
        q = _with_t(p, p.t_ck * jnp.exp(d))
        return cnces.shares(q).pi_c, cnces.analytic_elasticities(q, which=("T_c",)).T_c

    return jax.jit(jax.vmap(one_autodiff)), jax.jit(jax.vmap(one_analytic))


def _with_t(p, t):
    import equinox as eqx
    return eqx.tree_at(lambda q: q.t_ck, p, t)


def time_batch(fn, shocks, chunk):
    t0 = time.perf_counter()
    for i in range(0, len(shocks), chunk):
        jax.block_until_ready(fn(shocks[i:i + chunk]))
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 722])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n in a.sizes:
        p = cnces.default_params(n=n)
        shocks = jnp.asarray(rng.normal(0, 0.05, (a.batch, n, 8)))
        f_ad, f_an = make_fns(p)
        # correctness: the three agree on the first shocks
        pa, ja = f_ad(shocks[:2])
        pb, jb = f_an(shocks[:2])
        lt, lk, lc = (np.log(np.asarray(x)) for x in (p.t_ck, p.T_k, p.T_c))
        pn, jn = numpy_shares_jacobian(lt + np.asarray(shocks[0]), lk, lc, float(p.theta), float(p.rho))
        err = max(float(jnp.abs(ja - jb).max()), float(np.abs(np.asarray(ja[0]) - jn).max()),
                  float(np.abs(np.asarray(pa[0]) - pn).max()))
        f_ad(shocks[:a.chunk])[1].block_until_ready()       # compile the chunk shape
        f_an(shocks[:a.chunk])[1].block_until_ready()
        t_ad = np.median([time_batch(f_ad, shocks, a.chunk) for _ in range(a.repeats)])
        t_an = np.median([time_batch(f_an, shocks, a.chunk) for _ in range(a.repeats)])
        sh = np.asarray(shocks)

        def np_loop():
            t0 = time.perf_counter()
            for d in sh:
                numpy_shares_jacobian(lt + d, lk, lc, float(p.theta), float(p.rho))
            return time.perf_counter() - t0

        t_np = np.median([np_loop() for _ in range(a.repeats)])
        rows.append((n, a.batch, t_np, t_ad, t_an, err))
        print(f"N={n}: numpy loop {t_np:.2f}s  jax autodiff {t_ad:.2f}s  jax analytic {t_an:.2f}s  max diff {err:.1e}",
              flush=True)
    dev = jax.devices()[0]
    lines = [
        "# CNCES benchmark: shares + exact N×N Jacobian ∂ln π_c/∂ln T_c' over a batch of shocks\n",
        f"Date {DATE}; machine: {MACHINE} ({platform.processor() or platform.machine()}); "
        f"device: {dev.platform.upper()} ({dev.device_kind}); jax {jax.__version__}; float64. "
        "No GPU was available for this task, so there are no GPU figures.\n",
        f"K = 8 occupations; a batch of {a.batch} random shocks to ln t_ck per N; processed in chunks of "
        f"{a.chunk} (the full 1000 × 722 × 722 output would be 4.2 GB), each chunk materialized and discarded. "
        f"JAX compiled once before timing; median of {a.repeats} runs of the whole batch. "
        "Baseline: NumPy loop over shocks (log-sum-exp shares, exact analytic Jacobian vectorized within a shock). "
        "`max diff` = largest absolute difference between the three Jacobians/shares on test shocks.\n",
        "| N | shocks | NumPy loop (s) | jaxecon autodiff (s) | jaxecon analytic (s) | NumPy / autodiff | NumPy / analytic | max diff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, b, t_np, t_ad, t_an, err in rows:
        lines.append(f"| {n} | {b} | {t_np:.3f} | {t_ad:.3f} | {t_an:.3f} | {t_np / t_ad:.2f} | {t_np / t_an:.2f} | {err:.1e} |")
    if len(rows) > 1:
        (n0, _, a0, b0, c0, _), (n1, _, a1, b1, c1, _) = rows[0], rows[-1]
        k = np.log(n1 / n0)
        lines.append(f"\nScaling from N = {n0} to {n1}: time grows as N^{np.log(a1 / a0) / k:.2f} (NumPy), "
                     f"N^{np.log(b1 / b0) / k:.2f} (autodiff), N^{np.log(c1 / c0) / k:.2f} (analytic); "
                     "the Jacobian itself has N² entries (autodiff: N backward passes of O(NK) each).")
    record("cnces", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
