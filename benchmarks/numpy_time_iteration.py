"""A straightforward vectorized NumPy time iteration of the specialization model (benchmark baseline).

The same algorithm as ``jaxecon.models.specialization.solve_equilibrium`` with its defaults (two
industries), written for the benchmark without JAX:

- unknowns ``x = (log c, log q, log(k'_1/k'_2))`` at every node solve the bond Euler (or the binding
  budget) and the two capital Euler equations; the expectations are bilinear interpolants in
  ``(b', k'_1)`` of tables of ``E[u'(c'), u'(c')q', u'(c')z_i', u'(c')k''_i^2, q'eta' | s]`` built
  once per sweep (``expected_tables``);
- a sweep: two Newton steps at every node in the carried regimes (pass 1), regime switch, two Newton
  steps at the switched nodes only (pass 2); Newton steps have a forward-difference Jacobian (jaxecon
  writes the Jacobian out analytically; the two agree to about 1e-7), a step bounded by 1 in
  max-norm and up to 3 halvings of a backtracking line search;
- Anderson(5) mixing once the sweep-to-sweep change is below 1e-2 and no regime switched for two
  sweeps; then a final sweep that solves every node to 1e-10 (up to 30 Newton steps).

Not ported: jaxecon's stall guard (full per-node solves after 25 sweeps without progress); it did not
fire on any of the benchmark's economies (the benchmark reports it in the column "stall guard fired";
0 of 64 on 2026-11-22).

All nodes are handled at once with NumPy arrays (boolean/integer indexing for node subsets), each
3x3 Newton system by a batched ``np.linalg.solve``.
"""

from __future__ import annotations

import numpy as np


