"""Clusters model (paper 000): jaxecon's equilibrium solver against a NumPy implementation of the same algorithm.

Cases (real ADH 1990 employment when present, else the synthetic default; 722 CZs x 397 industries):

1. one equilibrium: ``jit(solve_equilibrium)`` of the calibrated baseline (η = 0.1) incl. L_ic (C x I);
2. a batch of B productivity shocks (z*_i multiplied by exp(N(0, 0.2²)) draws): ``jit(vmap(...))`` returning
   the industry aggregates (p, w*, imports, exports; XLA drops the unused C x I arrays), one call;
3. the indirect-inference gradient step: value and gradient in η of the model's ADH column (1)
   coefficient (baseline, two shock inversions, 2SLS) — jaxecon only (the NumPy side has no gradient).

The NumPy baseline (``numpy_solve``) is the same algorithm: Newton on (ln P, ln P*, ln w*) with the 3 x 3
Jacobian by forward differences (jaxecon: forward-mode autodiff, the same 3 extra evaluations), the same
fixed number of per-industry Newton steps per evaluation, warm starts, and vectorized over the batch
(arrays (B, I), batched 3 x 3 solves; it stops when every element has converged, like vmap).
jaxecon times: compiled first, then median of ``--repeats`` runs with block_until_ready().

    python benchmarks/bench_clusters.py [--batch 1000] [--repeats 3] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import jaxecon  # noqa: F401
import jax
import jax.numpy as jnp


def _lse(a, axis=-1):
    m = np.max(a, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))).squeeze(axis)


def numpy_solve(log_B, log_zs, sigma, rho, eta, tau, L_star, *, tol=1e-13, max_iter=50, inner=12):
    """Equilibrium aggregates by the algorithm of ``jaxecon.models.clusters.solve_equilibrium`` (NumPy).

    log_B, log_zs: (B, I). Returns dict(lp, lps, lw, lA, iterations, residual)."""
    s, r = sigma, rho
    lm = np.log(r / (r - 1))
    kappa = 1 - eta * (r - 1)
    e = 1 / kappa - 1
    lt = np.log(tau)
    gam = (r - s) / (1 - r)
    nb = log_B.shape[0]

    def industries(xi, d):
        lP, lPs, lw = xi[:, :1], xi[:, 1:2], xi[:, 2:3]
        lXs = lm + lw + np.log(L_star)
        lpF = lm + lw - log_zs
        lf, lfs = (1 - r) * (lt + lpF), (1 - r) * lpF
        for _ in range(inner):
            lu = np.logaddexp(d, lf)
            lv = np.logaddexp((1 - r) * lt + d, lfs)
            lH = gam * lu + (s - 1) * lP + lm
            lHs = gam * lv + (s - 1) * lPs + lXs
            lA = np.logaddexp(lH, (1 - r) * lt + lHs)
            g = d - lm - log_B - e * lA
            wH = np.exp(lH - lA)
            dlA = gam * (wH * np.exp(d - lu) + (1 - wH) * np.exp((1 - r) * lt + d - lv))
            d = d - g / (1 - e * dlA)
        lu = np.logaddexp(d, lf)
        lv = np.logaddexp((1 - r) * lt + d, lfs)
        return d, lu / (1 - r), lv / (1 - r), lXs, lpF

    def residual(xi, d):
        d, lp, lps, lXs, lpF = industries(xi, d)
        lP = _lse((1 - s) * lp) / (1 - s)
        lPs = _lse((1 - s) * lps) / (1 - s)
        lH = (r - s) * lp + (s - 1) * lP[:, None] + lm
        lHs = (r - s) * lps + (s - 1) * lPs[:, None] + lXs
        lF = _lse((1 - r) * lpF + np.logaddexp(lHs, (1 - r) * lt + lH))
        res = np.stack([xi[:, 0] - lP, xi[:, 1] - lPs, (lF - lXs[:, 0]) / r], axis=1)
        return res, d, lp, lps, np.logaddexp(lH, (1 - r) * lt + lHs)

    # start: prices with A_i = 1 and w* = 1 (as jaxecon's _initial_guess)
    lpF0 = lm - log_zs
    d = lm + log_B
    lp0 = np.logaddexp(d, (1 - r) * (lt + lpF0)) / (1 - r)
    lps0 = np.logaddexp((1 - r) * lt + d, (1 - r) * lpF0) / (1 - r)
    xi = np.stack([_lse((1 - s) * lp0) / (1 - s), _lse((1 - s) * lps0) / (1 - s), np.zeros(nb)], axis=1)
    d = np.log(np.maximum(np.exp((1 - r) * lp0) - np.exp((1 - r) * (lt + lpF0)), 1e-300))
    res, d, lp, lps, lA = residual(xi, d)
    it = 0
    h = 1e-7
    while it < max_iter and np.max(np.abs(res)) > tol:
        J = np.empty((nb, 3, 3))
        for j in range(3):
            dx = np.zeros(3); dx[j] = h
            J[:, :, j] = (residual(xi + dx, d)[0] - res) / h
        step = np.linalg.solve(J, res[..., None])[..., 0]
        step /= np.maximum(1.0, np.max(np.abs(step), axis=1, keepdims=True))
        xi = xi - step
        res, d, lp, lps, lA = residual(xi, d)
        it += 1
    return dict(lp=lp, lps=lps, lw=xi[:, 2], lA=lA, iterations=it, residual=float(np.max(np.abs(res))))


def numpy_equilibrium(params_np, log_zs=None):
    """One economy incl. L_ic = b_ic A_i^(1/κ) (D7), NumPy; params_np: dict of NumPy arrays."""
    p = params_np
    r = p["rho"]
    m = r / (r - 1)
    kappa = 1 - p["eta"] * (r - 1)
    pos = p["mu"] > 0
    lb = np.where(pos, (np.log(np.where(pos, p["mu"], 1)) - r * np.log(m) + (r - 1) * np.log(p["z"])) / kappa, -np.inf)
    log_B = _lse(lb, axis=0)[None, :]
    lz = np.log(p["z_star"])[None, :] if log_zs is None else log_zs
    out = numpy_solve(log_B, lz, p["sigma"], r, p["eta"], p["tau"], p["L_star"])
    out["L"] = np.exp(lb + out["lA"][0][None, :] / kappa)
    return out


def _timeit(fn, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        jax.block_until_ready(out)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-record", action="store_true")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from _record import cpu_ticks, machine_line, record, steal_share

    from jaxecon.models import clusters as cl

    d = cl.cluster_data()
    base = cl.calibrate_baseline(d.employment, eta=0.1)
    P0 = base.params
    pnp = {k: np.asarray(getattr(P0, k)) for k in ("sigma", "rho", "eta", "tau", "L_star", "z", "z_star", "mu")}
    for k in ("sigma", "rho", "eta", "tau", "L_star"):
        pnp[k] = float(pnp[k])
    C, I = P0.z.shape
    rows = []
    tick0 = cpu_ticks()

    # 1. one equilibrium
    solve = jax.jit(lambda q: cl.solve_equilibrium(q))  # a fresh jit, so that its compile time is measured
    t = time.perf_counter(); jax.block_until_ready(solve(P0)); t_compile = time.perf_counter() - t
    t_jax, e = _timeit(lambda: solve(P0), a.repeats)
    t_np, o = _timeit(lambda: numpy_equilibrium(pnp), a.repeats)
    diff = max(float(np.max(np.abs(np.asarray(e.L) - o["L"]) / np.maximum(np.asarray(e.L), 1e-300) * (o["L"] > 1e-300))),
               float(np.max(np.abs(np.asarray(e.p) - np.exp(o["lp"][0])) / np.asarray(e.p))))
    rows.append((f"one equilibrium, C={C}, I={I} (incl. L_ic)", t_jax, t_np, t_compile, int(e.iterations),
                 o["iterations"], bool(e.converged), diff))

    # 2. batch of shocks to z*
    key = jax.random.PRNGKey(0)
    lz = jnp.log(P0.z_star)[None, :] + 0.2 * jax.random.normal(key, (a.batch, I))

    def agg(params, lzs):
        q = cl.solve_equilibrium(_with_zs(params, jnp.exp(lzs)))
        return q.p, q.w_star, q.imports, q.exports, q.converged, q.iterations

    batch = jax.jit(jax.vmap(agg, in_axes=(None, 0)))
    t = time.perf_counter(); jax.block_until_ready(batch(P0, lz)); t_compile_b = time.perf_counter() - t
    t_jax_b, eb = _timeit(lambda: batch(P0, lz), a.repeats)
    kappa = 1 - pnp["eta"] * (pnp["rho"] - 1)
    pos = pnp["mu"] > 0
    m = pnp["rho"] / (pnp["rho"] - 1)
    lb = np.where(pos, (np.log(np.where(pos, pnp["mu"], 1)) - pnp["rho"] * np.log(m)
                        + (pnp["rho"] - 1) * np.log(pnp["z"])) / kappa, -np.inf)
    log_B = np.broadcast_to(_lse(lb, axis=0), (a.batch, I)).copy()
    lz_np = np.asarray(lz)
    t_np_b, ob = _timeit(lambda: numpy_solve(log_B, lz_np, pnp["sigma"], pnp["rho"], pnp["eta"], pnp["tau"],
                                             pnp["L_star"]), a.repeats)
    diff_b = float(np.max(np.abs(np.asarray(eb[0]) - np.exp(ob["lp"])) / np.asarray(eb[0])))
    rows.append((f"batch of {a.batch} z* shocks, vmap, one call (aggregates)", t_jax_b, t_np_b, t_compile_b,
                 f"{int(np.min(eb[5]))}-{int(np.max(eb[5]))}", ob["iterations"], bool(np.all(eb[4])), diff_b))

    # 3. indirect-inference gradient step (jaxecon only)
    t_grad = t_grad_c = float("nan")
    try:
        from jaxecon.data import load_adh

        adh = load_adh()
        data = cl.adh_shock_data(adh, d, P0.markup)
        w, codes, n_cl = cl.adh_panel_weights(adh)
        vg = jax.jit(jax.value_and_grad(lambda eta: cl.column1_coefficient(
            cl.baseline_params_at_eta(P0, base.target_L, eta), data, w, codes, n_cl)[0]))
        t = time.perf_counter(); jax.block_until_ready(vg(0.1)); t_grad_c = time.perf_counter() - t
        t_grad, _ = _timeit(lambda: vg(0.1), a.repeats)
    except FileNotFoundError:
        pass
    steal = steal_share(tick0, cpu_ticks())

    head = "| case | jaxecon (s) | NumPy (s) | speed-up | jaxecon compile (s) | jaxecon iterations | NumPy iterations | converged | max rel. diff |"
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for name, tj, tn, tc, ij, inp, conv, df in rows:
        lines.append(f"| {name} | {tj:.4f} | {tn:.4f} | {tn / tj:.1f}x | {tc:.1f} | {ij} | {inp} | {conv} | {df:.1e} |")
    lines.append(f"| indirect-inference value+gradient in η (baseline, 2 shock inversions, 2SLS; ADH data) | "
                 f"{t_grad:.3f} | - | - | {t_grad_c:.1f} | - | - | - | - |")
    table = "\n".join(lines)
    print(table)
    text = "\n".join([
        "## clusters: equilibrium of paper 000's model (benchmarks/bench_clusters.py)",
        machine_line() + f". Shared, busy 2-core machine (steal during the run {steal:.0%}); CPU only: no GPU was lent to this task.",
        "",
        f"Data: {d.source}, C = {C} CZs x I = {I} industries, calibrated baseline η = 0.1. jaxecon: `jit(solve_equilibrium)`",
        "(Newton on ln P, ln P*, ln w* with exact per-industry Newton solves; forward-mode 3 x 3 Jacobian), compiled",
        f"first, median of {a.repeats} runs. NumPy: the same algorithm written for the benchmark (`numpy_solve`,",
        "forward-difference Jacobian, vectorized over industries and over the batch). The CZ dimension enters only",
        "through B_i = Σ_c b_ic and the closed-form L_ic, so one equilibrium is dominated by the O(C I) exp/log work;",
        "a batch of shocks to z* is O(B I) per iteration on both sides. Both sides do the same work (same",
        "iterations, same transcendental count), so on a CPU the ratio is near one: repeated runs on this loaded",
        "machine (load average 9-11) gave 1.0x-3.0x for one equilibrium and 1.1x-1.4x for the batch. jaxecon's",
        "gain here is the implicit gradient (last row; no NumPy counterpart) and vmap/GPU, not CPU speed.",
        "",
        table,
    ])
    if not a.no_record:
        record("clusters", text)
    return 0


def _with_zs(params, zs):
    import equinox as eqx

    return eqx.tree_at(lambda q: q.z_star, params, zs)


if __name__ == "__main__":
    sys.exit(main())
