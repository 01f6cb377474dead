"""Time iteration on the Euler equation with the collateral constraint: shared by DE and planner.

One step maps the policies ``(cT, μ)`` on the grid ``(b, s)`` to updated policies. With
``χ = 0`` (decentralized equilibrium) or ``χ = 1`` (constrained-efficient planner), the marginal
value of wealth (per unit of R) is ``Λ = u_T(cT) + χ μ Ψ(cT)`` and the optimality conditions are

    u_T(cT) = β R E[Λ(b', s') | s] + μ (1 − χ Ψ(cT)),   μ >= 0,
    b' + κ (p(cT) yN + yT) >= 0,   μ (b' + κ (p yN + yT)) = 0,   cT + b' = R b + yT,

the households' Euler equation and complementary slackness for χ = 0 (Bianchi 2011, §I) and the
planner's (§II: ``u_T + μΨ = βR E[u_T' + μ'Ψ'] + μ``) for χ = 1. The step:

1. ``EΛ(b', s) = Σ_s' P(s, s') Λ(b', s')`` on the grid (one matrix product);
2. at each grid point, the largest admissible consumption ``c_max = min(c_bind, R b + yT − b_min)``
   with ``c_bind`` solved from the constraint itself (:func:`binding_consumption`), the smallest
   ``c_min = R b + yT − b_max`` (grid ends are numerical bounds, as in the original code);
3. ``e(c) = log u_T(c) − log(β R EΛ(R b + yT − c, s))`` is strictly decreasing in c (EΛ is
   interpolated linearly in b'); if ``e(c_max) >= 0`` the constraint binds (``cT = c_max``);
   if ``e(c_min) <= 0`` the saving corner holds; otherwise Newton (in log c) finds ``e = 0``;
4. the multiplier ``μ = max(0, u_T − βR EΛ) / (1 − χΨ)`` where the collateral binds, else 0.

χ is an ordinary (traceable) argument, so the DE and the planner share one compiled program.

The step is the sweep of a :class:`jaxecon.numerics.TimeIteration` (the engine the specialization
model runs on), iterated to the sup-norm change ``tol`` in ``(cT, μ)``. Solves are implicitly
differentiable in the parameters: at the fixed point the step's conditions hold exactly,

    interior:   e(cT) = 0,     binding:   cT − κ p(cT) yN − (R b + yT + κ yT) = 0,
    b' at an end of the grid:  cT = R b + yT − b_min (or − b_max),
    μ (1 − χΨ) = max(0, u_T − βR EΛ) where binding, μ = 0 elsewhere,

with each point's case held at the solution's (:meth:`BianchiProblem.residual`).
"""

from __future__ import annotations


import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ...numerics import Axis, newton
from ...numerics.time_iteration import (RESULTS, PolicySolution, SweepInfo, TimeIteration, TimeIterationProblem,
                                         solve_time_iteration as _engine_solve)
from .economy import binding_consumption, collateral_slack, externality, marginal_utility, price
from .params import Params

__all__ = ["Solution", "BianchiProblem", "policy_step", "marginal_value", "expected_marginal_value",
           "solve_time_iteration"]

# a grid point counts as at a corner when cT is within this distance of the corner value
_CORNER_TOL = 1e-10


class Solution(PolicySolution):
    """Policies of one economy (DE or planner) on the bond grid (batched under ``vmap``).

    Attributes:
        b: the bond grid, ``(nb,)``.
        cT: tradable consumption ``cT(b, s)``, ``(nb, ns)``.
        b_next: bonds chosen ``b'(b, s) = R b + yT − cT``.
        price: the price of nontradables ``p(cT, yN)``.
        mu: the collateral multiplier μ >= 0 (0 where slack).
        slack: ``b' + κ (p yN + yT)`` (>= 0 up to rounding).
        binding: the collateral constraint binds (cT at the root of the constraint).
        at_grid_bound: ``b'`` sits at an end of the bond grid (a numerical bound, not collateral).
        iterations, max_change, converged, result: as every time-iteration solution
            (:class:`jaxecon.numerics.PolicySolution`); ``max_change`` is the sup-norm change of
            ``(cT, μ)`` in the last (undamped) step, and ``converged`` also requires the on-grid
            Euler residual below ``100 tol`` and consumption satisfying the constraint at every
            grid point (``result`` is ``node_failure`` otherwise).
        euler_residual: max over interior grid points of ``|log u_T(cT) − log(βR EΛ')|`` at the
            returned policies (interpolated next-period values, as in the iteration).
        planner: False for the decentralized equilibrium, True for the planner (static).
    """

    b: Float[Array, " nb"]
    cT: Float[Array, "nb ns"]
    b_next: Float[Array, "nb ns"]
    price: Float[Array, "nb ns"]
    mu: Float[Array, "nb ns"]
    slack: Float[Array, "nb ns"]
    binding: Bool[Array, "nb ns"]
    at_grid_bound: Bool[Array, "nb ns"]
    euler_residual: Float[Array, ""]
    planner: bool = eqx.field(static=True, default=False)


