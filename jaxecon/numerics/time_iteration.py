"""Time iteration on policy functions, with implicit gradients at the fixed point.

A model plugs in its node problem as a :class:`TimeIterationProblem`: ``sweep`` maps the policies
on the grid to updated policies (solving the optimality conditions at every node, given next
period's policies), and ``residual`` states the same conditions as a system ``G(policy) = 0`` that
holds exactly at the fixed point. :class:`TimeIteration` iterates the sweep in the style of
optimistix's solvers (``init / step / terminate / postprocess`` over a named
:class:`TimeIterationState`, one driver loop :func:`time_iterate`); :func:`solve_time_iteration`
adds the implicit-function-theorem adjoint, so that ``jax.grad``/``jax.jvp`` of anything computed
from the solution with respect to the problem's float leaves (the model's parameters) is

    d policy*/dp = −(∂G/∂policy)⁻¹ ∂G/∂p        at the converged policy,

with the linear system solved by GMRES (lineax) using Jacobian-vector products of ``G``, never by
differentiating the iterations (DESIGN.md "Gradients through solves"). ``G`` must therefore be
written without loops (its transpose is taken for reverse mode). A non-converged element gets NaN
tangents, never a silent number.

One meaning of each setting for every model:

- ``damping``: the weight ``w`` on the old iterate, ``policy ← (1 − w) T(policy) + w policy``
  (as optimistix's ``damp``; 0 = undamped).
- ``change``: the problem's measure (a sup-norm) of ``T(policy) − policy`` of the undamped update;
  convergence is ``change <= tol`` at a final, undamped and fully solved sweep. ``max_iter`` caps
  the number of sweeps, the final one included.
- Sweeps may be inexact (``sweep_steps`` Newton steps per node, warm-started): the final sweep uses
  ``full_steps``, and when the change sets no new low for ``stall`` sweeps every later sweep does.
- ``anderson``: Anderson mixing (memory m) once ``change < anderson_start`` and the problem reports
  no regime switch for ``anderson_calm`` sweeps; the history restarts at every switch.
- ``fail_patience``: the iteration gives up (result ``no_equilibrium``) after this many consecutive
  sweeps that report no equilibrium at some node while the change has settled (within a factor 2
  of the previous sweep's) without setting a new lowest change: an economy whose binding system has
  no solution at some states settles into such a state and never recovers, and running its
  remaining ``max_iter`` sweeps only costs time. No-equilibrium reports while the change keeps
  falling (the early sweeps of a converging solve) or jumps by orders of magnitude (a transient,
  e.g. after the stall guard's switch, which once lasted 300 sweeps before converging) never
  trigger it, and the count restarts at the stall guard's switch. 0 turns it off.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optimistix as optx
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Bool, Float, Int, PyTree

from .anderson import AndersonState, anderson_init, anderson_step

__all__ = ["RESULTS", "SweepInfo", "TimeIterationProblem", "TimeIteration", "TimeIterationState",
           "TimeIterationSolution", "PolicySolution", "default_adjoint_solver", "time_iterate", "solve_time_iteration", "nan_tangent_unless"]


class RESULTS(eqx.Enumeration):
    """Outcome of a time iteration (per batch element)."""

    successful = "converged"
    max_steps_reached = "max_iter sweeps done before the sup-norm change fell below tol"
    no_equilibrium = "no equilibrium at some grid states (the binding system gives a negative multiplier or has no root)"
    nonfinite = "non-finite policies (the iteration diverged)"
    node_failure = "the node problem was not solved at some grid states"
    grid_edge = "policies sit on the edge of the grid at some states (the grid is too narrow)"


class SweepInfo(eqx.Module):
    """What a sweep reports besides the new policies.

    Attributes:
        switched: a discrete regime (an occasionally binding constraint) changed at some node;
            Anderson's history restarts.
        status: :class:`RESULTS` of the nodes in this sweep (``successful``, ``no_equilibrium`` or
            ``node_failure``).
        stats: the model's own diagnostics of the sweep (any pytree of arrays).
    """

    switched: Bool[Array, ""]
    status: RESULTS
    stats: PyTree


class TimeIterationProblem(eqx.Module):
    """A model's node problem. Subclasses hold the parameters (their float leaves are what the
    implicit gradient differentiates) and implement:

    - ``sweep(policy, carry, steps, final) -> (policy, carry, SweepInfo)``: the update ``T`` at
      every node. ``carry`` is state that is carried but not mixed (e.g. each node's regime);
      ``steps`` the Newton steps allowed per node; ``final`` whether this sweep is the final one.
    - ``change(new, old) -> scalar``: the convergence measure of ``new − old``.
    - ``residual(policy, carry) -> pytree like policy``: ``G`` with ``G = 0`` at the fixed point
      (loop-free; well scaled: it is what GMRES sees).
    """

    def sweep(self, policy, carry, steps, final):
        raise NotImplementedError

    def change(self, new, old):
        raise NotImplementedError

    def residual(self, policy, carry):
        raise NotImplementedError


class TimeIterationState(eqx.Module):
    """The named state of :class:`TimeIteration`.

    Attributes:
        policy, carry: the iterate (after damping and mixing) and its unmixed companion.
        info: the last sweep's :class:`SweepInfo`.
        change: the last sweep's change (undamped update).
        iteration: sweeps done.
        final: the next sweep is the final one (undamped, fully solved).
        done: the loop has ended.
        anderson: Anderson history (None without acceleration).
        calm: sweeps since the last regime switch.
        steps: Newton steps per node in non-final sweeps (``sweep_steps``, ``full_steps`` after a stall).
        best, stall: the lowest change so far and sweeps since it was set (reset when a stall
            switches to full Newton solves).
        failing: consecutive settled sweeps that reported no equilibrium without going below
            ``best`` (``fail_patience``).
    """

    policy: PyTree
    carry: PyTree
    info: SweepInfo
    change: Float[Array, ""]
    iteration: Int[Array, ""]
    final: Bool[Array, ""]
    done: Bool[Array, ""]
    anderson: AndersonState | None
    calm: Int[Array, ""]
    steps: Int[Array, ""]
    best: Float[Array, ""]
    stall: Int[Array, ""]
    failing: Int[Array, ""]


class PolicySolution(eqx.Module):
    """Base of every model's time-iteration solution: the diagnostics all of them report, with one
    meaning each (per batch element under ``vmap``).

    Attributes:
        iterations: sweeps done.
        max_change: the problem's sup-norm change of the policies in the last (undamped) sweep.
        converged: ``result == RESULTS.successful``.
        result: a :class:`RESULTS` item; ``RESULTS[solution.result]`` is its message.
    """

    iterations: Int[Array, ""]
    max_change: Float[Array, ""]
    converged: Bool[Array, ""]
    result: RESULTS

    @property
    def message(self) -> str:
        """The result's message (unbatched solutions)."""
        return RESULTS[self.result]


class TimeIterationSolution(eqx.Module):
    """Outcome of :func:`solve_time_iteration`: the policies, the last sweep's report, and
    ``iterations``, ``change``, ``steps`` (Newton steps per sweep at the end) and ``result``."""

    policy: PyTree
    carry: PyTree
    info: SweepInfo
    iterations: Int[Array, ""]
    change: Float[Array, ""]
    steps: Int[Array, ""]
    result: RESULTS

    @property
    def converged(self):
        return self.result == RESULTS.successful


def _all_finite(tree) -> Array:
    leaves = [jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(tree) if jnp.issubdtype(a.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


class TimeIteration(eqx.Module):
    """Time-iteration solver (module docstring for the meaning of each setting)."""

    tol: float = 1e-7
    max_iter: int = 1000
    damping: float = 0.0
    sweep_steps: int = 1
    full_steps: int = 1
    anderson: int = eqx.field(static=True, default=0)
    anderson_start: float = 1e-2
    anderson_calm: int = 2
    stall: int = 25
    fail_patience: int = 30

    def __check_init__(self):
        from .._checks import is_concrete

        if not is_concrete((self.tol, self.max_iter, self.damping)):
            return
        if not float(self.tol) > 0:
            raise ValueError(f"tol must be > 0; got {self.tol}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be >= 1 sweep; got {self.max_iter}")
        if not 0.0 <= float(self.damping) < 1.0:
            raise ValueError(f"damping (the weight on the old iterate) must lie in [0, 1); got {self.damping}")
        if int(self.sweep_steps) < 1 or int(self.full_steps) < 1:
            raise ValueError("sweep_steps and full_steps must be >= 1 Newton steps per node; got "
                             f"{self.sweep_steps} and {self.full_steps}")
        if int(self.fail_patience) < 0:
            raise ValueError(f"fail_patience must be >= 0 sweeps (0 = off); got {self.fail_patience}")
        if int(self.anderson) < 0:
            raise ValueError(f"anderson (the acceleration memory) must be >= 0 (0 = off); got {self.anderson}")

    def init(self, problem: TimeIterationProblem, policy, carry) -> TimeIterationState:
        flat, _ = ravel_pytree(policy)
        # a placeholder report of the same structure as a sweep's (evaluated abstractly, no compute)
        info = jax.eval_shape(lambda: problem.sweep(policy, carry, jnp.asarray(1), jnp.asarray(False))[2])
        info = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), info)
        zero = jnp.asarray(0)
        return TimeIterationState(
            policy=policy, carry=carry, info=info, change=jnp.asarray(jnp.inf), iteration=zero,
            final=jnp.asarray(self.max_iter) <= 1, done=jnp.asarray(False),
            anderson=anderson_init(jnp.zeros_like(flat), self.anderson) if self.anderson > 0 else None,
            calm=zero, steps=jnp.asarray(self.sweep_steps), best=jnp.asarray(jnp.inf), stall=zero, failing=zero)

    def step(self, problem: TimeIterationProblem, state: TimeIterationState) -> TimeIterationState:
        old, final = state.policy, state.final
        steps = jnp.where(final, jnp.asarray(self.full_steps), state.steps)
        new, carry, info = problem.sweep(old, state.carry, steps, final)
        change = problem.change(new, old)
        # damping acts on the problem's iterate; the final sweep is undamped
        w = jnp.where(final, 0.0, self.damping)
        new = jax.tree.map(lambda a, o: (1.0 - w) * a + w * o, new, old)
        aa = state.anderson
        calm = jnp.where(info.switched, 0, state.calm + 1)
        if aa is not None:
            x, unravel = ravel_pytree(old)
            gx, _ = ravel_pytree(new)
            active = ~final & (calm >= self.anderson_calm) & (change < self.anderson_start) & jnp.all(jnp.isfinite(gx))
            mixed, aa = anderson_step(aa, x, gx, restart=~active)
            use = active & jnp.all(jnp.isfinite(mixed))
            new = unravel(jnp.where(use, mixed, gx))
        finite = _all_finite(new) & jnp.isfinite(change)
        # never carry non-finite values into the next sweep: keep the last finite policies
        new, carry = jax.tree.map(lambda a, o: jnp.where(finite, a, o), (new, carry), (old, state.carry))
        change = jnp.where(finite, change, jnp.inf)
        # the final sweep ends the loop when it meets tol; an accelerated iterate can fall short of
        # it, and then plain sweeps resume. The last sweep allowed (number max_iter) is a final one.
        n = state.iteration + 1
        # stall guard: no new lowest change for `stall` sweeps -> every sweep solves nodes fully
        stall = jnp.where(change < state.best, 0, state.stall + 1)
        escalate = (stall >= self.stall) & (state.steps < self.full_steps)
        # persistent no-equilibrium: reported in every sweep while the change has settled (within a
        # factor 2 of the last) and sets no new low; the count restarts when the stall guard switches
        # to full solves (a new method gets its own patience)
        settled = (change <= 2.0 * state.change) & (state.change <= 2.0 * change)
        failing = jnp.where((info.status == RESULTS.no_equilibrium) & ~(change < state.best) & settled,
                            state.failing + 1, 0)
        failing = jnp.where(escalate, 0, failing)
        given_up = (failing >= self.fail_patience) & (self.fail_patience > 0)
        done = ~finite | (final & (change <= self.tol)) | (n >= self.max_iter) | given_up
        go_final = ~done & ((change <= self.tol) | (n + 1 >= self.max_iter))
        return TimeIterationState(
            policy=new, carry=carry, info=info, change=change, iteration=n, final=go_final, done=done, anderson=aa, calm=calm,
            steps=jnp.where(escalate, jnp.asarray(self.full_steps), state.steps),
            best=jnp.where(escalate, jnp.inf, jnp.minimum(state.best, change)),
            stall=jnp.where(escalate, 0, stall), failing=failing)

    def terminate(self, problem: TimeIterationProblem, state: TimeIterationState):
        """``(done, result)`` of the current state."""
        nonfinite = ~_all_finite(state.policy) | ~jnp.isfinite(state.change)
        result = RESULTS.where(state.change <= self.tol, RESULTS.successful, RESULTS.max_steps_reached)
        result = RESULTS.where(state.info.status == RESULTS.successful, result, state.info.status)
        result = RESULTS.where(nonfinite, RESULTS.nonfinite, result)
        return state.done, result

    def postprocess(self, problem: TimeIterationProblem, state: TimeIterationState) -> TimeIterationSolution:
        _, result = self.terminate(problem, state)
        return TimeIterationSolution(policy=state.policy, carry=state.carry, info=state.info,
                                     iterations=state.iteration, change=state.change, steps=state.steps,
                                     result=result)


def time_iterate(solver: TimeIteration, problem: TimeIterationProblem, policy, carry) -> TimeIterationSolution:
    """The driver loop: ``init``, ``step`` until ``terminate``, ``postprocess`` (not differentiable
    in reverse mode; :func:`solve_time_iteration` adds the implicit adjoint)."""
    state = solver.init(problem, policy, carry)
    state = jax.lax.while_loop(lambda st: ~solver.terminate(problem, st)[0], lambda st: solver.step(problem, st),
                               state)
    return solver.postprocess(problem, state)


def _float_leaves(tree):
    return [a for a in jax.tree.leaves(tree) if isinstance(a, jax.Array | float) and jnp.issubdtype(jnp.result_type(a), jnp.floating)]


@jax.custom_jvp
def _poison(ok, *leaves):
    return jnp.zeros(())


@_poison.defjvp
def _poison_jvp(primals, tangents):
    ok = primals[0]
    total = sum(jnp.sum(t) for t in tangents[1:] if t.dtype != jax.dtypes.float0)
    return jnp.zeros(()), total * jnp.where(ok, 0.0, jnp.nan)


def nan_tangent_unless(value, ok, inputs):
    """``value`` (a pytree) unchanged where ``ok``; where not, its tangent with respect to the float
    leaves of ``inputs`` is NaN (and so is any gradient through it), and none flows through
    ``value`` itself. The NaN enters beside, not through, ``value``'s own derivative, so a linear
    solve that produced that derivative never sees it (lineax raises on non-finite input)."""
    ok = jnp.asarray(ok)
    poison = _poison(ok, *_float_leaves(inputs))
    return jax.tree.map(lambda a: jnp.where(ok, a, jax.lax.stop_gradient(a)) + poison.astype(a.dtype), value)


def _primal(inputs):
    solver, problem, policy, carry = inputs[:4]
    sol = time_iterate(solver, problem, policy, carry)
    return sol.policy, sol


def _rewrite(root, sol, inputs):
    problem = inputs[1]
    return problem.residual(root, sol.carry)


def default_adjoint_solver(rtol: float = 1e-10, atol: float = 1e-12, max_steps: int = 2000) -> Any:
    """GMRES for the adjoint of a time iteration (restarted every 40 Krylov vectors)."""
    return lx.GMRES(rtol=rtol, atol=atol, restart=40, stagnation_iters=40, max_steps=max_steps)


def solve_time_iteration(solver: TimeIteration, problem: TimeIterationProblem, policy, carry, *,
                         linear_solver=None) -> TimeIterationSolution:
    """Iterate ``problem.sweep`` to its fixed point; implicitly differentiable in ``problem``.

    Forward: :func:`time_iterate`. Tangents (``jax.jvp``) and gradients (``jax.grad``) of the
    returned ``policy`` with respect to the float leaves of ``problem`` follow from the implicit
    function theorem applied to ``problem.residual`` at the returned policy and carry (the regimes
    held fixed), solved with ``linear_solver`` (default GMRES, :func:`default_adjoint_solver`).
    Elements that did not converge get NaN tangents.
    """
    linear_solver = default_adjoint_solver() if linear_solver is None else linear_solver
    adjoint = optx.ImplicitAdjoint(linear_solver=linear_solver)
    policy, sol = adjoint.apply(_primal, _rewrite, (solver, problem, policy, carry), frozenset())
    policy = nan_tangent_unless(policy, sol.result == RESULTS.successful, problem)
    return eqx.tree_at(lambda s: s.policy, sol, policy)
