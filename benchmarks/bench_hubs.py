"""Benchmark: the hubs equilibrium (paper 001) in jaxecon against a NumPy damped tâtonnement.

The baseline, :func:`numpy_equilibrium`, is the algorithm of the Matlab/Python spatial toolkits this
model descends from (Caliendo et al. 2018 style): an outer damped tâtonnement on wages, rents and
populations, and inside every outer step the price fixed point and the expenditure (goods market)
system solved to tolerance by iteration. It is written here, for the benchmark, in vectorized NumPy
(one economy at a time); it also serves the tests as an independent second implementation.

jaxecon solves the same equations with one joint Jacobi sweep per iteration (see
``jaxecon.models.hubs.equilibrium``), compiled, and a batch of economies in one ``vmap``-ed call.

    python benchmarks/bench_hubs.py [--quick]
"""

from __future__ import annotations

import numpy as np


def _np(p, name):
    return np.asarray(getattr(p, name), dtype=float)


def numpy_equilibrium(p, *, tol: float = 1e-10, damping: float = 0.5, max_outer: int = 5000,
                      inner_tol: float | None = None, max_inner: int = 5000) -> dict:
    """Damped tâtonnement with nested inner solves (NumPy, one economy).

    Outer state: ln w (K, N), ln r (N,), ln L (K, N). Given it: prices solve
    ln P = −(1/ϑ) ln Σ_m T (x d)^−ϑ with ln x = ln B + γ_L ln c + γ_H ln r + Γ ln P (iterated to
    ``inner_tol``); expenditure solves X = α E + Γᵀ (π X) (iterated); then wages and rents move to the
    values that clear labor and structures markets at these revenues, populations to the location
    choice, damped by ``damping``, and nominal values are rescaled to an average wage of one.
    Stops when the outer update changes no log variable by more than ``tol``.
    """
    inner_tol = tol * 1e-2 if inner_tol is None else inner_tol
    nu, th, eps = float(p.nu), float(p.vartheta), float(p.epsilon)
    alpha, gL, gH, G = _np(p, "alpha"), _np(p, "gamma_L"), _np(p, "gamma_H"), _np(p, "gamma_io")
    H, T, lam_hat, A, tR, tL, Lk = (_np(p, k) for k in ("H", "T", "lam_hat", "A", "tau_R", "tau_L", "Lk"))
    D = _np(p, "d") ** (-th)
    K, J, N = lam_hat.shape

    def xlogx(g):
        return np.where(g > 0, g * np.log(np.where(g > 0, g, 1.0)), 0.0)
    lB = -(xlogx(gL) + xlogx(gH) + xlogx(G).sum(1))
    la = np.where(alpha > 0, np.log(np.where(alpha > 0, alpha, 1.0)), 0.0)

    lw = np.zeros((K, N))
    lr = np.zeros(N)
    sh = nu * np.log(A)
    sh -= sh.max(1, keepdims=True)
    lL = np.log(Lk)[:, None] + sh - np.log(np.exp(sh).sum(1, keepdims=True))
    lP = np.zeros((J, N))
    X = np.outer(alpha, np.full(N, Lk.sum() / N)) + 1e-3 / (J * N)
    inner_total = 0
    for outer in range(1, max_outer + 1):
        L = np.exp(lL)
        Ln = L.sum(0)
        llam = np.log(lam_hat) + tR[:, :, None] * (lL - np.log(Ln))[:, None, :] + tL[None, :, None] * np.log(Ln)
        a = (1 - eps) * (lw[:, None, :] - llam)
        amax = a.max(0)
        ea = np.exp(a - amax)
        lc = (amax + np.log(ea.sum(0))) / (1 - eps)
        s = ea / ea.sum(0)
        base = lB[:, None] + gL[:, None] * lc + gH[:, None] * lr[None, :]
        for it in range(max_inner):                      # inner 1: prices and unit costs
            lx = base + G @ lP
            ly = np.log(T) - th * lx
            ymax = ly.max(1, keepdims=True)
            yt = np.exp(ly - ymax)
            phi = np.einsum("jmn,jm->jn", D, yt)
            lP_new = -(ymax + np.log(phi)) / th
            done = np.max(np.abs(lP_new - lP)) <= inner_tol
            lP = lP_new
            if done:
                break
        inner_total += it + 1
        lx = base + G @ lP
        ly = np.log(T) - th * lx
        yt = np.exp(ly - ly.max(1, keepdims=True))
        phi = np.einsum("jmn,jm->jn", D, yt)
        w, r = np.exp(lw), np.exp(lr)
        chi = (r * H).sum() / Lk.sum()
        E = ((w + chi) * L).sum(0)
        for it in range(max_inner):                      # inner 2: goods markets (expenditure)
            R = yt * np.einsum("jmn,jn->jm", D, X / phi)
            X_new = alpha[:, None] * E[None, :] + G.T @ R
            done = np.max(np.abs(X_new / X - 1)) <= inner_tol
            X = X_new
            if done:
                break
        inner_total += it + 1
        R = yt * np.einsum("jmn,jn->jm", D, X / phi)
        lw_t = np.log((s * (gL[:, None] * R)[None]).sum(1) / L)
        lr_t = np.log((gH[:, None] * R).sum(0) / H)
        lPn = (alpha[:, None] * (lP - la[:, None])).sum(0)
        V = nu * (np.log(A) + np.log(w + chi) - lPn[None, :])
        V -= V.max(1, keepdims=True)
        lL_t = np.log(Lk)[:, None] + V - np.log(np.exp(V).sum(1, keepdims=True))
        scale = np.log((np.exp(lw_t) * L).sum() / Lk.sum())
        lw_t, lr_t = lw_t - scale, lr_t - scale
        lP, X = lP - scale, X / np.exp(scale)
        change = max(np.max(np.abs(lw_t - lw)), np.max(np.abs(lr_t - lr)), np.max(np.abs(lL_t - lL)))
        lw = lw + damping * (lw_t - lw)
        lr = lr + damping * (lr_t - lr)
        lL = lL + damping * (lL_t - lL)
        if change <= tol:
            break
    return dict(w=np.exp(lw), L=np.exp(lL), r=np.exp(lr), P=np.exp(lP), X=X, iterations=outer,
                inner_iterations=inner_total, change=change, converged=bool(change <= tol))
