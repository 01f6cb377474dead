"""Equilibrium of the clusters model: a fixed point in (p_i, p*_i, w*) with L_ic in closed form.

Equations (DESIGN.md, "The clusters model"; numbered here D1-D7 in the order written there):

    D1  p_ic = m / (z_ic L_ic^η),   p^F_i = m w*/z*_i,   m = ρ/(ρ−1)
    D2  p_i^(1−ρ)  = Σ_c μ_ic p_ic^(1−ρ) + (τ p^F_i)^(1−ρ),        P^(1−σ)  = Σ_i p_i^(1−σ),   X  = m
    D3  p*_i^(1−ρ) = Σ_c μ_ic (τ p_ic)^(1−ρ) + (p^F_i)^(1−ρ),      P*^(1−σ) = Σ_i p*_i^(1−σ),  X* = m w* L*
    D4  revenue_ic = μ_ic p_ic^(1−ρ) A_i,   A_i = p_i^(ρ−σ) P^(σ−1) X + τ^(1−ρ) p*_i^(ρ−σ) P*^(σ−1) X*
    D5  L_ic = revenue_ic / m
    D6  balanced trade (equivalently Foreign's income X* = its revenue)

Closed form for L_ic (D1, D4, D5): L_ic^(1−η(ρ−1)) = μ_ic m^(−ρ) z_ic^(ρ−1) A_i, i.e. with κ = 1 − η(ρ−1)

    D7  L_ic = b_ic A_i^(1/κ),   b_ic = (μ_ic m^(−ρ) z_ic^(ρ−1))^(1/κ),

so Σ_c μ_ic p_ic^(1−ρ) = m L_i / A_i = m B_i A_i^(1/κ − 1) with B_i = Σ_c b_ic: the CZ dimension enters
the fixed point only through B_i (computed once, O(C I)), and each iteration costs O(I).

The map iterated (in logs, x = (ln p, ln p*, ln w*)): D4 from the current prices, D2-D3 give new
p_i, p*_i, and D6 updates w* by ln w* += (ln F − ln X*)/ρ, with F Foreign's revenue; F ∝ w*^(1−ρ)
times terms of degree 0 or 1 in w*, so this update has slope in [0, 1/ρ] in ln w*. Σ L_ic = 1 and
balanced trade are not imposed: they hold by Walras' law at the fixed point and are reported.
"""

from __future__ import annotations

import io

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...reporting import atomic_write_bytes
from .params import Params

__all__ = ["Equilibrium", "solve_equilibrium", "log_b", "NPZ_KEYS"]

#: The keys of :meth:`Equilibrium.to_npz`, exactly (issue 16, item 6).
NPZ_KEYS = ("sigma", "rho", "eta", "tau", "L_star", "w_star", "z", "mu", "L", "z_star", "p", "p_star", "P", "P_star")


def log_b(params: Params) -> Float[Array, "C I"]:
    """ln b_ic of D7, −∞ where μ_ic = 0 (safe for gradients: the −∞ branch carries none)."""
    m = params.markup
    kappa = 1.0 - params.eta * (params.rho - 1.0)
    pos = params.mu > 0
    safe_mu = jnp.where(pos, params.mu, 1.0)
    val = (jnp.log(safe_mu) - params.rho * jnp.log(m) + (params.rho - 1.0) * jnp.log(params.z)) / kappa
    return jnp.where(pos, val, -jnp.inf)


class _Consts(eqx.Module):
    """What the fixed-point map needs from Params (all O(I))."""

    sigma: Array
    rho: Array
    eta: Array
    log_tau: Array
    L_star: Array
    log_B: Array  # ln B_i = ln Σ_c b_ic
    log_zs: Array  # ln z*_i


def _consts(params: Params, log_B) -> _Consts:
    return _Consts(sigma=params.sigma, rho=params.rho, eta=params.eta, log_tau=jnp.log(params.tau),
                   L_star=params.L_star, log_B=log_B, log_zs=jnp.log(params.z_star))


def _split(x):
    n = (x.shape[0] - 1) // 2
    return x[:n], x[n:2 * n], x[2 * n]


