"""A small-system Newton solver for use at every grid point under ``vmap``.

Used instead of ``optimistix.root_find(Newton)`` at grid points: a vmapped optimistix loop carries
a heavier state and runs until its slowest element converges (DESIGN.md "Numerics"). Its loop cannot
be differentiated in reverse mode: problems that are differentiated through use
:func:`jaxecon.numerics.fixed_point` or :func:`jaxecon.numerics.solve_time_iteration`, which
differentiate implicitly.
"""

from __future__ import annotations

from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

__all__ = ["NewtonResult", "newton", "newton_soa", "solve_small", "solve_small_soa"]


def _cramer(A, b, m):
    """Cramer's rule for ``m <= 3`` on anything indexable as ``A[i][j]``, ``b[i]`` (nested lists of
    arrays, or arrays): returns the list of the ``m`` solution components, elementwise."""
    if m == 1:
        return [b[0] / A[0][0]]
    if m == 2:
        det = A[0][0] * A[1][1] - A[0][1] * A[1][0]
        return [(b[0] * A[1][1] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - b[0] * A[1][0]) / det]
    # m == 3: cofactors of the first row give det(A); x = adj(A) b / det(A)
    c00 = A[1][1] * A[2][2] - A[1][2] * A[2][1]
    c01 = A[1][2] * A[2][0] - A[1][0] * A[2][2]
    c02 = A[1][0] * A[2][1] - A[1][1] * A[2][0]
    det = A[0][0] * c00 + A[0][1] * c01 + A[0][2] * c02
    adj = [
        [c00, A[0][2] * A[2][1] - A[0][1] * A[2][2], A[0][1] * A[1][2] - A[0][2] * A[1][1]],
        [c01, A[0][0] * A[2][2] - A[0][2] * A[2][0], A[0][2] * A[1][0] - A[0][0] * A[1][2]],
        [c02, A[0][1] * A[2][0] - A[0][0] * A[2][1], A[0][0] * A[1][1] - A[0][1] * A[1][0]],
    ]
    return [(adj[i][0] * b[0] + adj[i][1] * b[1] + adj[i][2] * b[2]) / det for i in range(3)]


def solve_small(A, b):
    """Solve ``A x = b`` for one small dense system: Cramer's rule for ``m <= 3``, LU otherwise.

    ``x_i = det(A with column i replaced by b) / det(A)``. For ``m <= 3`` this is a handful of
    elementwise products, which XLA fuses into the caller (batched LAPACK calls under ``vmap`` do
    not fuse). A singular ``A`` gives non-finite ``x`` (callers check). Cramer's
    rule loses accuracy on ill-conditioned systems faster than pivoted LU; a Newton direction only
    needs to be a descent direction, and the line search guards the rest.
    """
    A = jnp.asarray(A)
    b = jnp.asarray(b)
    m = b.shape[0]
    if m <= 3:
        return jnp.stack(_cramer(A, b, m))
    return jnp.linalg.solve(A, b)


def solve_small_soa(A, b) -> list:
    """:func:`solve_small` for many systems stored as a struct of arrays.

    ``A`` is a list of ``m`` rows of ``m`` arrays and ``b`` a list of ``m`` arrays, all of one common
    shape (one system per element); returns the list of the ``m`` solution components. Cramer's rule
    for ``m <= 3`` (elementwise, fuses into the caller), a batched LU otherwise.
    """
    m = len(b)
    if m <= 3:
        return _cramer(A, b, m)
    Am = jnp.stack([jnp.stack(row, axis=-1) for row in A], axis=-2)
    x = jnp.linalg.solve(Am, jnp.stack(b, axis=-1)[..., None])[..., 0]
    return [x[..., i] for i in range(m)]


class NewtonResult(eqx.Module):
    """Outcome of :func:`newton` (per problem; batched under ``vmap``).

    Attributes:
        x: the last iterate (the root when ``converged``), same shape as ``x0``.
        converged: ``max|f(x)| <= tol`` reached with a finite iterate.
        iterations: Newton steps taken.
        residual: ``max|f(x)|`` at ``x`` (``inf`` when the iterate became non-finite).
        aux: with ``has_aux``, the auxiliary output of ``fn`` at ``x`` (``None`` otherwise; zeros
            when ``max_iter`` is 0 and ``fn`` was never evaluated).
    """

    x: Float[Array, "..."]
    converged: Bool[Array, ""]
    iterations: Int[Array, ""]
    residual: Float[Array, ""]
    aux: Any = None


