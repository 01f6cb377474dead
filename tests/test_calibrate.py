"""jaxecon.calibrate: the generic optax calibration helper, on toy problems with known answers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxecon  # noqa: F401
from jaxecon.calibrate import calibrate, target_loss


@pytest.fixture(scope="module")
def ls_problem():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 4))
    b = A @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.normal(size=30)
    return A, b


def test_lbfgs_least_squares_matches_lstsq(ls_problem):
    A, b = ls_problem
    loss = lambda x, A, b: jnp.sum((A @ x - b) ** 2)  # noqa: E731
    res = calibrate(loss, jnp.zeros(4), A, b, grad_tol=1e-10)
    assert bool(res.converged)
    np.testing.assert_allclose(res.params, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-8)
    h = np.asarray(res.loss_history)
    n = int(res.iterations)
    assert np.isfinite(h[: n + 1]).all() and np.isnan(h[n + 1:]).all()
    assert h[n] == pytest.approx(float(res.loss))


def test_adam_and_pytree_targets():
    """Fit softmax logits (a dict pytree) to target shares (cross-entropy) and a level (log_sse), with adam."""
    target = {"a": jnp.array([0.5, 0.3, 0.15, 0.05]), "b": jnp.array([0.2, 0.8])}
    model = lambda p: {"a": jax.nn.softmax(p["a"]), "b": jax.nn.softmax(p["b"])}  # noqa: E731
    loss = target_loss(model, target, distance="cross_entropy", weights={"a": 1.0, "b": 2.0})
    res = calibrate(loss, {"a": jnp.zeros(4), "b": jnp.zeros(2)}, optimizer=optax.adam(0.05), max_steps=5000,
                    grad_tol=1e-7)
    assert bool(res.converged)
    np.testing.assert_allclose(jax.nn.softmax(res.params["a"]), target["a"], atol=1e-6)
    np.testing.assert_allclose(jax.nn.softmax(res.params["b"]), target["b"], atol=1e-6)


def test_stopping_rules(ls_problem):
    A, b = ls_problem
    loss = lambda x: jnp.sum((A @ x - b) ** 2)  # noqa: E731
    capped = calibrate(loss, jnp.zeros(4), optimizer=optax.sgd(1e-5), max_steps=20)
    assert not bool(capped.converged) and int(capped.iterations) == 20 and not bool(capped.stalled)
    assert "max_steps" in capped.summary()
    stalled = calibrate(loss, jnp.zeros(4), optimizer=optax.sgd(1e-9), max_steps=500, rtol=1e-3, patience=10)
    assert bool(stalled.stalled) and not bool(stalled.converged) and int(stalled.iterations) == 10
    easy = calibrate(loss, jnp.zeros(4), optimizer=optax.sgd(1e-9), loss_tol=1e10)
    assert bool(easy.converged) and int(easy.iterations) == 0
    level = calibrate(target_loss(jnp.exp, jnp.array(2.0), distance="log_sse"), jnp.array(0.0),
                      optimizer=optax.sgd(0.3), max_steps=200, grad_tol=1e-12)
    np.testing.assert_allclose(jnp.exp(level.params), 2.0, rtol=1e-10)


def test_vmap_over_targets_equals_loop(ls_problem):
    A, b = ls_problem
    bs = jnp.stack([b, 2 * b, b - 1.0])
    loss = lambda x, b: jnp.sum((A @ x - b) ** 2)  # noqa: E731
    batched = jax.vmap(lambda bb: calibrate(loss, jnp.zeros(4), bb, grad_tol=1e-10))(bs)
    for i in range(3):
        np.testing.assert_allclose(batched.params[i], np.linalg.lstsq(A, bs[i], rcond=None)[0], rtol=1e-7)
    assert np.all(np.asarray(batched.converged))


def test_bad_arguments():
    with pytest.raises(ValueError, match="distance"):
        target_loss(lambda p: p, jnp.zeros(2), distance="nope")
    with pytest.raises(ValueError, match="max_steps"):
        calibrate(lambda p: jnp.sum(p ** 2), jnp.ones(2), max_steps=0)


def test_no_default_loss_target_offset_loss():
    """A loss with a negative offset is not 'converged' the moment it drops below 0 (issue 18):
    the default stop is on the gradient, which the offset does not change."""
    offsets = jnp.array([-1.0, -1e6, 0.0, 5.0])
    loss = lambda p, offset: jnp.sum((p - 2.0) ** 2) + offset  # noqa: E731
    res = jax.vmap(lambda o: calibrate(loss, jnp.array([0.0]), o))(offsets)
    # every offset: same minimizer, same verdict
    assert np.all(np.asarray(res.converged)) and np.all(np.asarray(res.grad_norm) <= 1e-8)
    np.testing.assert_allclose(res.params[:, 0], 2.0, atol=1e-8)
    np.testing.assert_allclose(res.loss, offsets, atol=1e-9, rtol=1e-15)
    # an explicit loss target is still honoured
    r = calibrate(lambda p: jnp.sum((p - 2.0) ** 2) - 1.0, jnp.array([0.0]), optimizer=optax.sgd(0.1),
                  loss_tol=-0.5)
    assert bool(r.converged) and float(r.loss) <= -0.5 and float(r.grad_norm) > 1e-3


@pytest.mark.parametrize("kw,name", [({"grad_tol": 0.0}, "grad_tol"), ({"grad_tol": float("nan")}, "grad_tol"),
                                     ({"rtol": -1.0}, "rtol"), ({"loss_tol": float("nan")}, "loss_tol"),
                                     ({"loss_tol": "x"}, "loss_tol")])
def test_bad_stopping_settings_named(kw, name):
    with pytest.raises(ValueError, match=name):
        calibrate(lambda p: jnp.sum(p ** 2), jnp.ones(2), **kw)