def _pieces(x, k: _Consts):
    """Aggregates at x = (ln p, ln p*, ln w*): D2-D4 and D7 with the current prices."""
    lp, lps, lw = _split(x)
    s, r = k.sigma, k.rho
    lm = jnp.log(r / (r - 1.0))
    kappa = 1.0 - k.eta * (r - 1.0)
    lP = jax.nn.logsumexp((1.0 - s) * lp) / (1.0 - s)
    lPs = jax.nn.logsumexp((1.0 - s) * lps) / (1.0 - s)
    lXs = lm + lw + jnp.log(k.L_star)
    lH = (r - s) * lp + (s - 1.0) * lP + lm  # ln of Home demand shifter p_i^(ρ−σ) P^(σ−1) X
    lHs = (r - s) * lps + (s - 1.0) * lPs + lXs  # Foreign: p*_i^(ρ−σ) P*^(σ−1) X*
    lA = jnp.logaddexp(lH, (1.0 - r) * k.log_tau + lHs)  # D4
    lD = lm + k.log_B + (1.0 / kappa - 1.0) * lA  # ln Σ_c μ p_ic^(1−ρ) = ln(m L_i / A_i), D7
    lpF = lm + lw - k.log_zs  # ln p^F_i (D1)
    return dict(lP=lP, lPs=lPs, lXs=lXs, lH=lH, lHs=lHs, lA=lA, lD=lD, lpF=lpF, kappa=kappa, lm=lm)


def _map(x, k: _Consts):
    """One step of the fixed-point map (module docstring)."""
    q = _pieces(x, k)
    r = k.rho
    lp_new = jnp.logaddexp(q["lD"], (1.0 - r) * (k.log_tau + q["lpF"])) / (1.0 - r)  # D2
    lps_new = jnp.logaddexp((1.0 - r) * k.log_tau + q["lD"], (1.0 - r) * q["lpF"]) / (1.0 - r)  # D3
    # Foreign revenue F = Σ_i (p^F_i)^(1−ρ) [H*_i + τ^(1−ρ) H_i]  (D6)
    lF = jax.nn.logsumexp((1.0 - r) * q["lpF"] + jnp.logaddexp(q["lHs"], (1.0 - r) * k.log_tau + q["lH"]))
    lw_new = x[-1] + (lF - q["lXs"]) / r
    return jnp.concatenate([lp_new, lps_new, lw_new[None]])


class Equilibrium(eqx.Module):
    """An equilibrium of the clusters model (batch dimensions lead under ``vmap``).

    Attributes:
        params: the :class:`Params` solved.
        p, p_star: ``(I,)`` industry price indices at Home and in Foreign (D2, D3).
        P, P_star: aggregate price indices; w_star: Foreign wage (Home wage 1).
        L: ``(C, I)`` employment L_ic (D7); L_industry: ``(I,)`` Σ_c L_ic.
        imports: ``(I,)`` Home imports (τ p^F_i)^(1−ρ) p_i^(ρ−σ) P^(σ−1) X; exports: ``(I,)`` Home exports.
        imports_ic: ``(C, I)`` imports apportioned by employment, (L_ic / L_i) imports_i (the ADH exposure's
            numerator); exports_ic: ``(C, I)`` exports of location c in industry i.
        X_star: Foreign expenditure m w* L*.
        iterations, max_residual, converged: the fixed point's diagnostics (max |T(x) − x| in logs).
        labor_residual: |Σ_ic L_ic − 1|; trade_residual: |Σ exports − Σ imports| / Σ imports (Walras checks).
    """

    params: Params
    p: Float[Array, " I"]
    p_star: Float[Array, " I"]
    P: Float[Array, ""]
    P_star: Float[Array, ""]
    w_star: Float[Array, ""]
    L: Float[Array, "C I"]
    L_industry: Float[Array, " I"]
    imports: Float[Array, " I"]
    exports: Float[Array, " I"]
    imports_ic: Float[Array, "C I"]
    exports_ic: Float[Array, "C I"]
    X_star: Float[Array, ""]
    iterations: Int[Array, ""]
    max_residual: Float[Array, ""]
    converged: Bool[Array, ""]
    labor_residual: Float[Array, ""]
    trade_residual: Float[Array, ""]

    @property
    def x(self):
        """The fixed-point unknowns (ln p, ln p*, ln w*), e.g. to warm-start another solve."""
        return jnp.concatenate([jnp.log(self.p), jnp.log(self.p_star), jnp.log(self.w_star)[..., None]], axis=-1)

    def summary(self) -> str:
        """One line per economy: convergence and the Walras checks (concrete results only)."""
        conv = np.atleast_1d(np.asarray(self.converged))
        res = np.atleast_1d(np.asarray(self.max_residual))
        lab = np.atleast_1d(np.asarray(self.labor_residual))
        tr = np.atleast_1d(np.asarray(self.trade_residual))
        it = np.atleast_1d(np.asarray(self.iterations))
        head = f"{int(conv.sum())} of {conv.size} equilibria converged"
        return (f"{head}; iterations max {it.max()}; fixed-point residual max {res.max():.2e}; "
                f"|sum L - 1| max {lab.max():.2e}; trade imbalance max {tr.max():.2e}")

    def to_npz(self, path) -> None:
        """Write the equilibrium for outside tools (one economy): keys :data:`NPZ_KEYS`, exactly.

        Scalars ``sigma, rho, eta, tau, L_star, w_star, P, P_star``; ``z, mu, L`` of shape (C, I);
        ``z_star, p, p_star`` of shape (I,). Written atomically.
        """
        if np.ndim(self.P) != 0:
            raise ValueError(f"to_npz writes one equilibrium; this one has batch shape {np.shape(self.P)}")
        pr = self.params
        arrays = dict(sigma=pr.sigma, rho=pr.rho, eta=pr.eta, tau=pr.tau, L_star=pr.L_star, w_star=self.w_star,
                      z=pr.z, mu=pr.mu, L=self.L, z_star=pr.z_star, p=self.p, p_star=self.p_star, P=self.P,
                      P_star=self.P_star)
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(arrays[k], dtype=np.float64) for k in NPZ_KEYS})
        atomic_write_bytes(path, buf.getvalue())


