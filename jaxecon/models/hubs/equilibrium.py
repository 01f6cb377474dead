"""Competitive equilibrium of the hubs model (paper 001; DESIGN.md "The hubs model").

Equations (DESIGN.md; paper §I and eq. 1), city n, sector j, occupation k:

* externality (eq. 1): λ^kj_n = λ̂^kj_n (L^k_n/L_n)^(τ^R,kj) L_n^(τ^L,j)
* unit cost: x^j_n = B^j c^j_n^(γ^j_L) r_n^(γ^j_H) Π_l (P^l_n)^(γ^jl), labor cost
  c^j_n = [Σ_k (w^k_n/λ^kj_n)^(1−ε)]^(1/(1−ε)), B^j = Π_f γ_f^(−γ_f) (so x is the true unit cost);
  occupation k's share of sector j's wage bill s^kj_n = (w^k_n/λ^kj_n)^(1−ε) / c^j_n^(1−ε)
* trade (Eaton-Kortum): π^j_mn = T^j_m (x^j_m d^j_mn)^(−ϑ) / Φ^j_n, Φ^j_n = Σ_m T^j_m (x^j_m d^j_mn)^(−ϑ),
  P^j_n = (Φ^j_n)^(−1/ϑ)
* goods: X^j_n = α^j Σ_k e^k_n L^k_n + Σ_l γ^lj R^l_n, R^j_m = Σ_n π^j_mn X^j_n
* labor: w^k_n L^k_n = Σ_j s^kj_n γ^j_L R^j_n;  structures: r_n H_n = Σ_j γ^j_H R^j_n
* rents: χ^k = Σ_n r_n H_n / Σ_k L^k (the structures portfolio is held equally per capita)
* location: L^k_n/L^k = (A^k_n C^k_n)^ν / Σ_m (A^k_m C^k_m)^ν, C^k_n = e^k_n/P_n,
  P_n = Π_j (P^j_n/α^j)^(α^j)

with household spending e^k_n = w^k_n + χ^k in the competitive equilibrium and
e^k_n = (1 − t_L)(w^k_n + Δ^k_n) + χ^k + R^k under a :class:`Policy` (paper §II, used by the planner).

Numeraire: the average wage, Σ_kn w^k_n L^k_n = Σ_k L^k.

Algorithm: the unknowns z = (ln w, ln L, ln r, ln P, ln X) are updated jointly by the map z ← F(z) that
evaluates the right-hand sides above once (a Jacobi sweep of damped tâtonnement: wages and rents move
to clear labor and structures markets given this sweep's revenues, populations to the location
choice, prices and expenditures one step of their inner fixed points), then divides every nominal
variable by the sweep's average wage. Why it converges: given (w, L, r) the price step is a
contraction of modulus max_j Σ_l γ^jl < 1 (log-sum-exp is non-expansive in the sup norm) and the
expenditure step one of the same modulus in the ℓ1 norm (Σ_j γ^lj < 1 summed over buyers); the
wage and population steps are damped (ω, default 0.5) because a wage rise lowers revenue with
elasticity ~ϑ γ_L, which makes the undamped Jacobian's eigenvalues fall below −1. Rescaling by the
average wage removes the one neutral direction of the homogeneous map (its eigenvalue becomes 0), and
at any fixed point of the rescaled map the rescaling factor is exactly 1 (Walras' law: total revenue
= total expenditure), so its fixed points are the equilibria. Strong externalities (large τ) can make
the equilibrium unstable under this update; convergence is reported per element, never assumed.

Gradients: implicit (``optimistix.ImplicitAdjoint`` through :func:`jaxecon.numerics.fixed_point`),
with ``lineax.GMRES`` for large systems.
"""

from __future__ import annotations

import io
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...numerics import fixed_point
from ...reporting import atomic_write_bytes
from .params import Params

__all__ = ["Policy", "Equilibrium", "solve_equilibrium", "evaluate", "initial_state", "market_residuals",
           "DENSE_ADJOINT_MAX", "trade_kernel", "build_equilibrium", "log_lambda", "price_index"]

DENSE_ADJOINT_MAX = 3000   # state sizes above this use GMRES for the implicit adjoint