def marginal_value(params: Params, cT, mu, chi):
    """``Λ = u_T(cT) + χ μ Ψ(cT)`` on the grid (χ = 1 for the planner, 0 for the DE), ``(nb, ns)``."""
    yN = params.yN[None, :]
    return marginal_utility(params, cT, yN) + chi * mu * externality(params, cT, yN)


def expected_marginal_value(params: Params, cT, mu, chi):
    """``EΛ(b', s) = Σ_s' P(s, s') Λ(b', s')`` on the grid, shape ``(nb, ns)``."""
    return marginal_value(params, cT, mu, chi) @ params.chain.P.T


def _interp_b(grid: Axis, values, b_query, s):
    """Linear interpolation in b of ``values[:, s]`` at ``b_query``, clamped to the grid ends
    (no extrapolation). The cell is located by the shared :meth:`Axis.locate`; only the two
    neighbouring nodes of column ``s`` are gathered (cheap under ``vmap`` over grid points)."""
    i, t = grid.locate(b_query)
    t = jnp.clip(t, 0.0, 1.0)
    return (1.0 - t) * values[i, s] + t * values[i + 1, s]


def _bounds(params: Params, grid: Axis, b_i, s):
    """Admissible consumption at ``(b, s)``: ``c_max`` (collateral root or ``b' = b_min``),
    ``c_min`` (``b' = b_max``), whether ``c_max`` is the collateral root, and feasibility."""
    yT, yN = params.yT[s], params.yN[s]
    cash = params.R * b_i + yT
    c_bind, can_bind, feasible, _ = binding_consumption(params, cash, yT, yN)
    c_cap = cash - grid.points[0]
    collateral_corner = can_bind & (c_bind <= c_cap)
    c_max = jnp.where(feasible, jnp.minimum(c_bind, c_cap), 1e-8)
    c_min = jnp.minimum(cash - grid.points[-1], 0.5 * c_max)  # positive by check_grid
    return cash, c_max, c_min, collateral_corner, feasible


def _euler_gap(params: Params, grid: Axis, EL, c, cash, s):
    """``e(c) = log u_T(c) − log(βR EΛ(R b + yT − c, s))``, strictly decreasing in c."""
    rhs = params.beta * params.R * _interp_b(grid, EL, cash - c, s)
    return jnp.log(marginal_utility(params, c, params.yN[s])) - jnp.log(rhs)


def _grid_points(nb, ns):
    bb = jnp.broadcast_to(jnp.arange(nb)[:, None], (nb, ns)).reshape(-1)
    ss = jnp.broadcast_to(jnp.arange(ns)[None, :], (nb, ns)).reshape(-1)
    return bb, ss


def grid_bounds(params: Params, grid: Axis, ns: int):
    """:func:`_bounds` at every grid point: ``(cash, c_max, c_min, collateral_corner, feasible)``,
    each ``(nb, ns)``. They depend on the parameters only, so the time iteration computes them once."""
    nb = grid.points.shape[0]
    bi, ss = _grid_points(nb, ns)
    out = jax.vmap(lambda i, s: _bounds(params, grid, grid.points[i], s))(bi, ss)
    return tuple(x.reshape(nb, ns) for x in out)