def _inner(xi, d0, k: _Consts, n_newton: int):
    """Given the aggregates xi = (ln P, ln P*, ln w*), solve each industry's D_i exactly.

    With d = ln D_i = ln Σ_c μ_ic p_ic^(1−ρ), D2-D3 give p_i, p*_i from d, D4 gives A_i, and D7 requires
    g(d) = d − ln(m B_i) − e ln A_i(d) = 0, e = η(ρ−1)/κ. A_i falls with d, so g' ∈ [1, 1 + e(ρ−σ)/(ρ−1)]:
    one increasing scalar equation per industry, solved by Newton (all industries at once).
    Returns (d, ln p, ln p*) per industry.
    """
    lP, lPs, lw = xi[0], xi[1], xi[2]
    s, r = k.sigma, k.rho
    lm = jnp.log(r / (r - 1.0))
    kappa = 1.0 - k.eta * (r - 1.0)
    e = 1.0 / kappa - 1.0
    lXs = lm + lw + jnp.log(k.L_star)
    lpF = lm + lw - k.log_zs
    lf = (1.0 - r) * (k.log_tau + lpF)  # ln (τ p^F)^(1−ρ)
    lfs = (1.0 - r) * lpF
    gam = (r - s) / (1.0 - r)

    def parts(d):
        lu = jnp.logaddexp(d, lf)
        lv = jnp.logaddexp((1.0 - r) * k.log_tau + d, lfs)
        lH = gam * lu + (s - 1.0) * lP + lm
        lHs = gam * lv + (s - 1.0) * lPs + lXs
        lA = jnp.logaddexp(lH, (1.0 - r) * k.log_tau + lHs)
        g = d - lm - k.log_B - e * lA
        wH = jnp.exp(lH - lA)
        dlA = gam * (wH * jnp.exp(d - lu) + (1.0 - wH) * jnp.exp((1.0 - r) * k.log_tau + d - lv))
        return g, 1.0 - e * dlA, lu, lv

    def step(_, d):
        g, dg, _, _ = parts(d)
        return d - g / dg

    d = jax.lax.fori_loop(0, n_newton, step, d0)
    _, _, lu, lv = parts(d)
    return d, lu / (1.0 - r), lv / (1.0 - r)


