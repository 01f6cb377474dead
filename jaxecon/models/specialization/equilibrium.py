"""Decentralized (competitive) equilibrium by time iteration (Bianchi-Mendoza), DESIGN.md.

At every grid node ``(b, k, s)`` and given next-period policies ``C, Q, H (η), K`` on the grid, a sweep
solves the node's ``I + 1`` equations (bond or binding budget, capital Euler per industry; paper 002
eqs. 10-13) for ``x = (log c, log q, log(k'_i/k'_I) for i < I)``; :mod:`.system` states them, with
their analytic Jacobian, and evaluates them for all nodes at once (struct of arrays).
:class:`DEProblem` is this node problem as a :class:`jaxecon.numerics.TimeIterationProblem`; the
engine (:mod:`jaxecon.numerics.time_iteration`) iterates it, accelerates it and differentiates its
fixed point implicitly.

Expectations are interpolated multilinearly in ``(b', k'_1..k'_{I−1})`` from tables built once per
sweep of the conditional expectations of ``u'(c'), u'(c') q', u'(c') z̄'_i, u'(c') k''_i², q' η'``
(:func:`.system.expected_tables`); interpolation is linear in the table values, so this is the
expectation of the interpolated integrands. The accuracy check (:func:`euler_errors`) judges the
allocation a user simulates instead (c from the budget), DESIGN.md "Accuracy: the consistent allocation".

In the binding regime ``q`` and ``b'`` are solved jointly (the fire-sale feedback: a lower ``q``
lowers the collateral and so consumption, which lowers ``q``).

Regimes. Each node carries the regime found at the previous sweep (the engine's ``carry``). A sweep
solves every node in its regime (pass 1), switches a slack node that violates ``−b'/R <= θ q`` to
binding and a binding node with ``η < 0`` to slack, and re-solves the switched nodes (pass 2; in the
final sweep also the nodes whose Newton has not converged yet). At the fixed point this is exactly
"slack first, binding where the slack solution violates the constraint". A node where neither works
(the binding system gives ``η < 0`` or has no root: the feedback gain ``θ γ q / c`` above one) is
flagged ``no_equilibrium`` and counted; its stored values are the finite values of the failed system,
never silently repaired. ``η`` in ``[−1e−9 u'(c), 0)`` (round-off at the regime boundary) is set to 0.

Sweeps are inexact (``newton_sweep_iter`` Newton steps per node, bounded by 1 in the log/logit
unknowns, warm-started); the final sweep solves every node to ``newton_tol``. Pass 1 solves all nodes
at once; pass 2 walks only the switched nodes, in chunks of ``chunk_size``.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array

from ..._checks import is_concrete
from ...numerics import newton_soa, solve_small_soa
from ...numerics.time_iteration import (RESULTS, SweepInfo, TimeIteration, TimeIterationProblem,
                                         solve_time_iteration)
from . import primitives as pr
from .system import NodeState, expected_tables, node_states, node_system, shares_from_logits
from .grid import grid_states, policy_shape, state_axes
from .params import Grid, Params
from .solution import EquilibriumSolution

__all__ = ["EquilibriumSolution", "solve_equilibrium", "RESULTS", "GridProblem", "DEProblem", "solution_fields"]

_ETA_TOL = 1e-9
_VIOL_TOL = 1e-10
_AA_START = 1e-2  # Anderson acceleration only once the sweep-to-sweep change is below this
_AA_CALM = 2  # ... and no regime has switched for this many sweeps
_STALL = 25  # sweeps without a new lowest change before every sweep solves each node fully
_MAX_STEP = 1.0  # Newton steps in (log c, log q, logits) bounded by 1: at most a factor e per step
_EDGE_TOL = 1e-9  # b' beyond the bond grid's ends by more than this counts as off the grid


# --------------------------------------------------------------------------------------------------
# the node problem of the decentralized equilibrium, plugged into numerics.TimeIteration
# --------------------------------------------------------------------------------------------------
def _initial_policies(params, grid):
    I, ns = params.n_industries, params.n_states
    b, k, s, feasible = grid_states(grid, I, ns)
    z, R = params.z[s], params.R[s]
    Y = pr.output(params, z, k)
    c = jnp.maximum(Y + b * (1.0 - 1.0 / R), 0.05 * Y)
    q = params.beta / (1.0 - params.beta) * jnp.sum(pr.private_mpk(params, z, k) * k, axis=-1)
    return c, q, jnp.zeros_like(c), b, k, jnp.zeros_like(c, dtype=bool)


def _x_from(c, q, kn):
    """The unknowns ``(log c, log q, logits of k')`` per node, ``(N, I + 1)``."""
    I = kn.shape[-1]
    kn = jnp.maximum(kn, 1e-12)
    logits = jnp.log(kn[:, : I - 1]) - jnp.log(kn[:, I - 1 :])
    return jnp.concatenate([jnp.log(c)[:, None], jnp.log(q)[:, None], logits], axis=1)


def _levels(x):
    """``c, q, k'`` from the unknowns ``(log c, log q, ℓ)``."""
    I = x.shape[1] - 1
    kn, _ = shares_from_logits([x[:, 2 + j] for j in range(I - 1)], like=x[:, 0])
    return jnp.exp(x[:, 0]), jnp.exp(x[:, 1]), jnp.stack(kn, axis=1)


class GridProblem(TimeIterationProblem):
    """What every node problem on the specialization grid shares (the DE, the planner, the
    regulated DE): the parameters, the nodes, the grid, the Newton settings, and the diagnostics of
    a sweep (relative change over feasible nodes, the classification of nodes after a sweep)."""

    params: Params
    nodes: NodeState
    feasible: Array
    grid: Grid = eqx.field(static=True)
    newton_tol: float
    n_halvings: int = eqx.field(static=True)

    @property
    def _axes(self):
        return state_axes(self.grid, self.params.n_industries)

    @property
    def _shape(self):
        return policy_shape(self.grid, self.params.n_industries, self.params.n_states)

    def _limited(self):
        """Is there a borrowing limit at all (collateral, or the ad hoc debt limit)?"""
        return jnp.isfinite(self.params.theta) | self.grid.debt_limit

    def _max_rel_change(self, pairs):
        """Sup-norm over feasible nodes of ``|new − old|/(1 + |old|)`` over the ``(new, old)`` pairs."""

        def rel(a, o):
            d = jnp.abs(a - o) / (1.0 + jnp.abs(o))
            d = jnp.where(jnp.isfinite(d), d, jnp.inf)
            if d.ndim > 1:
                d = jnp.max(d, axis=tuple(range(1, d.ndim)))
            return jnp.max(jnp.where(self.feasible, d, 0.0))

        return functools.reduce(jnp.maximum, [rel(a, o) for a, o in pairs])

    def _classify(self, regime, ok, multiplier, scale, violation, tol):
        """After a sweep: no-equilibrium nodes (binding with a negative multiplier or no root, or
        slack and violating the constraint), unsolved slack nodes, the multiplier with round-off
        in ``[−tol·scale, 0)`` set to 0, the valid nodes and the sweep's :class:`RESULTS`."""
        negative = multiplier < -tol * scale
        feasible = self.feasible
        no_eq = feasible & ((regime & (negative | ~ok)) | (~regime & ok & (violation > _VIOL_TOL)))
        unsolved = feasible & ~regime & ~ok
        multiplier = jnp.where(regime & ~negative, jnp.maximum(multiplier, 0.0), multiplier)
        valid = feasible & ~no_eq & ~unsolved
        status = RESULTS.where(jnp.any(no_eq), RESULTS.no_equilibrium,
                               RESULTS.where(jnp.any(unsolved), RESULTS.node_failure, RESULTS.successful))
        return no_eq, unsolved, multiplier, valid, status


class DEProblem(GridProblem):
    """The decentralized equilibrium's node problem (module docstring).

    The iterate is ``(x, η, b')`` per node with ``x = (log c, log q, logits of k')``; the carry is
    each node's regime (True: the collateral constraint binds).
    """

    chunk_size: int = eqx.field(static=True)

    def _system(self, x, node, regime, table, jacobian):
        return node_system(x, node, regime, self.params, table, self._axes, self.grid.b_extrapolate,
                           self.grid.debt_limit, jacobian=jacobian)

    def _table(self, policy):
        x, eta, _ = policy
        c, q, kn = _levels(x)
        return expected_tables(self.params, c, q, eta, kn, self._shape)

    def _solve_nodes(self, x, node, regime, table, n_iter):
        """Newton at the given nodes (struct of arrays; ``x`` is ``(n, I + 1)``)."""
        m = x.shape[1]
        res = newton_soa(lambda x_, jac: self._system(x_, node, regime, table, jac), [x[:, a] for a in range(m)],
                         tol=self.newton_tol, max_iter=n_iter, n_halvings=self.n_halvings, max_step=_MAX_STEP)
        c_, q_, eta_, bn_, kn_, viol_, mu_ = res.aux
        aux = (c_, q_, eta_, bn_, jnp.stack(kn_, axis=-1), viol_, mu_)
        return (jnp.stack(res.x, axis=-1), aux, res.converged, res.residual)

    def _solve_listed(self, order, count, regime, table, n_iter, buf):
        """Newton at the nodes ``order[:count]``, ``chunk_size`` at a time; results scattered into
        ``buf``. Entries of ``order`` past ``count`` hold the out-of-range index N (dropped)."""
        M = min(self.feasible.shape[0], self.chunk_size)

        def chunk(carry):
            j, buf = carry
            idx = jax.lax.dynamic_slice(order, (j * M,), (M,))
            take = lambda a: jnp.take(a, idx, axis=0, mode="clip")
            res = self._solve_nodes(take(buf[0]), jax.tree.map(take, self.nodes), take(regime), table, n_iter)
            buf = jax.tree.map(lambda u, v: u.at[idx].set(v, mode="drop"), buf, res)
            return j + 1, buf

        _, buf = jax.lax.while_loop(lambda c: c[0] * M < count, chunk, (jnp.asarray(0), buf))
        return buf

    def sweep(self, policy, regime, steps, final):
        """Pass 1 at every node in its carried regime, switch regimes, pass 2 at the switched nodes
        (and, in the final sweep, the unconverged ones), in chunks. Both passes are needed in every
        sweep: carrying a slack solution that violates the constraint into the next sweep (a lagged
        regime update) made the iteration diverge."""
        N = self.feasible.shape[0]
        M = min(N, self.chunk_size)
        x = policy[0]
        table = self._table(policy)
        res1 = self._solve_nodes(x, self.nodes, regime, table, steps)
        _, aux1, ok1, _ = res1
        _, _, eta1, _, _, viol1, mu1 = aux1
        new_regime = jnp.where(regime, eta1 >= -_ETA_TOL * mu1, viol1 > _VIOL_TOL) & self._limited()
        redo = (new_regime != regime) | (final & ~ok1)
        order = jnp.nonzero(redo, size=-(-N // M) * M, fill_value=N)[0]
        x2, out2, ok, residual = self._solve_listed(order, jnp.sum(redo), new_regime, table, steps, res1)
        _, _, eta2, bn2, _, viol2, mu2 = out2
        # η in [−1e−9 u'(c), 0) is round-off at the regime boundary
        no_eq, unsolved, eta2, valid, status = self._classify(new_regime, ok, eta2, mu2, viol2, _ETA_TOL)
        info = SweepInfo(switched=jnp.any(new_regime != regime), status=status,
                         stats=(no_eq, unsolved, jnp.max(jnp.where(valid, residual, 0.0))))
        return (x2, eta2, bn2), new_regime, info

    def change(self, new, old):
        """Sup-norm over feasible nodes of ``|new − old|/(1 + |old|)`` in ``c, q, η, b', k'``."""
        (xn, en, bn), (xo, eo, bo) = new, old
        return self._max_rel_change(list(zip(_levels(xn), _levels(xo))) + [(en, eo), (bn, bo)])

    def residual(self, policy, regime):
        """``G = 0`` at the fixed point: the node equations at ``x`` given the tables of the policies
        themselves, preconditioned by the inverse of each node's own Jacobian (a constant: it leaves
        the root and its derivative unchanged and makes ``∂G/∂x = I − ∂T/∂x``); then
        ``(η − η(x))/u'(c)`` and ``b' − b'(x)``."""
        x, eta, bn = policy
        m = x.shape[1]
        table = self._table(policy)
        cols = [x[:, a] for a in range(m)]
        r, aux = self._system(cols, self.nodes, regime, table, False)
        _, _, eta_x, bn_x, _, _, mu = aux
        frozen = jax.lax.stop_gradient((self, cols, table))
        J = frozen[0]._system(frozen[1], frozen[0].nodes, regime, frozen[2], True)[1]
        r = solve_small_soa(J, r)
        r = [jnp.where(self.feasible, ri, xi - jax.lax.stop_gradient(xi)) for ri, xi in zip(r, cols)]
        eta_r = jnp.where(regime, eta - jnp.maximum(eta_x, 0.0), eta) / jax.lax.stop_gradient(mu)
        return jnp.stack(r, axis=1), eta_r, bn - bn_x


def solution_fields(params, grid, out, c, q, eta, bn, kn, regime, no_eq, unsolved, resid, feasible) -> dict:
    """The :class:`EquilibriumSolution` fields of a finished time iteration ``out`` on the grid
    (flattened node arrays reshaped to the policy shape; ``result`` is ``grid_edge`` where ``b'``
    leaves the bond grid: the grid is too narrow), shared by the DE, the planner and the regulated DE."""
    I = params.n_industries
    shape = policy_shape(grid, I, params.n_states)
    b_axis = state_axes(grid, I)[0].points
    b_lo, b_hi = b_axis[0], b_axis[-1]
    n_feas = jnp.maximum(jnp.sum(feasible), 1)
    share = lambda m_: jnp.sum(m_ & feasible) / n_feas
    edge = feasible & ((bn < b_lo - _EDGE_TOL) | (bn > b_hi + _EDGE_TOL)) & (not grid.b_extrapolate)
    plain = (out.result == RESULTS.successful) | (out.result == RESULTS.max_steps_reached)
    result = RESULTS.where(plain & jnp.any(edge), RESULTS.grid_edge, out.result)
    rs = lambda a: a.reshape(shape)
    return dict(
        params=params, grid=grid, c=rs(c), q=rs(q), eta=rs(eta), b_next=rs(bn), k_next=kn.reshape(shape + (I,)),
        binding=rs(regime), no_equilibrium=rs(no_eq), feasible=rs(feasible), iterations=out.iterations,
        max_change=out.change, max_residual=resid, converged=result == RESULTS.successful, result=result,
        n_no_equilibrium=jnp.sum(no_eq), n_unsolved=jnp.sum(unsolved), share_binding=share(regime),
        share_b_low=share(bn <= b_lo), share_b_high=share(bn >= b_hi), share_off_grid=share(edge),
        sweep_newton_steps=out.steps)


def _solver(max_iter, tol, damping, newton_max_iter, newton_sweep_iter, anderson, fail_patience=30):
    return TimeIteration(tol=tol, max_iter=max_iter, damping=damping, sweep_steps=newton_sweep_iter,
                         full_steps=newton_max_iter, anderson=anderson, anderson_start=_AA_START,
                         anderson_calm=_AA_CALM, stall=_STALL, fail_patience=fail_patience)


@functools.partial(jax.jit, static_argnames=("grid", "n_halvings", "chunk_size", "anderson", "fail_patience"))
def _solve(params, grid, init, tol, damping, newton_tol, max_iter, newton_max_iter, newton_sweep_iter, *, n_halvings,
           chunk_size, anderson, fail_patience=30):
    I, ns = params.n_industries, params.n_states
    b, k, s, feasible = grid_states(grid, I, ns)
    problem = DEProblem(params=params, nodes=node_states(params, b, k, s), feasible=feasible, grid=grid,
                        newton_tol=newton_tol, n_halvings=n_halvings, chunk_size=chunk_size)
    solver = _solver(max_iter, tol, damping, newton_max_iter, newton_sweep_iter, anderson, fail_patience)
    c0, q0, eta0, bn0, kn0, regime0 = init
    out = solve_time_iteration(solver, problem, (_x_from(c0, q0, kn0), eta0, bn0), regime0)
    (x, eta, bn), regime = out.policy, out.carry
    c, q, kn = _levels(x)
    no_eq, unsolved, resid = out.info.stats
    return EquilibriumSolution(**solution_fields(params, grid, out, c, q, eta, bn, kn, regime, no_eq, unsolved, resid,
                                                 feasible))


def solve_equilibrium(
    params: Params,
    grid: Grid | None = None,
    *,
    max_iter: int = 1000,
    tol: float = 1e-7,
    damping: float = 0.0,
    init: EquilibriumSolution | None = None,
    newton_tol: float = 1e-10,
    newton_max_iter: int = 30,
    newton_sweep_iter: int = 2,
    n_halvings: int = 3,
    chunk_size: int = 1024,
    anderson: int = 5,
    fail_patience: int = 30,
) -> EquilibriumSolution:
    """Solve the decentralized equilibrium by time iteration (DESIGN.md; paper 002 eqs. 10-13).

    Repeats the sweep described in the module docstring until the sup-norm of the relative change
    of the policies ``(c, q, η, b', k')`` between sweeps is ``<= tol`` or ``max_iter`` sweeps are
    done. Each sweep solves the ``I + 1`` equations at every grid node with the batched damped
    Newton of :func:`jaxecon.numerics.newton_soa` (all nodes at once, analytic Jacobian from
    :mod:`.system`), warm-started at the previous
    sweep's solution; the expectations are interpolated from tables built once per sweep
    (:func:`.system.expected_tables`, via :func:`jaxecon.numerics.interp_grad`). Anderson mixing
    accelerates the calm phase (module docstring). For a batch on a CPU, :func:`jaxecon.numerics.sharded_map`
    with :func:`jaxecon.numerics.use_cpu_cores` keeps every core on its own economies (timings in
    ``benchmarks/RESULTS.md``).

    Args:
        params: one :class:`Params` (use ``jax.vmap`` over stacked Params for a batch).
        grid: the :class:`Grid` (static; default ``Grid()``).
        max_iter: cap on sweeps.
        tol: convergence tolerance on the sup-norm policy change.
        damping: weight ``w`` on the old iterate, ``new ← (1 − w) new + w old``, in the unknowns
            ``(log c, log q, logits of k')`` and in ``η, b'`` (0 = undamped).
        init: a solution on the same grid to warm-start from (e.g. a neighbouring parameter).
        newton_tol, newton_max_iter, n_halvings: the per-node Newton settings of the final sweep.
        newton_sweep_iter: Newton steps per node in the other sweeps (inexact time iteration: the
            warm start is already close, and at the fixed point the equations hold exactly; the
            final sweep, from which the diagnostics come, solves each node to ``newton_tol``).
            When the sweep-to-sweep change sets no new low for 25 sweeps (nodes cycling, or never
            solved, with too few steps), every later sweep solves each node fully
            (``newton_max_iter`` steps); the solution reports it in ``sweep_newton_steps``.
        chunk_size: nodes solved at once in pass 2 (static), which walks only the nodes whose
            regime switched (and, in the final sweep, the unconverged ones) in chunks of this size;
            pass 1 solves all nodes at once.
        anderson: Anderson-acceleration memory (static; 0 = plain time iteration). Mixing starts
            when the change is below 1e-2 and no regime switched for two sweeps, and restarts at
            every switch.
        fail_patience: give up (result ``no_equilibrium``) after this many consecutive sweeps that
            report no equilibrium at some state while the change has settled (within a factor 2 of
            the last) without a new lowest change (static; 0 = never;
            :class:`jaxecon.numerics.TimeIteration`).

    Returns:
        :class:`EquilibriumSolution` with per-element diagnostics; non-convergence, no-equilibrium
        states and policies off the bond grid are reported there (``converged``, ``result``,
        ``n_no_equilibrium``, ``share_off_grid``), never hidden. Implicitly differentiable
        (``jax.grad``/``jax.jvp``) with respect to the float leaves of ``params``: see
        :func:`jaxecon.numerics.solve_time_iteration`; a non-converged element has NaN gradients.
    """
    grid = Grid() if grid is None else grid
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    settings = (max_iter, tol, damping, newton_tol, newton_max_iter, newton_sweep_iter, anderson)
    if int(newton_sweep_iter) < 1 or int(newton_max_iter) < 1:
        raise ValueError("newton_sweep_iter and newton_max_iter must be >= 1 Newton steps per node; got "
                         f"{newton_sweep_iter} and {newton_max_iter}")
    if is_concrete(settings):
        # the engine validates its settings (tol > 0, max_iter >= 1, damping in [0, 1), ...)
        _solver(int(max_iter), float(tol), float(damping), int(newton_max_iter), int(newton_sweep_iter), int(anderson),
                int(fail_patience))
        if not float(newton_tol) > 0:
            raise ValueError(f"newton_tol must be > 0; got {newton_tol}")
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive number of nodes; got {chunk_size}")
    if int(n_halvings) < 0:
        raise ValueError(f"n_halvings must be >= 0; got {n_halvings}")
    I, ns = params.n_industries, params.n_states
    if init is None:
        pol0 = _initial_policies(params, grid)
    else:
        if init.grid != grid or init.k_next.shape[-1] != I or init.c.shape != policy_shape(grid, I, ns):
            raise ValueError("init must be a solution on the same grid with the same I and number of states")
        flat = lambda a: a.reshape(-1)
        pol0 = (flat(init.c), flat(init.q), flat(init.eta), flat(init.b_next), init.k_next.reshape(-1, I),
                flat(init.binding))
    return _solve(params, grid, pol0, jnp.asarray(tol, float), jnp.asarray(damping, float),
                  jnp.asarray(newton_tol, float), jnp.asarray(max_iter, dtype=int),
                  jnp.asarray(int(newton_max_iter)), jnp.asarray(int(newton_sweep_iter)),
                  n_halvings=int(n_halvings), chunk_size=int(chunk_size), anderson=int(anderson),
                  fail_patience=int(fail_patience))
