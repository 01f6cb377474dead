"""The constrained-efficient (time-consistent, Markov) planner of the specialization model
(DESIGN.md "Constrained-efficient planner"; paper 002 §3.4, eqs. 20-24, 35-36), by time iteration
on the engine of :mod:`jaxecon.numerics.time_iteration` (the DE's engine).

The planner at ``(b, k, s)`` takes the future functions ``C, Q, K, H`` (consumption, price, next
shares and the private multiplier of the regulated economy; at the fixed point its own) as given,
and chooses ``b'`` and ``k'`` (``Σ k' = 1``) to maximize ``u(c) + β E V(b', k', s')`` subject to

    c = W(b, k, s) − Σ_i Φ_i(k_i, k'_i) − b'/R,     W = Y(k, s) + b,     −b'/R <= θ q,
    q = M(b', k')/u'(c) − Σ_i k'_i Φ_i,2(k_i, k'_i),
    M = β E[u'(C')(Q' + Σ_i k'_i(α z̄'_i k'_i^(α+ξ_i−1) − Φ_i,1(k'_i, K''_i))) + θ Q' H' | s].

With the multiplier ``μ >= 0`` on the collateral constraint and ``q̃ = q + Σ k' Φ2 = M/u'(c)``,
``∂q/∂c = γ q̃/c``, so the social marginal value of wealth is (envelope; paper eq. 21)

    Λ = V_b = u'(c) + μ θ γ q̃ / c,
    V_{k_i} = Λ ((α + ξ_i) z̄_i k_i^(α+ξ_i−1) − Φ_i,1(k_i, k'_i)) + μ θ φ_i k'_i² / k_i²,

(the social marginal product: V carries the agglomeration term; the last term is ``−μθ k'_i
∂Φ_i,2/∂k_i``). The first-order conditions (``D_j = ∂/∂k'_j − ∂/∂k'_I``, the shares on the simplex):

    bond (eq. 24):   Λ = β R E[Λ'] + μ (1 + R θ M_b' / u'(c)),
    shares (eq. 23): Λ D_jΣΦ + μθ D_j(Σ k' Φ2) − μθ D_jM / u'(c) = β E[D_j V'],   j < I,

``D_jΣΦ = Φ_j,2 − Φ_I,2``, ``D_j(Σk'Φ2) = Φ_j,2 + k'_j φ_j/k_j − Φ_I,2 − k'_I φ_I/k_I``. The Ω terms of
paper eqs. 35-36 are ``M_b' = ∂M/∂b'`` and ``D_jM``: derivatives of the interpolated future
functions, taken by forward-mode autodiff (``jax.jvp``) of the interpolant, never by finite
differences. Where the constraint is slack ``μ = 0`` and the conditions are the DE's with ``Λ'`` and
``V'_k`` (which carry the future ``μ'`` and the social return) in place of the private ones; where it
binds, ``b' = −R θ q(b', k')`` (joint in ``c`` and ``b'``, the fire-sale feedback), ``μ`` follows from the
bond condition, and ``H = max(0, min(u'(c) − β R E[u'(C')], κ μ))`` (a negative raw value is
underborrowing: counted, ``n_underborrowing``).

The cap ``κ μ`` (``h_slope``, default 10) departs from DESIGN.md's ``H = max(0, u'(c) − βR E[u'(C')])``
only at binding nodes next to the regime boundary, where ``μ < (u'(c) − βR E[u'(C')])/κ`` ("mixed"
nodes, counted in ``n_mixed``). DESIGN.md's ``H`` jumps from 0 to the full wedge
``βR E[Λ' − u'(C')]`` as ``μ`` crosses 0, and ``H`` enters tomorrow's price through ``θ Q' H'``: on a
grid a node can then sit on the boundary with no fixed point (slack, it violates the constraint;
binding, the jump in ``H`` moves the prices so that ``μ < 0``), and time iteration cycles (measured:
6 of 64 heterogeneous economies, one node each). With the cap ``H`` is continuous in ``μ`` and goes
to 0 with it; there the debt tax takes up the rest of the wedge (:func:`.taxes.optimal_taxes`,
``1 + τ^B = (u'(c) − H)/(βR E[u'(c')])``), a valid implementation of the same plan's conditions. With
θ = ∞ the raw value equals ``μ`` and ``κ >= 1`` leaves it unchanged; ``h_slope=inf`` is DESIGN.md's
convention exactly.

Expectations use the DE's scheme (:func:`.system.expected_tables`): tables of conditional
expectations of ``Λ', Λ' z̄'_i, Λ' k''_i², μ' k''_i²`` and of the DE's integrands (with ``η' = H'``)
interpolated multilinearly at ``(b', k')``, the social ``(α + ξ_i) k'_i^(α+ξ_i−1)`` and the ``1/k'_i²``
applied at the query. So with ``θ = ∞`` (ad hoc debt limit) and ``ξ = 0`` the planner's node system IS
the DE's (no pecuniary externality, no agglomeration): the planner equals the DE to solver tolerance.

Node unknowns ``x = (log c, logits of k')`` (``q``, ``μ``, ``H`` follow); Newton per node
(:func:`jaxecon.numerics.newton_soa`) with the Jacobian from ``jax.jvp`` of the residual. A sweep
solves every node in its carried regime, switches regimes (slack → binding where ``b'`` violates the
constraint, binding → slack where ``μ < 0``) and re-solves every node in the new regime. The value
``V`` is the policy value of the planner's allocation (:func:`.welfare.policy_value`, homothetic
utility), the ``V^SP`` of :func:`.welfare.welfare_gain`.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ..._checks import is_concrete
from ...numerics import interp_grad, newton_soa, solve_small_soa
from ...numerics.time_iteration import SweepInfo, TimeIteration, solve_time_iteration
from . import primitives as pr
from .equilibrium import GridProblem, solution_fields, solve_equilibrium
from .solution import EquilibriumSolution
from .grid import grid_states, policy_shape
from .params import Grid, Params
from .system import borrowing_limit, expected_tables, node_states, shares_from_logits
from .welfare import policy_value

__all__ = ["PlannerSolution", "PlannerProblem", "solve_planner", "planner_euler_errors", "planner_tables", "jvp_jacobian"]

_MU_TOL = 1e-9
_VIOL_TOL = 1e-10
_MAX_STEP = 1.0


class PlannerSolution(EquilibriumSolution):
    """The planner's policies on the DE's grid (every :class:`EquilibriumSolution` field, so
    :func:`allocation_at`, :func:`simulate`, :func:`ergodic_moments` take it unchanged), plus:

    Attributes:
        eta: ``H``, the private multiplier of the regulated economy that implements the plan
            (``max(0, u'(c) − βR E[u'(c')])`` where the planner's constraint binds, else 0).
        mu: the planner's multiplier on the collateral constraint.
        v: the planner's value ``V^SP`` (policy value of its allocation, ``u = c^(1−γ)/(1−γ)``).
        n_underborrowing: binding nodes where ``u'(c) − βR E[u'(c')] < 0`` (the private agent would
            borrow less than the planner; ``H`` is set to 0 there).
        n_mixed: binding nodes where ``H`` is capped at ``h_slope · μ`` below the raw private wedge
            (next to the regime boundary; module docstring).
        v_converged: the policy evaluation of ``v`` met its tolerance.
    """

    mu: Float[Array, "..."]
    v: Float[Array, "..."]
    n_underborrowing: Int[Array, ""]
    n_mixed: Int[Array, ""]
    v_converged: Array

    def summary(self) -> str:
        text = super().summary().replace("time iteration:", "planner time iteration:", 1)
        extra = [f"underborrowing nodes (private agent would borrow less): {int(self.n_underborrowing)}",
                 f"mixed nodes (H capped at h_slope * mu next to the regime boundary): {int(self.n_mixed)}"]
        if not bool(self.converged):
            extra.append("PLANNER NOT CONVERGED: try damping=0.5 (planners need much smaller steps than the DE), "
                         "more max_iter, newton_sweep_iter=30, or warm-start from a nearby planner (init=)")
        return "\n".join([text] + extra)

    def to_npz(self, path) -> None:
        """The DE's keys (``eta`` = ``H``) plus ``v`` and ``mu`` (the planner's multiplier)."""
        import io as _io
        from pathlib import Path

        import numpy as np

        from ...reporting import atomic_write_bytes
        from .solution import _save_npz

        _save_npz(self, path)  # validates and writes the DE keys
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
        extra = {"v": np.asarray(self.v), "mu": np.asarray(self.mu)}
        if self.n_industries == 1:
            extra = {k: a[:, None] for k, a in extra.items()}
        buf = _io.BytesIO()
        np.savez(buf, **data, **extra)
        atomic_write_bytes(Path(path), buf.getvalue())


def _levels(x):
    I = x.shape[1]
    kn, _ = shares_from_logits([x[:, 1 + j] for j in range(I - 1)], like=x[:, 0])
    return jnp.exp(x[:, 0]), jnp.stack(kn, axis=1)


def _x_from(c, kn):
    I = kn.shape[-1]
    kn = jnp.maximum(kn, 1e-12)
    return jnp.concatenate([jnp.log(c)[:, None], jnp.log(kn[:, : I - 1]) - jnp.log(kn[:, I - 1:])], axis=1)


def planner_tables(params, grid, c, q, mu, kn, k):
    """Conditional expectations (for every current ``s``) of ``Λ', Λ'z̄'_i, Λ'k''_i², μ'k''_i²`` on the
    grid, shape ``policy shape + (3I + 1,)`` (module docstring); inputs flattened, ``k`` the nodes' shares."""
    I = kn.shape[-1]
    shape = policy_shape(grid, I, params.n_states)
    ns = shape[-1]
    theta = pr.finite_theta(params)
    up = jnp.exp(-params.gamma * jnp.log(jnp.maximum(c, 1e-10)))
    qt = q + jnp.sum(kn * pr.adj_cost_d2(params, k, kn), axis=-1)
    lam = up + mu * theta * params.gamma * qt / c
    z_next = jnp.broadcast_to(params.z.T[:, None, :], (I, lam.shape[0] // ns, ns)).reshape(I, -1)
    cols = ([lam] + [lam * z_next[i] for i in range(I)] + [lam * kn[:, i] ** 2 for i in range(I)]
            + [mu * kn[:, i] ** 2 for i in range(I)])
    return jnp.stack([col.reshape(-1, ns) @ params.P.T for col in cols], axis=-1).reshape(shape + (len(cols),))


def jvp_jacobian(f, x):
    """``(r, J, aux)`` of a struct-of-arrays system ``f(*x) -> (r, aux)`` (lists of arrays of one shape),
    ``J[a][b] = ∂r_a/∂x_b`` elementwise from one ``jax.jvp`` per unknown (each node's equations depend
    on its own unknowns only), the form :func:`jaxecon.numerics.newton_soa` takes."""
    r, aux = f(*x)
    m = len(x)
    cols = []
    for b in range(m):
        tang = [jnp.ones_like(x[a]) if a == b else jnp.zeros_like(x[a]) for a in range(m)]
        cols.append(jax.jvp(lambda *xs: f(*xs)[0], list(x), tang)[1])
    return r, [[cols[b][a] for b in range(m)] for a in range(len(r))], aux


class PlannerProblem(GridProblem):
    """The planner's node problem (module docstring). Iterate ``(x, q, μ, H)`` per node, carry: the
    regime (True: the collateral constraint binds). ``h_slope``: the cap ``H <= h_slope · μ``."""

    h_slope: Array

    def _tables(self, policy):
        x, q, mu, H = policy
        c, kn = _levels(x)
        p = self.params
        return (expected_tables(p, c, q, H, kn, self._shape), planner_tables(p, self.grid, c, q, mu, kn, self.nodes.k))

    def _equations(self, x, node, regime, tables):
        """Residuals (I arrays) and ``aux = (c, q, μ, H, raw H, b', k', violation, u'(c))`` at the nodes."""
        p = self.params
        I = node.k.shape[-1]
        gamma, beta, alpha = p.gamma, p.beta, p.alpha
        theta = pr.finite_theta(p)
        s = node.s
        R = p.R[s]
        axes = self._axes
        ext = (self.grid.b_extrapolate,) + (False,) * (I - 1)
        de_tab, sp_tab = tables
        k = [node.k[..., i] for i in range(I)]
        phi, delta, xi = ([v[i] for i in range(I)] for v in (p.phi, p.delta, p.xi))

        c = jnp.exp(x[0])
        kn, log_kn = shares_from_logits(list(x[1:]), like=x[0])
        phi2 = [phi[i] * (kn[i] / k[i] - 1.0 - delta[i]) for i in range(I)]
        adj = sum(0.5 * phi[i] * (kn[i] / k[i] - 1.0 - delta[i]) ** 2 * k[i] for i in range(I))
        resources = node.wealth - adj
        bn = R * (resources - c)
        kred = kn[: I - 1]

        def m_of(b_, kr):
            """M(b', k') of the module docstring, at shares ``kr`` (I − 1) with ``k'_I = 1 − Σ kr``."""
            val, _ = interp_grad(axes, de_tab, [b_] + list(kr), extrapolate=ext, tail=(s,))
            kf = list(kr) + [1.0 - sum(kr) if I > 1 else jnp.ones_like(b_)]
            e_u, e_uq = val[..., 0], val[..., 1]
            out = e_uq + theta * val[..., 2 + 2 * I]
            for i in range(I):
                lk = jnp.log(jnp.maximum(kf[i], 1e-12))
                out = out + kf[i] * (alpha * jnp.exp((alpha + xi[i] - 1.0) * lk) * val[..., 2 + i]
                                     + 0.5 * phi[i] * (val[..., 2 + I + i] / kf[i] ** 2 - (1.0 + delta[i]) ** 2 * e_u))
            return beta * out

        zero = jnp.zeros_like(bn)
        M, M_b = jax.jvp(m_of, (bn, kred), (jnp.ones_like(bn), [zero] * (I - 1)))
        DM = [jax.jvp(m_of, (bn, kred), (zero, [jnp.ones_like(bn) if l == j else zero for l in range(I - 1)]))[1]
              for j in range(I - 1)]

        sp, _ = interp_grad(axes, sp_tab, [bn] + kred, extrapolate=ext, tail=(s,))
        de, _ = interp_grad(axes, de_tab, [bn] + kred, extrapolate=ext, tail=(s,))
        e_lam = jnp.maximum(sp[..., 0], 1e-300)
        up = jnp.exp(-gamma * x[0])
        qt = M / up
        q = qt - sum(kn[i] * phi2[i] for i in range(I))
        limit = borrowing_limit(p, axes[0].points[0], s, q, self.grid.debt_limit)
        r_slack = jnp.exp(-jnp.log(beta * R * e_lam) / gamma - x[0]) - 1.0
        r_bind = (resources + limit) / c - 1.0
        r0 = jnp.where(regime, r_bind, r_slack)
        denom = 1.0 - theta * gamma * qt / c + R * theta * M_b / up
        mu = jnp.where(regime, (up - beta * R * e_lam) / denom, 0.0)
        lam = up + mu * theta * gamma * qt / c
        # E[V'_{k_i}] at the query (social marginal product, DE interpolation scheme)
        ev = [(alpha + xi[i]) * jnp.exp((alpha + xi[i] - 1.0) * log_kn[i]) * sp[..., 1 + i]
              + 0.5 * phi[i] * (sp[..., 1 + I + i] / kn[i] ** 2 - (1.0 + delta[i]) ** 2 * sp[..., 0])
              + theta * phi[i] * sp[..., 1 + 2 * I + i] / kn[i] ** 2 for i in range(I)]
        last = I - 1
        r = [r0]
        for j in range(I - 1):
            lhs = (lam * (phi2[j] - phi2[last])
                   + mu * theta * (phi2[j] + kn[j] * phi[j] / k[j] - phi2[last] - kn[last] * phi[last] / k[last])
                   - mu * theta * DM[j] / up)
            r.append((lhs - beta * (ev[j] - ev[last])) / (up * qt))
        h_raw = up - beta * R * jnp.maximum(de[..., 0], 1e-300)
        H = jnp.where(regime, jnp.maximum(jnp.minimum(h_raw, self.h_slope * mu), 0.0), 0.0)
        lim = jnp.where(self._limited(), limit, jnp.inf)
        violation = (-bn / R - lim) / (1.0 + theta * q)
        return r, (c, q, mu, H, jnp.where(regime, h_raw, 0.0), bn, list(kn), violation, up)

    def _system(self, x, node, regime, tables, jacobian):
        f = lambda *xs: self._equations(list(xs), node, regime, tables)
        if not jacobian:
            return f(*x)
        return jvp_jacobian(f, x)

    def _solve(self, x, regime, tables, n_iter):
        m = x.shape[1]
        res = newton_soa(lambda x_, jac: self._system(x_, self.nodes, regime, tables, jac), [x[:, a] for a in range(m)],
                         tol=self.newton_tol, max_iter=n_iter, n_halvings=self.n_halvings, max_step=_MAX_STEP)
        aux = res.aux[:6] + (jnp.stack(res.aux[6], axis=-1),) + res.aux[7:]
        return jnp.stack(res.x, axis=-1), aux, res.converged, res.residual

    def sweep(self, policy, regime, steps, final):
        tables = self._tables(policy)

        def one_pass(carry, _):
            # pass 1 in the carried regime; pass 2 in the regime switched by pass 1's result
            x, reg, _ = carry
            x_new, aux, ok, residual = self._solve(x, reg, tables, steps)
            mu_, viol_, up_ = aux[2], aux[7], aux[8]
            switched = jnp.where(reg, mu_ >= -_MU_TOL * up_, viol_ > _VIOL_TOL) & self._limited()
            return (x_new, switched, reg), (aux, ok, residual)

        first = (policy[0], regime, regime)
        (x2, _, new_regime), (auxs, oks, residuals) = jax.lax.scan(one_pass, first, None, length=2)
        aux2 = jax.tree.map(lambda a: a[1], auxs)
        ok, residual = oks[1], residuals[1]
        c, q, mu, H, h_raw, bn, kn, viol, up = aux2
        no_eq, unsolved, mu, valid, status = self._classify(new_regime, ok, mu, up, viol, _MU_TOL)
        under = self.feasible & new_regime & (h_raw < 0.0)
        mixed = self.feasible & new_regime & (mu >= 0.0) & (H < h_raw)
        info = SweepInfo(switched=jnp.any(new_regime != regime), status=status,
                         stats=(no_eq, unsolved, jnp.max(jnp.where(valid, residual, 0.0)), jnp.sum(under),
                                jnp.sum(mixed)))
        return (x2, q, mu, H), new_regime, info

    def change(self, new, old):
        """Sup-norm over feasible nodes of ``|new − old|/(1 + |old|)`` in ``c, q, μ, H, b', k'``."""
        (cn, kn), (co, ko) = _levels(new[0]), _levels(old[0])
        pairs = [(cn, co), (kn, ko), (self._bonds(cn, kn), self._bonds(co, ko))] + list(zip(new[1:], old[1:]))
        return self._max_rel_change(pairs)

    def _bonds(self, c, kn):
        p = self.params
        adj = jnp.sum(pr.adj_cost(p, self.nodes.k, kn), axis=-1)
        return p.R[self.nodes.s] * (self.nodes.wealth - adj - c)

    def residual(self, policy, regime):
        """``G = 0`` at the fixed point: the node equations given the tables of the policies
        themselves, preconditioned by each node's (frozen) Jacobian; then ``q − q(x)``, ``μ − μ(x)``,
        ``H − H(x)`` scaled by ``1 + q`` and ``u'(c)``."""
        x, q, mu, H = policy
        tables = self._tables(policy)
        cols = [x[:, a] for a in range(x.shape[1])]
        r, aux = self._system(cols, self.nodes, regime, tables, False)
        frozen = jax.lax.stop_gradient((self, cols, tables))
        J = frozen[0]._system(frozen[1], frozen[0].nodes, regime, frozen[2], True)[1]
        r = solve_small_soa(J, r)
        r = [jnp.where(self.feasible, ri, xi - jax.lax.stop_gradient(xi)) for ri, xi in zip(r, cols)]
        up = jax.lax.stop_gradient(aux[8])
        return (jnp.stack(r, axis=1), (q - aux[1]) / (1.0 + jax.lax.stop_gradient(q)), (mu - aux[2]) / up,
                (H - aux[3]) / up)


@functools.partial(jax.jit, static_argnames=("grid", "n_halvings", "anderson", "linear_solver"))
def _solve(params, grid, init, tol, damping, newton_tol, max_iter, newton_max_iter, newton_sweep_iter, h_slope, *,
           n_halvings,
           anderson, linear_solver=None):
    I, ns = params.n_industries, params.n_states
    shape = policy_shape(grid, I, ns)
    b, k, s, feasible = grid_states(grid, I, ns)
    problem = PlannerProblem(params=params, nodes=node_states(params, b, k, s), feasible=feasible, grid=grid,
                             newton_tol=newton_tol, n_halvings=n_halvings, h_slope=h_slope)
    solver = TimeIteration(tol=tol, max_iter=max_iter, damping=damping, sweep_steps=newton_sweep_iter,
                           full_steps=newton_max_iter, anderson=anderson)
    c0, q0, mu0, H0, kn0, regime0 = init
    out = solve_time_iteration(solver, problem, (_x_from(c0, kn0), q0, mu0, H0), regime0, linear_solver=linear_solver)
    (x, q, mu, H), regime = out.policy, out.carry
    c, kn = _levels(x)
    bn = problem._bonds(c, kn)
    no_eq, unsolved, resid, n_under, n_mixed = out.info.stats
    rs = lambda a: a.reshape(shape)
    v, v_ok = policy_value(params, grid, rs(c), rs(bn), kn.reshape(shape + (I,)))
    return PlannerSolution(
        **solution_fields(params, grid, out, c, q, H, bn, kn, regime, no_eq, unsolved, resid, feasible),
        mu=rs(mu), v=v, n_underborrowing=n_under, n_mixed=n_mixed, v_converged=v_ok)


def solve_planner(
    params: Params,
    grid: Grid | None = None,
    *,
    init: EquilibriumSolution | None = None,
    max_iter: int = 2000,
    tol: float = 1e-7,
    damping: float = 0.5,
    newton_tol: float = 1e-10,
    newton_max_iter: int = 30,
    newton_sweep_iter: int = 3,
    n_halvings: int = 3,
    anderson: int = 0,
    linear_solver=None,
    h_slope: float = 10.0,
) -> PlannerSolution:
    """Solve the constrained-efficient planner by time iteration (module docstring; DESIGN.md).

    Args:
        params: one :class:`Params` (``jax.vmap`` over stacked Params for a batch, with ``init``
            batched alike or omitted).
        grid: the DE's :class:`Grid` (static; default ``Grid()``).
        init: a DE or planner solution on the same grid to start from. Default: the DE
            (:func:`solve_equilibrium` on this grid), whose policies and regimes start the plan
            (``μ`` from the DE's ``η``).
        max_iter, tol: cap on sweeps and the tolerance on the sup-norm relative policy change.
        damping: the weight on the old iterate (planners need smaller steps than the DE).
        newton_tol, newton_max_iter, n_halvings: per-node Newton of the final sweep;
            newton_sweep_iter: Newton steps per node in the other sweeps.
        anderson: Anderson memory (static, 0 = off).
        linear_solver: the lineax solver of the implicit adjoint (static; default
            :func:`jaxecon.numerics.time_iteration.default_adjoint_solver`, GMRES restarted every 40
            vectors). Forward mode (``jax.jvp``, ``jax.jacfwd``) works with the default. Reverse mode
            (``jax.grad``) solves the transposed system, on which the restarted GMRES stagnates
            (lineax raises): pass an unrestarted GMRES, ``lx.GMRES(rtol=1e-10, atol=1e-12,
            restart=n, stagnation_iters=n, max_steps=10 * n)`` with ``n`` the number of unknowns
            (``I + 3`` per node), which is affordable on small grids only.
        h_slope: ``κ`` of the cap ``H <= κ μ`` next to the regime boundary (module docstring; > 0,
            ``inf`` is DESIGN.md's uncapped ``H``, with which a node on the boundary can make the
            iteration cycle).

    Returns:
        :class:`PlannerSolution`: per-element ``converged``/``result``; a planner that does not
        converge says so (``summary()`` says what to try), never NaN-filled silently. Implicitly
        differentiable in ``params`` (:func:`jaxecon.numerics.solve_time_iteration`).
    """
    grid = Grid() if grid is None else grid
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    if int(newton_sweep_iter) < 1 or int(newton_max_iter) < 1:
        raise ValueError("newton_sweep_iter and newton_max_iter must be >= 1 Newton steps per node; got "
                         f"{newton_sweep_iter} and {newton_max_iter}")
    if int(n_halvings) < 0:
        raise ValueError(f"n_halvings must be >= 0; got {n_halvings}")
    if is_concrete((max_iter, tol, damping, newton_tol)):
        TimeIteration(tol=float(tol), max_iter=int(max_iter), damping=float(damping))  # validates
        if not float(newton_tol) > 0:
            raise ValueError(f"newton_tol must be > 0; got {newton_tol}")
    if is_concrete(h_slope) and not float(h_slope) > 0:
        raise ValueError(f"h_slope must be > 0 (inf: no cap on H); got {h_slope}")
    I, ns = params.n_industries, params.n_states
    if init is None:
        init = solve_equilibrium(params, grid)
    if init.grid != grid or init.k_next.shape[-1] != I or init.c.shape[-len(policy_shape(grid, I, ns)):] != policy_shape(grid, I, ns):
        raise ValueError("init must be a solution on the same grid with the same I and number of states")
    mu0 = init.mu if isinstance(init, PlannerSolution) else init.eta
    flat = lambda a: a.reshape(-1)
    pol0 = (flat(init.c), flat(init.q), flat(mu0), flat(init.eta), init.k_next.reshape(-1, I), flat(init.binding))
    return _solve(params, grid, pol0, jnp.asarray(tol, float), jnp.asarray(damping, float),
                  jnp.asarray(newton_tol, float), jnp.asarray(max_iter, dtype=int), jnp.asarray(int(newton_max_iter)),
                  jnp.asarray(int(newton_sweep_iter)), jnp.asarray(h_slope, float), n_halvings=int(n_halvings), anderson=int(anderson),
                  linear_solver=linear_solver)


def _planner_errors(sp, b, k, s):
    from .policy import allocation_at

    p = sp.params
    I = sp.n_industries
    ns = p.n_states
    n = b.shape[0]
    gamma, beta, alpha, theta = p.gamma, p.beta, p.alpha, pr.finite_theta(p)
    with_mu = eqx.tree_at(lambda t: t.eta, sp, sp.mu)  # the same interpolation for μ as for H
    today = allocation_at(sp, b, k, s)
    c, q, bn, kn = today["c"], today["q"], today["b_next"], today["k_next"]
    mu = jnp.maximum(allocation_at(with_mu, b, k, s)["eta"], 0.0)
    R, Pr = p.R[s], p.P[s]
    c = jnp.maximum(c, 1e-12)
    up = pr.marginal_utility(p, c)

    def tomorrow(bn_, kred):
        """Tomorrow's consistent allocation at (b', k', s') for every s', and M(b', k')."""
        kf = jnp.stack(list(kred) + [1.0 - sum(kred) if I > 1 else jnp.ones_like(bn_)], axis=-1)
        bb, kk = jnp.repeat(bn_, ns), jnp.repeat(kf, ns, axis=0)
        ss = jnp.tile(jnp.arange(ns, dtype=jnp.int32), n)
        t = allocation_at(sp, bb, kk, ss)
        m = jnp.maximum(allocation_at(with_mu, bb, kk, ss)["eta"], 0.0).reshape(n, ns)
        cn, qn, Hn = (jnp.maximum(t["c"], 1e-12).reshape(n, ns), t["q"].reshape(n, ns), t["eta"].reshape(n, ns))
        knn = t["k_next"].reshape(n, ns, I)
        upn = pr.marginal_utility(p, cn)
        kq = kf[:, None, :]
        div = qn + jnp.sum(kq * (pr.private_mpk(p, p.z[None], kq) - pr.adj_cost_d1(p, kq, knn)), axis=-1)
        M = beta * jnp.sum(Pr * (upn * div + theta * qn * Hn), axis=1)
        qtn = qn + jnp.sum(knn * pr.adj_cost_d2(p, kq, knn), axis=-1)
        lam = upn + m * theta * gamma * qtn / cn
        mpk_soc = (alpha + p.xi) * p.z[None] * kq ** (alpha + p.xi - 1.0)
        vk = lam[..., None] * (mpk_soc - pr.adj_cost_d1(p, kq, knn)) + (m * theta)[..., None] * p.phi * knn**2 / kq**2
        return M, (jnp.sum(Pr * lam, axis=1), jnp.sum(Pr[..., None] * vk, axis=1))

    kred = [kn[:, j] for j in range(I - 1)]
    zero = jnp.zeros_like(bn)
    M, M_b, (e_lam, e_vk) = jax.jvp(tomorrow, (bn, kred), (jnp.ones_like(bn), [zero] * (I - 1)), has_aux=True)
    qt = M / up
    # bond (eq. 24): u'(c) = βR E[Λ'] + μ(1 + Rθ M_b'/u'(c)) − μθγq̃/c, in consumption units
    u_implied = beta * R * e_lam + mu * (1.0 + R * theta * M_b / up) - mu * theta * gamma * qt / c
    bond = jnp.abs(1.0 - pr.inverse_marginal_utility(p, jnp.maximum(u_implied, 1e-300)) / c)
    # implementability: the interpolated q against M/u'(c) − Σ k'Φ2
    phi2 = pr.adj_cost_d2(p, k, kn)
    q_impl = qt - jnp.sum(kn * phi2, axis=1)
    price = jnp.abs(q / q_impl - 1.0)
    out = {"bond": bond, "price": price}
    if I > 1:
        DM = [jax.jvp(lambda *kr: tomorrow(bn, list(kr))[0], tuple(kred),
                      tuple(jnp.ones_like(bn) if l == j else zero for l in range(I - 1)))[1] for j in range(I - 1)]
        lam_now = up + mu * theta * gamma * qt / c
        extra = kn * p.phi / k
        errs = []
        for j in range(I - 1):
            lhs = (lam_now * (phi2[:, j] - phi2[:, -1]) + mu * theta * (phi2[:, j] + extra[:, j] - phi2[:, -1] - extra[:, -1])
                   - mu * theta * DM[j] / up)
            errs.append(jnp.abs(lhs - beta * (e_vk[:, j] - e_vk[:, -1])) / (up * qt))
        out["portfolio"] = jnp.stack(errs, axis=1)
    th = pr.finite_theta(p)
    out["collateral"] = jnp.where(jnp.isfinite(p.theta), jnp.maximum(0.0, -bn / R - th * q) / (1.0 + th * q), 0.0)
    return out


def planner_euler_errors(solution: PlannerSolution, key, n: int = 10_000) -> dict:
    """The planner's optimality conditions at ``n`` random off-grid states (DESIGN.md "Accuracy":
    :func:`.accuracy.random_states`, the consistent allocation of :func:`.policy.allocation_at`; μ
    interpolated like η). Tomorrow's ``c', q', μ', H', k''`` are that allocation at ``(b', k', s')``;
    ``M`` and its derivatives (the Ω terms) by ``jax.jvp`` through it. Errors (mean and max log10,
    floored at 1e-17):

    - ``bond``: eq. 24 in consumption units, ``|1 − u'^{-1}(βR E[Λ'] + μ(1 + Rθ M_b'/u') − μθγq̃/c)/c|``;
    - ``portfolio`` (I > 1): the share condition (module docstring) over ``u'(c) q̃``;
    - ``price``: the interpolated ``q`` against the implementability constraint, ``|q/q(M) − 1|``;
    - ``collateral``: ``max(0, −b'/R − θq)/(1 + θq)``.

    Returns ``{name: {"mean_log10", "max_log10"}}`` plus ``"raw"``.
    """
    from .accuracy import random_states

    if not isinstance(solution, PlannerSolution):
        raise ValueError("planner_euler_errors needs a PlannerSolution (use euler_errors for the DE)")
    b, k, s = random_states(solution, key, int(n))
    raw = jax.jit(_planner_errors)(solution, b, k, s)
    out = {}
    for name, v in raw.items():
        lv = jnp.log10(jnp.maximum(jnp.asarray(v), 1e-17))
        out[name] = {"mean_log10": float(lv.mean()), "max_log10": float(lv.max())}
    out["raw"] = raw
    return out