class NumpyTimeIteration:
    def __init__(self, params, b_pts, k_pts):
        self.g, self.a, self.be, self.th = (float(params.gamma), float(params.alpha), float(params.beta), float(params.theta))
        self.xi, self.phi, self.de = (np.asarray(params.xi), np.asarray(params.phi), np.asarray(params.delta))
        self.z, self.R, self.P = np.asarray(params.z), np.asarray(params.R), np.asarray(params.P)
        self.bp, self.kp = np.asarray(b_pts), np.asarray(k_pts)
        nb, nk, ns = len(self.bp), len(self.kp), self.z.shape[0]
        B, K, S = np.meshgrid(self.bp, self.kp, np.arange(ns), indexing="ij")
        self.b, self.s = B.ravel(), S.ravel()
        self.k = np.stack([K.ravel(), 1 - K.ravel()], 1)
        self.shape = (nb, nk, ns)
        Y = np.sum(self.z[self.s] * self.k ** (self.a + self.xi), 1)
        R = self.R[self.s]
        self.c = np.maximum(Y + self.b * (1 - 1 / R), 0.05 * Y)
        self.q = self.be / (1 - self.be) * np.sum(self.a * self.z[self.s] * self.k ** (self.a + self.xi - 1) * self.k, 1)
        self.eta = np.zeros_like(self.c)
        self.kn = self.k[:, 0].copy()
        self.bn = self.b.copy()
        self.binding = np.zeros(self.c.shape, bool)
        self.th_f = self.th if np.isfinite(self.th) else 0.0

    def _locate(self, pts, x):
        i = np.clip(np.searchsorted(pts, x, side="right") - 1, 0, len(pts) - 2)
        t = np.clip((x - pts[i]) / (pts[i + 1] - pts[i]), 0.0, 1.0)
        return i, t

    def expected_tables(self):
        """E[. | s] of u'(c'), u'(c')q', u'(c')z_i', u'(c')k''_i^2, q'eta' on the grid: (nb, nk, ns, 7)."""
        mu = np.maximum(self.c, 1e-10) ** (-self.g)
        k1 = np.clip(self.kn, 1e-10, 1.0)
        k2 = np.maximum(1.0 - k1, 1e-10)
        z = self.z[self.s]
        T = np.stack([mu, mu * self.q, mu * z[:, 0], mu * z[:, 1], mu * k1**2, mu * k2**2, self.q * self.eta], 1)
        T = T.reshape(self.shape + (7,))
        return np.einsum("bkuj,su->bksj", T, self.P)

    def _interp(self, ET, bq, kq, s):
        """Bilinear interpolation of the expected tables at (bq, kq) in row s -> (n, 7)."""
        ib, tb = self._locate(self.bp, bq)
        ik, tk = self._locate(self.kp, kq)
        w00, w10 = ((1 - tb) * (1 - tk))[:, None], (tb * (1 - tk))[:, None]
        w01, w11 = ((1 - tb) * tk)[:, None], (tb * tk)[:, None]
        return w00 * ET[ib, ik, s] + w10 * ET[ib + 1, ik, s] + w01 * ET[ib, ik + 1, s] + w11 * ET[ib + 1, ik + 1, s]

    def residual(self, X, idx, binding, ET):
        """Residuals (n, 3) at nodes ``idx`` and the implied (c, q, b', k'_1, eta_bind, violation)."""
        b, k, s = self.b[idx], self.k[idx], self.s[idx]
        c, q = np.exp(X[:, 0]), np.exp(X[:, 1])
        k1n = 1 / (1 + np.exp(-X[:, 2]))
        kn = np.stack([k1n, 1 - k1n], 1)
        z, R = self.z[s], self.R[s]
        g = kn / k - 1 - self.de
        res = np.sum(z * k ** (self.a + self.xi), 1) - np.sum(0.5 * self.phi * g**2 * k, 1) + b
        bn = R * (res - c)
        e = self._interp(ET, bn, k1n, s)
        e_mu = np.maximum(e[:, 0], 1e-300)
        bR_Emu = self.be * R * e_mu
        mpk = self.a * kn ** (self.a + self.xi - 1)
        expect = (e[:, 1:2] + mpk * e[:, 2:4] + 0.5 * self.phi * (e[:, 4:6] / kn**2 - (1 + self.de) ** 2 * e_mu[:, None])
                  + self.th_f * e[:, 6:7])
        rhs = self.be * expect
        mu = c ** (-self.g)
        lhs = mu[:, None] * (q[:, None] + self.phi * g)
        r0 = np.where(binding, (res + self.th_f * q) / c - 1, bR_Emu ** (-1 / self.g) / c - 1)
        F = np.column_stack([r0, rhs / lhs - 1])
        limit = self.th_f * q if np.isfinite(self.th) else np.inf
        viol = (-bn / R - limit) / (1 + self.th_f * q)
        return F, (c, q, bn, k1n, mu - bR_Emu, viol, mu)

    def newton(self, X, idx, binding, tables, n_iter, tol=1e-10, n_halvings=3, max_step=1.0, h=1e-7):
        """Damped Newton at nodes ``idx``; returns the new X and the residual and outputs there."""
        F, out = self.residual(X, idx, binding, tables)
        active = np.arange(len(idx))
        for _ in range(n_iter):
            active = active[np.max(np.abs(F[active]), 1) > tol]
            if active.size == 0:
                break
            Xa, Fa, ia, ba = X[active], F[active], idx[active], binding[active]
            J = np.empty((len(active), 3, 3))
            for j in range(3):
                Xh = Xa.copy()
                Xh[:, j] += h
                J[:, :, j] = (self.residual(Xh, ia, ba, tables)[0] - Fa) / h
            bad = ~np.all(np.isfinite(J), axis=(1, 2)) | (np.abs(np.linalg.det(np.where(np.isfinite(J), J, 0.0))) < 1e-300)
            J[bad] = np.eye(3)
            dX = np.linalg.solve(J, -np.where(bad[:, None], 0.0, Fa)[:, :, None])[:, :, 0]
            dX = np.where(np.isfinite(dX), dX, 0.0)
            dX *= np.minimum(1.0, max_step / np.maximum(np.max(np.abs(dX), 1), 1e-300))[:, None]
            f0 = np.sum(Fa**2, 1)
            lam = np.ones(len(active))
            todo = np.arange(len(active))
            Xn, Fn, outn = Xa.copy(), Fa.copy(), [o[active].copy() for o in out]
            for k in range(n_halvings + 1):
                Xt = Xa[todo] + lam[todo, None] * dX[todo]
                Ft, ot = self.residual(Xt, ia[todo], ba[todo], tables)
                ft = np.where(np.all(np.isfinite(Ft), 1), np.sum(Ft**2, 1), np.inf)
                ok = (ft <= (1 - 1e-4 * lam[todo]) * f0[todo]) | (k == n_halvings)
                take = todo[ok & np.isfinite(ft)]
                sel = (ok & np.isfinite(ft))
                Xn[take], Fn[take] = Xt[sel], Ft[sel]
                for o, v in zip(outn, ot):
                    o[take] = v[sel]
                todo = todo[~ok]
                lam[todo] *= 0.5
                if todo.size == 0:
                    break
            X[active], F[active] = Xn, Fn
            for o, v in zip(out, outn):
                o[active] = v
        return X, F, out

    def sweep(self, n_iter=2, final=False):
        """One sweep (module docstring); returns the undamped update and its regime."""
        tables = self.expected_tables()
        X = np.column_stack([np.log(self.c), np.log(self.q), np.log(self.kn) - np.log(1 - self.kn)])
        every = np.arange(len(self.c))
        X, F, out = self.newton(X, every, self.binding, tables, n_iter)
        c, q, bn, k1n, eta_b, viol, mu = out
        limited = np.isfinite(self.th)
        binding = np.where(self.binding, eta_b >= -1e-9 * mu, viol > 1e-10) & limited
        redo = np.flatnonzero(binding != self.binding)
        if final:
            redo = np.union1d(redo, np.flatnonzero(np.max(np.abs(F), 1) > 1e-10))
        if redo.size:
            X[redo], _, out2 = self.newton(X[redo], redo, binding[redo], tables, n_iter)
            for o, v in zip(out, out2):
                o[redo] = v
        c, q, bn, k1n, eta_b, viol, mu = out
        eta = np.where(binding, np.maximum(eta_b, 0.0), 0.0)
        return c, q, eta, bn, k1n, binding

    sweep_steps = 2  # Newton steps per node and sweep, jaxecon's default newton_sweep_iter

    def solve(self, tol=1e-7, max_iter=1000, memory=5):
        """Time iteration to ``tol`` with Anderson mixing in the calm phase; returns the sweeps."""
        n = len(self.c)
        hist_dx, hist_df, x_prev, f_prev, calm = [], [], None, None, 0
        final = False
        for it in range(1, max_iter + 1):
            new = self.sweep(30 if final else self.sweep_steps, final)
            c, q, eta, bn, k1n, binding = new
            old = (self.c, self.q, self.eta, self.bn, self.kn)
            change = max(np.max(np.abs(a - o) / (1 + np.abs(o))) for a, o in zip((c, q, eta, bn, k1n), old))
            if final and change <= tol:
                self.c, self.q, self.eta, self.bn, self.kn, self.binding = new
                return it
            calm = 0 if np.any(binding != self.binding) else calm + 1
            vec = lambda c_, q_, e_, b_, k_: np.concatenate([np.log(c_), np.log(q_), e_, b_, np.log(k_) - np.log(1 - k_)])
            x, gx = vec(*old), vec(c, q, eta, bn, k1n)
            if not final and calm >= 2 and change < 1e-2 and np.all(np.isfinite(gx)):
                f = gx - x
                if x_prev is not None:
                    hist_dx.append(x - x_prev)
                    hist_df.append(f - f_prev)
                    hist_dx, hist_df = hist_dx[-memory:], hist_df[-memory:]
                x_prev, f_prev = x, f
                if hist_df:
                    DF, DX = np.array(hist_df), np.array(hist_dx)
                    A = DF @ DF.T
                    A += 1e-10 * np.trace(A) / memory * np.eye(len(A))
                    gamma = np.linalg.solve(A, DF @ f)
                    gx = gx - gamma @ (DX + DF)
                    c, q, eta, bn = np.exp(gx[:n]), np.exp(gx[n:2 * n]), gx[2 * n:3 * n], gx[3 * n:4 * n]
                    k1n = 1 / (1 + np.exp(-gx[4 * n:]))
            else:
                hist_dx, hist_df, x_prev, f_prev = [], [], None, None
            self.c, self.q, self.eta, self.bn, self.kn, self.binding = c, q, eta, bn, k1n, binding
            final = change <= tol or it + 1 >= max_iter
        return max_iter
