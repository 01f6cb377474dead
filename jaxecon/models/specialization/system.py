"""The equilibrium conditions at one grid node, with their analytic Jacobian (DESIGN.md; paper 002).

At a node ``(b, k, s)``, given the expectation tables of next period's policies
(:func:`expected_tables`), the unknowns are ``x = (log c, log q, ℓ_1..ℓ_{I−1})`` with
``k'_i = exp(ℓ_i) / Σ_j exp(ℓ_j)`` (``ℓ_I = 0``), so ``c > 0``, ``q > 0`` and ``Σ k' = 1`` hold by
construction, and ``b'`` follows from the budget (paper eq. 10)

    c = Y(k, s) + b − Σ_i Φ_i(k_i, k'_i) − b'/R(s),     Φ_i = (φ_i/2)(k'_i/k_i − 1 − δ_i)² k_i.

The ``I + 1`` equations, written as relative errors:

- slack regime (η = 0), bond Euler (eq. 11):  ``r_0 = u'^(−1)(β R E[u'(c')]) / c − 1``;
- binding regime (``b' = −R θ q``):           ``r_0 = (Y + b − ΣΦ + θ q) / c − 1``, and then
  ``η = u'(c) − β R E[u'(c')]`` (must be >= 0);
- capital Euler, each i (eq. 12):
  ``r_i = β E[u'(c')(q' + α z̄'_i k'_i^(α+ξ_i−1) − Φ_i,1(k'_i, k''_i)) + θ q' η'] / (u'(c)(q + Φ_i,2(k_i, k'_i))) − 1``.

With ``x = k''_i / k'_i`` the adjustment-cost term is ``−Φ_i,1 = (φ_i/2)(x² − (1 + δ_i)²)``, so
the capital-Euler expectation is

    E[u'q'] + α k'_i^(α+ξ_i−1) E[u' z̄_i'] + (φ_i/2)(E[u' k''_i²]/k'_i² − (1+δ_i)² E[u']) + θ E[q'η'],

five conditional expectations, each a multilinear interpolant in ``(b', k'_1..k'_{I−1})`` of a table
built once per sweep (:func:`expected_tables`).

Why written out by hand. ``jax.jacfwd`` of this system under ``vmap`` over the nodes re-evaluates
powers (XLA's CPU ``pow`` is slow against ``exp`` + ``log``) and runs many small unfused kernels. Here every
per-industry quantity is its own ``(N,)`` array (no reductions over a length-I axis), every power
is an ``exp`` of a logarithm the unknowns already give (``log c = x_0``,
``log k'_i = ℓ_i − log Σ exp(ℓ)``), the Jacobian reuses the residual's intermediate values, and its
structural zeros (today's ``q`` moves neither ``b'`` nor ``k'``) are dropped at trace time.
``tests/test_specialization.py`` checks the Jacobian against ``jax.jacfwd`` of the residual.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ...numerics import interp_grad
from . import primitives as pr

__all__ = ["NodeState", "node_states", "shares_from_logits", "expected_tables", "node_system", "borrowing_limit"]


class NodeState(NamedTuple):
    """What a node's equations need of the node itself (computed once per solve).

    Attributes:
        k: capital shares (industries on the last axis); s: exogenous state index;
        wealth: ``Y(k, s) + b`` with ``Y = Σ_i z̄_i(s) k_i^(α+ξ_i)`` (eqs. 6, 8) and b the bonds.
    """

    k: jax.Array
    s: jax.Array
    wealth: jax.Array


def _lin(terms, const=None):
    """``const + Σ coef · v`` over the ``(coef, v)`` pairs whose ``v`` is not None; None when nothing
    is left (a structural zero of the Jacobian)."""
    out = const
    for coef, v in terms:
        if v is None:
            continue
        out = coef * v if out is None else out + coef * v
    return out


def _dense(v, like):
    """A Jacobian entry as an array shaped like ``like`` (zeros for a structural zero)."""
    return jnp.zeros_like(like) if v is None else jnp.broadcast_to(v, like.shape)


def shares_from_logits(logits, like):
    """``k'_i = exp(ℓ_i) / Σ_j exp(ℓ_j)`` with ``ℓ_I = 0``, and ``log k'_i``, for the I − 1 logit
    arrays ``logits`` (``like``: an array of the common shape, for I = 1). The softmax is written out
    over the list: ``jax.nn.softmax`` over a length-I axis became a slow small-reduction kernel on a CPU.
    """
    logits = list(logits) + [jnp.zeros_like(like)]
    top = functools.reduce(jnp.maximum, logits)
    ex = [jnp.exp(lj - top) for lj in logits]
    total = functools.reduce(jnp.add, ex)
    log_total = jnp.log(total)
    return [e_ / total for e_ in ex], [lj - top - log_total for lj in logits]


def node_states(params, b, k, s) -> NodeState:
    """The :class:`NodeState` of every node (``b (N,)``, ``k (N, I)``, ``s (N,)``)."""
    return NodeState(k=k, s=s, wealth=pr.output(params, params.z[s], k) + b)


def expected_tables(params, c, q, eta, kn, shape):
    """The conditional expectations the Euler equations take, on the grid, for every current state.

    From the next-period policies on the grid (flattened, ``kn`` of shape ``(N, I)``) build, at every
    node ``(b', k', s')``, the ``2I + 3`` integrands (``k''_I = 1 − Σ_{i<I} k''_i``)

        u'(c'),  u'(c') q',  u'(c') z̄_i(s') (each i),  u'(c') k''_i² (each i),  q' η'

    and take ``E[· | s] = Σ_s' P[s, s'] (·)(b', k', s')``. Returns one table of shape
    ``(n_b, n_k.., n_s, 2I + 3)`` indexed by the CURRENT state ``s`` (the columns in the order above). Multilinear interpolation is
    linear in the table values, so interpolating these tables at ``(b', k')`` is exactly the
    expectation of the interpolated integrands; a node then gathers ``2^d`` entries of each table
    instead of interpolating ``c', q', η', k''`` for every ``s'``.
    """
    I = kn.shape[-1]
    n_s = shape[-1]
    mu = jnp.exp(-params.gamma * jnp.log(jnp.maximum(c, 1e-10)))  # u'(c') = c'^(−γ)
    head = [jnp.clip(kn[:, i], 1e-10, 1.0) for i in range(I - 1)]
    k_next = head + [jnp.maximum(1.0 - sum(head), 1e-10) if I > 1 else jnp.ones_like(mu)]
    z_next = jnp.broadcast_to(params.z.T[:, None, :], (I, mu.shape[0] // n_s, n_s)).reshape(I, -1)
    cols = [mu, mu * q] + [mu * z_next[i] for i in range(I)] + [mu * kk**2 for kk in k_next] + [q * eta]
    # one (nodes x s') @ (s' x s) product per column (one einsum over the stacked columns goes
    # through a transposed copy on the CPU)
    expectations = [col.reshape(-1, n_s) @ params.P.T for col in cols]
    return jnp.stack(expectations, axis=-1).reshape(shape + (len(cols),))


def borrowing_limit(params, b_min, s, q, debt_limit):
    """The most that may be borrowed, in units of ``−b'/R``: ``θ q`` (collateral constraint), or
    ``−b_min/R`` for θ = inf with the ad hoc debt limit (``Grid.debt_limit``), else 0 (never
    binding; kept finite so that no branch of a ``where`` carries inf into the Jacobian)."""
    adhoc = debt_limit & ~jnp.isfinite(params.theta)
    return jnp.where(adhoc, -b_min / params.R[s], pr.finite_theta(params) * q)


def node_system(x, node: NodeState, binding, params, table, axes, extrapolate_b=False, debt_limit=False,
                jacobian=False):
    """The ``I + 1`` relative errors at many nodes at once (module docstring) and, optionally, their Jacobian.

    Struct of arrays: every argument that varies by node is an array of one common shape (``(N,)``
    for N nodes, or ``()`` for one), and the unknowns, residuals and Jacobian are Python sequences of
    such arrays, the form :func:`jaxecon.numerics.newton_soa` takes.

    Args:
        x: unknowns ``(log c, log q, ℓ_1..ℓ_{I−1})``, a sequence of ``I + 1`` arrays.
        node: the nodes' :class:`NodeState` (``k`` with the industries on its last axis).
        binding: the regime (True: ``b' = −R θ q``, or the ad hoc debt limit).
        params: :class:`Params`; table: from :func:`expected_tables`; axes: the state axes.
        extrapolate_b: extend the tables linearly beyond the bond grid (``Grid.b_extrapolate``).
        debt_limit: θ = inf with the ad hoc debt limit ``b' >= b_min`` (``Grid.debt_limit``).
        jacobian: also return ``∂r/∂x``.

    Returns:
        ``(r, aux)``, or ``(r, J, aux)`` with ``jacobian``: ``r`` a list of ``I + 1`` arrays, ``J`` a
        list of ``I + 1`` rows of ``I + 1`` arrays (``J[a][b] = ∂r_a/∂x_b``), and ``aux = (c, q, η, b',
        k', violation, u'(c))`` with ``k'`` a list of I arrays, ``η`` the binding-regime formula where
        ``binding`` (else 0) and ``violation = (−b'/R − limit)/(1 + θ q)`` the scaled constraint violation.
    """
    I = node.k.shape[-1]
    m = I + 1
    gamma, beta, alpha = params.gamma, params.beta, params.alpha
    theta = pr.finite_theta(params)
    s = node.s
    R = params.R[s]
    k = [node.k[..., i] for i in range(I)]
    phi = [params.phi[i] for i in range(I)]
    delta = [params.delta[i] for i in range(I)]
    xi = [params.xi[i] for i in range(I)]
    b_min = axes[0].points[0]

    # unknowns -> c, q, k' (softmax with ℓ_I = 0) and log k'
    c, q = jnp.exp(x[0]), jnp.exp(x[1])
    kn, log_kn = shares_from_logits([x[2 + j] for j in range(I - 1)], like=x[0])

    # budget: b' = R (Y + b − ΣΦ − c)
    g = [pr.adj_gap(k[i], kn[i], delta[i]) for i in range(I)]  # Φ_i,2 = φ_i g_i
    adj = 0.0
    for i in range(I):
        adj = adj + pr.adj_cost_of_gap(phi[i], g[i], k[i])
    resources = node.wealth - adj
    bn = R * (resources - c)

    # the 2I + 3 expectations at (b', k'_1..k'_{I−1}) in row s, and their slopes
    value, slopes = interp_grad(axes, table, [bn] + kn[: I - 1], extrapolate=(extrapolate_b,) + (False,) * (I - 1),
                                tail=(s,))
    n_cols = 2 * I + 3
    e = [value[..., j] for j in range(n_cols)]
    floored = e[0] <= 1e-300  # a floor keeps u'^(−1) finite where a linear extension turns negative
    e_mu = jnp.where(floored, 1e-300, e[0])
    e_muq, e_muz, e_muk2, e_qeta = e[1], e[2 : 2 + I], e[2 + I : 2 + 2 * I], e[2 + 2 * I]
    bR_Emu = beta * R * e_mu

    mu = jnp.exp(-gamma * x[0])  # u'(c)
    limit_now = borrowing_limit(params, b_min, s, q, debt_limit)
    ratio_slack = jnp.exp(-jnp.log(bR_Emu) / gamma - x[0])  # u'^(−1)(βR E u') / c
    r_bind = (resources + limit_now) / c - 1.0
    r0 = jnp.where(binding, r_bind, ratio_slack - 1.0)

    mpk = [alpha * jnp.exp((alpha + xi[i] - 1.0) * log_kn[i]) for i in range(I)]  # α k'_i^(α+ξ_i−1)
    expect, denom, ratio = [], [], []
    for i in range(I):
        ex_i = (e_muq + mpk[i] * e_muz[i] + 0.5 * phi[i] * (e_muk2[i] / kn[i] ** 2 - (1.0 + delta[i]) ** 2 * e_mu)
                + theta * e_qeta)
        d_i = q + phi[i] * g[i]
        expect.append(ex_i)
        denom.append(d_i)
        ratio.append(beta * ex_i / (mu * d_i))
    r = [r0] + [ratio[i] - 1.0 for i in range(I)]

    limited = jnp.isfinite(params.theta) | debt_limit
    limit = jnp.where(limited, limit_now, jnp.inf)
    violation = (-bn / R - limit) / (1.0 + theta * q)
    eta = jnp.where(binding, mu - bR_Emu, 0.0)
    aux = (c, q, eta, bn, kn, violation, mu)
    if not jacobian:
        return r, aux

    # --- Jacobian: d/dx for x = (log c, log q, ℓ_1..ℓ_{I−1}) --------------------------------------
    # Structural zeros are None (see _lin): today's q moves neither b' nor k', and c moves only b',
    # so about a third of the chain-rule products below vanish at trace time instead of being
    # computed as multiplications by zero arrays (XLA does not fold x * 0 for floats).
    # ∂k'_i/∂ℓ_j = k'_i (δ_ij − k'_j); k' does not depend on log c, log q
    dkn = [[None, None] + [kn[i] * ((1.0 if i == j else 0.0) - kn[j]) for j in range(I - 1)] for i in range(I)]
    # ∂resources/∂x = −Σ_i φ_i g_i ∂k'_i/∂x ; ∂b'/∂x = R (∂resources/∂x − ∂c/∂x), ∂c/∂log c = c
    dres = [_lin([(-phi[i] * g[i], dkn[i][a]) for i in range(I)]) for a in range(m)]
    dbn = [_lin([(R, dres[a])]) if a else -R * c for a in range(m)]
    # chain rule through the query point (b', k'_1..k'_{I−1})
    dq = [dbn] + [dkn[j] for j in range(I - 1)]
    de = [[_lin([(slopes[dd][..., n], dq[dd][a]) for dd in range(I)]) for a in range(m)] for n in range(n_cols)]
    de_mu = [None if v is None else jnp.where(floored, 0.0, v) for v in de[0]]

    # r_0: slack u'^(−1)(βR E u')/c − 1, binding (resources + θ q)/c − 1
    row_slack = [_lin([(-ratio_slack / (gamma * e_mu), de_mu[a])], -ratio_slack if a == 0 else None)
                 for a in range(m)]
    dlimit = jnp.where(debt_limit & ~jnp.isfinite(params.theta), 0.0, theta * q)  # ∂limit/∂log q
    row_bind = [_lin([(1.0 / c, dres[a])]) for a in range(m)]
    row_bind[0] = -(r_bind + 1.0)
    row_bind[1] = dlimit / c
    J = [[jnp.where(binding, _dense(rb, c), _dense(rs, c)) for rb, rs in zip(row_bind, row_slack)]]
    # r_i: ratio_i = β expect_i / (u'(c) d_i), ∂log u'(c)/∂log c = −γ, ∂d_i/∂x = q [x = log q] + φ_i ∂k'_i/∂x / k_i
    for i in range(I):
        kinv2 = 1.0 / kn[i] ** 2
        scale = beta / (mu * denom[i])
        row = []
        for a in range(m):
            dmpk = _lin([(mpk[i] * (alpha + xi[i] - 1.0) / kn[i], dkn[i][a])])
            dex = _lin([(1.0, de[1][a]), (mpk[i], de[2 + i][a]), (e_muz[i], dmpk),
                        (0.5 * phi[i] * kinv2, de[2 + I + i][a]),
                        (-phi[i] * e_muk2[i] * kinv2 / kn[i], dkn[i][a]),
                        (-0.5 * phi[i] * (1.0 + delta[i]) ** 2, de_mu[a]),
                        (theta, de[2 + 2 * I][a])])
            dlog_d = _lin([(phi[i] / (k[i] * denom[i]), dkn[i][a])], q / denom[i] if a == 1 else None)
            dlog = _lin([(1.0, dlog_d)], -gamma if a == 0 else None)
            row.append(_dense(_lin([(scale, dex), (-ratio[i], dlog)]), c))
        J.append(row)
    return r, J, aux