def policy_step(params: Params, grid: Axis, cT, mu, chi, *, bounds=None, newton_tol: float = 1e-12):
    """One time-iteration step (module docstring): new ``(cT, mu)`` on the grid, each ``(nb, ns)``.

    ``chi`` = 0 (decentralized) or 1 (planner); it may be traced. ``bounds``: the output of
    :func:`grid_bounds` (computed here when omitted).
    """
    nb, ns = cT.shape
    EL = expected_marginal_value(params, cT, mu, chi)
    bi, ss = _grid_points(nb, ns)
    if bounds is None:
        bounds = grid_bounds(params, grid, ns)
    flat = tuple(x.reshape(-1) for x in bounds[:4])

    def point(s, c_guess, cash, c_max, c_min, collateral_corner):
        def e(c):
            return _euler_gap(params, grid, EL, c, cash, s)

        top = e(c_max) >= 0.0
        bottom = (~top) & (e(c_min) <= 0.0)
        interior = (~top) & (~bottom)
        x0 = jnp.log(jnp.clip(c_guess, c_min, c_max))
        # corner points solve a trivial problem (x = x0) so they cost no Newton iterations
        res = newton(lambda x: jnp.where(interior, e(jnp.exp(x)), x - x0), x0, tol=newton_tol, max_iter=60,
                     n_halvings=4)
        c = jnp.where(top, c_max, jnp.where(bottom, c_min, jnp.clip(jnp.exp(res.x), c_min, c_max)))
        binding = top & collateral_corner
        gap = marginal_utility(params, c, params.yN[s]) - params.beta * params.R * _interp_b(grid, EL, cash - c, s)
        denom = 1.0 - chi * externality(params, c, params.yN[s])
        m = jnp.where(binding, jnp.maximum(gap, 0.0) / denom, 0.0)
        return c, m

    c, m = jax.vmap(point)(ss, cT.reshape(-1), *flat)
    return c.reshape(nb, ns), m.reshape(nb, ns)


def classify(params: Params, grid: Axis, cT, mu, chi):
    """Flags and on-grid Euler residuals of given policies (no root finding besides the constraint).

    Returns ``(binding, at_grid_bound, feasible, euler_residual)``: the first three ``(nb, ns)``,
    the last the max ``|e(cT)|`` over interior points.
    """
    nb, ns = cT.shape
    EL = expected_marginal_value(params, cT, mu, chi)
    bi, ss = _grid_points(nb, ns)

    def point(i, s, c):
        cash, c_max, c_min, collateral_corner, feasible = _bounds(params, grid, grid.points[i], s)
        top = c >= c_max - _CORNER_TOL
        bottom = c <= c_min + _CORNER_TOL
        interior = ~top & ~bottom
        err = jnp.where(interior, jnp.abs(_euler_gap(params, grid, EL, c, cash, s)), 0.0)
        return top & collateral_corner, (top & ~collateral_corner) | bottom, feasible, err

    binding, at_bound, feasible, err = jax.vmap(point)(bi, ss, cT.reshape(-1))
    return binding.reshape(nb, ns), at_bound.reshape(nb, ns), feasible.reshape(nb, ns), jnp.max(err)


def initial_policy(params: Params, grid: Axis):
    """Starting guess: zero current account, ``b' = b`` (``cT = (R − 1) b + yT``), ``μ = 0``."""
    b = grid.points[:, None]
    cT = (params.R - 1.0) * b + params.yT[None, :]
    return cT, jnp.zeros_like(cT)


