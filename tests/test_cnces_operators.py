"""CNCES structured Jacobians (diagonal + rank K) against dense autodiff, jvp/vjp and identities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import cnces
from jaxecon.models.cnces import Params
from jaxecon.models.cnces.elasticities import log_pi_c


def random_params(seed, n=40, k=5, per_nest=True):
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0.05, 0.9, size=k) if per_nest else 0.64
    return Params(t_ck=np.exp(rng.normal(0, 0.7, (n, k))), T_k=np.exp(rng.normal(0, 0.5, k)),
                  T_c=np.exp(rng.normal(0, 0.5, n)), theta=2.5, rho=rho)


def logs(p):
    return jnp.log(p.t_ck), jnp.log(p.T_k), jnp.log(p.T_c)


@pytest.mark.parametrize("per_nest", [False, True])
def test_operators_equal_dense_autodiff(per_nest):
    p = random_params(0, per_nest=per_nest)
    ops, dense = cnces.elasticity_operators(p), cnces.elasticities(p)
    np.testing.assert_allclose(ops.T_c.as_matrix(), dense.T_c, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ops.t.as_matrix(), dense.t, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ops.T_k, dense.T_k, rtol=0, atol=1e-12)
    # rank K: U, V are N x K
    assert ops.T_c.U.shape == ops.T_c.V.shape == (p.n_locations, p.n_nests)


def test_location_operator_methods_equal_dense():
    p = random_params(1)
    op = cnces.elasticity_operators(p).T_c
    J = np.asarray(cnces.elasticities(p, which=("T_c",)).T_c)
    n = p.n_locations
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=n), rng.normal(size=n)
    tol = dict(rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.mv(jnp.asarray(x)), J @ x, **tol)
    np.testing.assert_allclose(op.rmv(jnp.asarray(y)), J.T @ y, **tol)
    np.testing.assert_allclose(op.transpose().as_matrix(), J.T, **tol)
    np.testing.assert_allclose(op.diagonal(), np.diag(J), **tol)
    for j in (0, 7, n - 1):
        np.testing.assert_allclose(op.column(j), J[:, j], **tol)
        np.testing.assert_allclose(op.row(j), J[j, :], **tol)
    np.testing.assert_allclose(op.row_sums(), J.sum(1), **tol)
    np.testing.assert_allclose(op.column_sums(), J.sum(0), **tol)
    np.testing.assert_allclose(op.cross_row_sums(), J.sum(1) - np.diag(J), **tol)
    np.testing.assert_allclose(op.cross_column_sums(), J.sum(0) - np.diag(J), **tol)
    np.testing.assert_allclose(op.to_lineax().mv(jnp.asarray(x)), J @ x, **tol)
    np.testing.assert_allclose(op.to_lineax().as_matrix(), J, **tol)
    assert op.shape == (n, n)


def test_shifter_operator_equals_jvp_vjp_and_dense():
    """mv is the forward-mode directional derivative, rmv the reverse-mode one (independent of dense)."""
    p = random_params(2)
    op = cnces.elasticity_operators(p).t
    lt, lk, lc = logs(p)
    rng = np.random.default_rng(2)
    X = jnp.asarray(rng.normal(size=lt.shape))
    y = jnp.asarray(rng.normal(size=p.n_locations))
    f = lambda a: log_pi_c(a, lk, lc, p.theta, p.rho)  # noqa: E731
    _, jvp = jax.jvp(f, (lt,), (X,))
    (vjp,) = jax.vjp(f, lt)[1](y)
    np.testing.assert_allclose(op.mv(X), jvp, rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.rmv(y), vjp, rtol=0, atol=1e-12)
    dense = np.asarray(cnces.elasticities(p, which=("t",)).t)
    np.testing.assert_allclose(op.mv(X), np.einsum("cdk,dk->c", dense, X), rtol=0, atol=1e-12)
    idx = np.arange(p.n_locations)
    np.testing.assert_allclose(op.diagonal(), dense[idx, idx, :], rtol=0, atol=1e-12)
    # the location operator is θ × the shifter operator applied to a shock common to all nests
    x = jnp.asarray(rng.normal(size=p.n_locations))
    loc = cnces.elasticity_operators(p).T_c
    np.testing.assert_allclose(loc.mv(x), p.theta * op.mv(jnp.broadcast_to(x[:, None], lt.shape)), atol=1e-12)
    _, jvp_c = jax.jvp(lambda c: log_pi_c(lt, lk, c, p.theta, p.rho), (lc,), (x,))
    np.testing.assert_allclose(loc.mv(x), jvp_c, rtol=0, atol=1e-12)


def test_identities():
    """Scaling every T_c by one factor leaves all shares unchanged (J 1 = 0), and Σ_c π_c d ln π_c = 0
    for any shock (πᵀ J = 0)."""
    p = random_params(3)
    ops = cnces.elasticity_operators(p)
    pi = cnces.shares(p).pi_c
    np.testing.assert_allclose(ops.T_c.row_sums(), 0.0, atol=1e-13)
    np.testing.assert_allclose(ops.T_c.rmv(pi), 0.0, atol=1e-15)
    np.testing.assert_allclose(ops.t.rmv(pi), 0.0, atol=1e-15)
    # own + cross row sums: the own elasticity is minus the sum of the cross ones
    np.testing.assert_allclose(ops.T_c.cross_row_sums(), -ops.T_c.diagonal(), rtol=1e-12)


def test_mv_is_the_first_order_counterfactual():
    """ln(π_c1/π_c0) - J Δ is O(|Δ|²): halving the shock quarters the gap."""
    p = random_params(4)
    op = cnces.elasticity_operators(p).t
    d = jnp.asarray(np.random.default_rng(4).normal(size=p.t_ck.shape))
    gaps = []
    for h in (1e-2, 5e-3):
        cf = cnces.counterfactual(p, d_log_t_ck=h * d)
        gaps.append(float(jnp.abs(jnp.log(cf.ratio) - op.mv(h * d)).max()))
    assert 3.7 < gaps[0] / gaps[1] < 4.3, gaps


def test_default_economy_n722_equals_dense():
    p = cnces.default_params()
    assert p.n_locations == 722
    op = cnces.elasticity_operators(p).T_c
    J = np.asarray(cnces.elasticities(p, which=("T_c",)).T_c)
    np.testing.assert_allclose(op.as_matrix(), J, rtol=0, atol=1e-12)
    x = np.random.default_rng(5).normal(size=722)
    np.testing.assert_allclose(op.mv(jnp.asarray(x)), J @ x, rtol=0, atol=1e-12)


def test_vmap_over_shocks_equals_loop():
    p = random_params(5, n=20, k=3)
    shocks = jnp.asarray(np.random.default_rng(5).normal(0, 0.1, (4, 20, 3)))

    def diag_and_col(d):
        op = cnces.elasticity_operators(p.replace(t_ck=p.t_ck * jnp.exp(d))).T_c
        return op.diagonal(), op.column(3)

    def diag_and_col_logs(d):                    # the shock passed in logs: the same operator
        op = cnces.elasticity_operators(p, d_log_t_ck=d).T_c
        return op.diagonal(), op.column(3)

    bd, bc = jax.jit(jax.vmap(diag_and_col))(shocks)
    ld, lc = jax.jit(jax.vmap(diag_and_col_logs))(shocks)
    np.testing.assert_allclose(ld, bd, atol=1e-12)
    np.testing.assert_allclose(lc, bc, atol=1e-12)
    for i in range(4):
        J = np.asarray(cnces.elasticities(p.replace(t_ck=p.t_ck * jnp.exp(shocks[i])), which=("T_c",)).T_c)
        np.testing.assert_allclose(bd[i], np.diag(J), atol=1e-12)
        np.testing.assert_allclose(bc[i], J[:, 3], atol=1e-12)


def test_shocks_in_logs_and_bad_shocks():
    p = random_params(6, n=12, k=3)
    rng = np.random.default_rng(6)
    dt, dk, dc = rng.normal(0, 0.2, (12, 3)), rng.normal(0, 0.2, 3), rng.normal(0, 0.2, 12)
    q = p.replace(t_ck=p.t_ck * np.exp(dt), T_k=p.T_k * np.exp(dk), T_c=p.T_c * np.exp(dc))
    a, b = cnces.elasticity_operators(p, dt, dk, dc), cnces.elasticity_operators(q)
    np.testing.assert_allclose(a.T_c.as_matrix(), b.T_c.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(a.t.as_matrix(), b.t.as_matrix(), atol=1e-12)
    np.testing.assert_allclose(a.T_k, b.T_k, atol=1e-12)
    with pytest.raises(ValueError, match="d_log_t_ck .*NaN"):
        cnces.elasticity_operators(p, d_log_t_ck=np.where(np.arange(3) == 1, np.nan, 0.0) * np.ones((12, 3)))
    with pytest.raises(ValueError, match=r"d_log_T_c must broadcast to shape \(12,\)"):
        cnces.elasticity_operators(p, d_log_T_c=np.zeros(3))