class Policy(eqx.Module):
    """Taxes, subsidies and transfers of paper §II: e^k_n = (1 − t_L)(w^k_n + Δ^k_n) + χ^k + R^k.

    Attributes:
        t_L: income tax rate (scalar); Delta: ``(K, N)`` subsidies Δ^k_n; R: ``(K,)`` transfers R^k.
    """

    t_L: Float[Array, ""]
    Delta: Float[Array, "K N"]
    R: Float[Array, " K"]

    @staticmethod
    def none(params: Params) -> "Policy":
        K, N = params.A.shape[-2:]
        return Policy(t_L=jnp.zeros(()), Delta=jnp.zeros((K, N)), R=jnp.zeros((K,)))


def _log_B(p: Params):
    """ln B^j = −Σ_f γ_f ln γ_f over labor, structures and materials (0 ln 0 = 0)."""
    def xlogx(g):
        return jnp.where(g > 0, g * jnp.log(jnp.where(g > 0, g, 1.0)), 0.0)
    return -(xlogx(p.gamma_L) + xlogx(p.gamma_H) + jnp.sum(xlogx(p.gamma_io), axis=-1))


def log_lambda(p: Params, L):
    """Eq. (1): ln λ^kj_n = ln λ̂^kj_n + τ^R,kj ln(L^k_n/L_n) + τ^L,j ln L_n, ``(K, J, N)``."""
    lL = jnp.log(L)
    lLn = jnp.log(jnp.sum(L, axis=0))
    return (jnp.log(p.lam_hat) + p.tau_R[:, :, None] * (lL - lLn)[:, None, :]
            + p.tau_L[None, :, None] * lLn[None, None, :])


def price_index(p: Params, lP):
    """ln P_n = Σ_j α^j (ln P^j_n − ln α^j) (sectors with α^j = 0 drop out)."""
    a = p.alpha[:, None]
    return jnp.sum(jnp.where(a > 0, a * (lP - jnp.log(jnp.where(a > 0, a, 1.0))), 0.0), axis=0)


def initial_state(p: Params) -> dict:
    """Start: equal wages, populations proportional to A^ν, unit prices and expenditure."""
    K, J, N = p.lam_hat.shape
    shares = jax.nn.log_softmax(p.nu * jnp.log(p.A), axis=1)
    return dict(lw=jnp.zeros((K, N)), lL=jnp.log(p.Lk)[:, None] + shares, lr=jnp.zeros((N,)),
                lP=jnp.zeros((J, N)),
                lX=jnp.broadcast_to(jnp.log(p.alpha[:, None] * jnp.sum(p.Lk) / N + 1e-3 / (J * N)), (J, N)))


def trade_kernel(p: Params):
    """d^−ϑ, ``(J, N, N)``: computed once per solve (the costliest array of a sweep)."""
    return p.d ** (-p.vartheta)


