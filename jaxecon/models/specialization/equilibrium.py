"""Decentralized (competitive) equilibrium by time iteration (Bianchi-Mendoza), DESIGN.md.

At every grid node ``(b, k, s)`` and given next-period policies ``C, Q, H (η), K`` on the grid, a sweep
solves the node's ``I + 1`` equations (bond or binding budget, capital Euler per industry) for
``x = (log c, log q, log(k'_i/k'_I) for i < I)``; :mod:`.system` states them, with their
analytic Jacobian, and evaluates them for all nodes at once (struct of arrays).

The expectations are interpolated multilinearly in ``(b', k'_1..k'_{I−1})``: from the policies on
the grid the solver builds, once per sweep, tables of the conditional expectations of the
integrands ``u'(c'), u'(c') q', u'(c') z̄'_i, u'(c') k''_i², q' η'`` for every current ``s``
(:func:`.system.expected_tables`); interpolation is linear in table values, so this is the expectation
of the multilinearly interpolated integrands. DESIGN.md words it as interpolating the policies
``c', q', η', k''`` themselves and then taking ``u'``; the two schemes differ by the interpolation
error (second order in the grid spacing), and on the default grid the tables give the same
accuracy (mean log10 Euler errors −3.71 bond, −3.58 capital against −3.79 / −3.54) at 1/10 of the
cost of a residual. The accuracy check (:func:`euler_errors`) interpolates the policies, as
DESIGN.md says, so it measures the solution, not the solver's own discretization.

In the binding regime ``q`` and ``b'`` are solved jointly (the fire-sale feedback: a lower ``q``
lowers the collateral and so consumption, which lowers ``q``).

Regimes. Each node carries the regime found at the previous sweep. A sweep solves every node in its
regime (pass 1), switches a slack node that violates ``−b'/R <= θ q`` to binding and a binding node
with ``η < 0`` to slack, and re-solves the switched nodes (pass 2; in the final sweep also the nodes
whose Newton has not converged yet). A
node is then valid when it is slack and satisfies the constraint, or binds with ``η >= 0``; at the
fixed point this is exactly the check "slack first, binding where the slack solution violates the
constraint". A node where neither works (the binding system gives ``η < 0`` or has no root: the
feedback gain ``θ γ q / c`` above one) is flagged ``no_equilibrium`` and counted; its stored values
are the finite values of the failed system, never silently repaired. ``η`` in ``[−1e−9 u'(c), 0)``
(round-off at the regime boundary) is set to 0.

Speed. Sweeps are inexact (two Newton steps per node, ``newton_sweep_iter``, bounded by 1 in the
log/logit unknowns, from the previous sweep's solution; the final sweep solves every node to
``newton_tol``). One exact Newton step per sweep, undamped, let the iteration cycle on most
economies tried (the capital price ``q`` drifting up at nodes whose shares sit below the share grid);
two steps, or one step with damping 0.3, converged on the benchmark's economies (two steps: 49-64
sweeps). Pass 1 solves all nodes at once; pass 2 walks only the switched nodes, in chunks of
``chunk_size``, so that it costs what it re-solves. Once the sweep-to-sweep change is below 1e-2 and
no regime has switched for two sweeps, the update is Anderson-mixed (:mod:`jaxecon.numerics.anderson`,
memory ``anderson``); the history restarts at every switch. The iterate (damping and mixing included)
lives in ``(log c, log q, logits of k', η, b')``.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ...numerics import anderson_init, anderson_step, newton_soa
from . import primitives as pr
from .system import expected_tables, node_states, node_system, shares_from_logits
from .grid import grid_states, policy_shape, state_axes
from .params import Grid, Params

__all__ = ["EquilibriumSolution", "solve_equilibrium", "RESULT_CODES"]

RESULT_CODES = {
    0: "converged",
    1: "max_iter reached before the sup-norm change fell below tol",
    2: "no equilibrium at some grid states (binding system gives eta < 0 or has no root)",
    3: "non-finite policies (iteration diverged)",
    4: "Newton failed at some (slack) grid states",
}

_ETA_TOL = 1e-9
_VIOL_TOL = 1e-10
_AA_START = 1e-2  # Anderson acceleration only once the sweep-to-sweep change is below this
_AA_CALM = 2  # ... and no regime has switched for this many sweeps
_STALL = 25  # sweeps without a new lowest change before every sweep solves each node fully
_MAX_STEP = 1.0  # Newton steps in (log c, log q, logits) bounded by 1: at most a factor e per step


class EquilibriumSolution(eqx.Module):
    """Policies on the grid and convergence diagnostics of :func:`solve_equilibrium`.

    Policy arrays have shape ``(n_b, n_k, ..., n_k, n_s)`` (I−1 share axes; ``(n_b, n_s)`` when
    I = 1); ``k_next`` has a trailing axis of length I. Under ``vmap`` every field gains a leading
    batch axis and every diagnostic is per element.

    Attributes:
        params, grid: the inputs.
        c, q, eta, b_next, k_next: consumption, capital price, collateral multiplier, bonds and
            capital shares chosen for next period.
        binding: nodes where the constraint binds.
        no_equilibrium: nodes where no equilibrium exists (flagged, see module docstring).
        feasible: nodes inside the simplex (all True for I <= 2).
        iterations: time-iteration sweeps performed.
        max_change: sup-norm of the relative policy change in the last sweep.
        max_residual: largest Newton residual (relative Euler error) over valid feasible nodes.
        converged: ``max_change <= tol`` with every node solved and no no-equilibrium node.
        result: code, see ``RESULT_CODES``.
        n_no_equilibrium, n_unsolved: counts of flagged nodes in the last sweep.
        share_binding: share of feasible nodes where the constraint binds.
        share_b_low, share_b_high: share of feasible nodes whose b' lies at or beyond the lower /
            upper end of the bond grid (a too narrow grid shows up here).
        sweep_newton_steps: Newton steps per node allowed in the (non-final) sweeps at the end:
            ``newton_sweep_iter``, or ``newton_max_iter`` after a stall (see ``solve_equilibrium``).
    """

    params: Params
    grid: Grid
    c: Float[Array, "..."]
    q: Float[Array, "..."]
    eta: Float[Array, "..."]
    b_next: Float[Array, "..."]
    k_next: Float[Array, "... I"]
    binding: Bool[Array, "..."]
    no_equilibrium: Bool[Array, "..."]
    feasible: Bool[Array, "..."]
    iterations: Int[Array, ""]
    max_change: Float[Array, ""]
    max_residual: Float[Array, ""]
    converged: Bool[Array, ""]
    result: Int[Array, ""]
    n_no_equilibrium: Int[Array, ""]
    n_unsolved: Int[Array, ""]
    share_binding: Float[Array, ""]
    share_b_low: Float[Array, ""]
    share_b_high: Float[Array, ""]
    sweep_newton_steps: Int[Array, ""]

    @property
    def n_industries(self) -> int:
        return self.k_next.shape[-1]

    @property
    def axes(self) -> tuple:
        """The interpolation axes ``(b, k_1..k_{I−1})``."""
        return state_axes(self.grid, self.n_industries)

    def summary(self) -> str:
        """A one-paragraph human-readable account of the solve (unbatched solutions)."""
        code = int(self.result)
        lines = [
            f"time iteration: {RESULT_CODES[code]} after {int(self.iterations)} sweeps "
            f"(sup-norm change {float(self.max_change):.2e}, max Newton residual {float(self.max_residual):.1e})",
            f"constraint binds at {100 * float(self.share_binding):.1f}% of grid states; "
            f"no-equilibrium states: {int(self.n_no_equilibrium)}; unsolved: {int(self.n_unsolved)}",
            f"b' at/below the bond-grid bottom at {100 * float(self.share_b_low):.1f}% of states, "
            f"at/above the top at {100 * float(self.share_b_high):.1f}%",
        ]
        if int(self.sweep_newton_steps) > 1:
            lines.append(f"Newton steps per node and sweep at the end: {int(self.sweep_newton_steps)} "
                         "(newton_sweep_iter, or newton_max_iter once a stall switched to full solves per sweep)")
        if int(self.n_unsolved) > 0 or code in (1, 3):
            lines.append("NOT CONVERGED: too few Newton steps per node and sweep, or an unstable iteration; try "
                         "newton_sweep_iter=3, damping=0.3, or a wider grid")
        if int(self.n_no_equilibrium) > 0:
            lines.append("NO EQUILIBRIUM where the constraint binds at some states: the fire-sale feedback "
                         "gain theta*gamma*q/c exceeds one there (lower theta or gamma)")
        return "\n".join(lines)

    def to_npz(self, path) -> None:
        """Write the solution (I = 1, 2: exactly the keys listed in issue 6).

        Keys: ``b_grid (n_b,)``, ``k_grid`` (grid of k_1, length 1 when I = 1), ``z (n_s, I)``,
        ``R (n_s,)``, ``P``, scalars ``alpha beta gamma theta``, ``xi phi delta (I,)``, and
        ``c q eta b_next (n_b, n_k, n_s)``, ``k_next (n_b, n_k, n_s, I)``. For I = 3 the same keys
        with two share axes (``k_grid`` is the common axis of k_1 and k_2).
        """
        from .io import save_npz

        save_npz(self, path)

    @classmethod
    def from_npz(cls, path) -> "EquilibriumSolution":
        """Read a file written by :meth:`to_npz` (diagnostics recomputed where possible)."""
        from .io import load_npz

        return load_npz(path)


# --------------------------------------------------------------------------------------------------
# time iteration
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
    I = kn.shape[-1]
    kn = jnp.maximum(kn, 1e-12)
    logits = jnp.log(kn[:, : I - 1]) - jnp.log(kn[:, I - 1 :])
    return jnp.concatenate([jnp.log(c)[:, None], jnp.log(q)[:, None], logits], axis=1)


@functools.partial(jax.jit, static_argnames=("grid", "n_halvings", "chunk_size", "anderson"))
def _solve(params, grid, init, tol, damping, newton_tol, max_iter, newton_max_iter, newton_sweep_iter, *, n_halvings,
           chunk_size, anderson):
    I, ns = params.n_industries, params.n_states
    shape = policy_shape(grid, I, ns)
    axes = state_axes(grid, I)
    b, k, s, feasible = grid_states(grid, I, ns)
    b_lo, b_hi = axes[0].points[0], axes[0].points[-1]
    n_feas = jnp.maximum(jnp.sum(feasible), 1)

    N = b.shape[0]
    M = min(N, int(chunk_size))
    n_chunks_all = -(-N // M)

    limited = jnp.isfinite(params.theta) | grid.debt_limit  # is there a borrowing limit at all

    nodes = node_states(params, b, k, s)  # per-node constants, computed once per solve

    def solve_nodes(x, node, regime, table, n_iter):
        """Newton at the given nodes (struct of arrays; ``x`` is ``(n, I + 1)``)."""
        system = lambda x_, jac: node_system(x_, node, regime, params, table, axes, grid.b_extrapolate,
                                             grid.debt_limit, jacobian=jac)
        res = newton_soa(system, [x[:, a] for a in range(I + 1)], tol=newton_tol, max_iter=n_iter,
                         n_halvings=n_halvings, max_step=_MAX_STEP)
        c_, q_, eta_, bn_, kn_, viol_, mu_ = res.aux
        aux = (c_, q_, eta_, bn_, jnp.stack(kn_, axis=-1), viol_, mu_)
        return (jnp.stack(res.x, axis=-1), aux, res.converged, res.residual)

    def solve_listed(order, count, regime, table, n_iter, buf):
        """Newton at the nodes ``order[:count]``, ``M`` at a time; results scattered into ``buf``.

        ``order`` has length ``n_chunks_all * M``; its entries past ``count`` are ignored (they hold
        the out-of-range index ``N``, dropped by the scatter)."""

        def chunk(carry):
            j, buf = carry
            idx = jax.lax.dynamic_slice(order, (j * M,), (M,))
            take = lambda a: jnp.take(a, idx, axis=0, mode="clip")
            res = solve_nodes(take(buf[0]), jax.tree.map(take, nodes), take(regime), table, n_iter)
            buf = jax.tree.map(lambda u, v: u.at[idx].set(v, mode="drop"), buf, res)
            return j + 1, buf

        _, buf = jax.lax.while_loop(lambda c: c[0] * M < count, chunk, (jnp.asarray(0), buf))
        return buf

    def sweep(pol, n_iter, final):
        """Pass 1 at every node in the carried regimes, switch, pass 2 at the switched nodes only.

        Both passes are needed in every sweep: carrying a slack solution that violates the
        constraint into the next sweep (a lagged regime update) made the iteration diverge. Pass 2
        re-solves only the nodes whose regime changed (after the first few sweeps a handful) and, in
        the final sweep, those where Newton has not converged yet (a second ``newton_max_iter``
        steps), in chunks of ``chunk_size`` nodes. Pass 1 runs unchunked: at 15,000 nodes the
        per-kernel dispatch cost of eight chunks outweighed their smaller working set (2.4 -> 1.7 s
        for the default economy).
        """
        x, c, q, eta, bn, kn, regime = pol
        table = expected_tables(params, c, q, eta, kn, shape)
        # pass 1: every node at once in its carried regime
        res1 = solve_nodes(x, nodes, regime, table, n_iter)
        _, aux1, ok1, _ = res1
        _, _, eta1, _, _, viol1, mu1 = aux1
        new_regime = jnp.where(regime, eta1 >= -_ETA_TOL * mu1, viol1 > _VIOL_TOL) & limited
        # pass 2: the switched nodes (and in the final sweep the unconverged ones), in chunks
        redo = (new_regime != regime) | (final & ~ok1)
        order = jnp.nonzero(redo, size=n_chunks_all * M, fill_value=N)[0]
        x2, out2, ok, residual = solve_listed(order, jnp.sum(redo), new_regime, table, n_iter, res1)
        c2, q2, eta2, bn2, kn2, viol2, mu2 = out2
        neg_eta = eta2 < -_ETA_TOL * mu2
        no_eq = feasible & ((new_regime & (neg_eta | ~ok)) | (~new_regime & ok & (viol2 > _VIOL_TOL)))
        unsolved = feasible & ~new_regime & ~ok
        eta2 = jnp.where(new_regime & ~neg_eta, jnp.maximum(eta2, 0.0), eta2)
        valid = feasible & ~no_eq & ~unsolved
        resid = jnp.max(jnp.where(valid, residual, 0.0))
        return (x2, c2, q2, eta2, bn2, kn2, new_regime), no_eq, unsolved, resid

    def rel_change(new, old):
        d = jnp.abs(new - old) / (1.0 + jnp.abs(old))
        d = jnp.where(jnp.isfinite(d), d, jnp.inf)
        if d.ndim > 1:
            d = jnp.max(d, axis=tuple(range(1, d.ndim)))
        return jnp.max(jnp.where(feasible, d, 0.0))

    m = I + 1

    def to_vec(x_, eta_, bn_):
        """The iterate as one vector: (log c, log q, logits of k') per node, η, b'."""
        return jnp.concatenate([x_.T.reshape(-1), eta_, bn_])

    def from_vec(v):
        return v[: m * N].reshape(m, N).T, v[m * N : (m + 1) * N], v[(m + 1) * N :]

    def levels(x_):
        """``c, q, k'`` from the unknowns ``(log c, log q, ℓ)``."""
        kn_, _ = shares_from_logits([x_[:, 2 + j] for j in range(I - 1)], like=x_[:, 0])
        return jnp.exp(x_[:, 0]), jnp.exp(x_[:, 1]), jnp.stack(kn_, axis=1)

    def body(carry):
        pol, it, _, _, _, _, _, final, aa, calm, steps, best, stall = carry
        x, c, q, eta, bn, kn, regime = pol
        # sweeps take at most `steps` Newton steps per node (inexact time iteration: the fixed
        # point still solves the equations exactly); the last sweep solves fully.
        n_iter = jnp.where(final, newton_max_iter, steps)
        new, no_eq, unsolved, resid = sweep(pol, n_iter, final)
        x2, c2, q2, eta2, bn2, kn2, regime2 = new
        # the change of the undamped update: the same measure the final (undamped) sweep is judged
        # by, so damping cannot make the loop stop early and then fail its own tolerance
        change = jnp.maximum(
            jnp.max(jnp.stack([rel_change(c2, c), rel_change(q2, q), rel_change(eta2, eta), rel_change(bn2, bn)])),
            rel_change(kn2, kn),
        )
        # damping and Anderson mixing act on the unknowns (log c, log q, logits of k') and on η, b'
        w = jnp.where(final, 0.0, damping)
        mix = lambda a_, o_: (1.0 - w) * a_ + w * o_
        x2, eta2, bn2 = mix(x2, x), mix(eta2, eta), mix(bn2, bn)
        if anderson > 0:
            # Anderson mixing of the (damped) update, only in the calm phase: the change below
            # _AA_START and no regime switch for _AA_CALM sweeps (accelerating the wild early sweeps
            # threw an economy into a regime 2-cycle). The history restarts whenever that fails (a
            # switch changes the map) and before the final sweep, which is a plain undamped sweep.
            calm = jnp.where(jnp.any(regime2 != regime), 0, calm + 1)
            g_vec = to_vec(x2, eta2, bn2)
            active = ~final & (calm >= _AA_CALM) & (change < _AA_START) & jnp.all(jnp.isfinite(g_vec))
            v_next, aa = anderson_step(aa, to_vec(x, eta, bn), g_vec, restart=~active)
            ok_aa = active & jnp.all(jnp.isfinite(v_next))
            x2, eta2, bn2 = from_vec(jnp.where(ok_aa, v_next, g_vec))
        c2, q2, kn2 = levels(x2)
        finite = jnp.all(jnp.isfinite(jnp.stack([c2, q2, eta2, bn2]))) & jnp.all(jnp.isfinite(kn2)) & jnp.all(
            jnp.isfinite(x2))
        # never carry non-finite values into the next sweep: keep the last finite policies
        new_pol = jax.tree.map(lambda a, o: jnp.where(finite, a, o), (x2, c2, q2, eta2, bn2, kn2, regime2), pol)
        change = jnp.where(finite, change, jnp.inf)
        # the final (fully solved, undamped) sweep ends the loop when it meets the tolerance; an
        # accelerated iterate can fall short of it (Anderson steps are not monotone), and then
        # the plain sweeps resume until the budget of sweeps is spent
        exhausted = it + 1 >= max_iter
        done = ~finite | (final & ((change <= tol) | exhausted))
        go_final = (~final) & ((change <= tol) | exhausted)
        # stall guard: too few Newton steps per sweep can leave nodes cycling (or never solved)
        # with the change stuck far above tol; after _STALL sweeps without a new lowest change
        # every sweep solves every node fully (newton_max_iter steps: exact time iteration).
        # Doubling the steps instead was tried: on the theta = inf economy it stalled again at
        # 2, 4, 8 and 16 steps, while full solves converged 27 sweeps after the switch.
        improved = change < best
        stall = jnp.where(improved, 0, stall + 1)
        escalate = (stall >= _STALL) & (steps < newton_max_iter)
        steps = jnp.where(escalate, newton_max_iter, steps)
        best = jnp.where(escalate, jnp.inf, jnp.minimum(best, change))
        stall = jnp.where(escalate, 0, stall)
        return new_pol, it + 1, change, no_eq, unsolved, resid, ~done, go_final, aa, calm, steps, best, stall

    def cond(carry):
        return carry[6]

    zero = jnp.asarray(0)
    fmask = jnp.zeros(N, dtype=bool)
    aa0 = anderson_init(jnp.zeros(N * (I + 3)), anderson) if anderson > 0 else None
    inf = jnp.asarray(jnp.inf)
    c0, q0, eta0, bn0, kn0, regime0 = init
    carry0 = ((_x_from(c0, q0, kn0), c0, q0, eta0, bn0, kn0, regime0), zero, inf, fmask, fmask, inf, jnp.asarray(True), max_iter <= 1, aa0, zero,
              newton_sweep_iter, inf, zero)
    pol, it, change, no_eq, unsolved, resid, _, _, _, _, steps, _, _ = jax.lax.while_loop(cond, body, carry0)
    _, c, q, eta, bn, kn, regime = pol
    finite = jnp.all(jnp.isfinite(jnp.stack([c, q, eta, bn]))) & jnp.isfinite(change)
    n_noeq = jnp.sum(no_eq)
    n_uns = jnp.sum(unsolved)
    converged = (change <= tol) & finite & (n_noeq == 0) & (n_uns == 0)
    result = jnp.where(
        ~finite, 3, jnp.where(n_noeq > 0, 2, jnp.where(n_uns > 0, 4, jnp.where(change <= tol, 0, 1)))
    )
    share = lambda m: jnp.sum(m & feasible) / n_feas
    rs = lambda a: a.reshape(shape)
    return EquilibriumSolution(
        params=params,
        grid=grid,
        c=rs(c), q=rs(q), eta=rs(eta), b_next=rs(bn), k_next=kn.reshape(shape + (I,)),
        binding=rs(regime), no_equilibrium=rs(no_eq), feasible=rs(feasible),
        iterations=it, max_change=change, max_residual=resid, converged=converged,
        result=result.astype(jnp.int32), n_no_equilibrium=n_noeq, n_unsolved=n_uns,
        share_binding=share(regime), share_b_low=share(bn <= b_lo), share_b_high=share(bn >= b_hi),
        sweep_newton_steps=steps,
    )


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
) -> EquilibriumSolution:
    """Solve the decentralized equilibrium by time iteration (DESIGN.md; paper 002 eqs. 10-13).

    Repeats the sweep described in the module docstring until the sup-norm of the relative change
    of the policies ``(c, q, η, b', k')`` between sweeps is ``<= tol`` or ``max_iter`` sweeps are
    done. Each sweep solves the ``I + 1`` equations at every grid node with the batched damped
    Newton of :func:`jaxecon.numerics.newton_soa` (all nodes at once, analytic Jacobian from
    :mod:`.system`), warm-started at the previous
    sweep's solution; the expectations are interpolated from tables built once per sweep
    (:func:`.system.expected_tables`, via :func:`jaxecon.numerics.interp_grad`). Anderson mixing
    accelerates the calm phase (module docstring). On a 2-core CPU, once compiled (20-40 s), a batch
    of 64 default-grid economies took 51 s with :func:`jaxecon.numerics.sharded_map` and
    :func:`jaxecon.numerics.use_cpu_cores` keeping both cores on their own economies, and 93 s on one
    device (``benchmarks/RESULTS.md``).

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

    Returns:
        :class:`EquilibriumSolution` with per-element diagnostics; non-convergence, no-equilibrium
        states and a too-narrow bond grid are reported there (``converged``, ``result``,
        ``n_no_equilibrium``, ``share_b_low``), never hidden.
    """
    grid = Grid() if grid is None else grid
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    if not isinstance(damping, jax.core.Tracer) and not 0.0 <= float(damping) < 1.0:
        raise ValueError(f"damping must lie in [0, 1); got {damping}")
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive number of nodes; got {chunk_size}")
    if int(newton_sweep_iter) < 1 or int(newton_max_iter) < 1:
        raise ValueError("newton_sweep_iter and newton_max_iter must be >= 1 Newton steps per node; got "
                         f"{newton_sweep_iter} and {newton_max_iter}")
    if int(anderson) < 0:
        raise ValueError(f"anderson (the acceleration memory) must be >= 0 (0 = off); got {anderson}")
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
                  n_halvings=int(n_halvings), chunk_size=int(chunk_size), anderson=int(anderson))