def _outer_residual(xi, d0, k: _Consts, n_newton: int):
    """Residuals of the aggregates: P and P* from D2-D3 (given the industries' prices) and D6."""
    d, lp, lps = _inner(xi, d0, k, n_newton)
    s, r = k.sigma, k.rho
    x = jnp.concatenate([lp, lps, xi[2:3]])
    q = _pieces(x, k)
    lF = jax.nn.logsumexp((1.0 - r) * q["lpF"] + jnp.logaddexp(q["lHs"], (1.0 - r) * k.log_tau + q["lH"]))
    res = jnp.stack([xi[0] - q["lP"], xi[1] - q["lPs"], (lF - q["lXs"]) / r])
    return res, (d, x)


def _nested_solve(k: _Consts, x0, tol, max_iter, n_newton):
    """Newton on the three aggregates (ln P, ln P*, ln w*); each evaluation solves the industries exactly.

    The 3 x 3 Jacobian is taken by forward-mode autodiff through the industries' Newton steps. Steps
    are capped at 1 in log units (a safeguard far from the solution). Returns (x, iterations, |res|).
    """
    lp, lps, lw = _split(x0)
    s = k.sigma
    xi0 = jnp.stack([jax.nn.logsumexp((1.0 - s) * lp) / (1.0 - s), jax.nn.logsumexp((1.0 - s) * lps) / (1.0 - s), lw])
    r = k.rho
    d0 = jnp.log(jnp.maximum(jnp.exp((1.0 - r) * lp) - jnp.exp((1.0 - r) * (k.log_tau + jnp.log(r / (r - 1.0)) + lw
                                                                                   - k.log_zs)), 1e-300))
    d0 = jnp.where(jnp.isfinite(d0), d0, jnp.log(r / (r - 1.0)) + k.log_B)

    def body(c):
        xi, d, it, _ = c
        fn = lambda z: _outer_residual(z, d, k, n_newton)
        (res, (d_new, _)), = (fn(xi),)
        J = jax.jacfwd(lambda z: fn(z)[0])(xi)
        dx = jnp.linalg.solve(J, res)
        dx = dx / jnp.maximum(1.0, jnp.max(jnp.abs(dx)))
        xi_new = xi - dx
        res_new, (d2, _) = fn(xi_new)
        return xi_new, d2, it + 1, jnp.max(jnp.abs(res_new))

    def cond(c):
        return (c[2] < max_iter) & (c[3] > tol) & jnp.isfinite(c[3])

    res0, (d0, _) = _outer_residual(xi0, d0, k, n_newton)
    xi, d, it, err = jax.lax.while_loop(cond, body, (xi0, d0, jnp.asarray(0), jnp.max(jnp.abs(res0))))
    _, (_, x) = _outer_residual(xi, d, k, n_newton)
    return x, it, err


def _initial_guess(k: _Consts):
    """x0: prices from D2-D3 with A_i = 1 and w* = 1."""
    r = k.rho
    lm = jnp.log(r / (r - 1.0))
    lD = lm + k.log_B
    lpF = lm - k.log_zs
    lp = jnp.logaddexp(lD, (1.0 - r) * (k.log_tau + lpF)) / (1.0 - r)
    lps = jnp.logaddexp((1.0 - r) * k.log_tau + lD, (1.0 - r) * lpF) / (1.0 - r)
    return jnp.concatenate([lp, lps, jnp.zeros((1,))])


def _outcomes(params: Params, lb, x, k: _Consts, fp, resid, converged) -> Equilibrium:
    q = _pieces(x, k)
    r = k.rho
    lp, lps, lw = _split(x)
    L = jnp.exp(lb + q["lA"][None, :] / q["kappa"])  # D7 (0 where μ = 0)
    L_i = jnp.exp(k.log_B + q["lA"] / q["kappa"])  # Σ_c L_ic = B_i A_i^(1/κ), O(I): batches of aggregates skip C x I
    imports = jnp.exp((1.0 - r) * (k.log_tau + q["lpF"]) + q["lH"])
    # exports_ic = m L_ic τ^(1−ρ) H*_i / A_i  (the Foreign part of revenue_ic, D4-D5)
    ex_share = jnp.exp((1.0 - r) * k.log_tau + q["lHs"] - q["lA"])
    exports_ic = jnp.exp(q["lm"]) * L * ex_share[None, :]
    exports = jnp.exp(q["lm"]) * L_i * ex_share
    imports_ic = L / L_i[None, :] * imports[None, :]
    tot_m = jnp.sum(imports)
    return Equilibrium(
        params=params, p=jnp.exp(lp), p_star=jnp.exp(lps), P=jnp.exp(q["lP"]), P_star=jnp.exp(q["lPs"]),
        w_star=jnp.exp(lw), L=L, L_industry=L_i, imports=imports, exports=exports, imports_ic=imports_ic,
        exports_ic=exports_ic, X_star=jnp.exp(q["lXs"]), iterations=fp.iterations, max_residual=resid,
        converged=converged, labor_residual=jnp.abs(jnp.sum(L_i) - 1.0),
        trade_residual=jnp.abs(jnp.sum(exports) - tot_m) / tot_m)


