"""A straightforward vectorized NumPy time iteration of the specialization model (benchmark baseline).

Same equations, unknowns and regime logic as jaxecon.models.specialization.equilibrium (two
industries): at every node the unknowns x = (log c, log q, log(k'_1/k'_2)) solve the bond Euler (or the
binding budget) and the two capital Euler equations; next-period policies are bilinear interpolants
in (b', k'_1). All nodes are handled at once with NumPy arrays; the Jacobian is by forward
differences and each 3x3 system is solved with a batched np.linalg.solve. No JAX.
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

    def _locate(self, pts, x):
        i = np.clip(np.searchsorted(pts, x, side="right") - 1, 0, len(pts) - 2)
        t = np.clip((x - pts[i]) / (pts[i + 1] - pts[i]), 0.0, 1.0)
        return i, t

    def _interp(self, tables, bq, kq):
        """Bilinear interpolation of tables (nb, nk, ns) at (bq, kq) for all s' -> (N, ns) each."""
        ib, tb = self._locate(self.bp, bq)
        ik, tk = self._locate(self.kp, kq)
        out = []
        for T in tables:
            v = ((1 - tb)[:, None] * (1 - tk)[:, None] * T[ib, ik] + tb[:, None] * (1 - tk)[:, None] * T[ib + 1, ik]
                 + (1 - tb)[:, None] * tk[:, None] * T[ib, ik + 1] + tb[:, None] * tk[:, None] * T[ib + 1, ik + 1])
            out.append(v)
        return out

    def residual(self, X, binding, tables):
        c, q = np.exp(X[:, 0]), np.exp(X[:, 1])
        k1n = 1 / (1 + np.exp(-X[:, 2]))
        kn = np.stack([k1n, 1 - k1n], 1)
        z, R, Pr = self.z[self.s], self.R[self.s], self.P[self.s]
        g = kn / self.k - 1 - self.de
        res = np.sum(z * self.k ** (self.a + self.xi), 1) - np.sum(0.5 * self.phi * g**2 * self.k, 1) + self.b
        bn = R * (res - c)
        cn, qn, en, k1nn = self._interp(tables, bn, k1n)
        cn = np.maximum(cn, 1e-10)
        knn = np.stack([np.clip(k1nn, 1e-10, 1), np.maximum(1 - k1nn, 1e-10)], 2)
        mun = cn ** (-self.g)
        bR_Emu = self.be * R * np.sum(Pr * mun, 1)
        x = knn / kn[:, None, :]
        gg = x - 1 - self.de
        d1 = 0.5 * self.phi * gg**2 - self.phi * gg * x
        mpk = self.a * self.z[None] * kn[:, None, :] ** (self.a + self.xi - 1)
        th = self.th if np.isfinite(self.th) else 0.0
        term = mun[:, :, None] * (qn[:, :, None] + mpk - d1) + (th * qn * en)[:, :, None]
        rhs = self.be * np.sum(Pr[:, :, None] * term, 1)
        lhs = (c ** (-self.g))[:, None] * (q[:, None] + self.phi * g)
        r0 = np.where(binding, (res + th * q) / c - 1, bR_Emu ** (-1 / self.g) / c - 1)
        F = np.column_stack([r0, rhs / lhs - 1])
        return F, (c, q, bn, k1n, bR_Emu)

    def newton(self, X, binding, tables, n_iter):
        h = 1e-7
        for _ in range(n_iter):
            F, _ = self.residual(X, binding, tables)
            J = np.empty((X.shape[0], 3, 3))
            for j in range(3):
                Xh = X.copy()
                Xh[:, j] += h
                J[:, :, j] = (self.residual(Xh, binding, tables)[0] - F) / h
            bad = ~np.all(np.isfinite(J), axis=(1, 2)) | ~np.all(np.isfinite(F), axis=1)
            bad |= np.abs(np.linalg.det(np.where(bad[:, None, None], np.eye(3), J))) < 1e-300
            J = np.where(bad[:, None, None], np.eye(3), J)
            F = np.where(bad[:, None], 0.0, F)
            dX = np.linalg.solve(J, -F[:, :, None])[:, :, 0]
            dX = np.clip(np.where(np.isfinite(dX), dX, 0.0), -1.0, 1.0)  # crude safeguard (no line search)
            X = X + dX
        return X

    def sweep(self, n_iter=2):
        sh = self.shape
        tables = (self.c.reshape(sh), self.q.reshape(sh), self.eta.reshape(sh), self.kn.reshape(sh))
        X = np.column_stack([np.log(self.c), np.log(self.q), np.log(self.kn) - np.log(1 - self.kn)])
        X = self.newton(X, self.binding, tables, n_iter)
        _, (c, q, bn, k1n, bR_Emu) = self.residual(X, self.binding, tables)
        eta = c ** (-self.g) - bR_Emu
        R = self.R[self.s]
        viol = -bn / R - self.th * q > 1e-10
        binding = np.where(self.binding, eta >= 0, viol)
        X = self.newton(X, binding, tables, n_iter)
        _, (c, q, bn, k1n, bR_Emu) = self.residual(X, binding, tables)
        eta = np.where(binding, np.maximum(c ** (-self.g) - bR_Emu, 0.0), 0.0)
        change = max(np.max(np.abs(c - self.c) / (1 + np.abs(self.c))), np.max(np.abs(bn - self.bn) / (1 + np.abs(self.bn))))
        self.c, self.q, self.eta, self.bn, self.kn, self.binding = c, q, eta, bn, k1n, binding
        return change

    def solve(self, tol=1e-7, max_iter=1000):
        for it in range(1, max_iter + 1):
            if self.sweep() <= tol:
                return it
        return max_iter