def newton(
    fn: Callable,
    x0,
    args=(),
    *,
    tol: float = 1e-10,
    max_iter: int = 50,
    n_halvings: int = 10,
    has_aux: bool = False,
    max_step: float = float("inf"),
    jac: Callable | None = None,
) -> NewtonResult:
    """Solve ``fn(x, *args) = 0`` for a small system by damped Newton with a backtracking search.

    Step: ``J dx = −f`` with ``J = ∂f/∂x`` by forward-mode autodiff, or from ``jac`` (solved by
    :func:`solve_small`); the step length is the largest
    ``λ ∈ {1, 1/2, ..., 2^−n_halvings}`` with ``‖f(x + λ dx)‖² <= (1 − 1e−4 λ) ‖f(x)‖²``, found by
    halving from the full step (one residual evaluation when the full step is accepted); if none
    decreases the residual enough the smallest step is taken. Stops when ``max|f| <= tol`` or after
    ``max_iter`` steps. A non-finite trial point is never accepted. Scale ``fn`` so that ``tol`` is
    meaningful (e.g. relative Euler errors).

    Cost per step: one Jacobian evaluation, which also yields ``f(x)`` (so no separate evaluation
    at ``x0``), plus one residual evaluation at each trial point. With ``has_aux`` the auxiliary
    output at the returned ``x`` comes from that last evaluation, so callers need not evaluate
    ``fn`` again at the root.

    Works unchanged under ``jax.vmap`` (each problem reports its own ``converged``; the loop runs
    until all are done, finished ones frozen).

    Args:
        fn: ``fn(x, *args) -> residual`` with the residual of the same size as ``x``; with
            ``has_aux``, ``fn(x, *args) -> (residual, aux)`` for any pytree ``aux``.
        x0: initial guess, shape ``()`` or ``(m,)``.
        args: extra arguments passed to ``fn``.
        has_aux: whether ``fn`` returns an auxiliary pytree (returned in ``NewtonResult.aux``).
        max_step: the Newton direction is scaled down so that ``max|dx| <= max_step`` before the
            line search (a trust bound; e.g. for unknowns in logs, 1 limits a step to a factor e).
        jac: optional ``jac(x, *args) -> (J, f, aux)`` giving the Jacobian ``(m, m)`` together with
            the residual (and, with ``has_aux``, the aux; else ``None``) at ``x``, for a caller with an
            analytic Jacobian that shares work with the residual. ``fn`` is still used at the line
            search's trial points. Default: ``jax.jacfwd`` of ``fn``.
    """
    if not max_step > 0:
        raise ValueError(f"newton: max_step must be > 0; got {max_step}")
    x0 = jnp.asarray(x0, dtype=float)
    scalar = x0.ndim == 0
    shape = x0.shape

    def F(x):
        out = fn(x.reshape(shape), *args)
        r, aux = out if has_aux else (out, None)
        return jnp.reshape(jnp.asarray(r, dtype=float), (-1,)), aux

    def with_value(x):
        r, aux = F(x)
        return r, (r, aux)

    def sqnorm(r):
        return jnp.where(jnp.all(jnp.isfinite(r)), jnp.sum(r**2), jnp.inf)

    select = lambda p, a, b: jax.tree.map(lambda u, v: jnp.where(p, u, v), a, b)

    def body(state):
        x, _, _, it, _ = state
        if jac is None:
            J, (r0, aux0) = jax.jacfwd(with_value, has_aux=True)(x)
        else:
            J, r0, aux0 = jac(x.reshape(shape), *args)
            m = x.shape[0]
            J = jnp.reshape(jnp.asarray(J, dtype=float), (m, m))
            r0 = jnp.reshape(jnp.asarray(r0, dtype=float), (-1,))
        solved = jnp.max(jnp.abs(r0)) <= tol  # only possible at x0: later the loop stops first
        dx = solve_small(J, -r0)
        dx = jnp.where(jnp.all(jnp.isfinite(dx)) & ~solved, dx, jnp.zeros_like(dx))
        dx = dx * jnp.minimum(1.0, max_step / jnp.maximum(jnp.max(jnp.abs(dx)), 1e-300))
        f0 = jnp.sum(r0**2)

        # backtracking: full step first, halve only while the residual does not decrease enough
        # (under vmap the loop runs while any element still halves; usually zero extra passes)
        def ls_cond(ls):
            k, _, _, _, ok = ls
            return (~ok) & (k < n_halvings)

        def ls_body(ls):
            k = ls[0] + 1
            lam = 0.5**k
            x_t = x + lam * dx
            r_t, aux_t = F(x_t)
            return k, x_t, r_t, aux_t, sqnorm(r_t) <= (1.0 - 1e-4 * lam) * f0

        x1 = x + dx
        r1, aux1 = F(x1)
        ok1 = sqnorm(r1) <= (1.0 - 1e-4) * f0
        _, x_new, r_new, aux_new, _ = jax.lax.while_loop(ls_cond, ls_body, (jnp.asarray(0), x1, r1, aux1, ok1))
        accept = jnp.isfinite(sqnorm(r_new)) & ~solved
        x_new = jnp.where(accept, x_new, x)
        r_new, aux_new = select(accept, (r_new, aux_new), (r0, aux0))
        stuck = ~accept | jnp.all(dx == 0)
        return x_new, r_new, aux_new, it + jnp.where(solved, 0, 1), stuck

    def cond(state):
        _, r, _, it, stuck = state
        done = jnp.max(jnp.abs(r)) <= tol
        return (~done) & (it < max_iter) & (~stuck)

    x = jnp.reshape(x0, (-1,))
    # f(x0) is not evaluated here: the first Jacobian evaluation yields it
    r_shape, aux_shape = jax.eval_shape(F, x)
    zeros = lambda t: jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), t)
    r_init = jnp.full(r_shape.shape, jnp.inf)
    state0 = (x, r_init, zeros(aux_shape), jnp.asarray(0), jnp.asarray(max_iter) <= 0)
    x, r, aux, it, _ = jax.lax.while_loop(cond, body, state0)
    res = jnp.where(jnp.all(jnp.isfinite(r)), jnp.max(jnp.abs(r)), jnp.inf)
    converged = (res <= tol) & jnp.all(jnp.isfinite(x))
    return NewtonResult(x=x.reshape(shape) if not scalar else x[0], converged=converged, iterations=it,
                        residual=res, aux=aux)