def evaluate(p: Params, z: dict, policy: Policy, D=None) -> dict:
    """One sweep of the equilibrium map at state ``z`` (no rescaling): every right-hand side of the
    module docstring's equations, as levels, plus the updated state ``new`` (unnormalized).
    ``D`` = :func:`trade_kernel` (computed here when omitted)."""
    one_eps = 1.0 - p.epsilon
    w, L, r, X = jnp.exp(z["lw"]), jnp.exp(z["lL"]), jnp.exp(z["lr"]), jnp.exp(z["lX"])
    lP = z["lP"]
    llam = log_lambda(p, L)
    a = one_eps * (z["lw"][:, None, :] - llam)                       # (K, J, N)
    lc = jax.scipy.special.logsumexp(a, axis=0) / one_eps             # ln c^j_n
    s = jax.nn.softmax(a, axis=0)                                     # s^kj_n
    lx = (_log_B(p)[:, None] + p.gamma_L[:, None] * lc + p.gamma_H[:, None] * z["lr"][None, :]
          + p.gamma_io @ lP)                                          # ln x^j_n
    ly = jnp.log(p.T) - p.vartheta * lx                               # ln T x^-ϑ
    ymax = jnp.max(ly, axis=1, keepdims=True)
    yt = jnp.exp(ly - ymax)
    D = trade_kernel(p) if D is None else D                           # d^-ϑ, (J, N, N)
    phi = jnp.einsum("jmn,jm->jn", D, yt)                             # Φ^j_n / e^ymax
    lP_new = -(ymax + jnp.log(phi)) / p.vartheta
    R = yt * jnp.einsum("jmn,jn->jm", D, X / phi)                     # R^j_m = Σ_n π^j_mn X^j_n
    chi = jnp.sum(r * p.H) / jnp.sum(p.Lk)
    spend = (1.0 - policy.t_L) * (w + policy.Delta) + chi + policy.R[:, None]   # e^k_n
    E = jnp.sum(spend * L, axis=0)
    X_new = p.alpha[:, None] * E[None, :] + p.gamma_io.T @ R          # Σ_l γ^lj R^l_n
    bill = s * (p.gamma_L[:, None] * R)[None, :, :]                   # w^k_n L^kj_n demanded
    w_new = jnp.sum(bill, axis=1) / L
    r_new = jnp.sum(p.gamma_H[:, None] * R, axis=0) / p.H
    lPn = price_index(p, lP)
    V = p.nu * (jnp.log(p.A) + jnp.log(spend) - lPn[None, :])
    lL_new = jnp.log(p.Lk)[:, None] + jax.nn.log_softmax(V, axis=1)
    new = dict(lw=jnp.log(w_new), lL=lL_new, lr=jnp.log(r_new), lP=lP_new, lX=jnp.log(X_new))
    return dict(new=new, w=w, L=L, r=r, X=X, lP=lP, lx=lx, lam=jnp.exp(llam), s=s, R=R, chi=chi, spend=spend,
                E=E, bill=bill, lPn=lPn, w_new=w_new, r_new=r_new, X_new=X_new, lP_new=lP_new, ly=ly)


def _numeraire(p: Params, z_new: dict, L) -> Float[Array, ""]:
    """ln of the average wage Σ w L / Σ L^k implied by a sweep (the rescaling factor)."""
    return jnp.log(jnp.sum(jnp.exp(z_new["lw"]) * L) / jnp.sum(p.Lk))


def _rescale(z: dict, ls) -> dict:
    out = dict(z)
    for key in ("lw", "lr", "lP", "lX"):
        out[key] = z[key] - ls
    return out


def _equilibrium_map(z, args):
    p, policy, D = args
    ev = evaluate(p, z, policy, D)
    return _rescale(ev["new"], _numeraire(p, ev["new"], ev["L"]))


def _state_size(p: Params) -> int:
    K, J, N = p.lam_hat.shape[-3:]
    return 2 * K * N + N + 2 * J * N


def _adjoint_solver(size: int, linear_solver):
    if linear_solver is not None:
        return linear_solver
    if size > DENSE_ADJOINT_MAX:
        return lx.GMRES(rtol=1e-10, atol=1e-12, restart=60, max_steps=2000)
    return None