def _tangent_solve(g, y):
    """Solve the linearised root problem g(x) = y (dense LU of size 2 I + 1, lineax)."""
    op = lx.FunctionLinearOperator(g, jax.eval_shape(lambda: y))
    return lx.linear_solve(op, y, lx.AutoLinearSolver(well_posed=True)).value


class _Diag(eqx.Module):
    """Diagnostics of the forward solve handed to :func:`_outcomes`."""

    iterations: Array
    outer_residual: Array


def solve_equilibrium(params: Params, x0=None, *, tol: float = 1e-13, max_iter: int = 50,
                      inner_newton: int = 12) -> Equilibrium:
    """Solve D1-D7 (module docstring): the fixed point x = T(x) in x = (ln p_i, ln p*_i, ln w*).

    Algorithm: Newton on the three aggregates (ln P, ln P*, ln w*); at each evaluation every
    industry's ln Σ_c μ_ic p_ic^(1−ρ) solves its own increasing scalar equation (``inner_newton``
    Newton steps, all industries at once). This converges in a handful of steps for any η below the
    bound 1/(ρ−1), where plain iteration of T diverges (its price block has slope
    −(ρ−σ)/(ρ−1) · η(ρ−1)/κ · domestic share, below −1 near the bound).

    Args:
        params: :class:`Params` (batched: ``jax.vmap(solve_equilibrium)(stacked_params)``).
        x0: optional warm start ``(2 I + 1,)`` (e.g. ``Equilibrium.x`` of a nearby economy).
        tol: stop when the aggregates' residual (log units) is <= tol.
        max_iter: cap on the aggregate Newton steps; an economy that hits it has ``converged = False``.
        inner_newton: Newton steps per industry per evaluation (warm-started).

    Returns:
        :class:`Equilibrium` with ``max_residual`` = max |T(x) − x| of the fixed-point map itself at the
        returned x, and ``converged`` = (aggregate residual <= tol) and (max_residual <= 1e3 tol) and finite.

    Gradients: implicit (``jax.lax.custom_root`` on T(x) − x, the tangent system solved by lineax, one
    dense LU of size 2 I + 1); the O(C I) parts (B_i, L_ic) are differentiated directly. Forward and
    reverse mode, under ``jit`` and ``vmap``.
    """
    n_ind = params.z.shape[-1]
    lb = log_b(params)
    log_B = jax.nn.logsumexp(lb, axis=0)
    k = _consts(params, log_B)
    start = _initial_guess(k) if x0 is None else jnp.asarray(x0, dtype=float)
    if start.shape != (2 * n_ind + 1,):
        raise ValueError(f"x0 must have shape (2 I + 1,) = ({2 * n_ind + 1},); got {start.shape}")

    def solve(f, x_init):
        x, it, err = _nested_solve(jax.lax.stop_gradient(k), x_init, tol, max_iter, inner_newton)
        return x, (it.astype(err.dtype), err)  # float aux: custom_root's JVP rule needs float tangents

    x, (it, err) = jax.lax.custom_root(lambda y: _map(y, k) - y, jax.lax.stop_gradient(start), solve,
                                       _tangent_solve, has_aux=True)
    it, err = jax.lax.stop_gradient((it, err))
    it = it.astype(jnp.int32)
    resid = jnp.max(jnp.abs(_map(jax.lax.stop_gradient(x), jax.lax.stop_gradient(k)) - jax.lax.stop_gradient(x)))
    converged = (err <= tol) & (resid <= 1e3 * tol) & jnp.isfinite(resid)
    fp = _Diag(iterations=it, outer_residual=err)
    return _outcomes(params, lb, x, k, fp, resid, converged)