def newton_soa(
    system: Callable,
    x0,
    *,
    tol: float = 1e-10,
    max_iter: int = 50,
    n_halvings: int = 10,
    max_step: float = float("inf"),
) -> NewtonResult:
    """:func:`newton` for many independent small systems stored as a struct of arrays.

    The same damped Newton step, bounded step and backtracking line search as :func:`newton`, run at
    every element of the arrays at once; each element stops on its own (``max|f| <= tol``, a step
    that cannot be taken, or ``max_iter`` steps) and is frozen from then on. The loop runs while any
    element is still going.

    Evaluations. The residual and Jacobian at ``x0`` come from one call ``system(x0, True)``; each
    trial point of the line search is then evaluated WITH its Jacobian while a later step may need
    it, so an accepted step costs one evaluation, not a residual at the trial plus the Jacobian
    again at the accepted point; the trials of the last step evaluate the residual only (a scalar
    ``lax.cond``; under ``vmap`` with a batched ``max_iter`` both branches run, as before). Two
    steps therefore cost two residual-and-Jacobian evaluations and one residual.

    Why a second form: ``vmap`` of :func:`newton` stacks each system's unknowns, residuals and
    Jacobian into ``(N, m)`` and ``(N, m, m)`` arrays, whose small reductions and transposes become
    separate CPU kernels; here every quantity is an ``(N,)`` array and every reduction over the ``m``
    components is written out, so they fuse into the elementwise kernels.

    Args:
        system: ``system(x, jacobian) -> (f, aux)`` or, with ``jacobian=True``, ``(f, J, aux)``, where
            ``x`` and ``f`` are lists of ``m`` arrays of one common shape, ``J`` a list of ``m`` rows of
            ``m`` arrays (``J[a][b] = ∂f_a/∂x_b``) and ``aux`` any pytree of arrays of that shape (or
            broadcastable with the per-element masks).
        x0: the initial guess, a sequence of ``m`` arrays.
        tol, max_iter, n_halvings, max_step: as in :func:`newton`.

    Returns:
        :class:`NewtonResult` with ``x`` a list of ``m`` arrays, ``converged``, ``iterations`` and
        ``residual`` per element, and ``aux`` from the evaluation at the returned ``x``.
    """
    if not max_step > 0:
        raise ValueError(f"newton_soa: max_step must be > 0; got {max_step}")
    x = [jnp.asarray(v, dtype=float) for v in x0]
    m = len(x)

    def amax(vals):
        out = jnp.abs(vals[0])
        for v in vals[1:]:
            out = jnp.maximum(out, jnp.abs(v))
        return out

    def sqnorm(vals):
        out = vals[0] ** 2
        for v in vals[1:]:
            out = out + v**2
        return out

    def finite_sq(vals):
        f = sqnorm(vals)
        return jnp.where(jnp.isfinite(f), f, jnp.inf)

    def select(p, a, b):
        return jax.tree.map(lambda u, v: jnp.where(p, u, v), a, b)

    def evaluate(x_):
        f, aux = system(x_, False)
        return [jnp.asarray(v, dtype=float) for v in f], aux

    shape = x[0].shape

    def evaluate_both(x_, with_jacobian):
        """``(f, J, aux)`` at ``x_``; ``J`` only when the scalar ``with_jacobian`` says a later step
        needs it (else zeros, and only the residual is computed)."""

        def full(x_):
            f, J, aux = system(x_, True)
            return [jnp.asarray(v, dtype=float) for v in f], [[jnp.broadcast_to(jnp.asarray(v, dtype=float), shape)
                                                                for v in row] for row in J], aux

        def residual_only(x_):
            f, aux = evaluate(x_)
            return f, [[jnp.zeros(shape) for _ in range(m)] for _ in range(m)], aux

        return jax.lax.cond(with_jacobian, full, residual_only, x_)

    def body(state):
        x, f, J, aux, it, stuck = state
        going = (amax(f) > tol) & (it < max_iter) & ~stuck
        # the trial points carry the Jacobian the next step needs (one evaluation per accepted
        # step instead of a residual at the trial and the Jacobian again at the accepted point);
        # after the last step no element needs it
        more = jnp.any(going & (it + 1 < max_iter))
        dx = solve_small_soa(J, [-v for v in f])
        usable = going
        for v in dx:
            usable = usable & jnp.isfinite(v)
        dx = [jnp.where(usable, v, 0.0) for v in dx]
        scale = jnp.minimum(1.0, max_step / jnp.maximum(amax(dx), 1e-300))
        dx = [v * scale for v in dx]
        sq0 = sqnorm(f)

        # backtracking: full step first; the loop halves while any element has not yet found a
        # sufficient decrease (each element keeps its first acceptable trial, else the last one)
        x1 = [a + d for a, d in zip(x, dx)]
        f1, J1, aux1 = evaluate_both(x1, more)
        all_zero = dx[0] == 0
        for v in dx[1:]:
            all_zero = all_zero & (v == 0)
        # an element without a step (stopped, or no usable step) has nothing to halve: counting it
        # as not yet decreased kept the loop halving whole chunks of padding in the solver's pass 2
        ok1 = (finite_sq(f1) <= (1.0 - 1e-4) * sq0) | all_zero

        def ls_cond(ls):
            k, _, _, _, _, ok = ls
            return (k < n_halvings) & jnp.any(going & ~ok)

        def ls_body(ls):
            k, xt, ft, Jt, auxt, ok = ls
            k = k + 1
            lam = 0.5**k
            xn = [a + lam * d for a, d in zip(x, dx)]
            fn, Jn, auxn = evaluate_both(xn, more)
            xt, ft, Jt, auxt = select(ok, (xt, ft, Jt, auxt), (xn, fn, Jn, auxn))
            ok = ok | (finite_sq(fn) <= (1.0 - 1e-4 * lam) * sq0)
            return k, xt, ft, Jt, auxt, ok

        _, x_new, f_new, J_new, aux_new, _ = jax.lax.while_loop(ls_cond, ls_body,
                                                                (jnp.asarray(0), x1, f1, J1, aux1, ok1))
        accept = jnp.isfinite(sqnorm(f_new))
        stuck_new = ~accept | all_zero
        # elements that stop here, or had stopped, keep their state (and the Jacobian at it)
        take = going & accept
        x, f, J, aux = select(take, (x_new, f_new, J_new, aux_new), (x, f, J, aux))
        it = jnp.where(going, it + 1, it)
        stuck = jnp.where(going, stuck_new, stuck)
        return x, f, J, aux, it, stuck

    def cond(state):
        _, f, _, _, it, stuck = state
        return jnp.any((amax(f) > tol) & (it < max_iter) & ~stuck)

    # f(x0) and the Jacobian there (the first step needs it; with max_iter <= 0 none is taken)
    f0, J0, aux0 = evaluate_both(x, jnp.asarray(max_iter) > 0)
    it0 = jnp.zeros(shape, dtype=int)
    stuck0 = jnp.broadcast_to(jnp.asarray(max_iter) <= 0, shape)
    x, f, _, aux, it, _ = jax.lax.while_loop(cond, body, (x, f0, J0, aux0, it0, stuck0))
    res = amax(f)
    res = jnp.where(jnp.isfinite(sqnorm(f)), res, jnp.inf)
    converged = res <= tol
    for v in x:
        converged = converged & jnp.isfinite(v)
    return NewtonResult(x=x, converged=converged, iterations=it, residual=res, aux=aux)