class BianchiProblem(TimeIterationProblem):
    """The node problem of Bianchi (2011): policies ``(cT, μ)`` on the grid ``(b, s)``; χ = 0
    (decentralized) or 1 (planner). ``bounds`` is :func:`grid_bounds` of ``params``."""

    params: Params
    grid: Axis
    chi: Array
    bounds: tuple

    def sweep(self, policy, carry, steps, final):
        cT, mu = policy_step(self.params, self.grid, policy[0], policy[1], self.chi, bounds=self.bounds)
        info = SweepInfo(switched=jnp.asarray(False), status=RESULTS.successful, stats=())
        return (cT, mu), carry, info

    def change(self, new, old):
        return jnp.maximum(jnp.max(jnp.abs(new[0] - old[0])), jnp.max(jnp.abs(new[1] - old[1])))

    def residual(self, policy, carry):
        """The step's conditions at each point, in the case the point is in (module docstring)."""
        params, grid, chi = self.params, self.grid, self.chi
        cT, mu = policy
        nb, ns = cT.shape
        cash, c_max, c_min, collateral_corner, _ = jax.lax.stop_gradient(self.bounds)
        c_now = jax.lax.stop_gradient(cT)
        top, bottom = c_now >= c_max - _CORNER_TOL, c_now <= c_min + _CORNER_TOL
        binding = top & collateral_corner
        yT, yN = params.yT[None, :], params.yN[None, :]
        cash = params.R * grid.points[:, None] + yT  # live (differentiable) cash on hand
        EL = expected_marginal_value(params, cT, mu, chi)
        bi, ss = _grid_points(nb, ns)
        gap_log = jax.vmap(lambda i, s, c, w: _euler_gap(params, grid, EL, c, w, s))(
            bi, ss, cT.reshape(-1), cash.reshape(-1)).reshape(nb, ns)
        k = params.kappa
        r_c = jnp.where(binding, (cT - k * price(params, cT, yN) * yN - cash - k * yT) / c_now,
                        jnp.where(top, (cT - (cash - grid.points[0])) / c_now,
                                  jnp.where(bottom, (cT - (cash - grid.points[-1])) / c_now, gap_log)))
        u_T = marginal_utility(params, cT, yN)
        rhs = jnp.exp(jnp.log(u_T) - gap_log)  # βR EΛ(b') at each point
        denom = 1.0 - chi * externality(params, cT, yN)
        scale = jax.lax.stop_gradient(u_T)
        r_mu = jnp.where(binding, (mu * denom - jnp.maximum(u_T - rhs, 0.0)), mu) / scale
        return r_c, r_mu


def _solve(params, grid, chi, x0, tol, max_iter, damping):
    # the bounds only classify points (the residual recomputes what it differentiates), and their
    # Newton root of the constraint is a loop that reverse mode cannot pass: held constant
    bounds = jax.lax.stop_gradient(grid_bounds(params, grid, x0[0].shape[1]))
    problem = BianchiProblem(params=params, grid=grid, chi=chi, bounds=bounds)
    solver = TimeIteration(tol=tol, max_iter=max_iter, damping=damping)
    out = _engine_solve(solver, problem, x0, jnp.asarray(False))
    cT, mu = out.policy
    binding, at_bound, feasible, euler = classify(params, grid, cT, mu, chi)
    yT, yN = params.yT[None, :], params.yN[None, :]
    b_next = params.R * grid.points[:, None] + yT - cT
    sound = jnp.all(feasible) & (euler <= 100.0 * tol)
    result = RESULTS.where((out.result == RESULTS.successful) & ~sound, RESULTS.node_failure, out.result)
    return dict(
        b=grid.points,
        cT=cT,
        b_next=b_next,
        price=price(params, cT, yN),
        mu=mu,
        slack=collateral_slack(params, b_next, cT, yT, yN),
        binding=binding,
        at_grid_bound=at_bound,
        iterations=out.iterations,
        max_change=out.change,
        euler_residual=euler,
        converged=result == RESULTS.successful,
        result=result,
    )


_solve_jit = jax.jit(_solve, static_argnames=("tol", "max_iter", "damping"))


def solve_time_iteration(
    params: Params,
    grid: Axis,
    planner: bool,
    *,
    init: tuple | None = None,
    tol: float = 1e-9,
    max_iter: int = 2000,
    damping: float = 0.0,
) -> Solution:
    """Iterate :func:`policy_step` to its fixed point (χ = 1 if ``planner``); see the module docstring.

    The DE and the planner share one compiled program (χ is an argument), cached per grid size.
    ``init``: optional starting policies ``(cT, mu)``; default :func:`initial_policy`. ``damping``:
    the weight on the old iterate (0 = undamped), as in every :class:`jaxecon.numerics.TimeIteration`.
    Differentiable (``jax.grad``, ``jax.jvp``) in ``params`` by the implicit function theorem.
    """
    x0 = initial_policy(params, grid) if init is None else tuple(jnp.asarray(a, dtype=float) for a in init)
    chi = jnp.asarray(1.0 if planner else 0.0)
    out = _solve_jit(params, grid, chi, x0, float(tol), int(max_iter), float(damping))
    return Solution(**out, planner=bool(planner))