class Equilibrium(eqx.Module):
    """Solution of :func:`solve_equilibrium` (or of the planner, with its policy).

    Attributes (levels; N cities, J sectors, K occupations):
        params: the :class:`Params` solved.
        policy: the :class:`Policy` in force (zero in the competitive equilibrium).
        w, L: ``(K, N)`` wages w^k_n and populations L^k_n; Lkj: ``(K, J, N)`` employment L^kj_n.
        lam: ``(K, J, N)`` productivities λ^kj_n (eq. 1 at this allocation).
        P: ``(J, N)`` sector prices P^j_n; Pn: ``(N,)`` consumer price index P_n.
        x: ``(J, N)`` unit costs x^j_n; r: ``(N,)`` rents; X: ``(J, N)`` expenditure; R: ``(J, N)`` revenue.
        chi: ``(K,)`` rent dividend χ^k; spend: ``(K, N)`` household spending e^k_n.
        C: ``(K, N)`` real consumption C^k_n = e^k_n / P_n.
        welfare: ``(K,)`` expected utility (Σ_n (A^k_n C^k_n)^ν)^(1/ν) (up to the Fréchet constant).
        iterations, max_residual (sup norm of F(z) − z in logs), converged: diagnostics per element.
    """

    params: Params
    policy: Policy
    w: Float[Array, "K N"]
    L: Float[Array, "K N"]
    Lkj: Float[Array, "K J N"]
    lam: Float[Array, "K J N"]
    P: Float[Array, "J N"]
    Pn: Float[Array, " N"]
    x: Float[Array, "J N"]
    r: Float[Array, " N"]
    X: Float[Array, "J N"]
    R: Float[Array, "J N"]
    chi: Float[Array, " K"]
    spend: Float[Array, "K N"]
    C: Float[Array, "K N"]
    welfare: Float[Array, " K"]
    iterations: Int[Array, ""]
    max_residual: Float[Array, ""]
    converged: Bool[Array, ""]

    @property
    def pi(self) -> Float[Array, "J N N"]:
        """Trade shares ``pi[j, m, n]`` = π^j_mn (share of n's spending on j bought from m); computed
        on demand (J N² numbers)."""
        p = self.params
        ly = jnp.log(p.T)[..., :, None] - p.vartheta[..., None, None, None] * (
            jnp.log(self.x)[..., :, None] + jnp.log(p.d))
        return jax.nn.softmax(ly, axis=-2)

    @property
    def state(self) -> dict:
        """The solver's unknowns at this solution (a warm start for a nearby economy)."""
        return dict(lw=jnp.log(self.w), lL=jnp.log(self.L), lr=jnp.log(self.r), lP=jnp.log(self.P),
                    lX=jnp.log(self.X))

    def to_npz(self, path) -> None:
        """Write the parameters and the solution with the keys of issue 17 (one economy, unbatched):
        ``nu, vartheta, epsilon, alpha, gamma_L, gamma_H, gamma_io[j, l], d[j, m, n], T, H, lam (K, J, N),
        A, Lk, w, L, Lkj, P, x, r, X, R, pi[j, m, n], chi``. ``lam`` is the productivity λ^kj_n in effect
        (eq. 1 at this allocation)."""
        if np.ndim(self.w) != 2:
            raise ValueError(f"to_npz writes one economy; this Equilibrium is batched (w has shape {np.shape(self.w)})")
        p = self.params
        arrays = dict(nu=p.nu, vartheta=p.vartheta, epsilon=p.epsilon, alpha=p.alpha, gamma_L=p.gamma_L,
                      gamma_H=p.gamma_H, gamma_io=p.gamma_io, d=p.d, T=p.T, H=p.H, lam=self.lam, A=p.A, Lk=p.Lk,
                      w=self.w, L=self.L, Lkj=self.Lkj, P=self.P, x=self.x, r=self.r, X=self.X, R=self.R,
                      pi=self.pi, chi=self.chi)
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v, dtype=float) for k, v in arrays.items()})
        atomic_write_bytes(Path(path), buf.getvalue())


def build_equilibrium(p: Params, z: dict, policy: Policy, iterations, residual, converged) -> Equilibrium:
    """Equilibrium object from a converged state (one more evaluation for the derived quantities)."""
    ev = evaluate(p, z, policy)
    L = ev["L"]
    C = ev["spend"] / jnp.exp(ev["lPn"])[None, :]
    welfare = jnp.sum((p.A * C) ** p.nu, axis=1) ** (1.0 / p.nu)
    K = p.Lk.shape[0]
    return Equilibrium(
        params=p, policy=policy, w=ev["w"], L=L, Lkj=ev["bill"] / ev["w"][:, None, :], lam=ev["lam"],
        P=jnp.exp(ev["lP"]), Pn=jnp.exp(ev["lPn"]), x=jnp.exp(ev["lx"]), r=ev["r"], X=ev["X"], R=ev["R"],
        chi=jnp.full((K,), ev["chi"]), spend=ev["spend"], C=C, welfare=welfare,
        iterations=iterations, max_residual=residual, converged=converged)


def solve_equilibrium(params: Params, policy: Policy | None = None, *, init: dict | None = None,
                      tol: float = 1e-11, max_iter: int = 5000, damping: float = 0.5,
                      linear_solver: lx.AbstractLinearSolver | None = None) -> Equilibrium:
    """Solve the competitive equilibrium (or the equilibrium under ``policy``) of the hubs model.

    The fixed point z = F(z) of the module docstring, iterated as z ← (1 − ω) z + ω F(z) in logs,
    ω = ``damping``, until max|F(z) − z| <= ``tol``. Works under ``jax.vmap`` over stacked Params
    (each element reports its own ``converged``); differentiable in ``params`` by implicit gradients
    (``linear_solver`` for the adjoint; default dense up to :data:`DENSE_ADJOINT_MAX` unknowns,
    ``lineax.GMRES`` above).

    Args:
        params: :class:`Params`.
        policy: taxes and transfers (:class:`Policy`); ``None`` = laissez-faire.
        init: a starting state (e.g. ``other_solution.state``); default :func:`initial_state`.
    """
    if policy is None:
        policy = Policy.none(params)
    z0 = initial_state(params) if init is None else init
    res = fixed_point(_equilibrium_map, z0, (params, policy, trade_kernel(params)), damping=damping, tol=tol, max_iter=max_iter,
                      linear_solver=_adjoint_solver(_state_size(params), linear_solver))
    return build_equilibrium(params, res.value, policy, res.iterations, res.residual, res.converged)


def market_residuals(eq: Equilibrium) -> dict:
    """Relative residuals of every equilibrium condition at a solution (checks, not used by the solver):
    goods (R^j_m = Σ_n π^j_mn X^j_n and X^j_n = α^j E_n + Σ_l γ^lj R^l_n), labor (Σ_j L^kj_n = L^k_n and
    w L = Σ_j s γ_L R), structures (r_n H_n = Σ_j γ^j_H R^j_n), budget (Σ_j X^j_n total = Σ_k e L + Σ_j
    materials, i.e. household spending equals income nationally), populations (Σ_n L^k_n = L^k),
    prices (P^j_n = Φ^j_n^(−1/ϑ)) and location choice."""
    p = eq.params
    pi = eq.pi
    R_implied = jnp.einsum("jmn,jn->jm", pi, eq.X)
    E = jnp.sum(eq.spend * eq.L, axis=0)
    X_implied = p.alpha[:, None] * E + p.gamma_io.T @ eq.R
    a = (1.0 - p.epsilon) * (jnp.log(eq.w)[:, None, :] - jnp.log(eq.lam))
    s = jax.nn.softmax(a, axis=0)                         # CES wage-bill shares from w and λ
    w_implied = jnp.einsum("kjn,jn->kn", s, p.gamma_L[:, None] * eq.R) / eq.L
    income = jnp.sum((eq.w + eq.chi[:, None]) * eq.L)      # labor income + rents
    expend = jnp.sum(eq.spend * eq.L)
    ly = jnp.log(p.T)[:, :, None] - p.vartheta * (jnp.log(eq.x)[:, :, None] + jnp.log(p.d))
    P_implied = jnp.exp(-jax.scipy.special.logsumexp(ly, axis=1) / p.vartheta)
    V = p.nu * (jnp.log(p.A) + jnp.log(eq.C))
    L_implied = p.Lk[:, None] * jax.nn.softmax(V, axis=1)

    def rel(a, b):
        return jnp.max(jnp.abs(a - b) / jnp.maximum(jnp.abs(b), 1e-300))

    return dict(
        goods_revenue=rel(eq.R, R_implied), goods_expenditure=rel(eq.X, X_implied),
        labor_employment=rel(jnp.sum(eq.Lkj, axis=1), eq.L), labor_wages=rel(eq.w, w_implied),
        structures=rel(eq.r * p.H, jnp.sum(p.gamma_H[:, None] * eq.R, axis=0)),
        budget=jnp.abs(expend - income) / income,
        value_added=jnp.abs(income - jnp.sum((p.gamma_L + p.gamma_H)[:, None] * eq.R)) / income, national_goods=jnp.abs(jnp.sum(eq.R) - jnp.sum(eq.X)) / jnp.sum(eq.X),
        populations=rel(jnp.sum(eq.L, axis=1), p.Lk), prices=rel(eq.P, P_implied), location=rel(eq.L, L_implied),
        numeraire=jnp.abs(jnp.sum(eq.w * eq.L) / jnp.sum(p.Lk) - 1.0))
