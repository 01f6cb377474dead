"""Shifter recovery (paper 004 §3.2): closed form, normalization, gradient calibration, counterfactuals."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import cnces
from jaxecon.models.cnces import Params


def random_params(seed, n=20, k=4, per_nest=False):
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0.1, 0.8, size=k) if per_nest else 0.64
    return Params(t_ck=np.exp(rng.normal(0, 0.5, (n, k))), T_k=np.exp(rng.normal(0, 0.5, k)),
                  T_c=np.exp(rng.normal(0, 0.3, n)), theta=3.0, rho=rho)


def canonical_params(seed, n=20, k=4, rho=0.64, theta=3.0):
    """Params built to satisfy the canonical normalization by construction (independent of the code)."""
    rng = np.random.default_rng(seed)
    lt = rng.normal(0, 0.5, (n, k))
    lt = lt - lt.mean(1, keepdims=True) - lt.mean(0, keepdims=True) + lt.mean()       # (i), (ii)
    lc = rng.normal(0, 0.3, n)
    lc -= lc.mean()                                                                   # (iii)
    rho_k = np.broadcast_to(rho, (k,))
    a = np.exp((lt + theta * lc[:, None]) / (1 - rho_k))
    lam = a.sum(0)
    Tk = np.exp(rng.normal(0, 0.5, k))
    Tk = Tk / np.sum(Tk * lam ** (1 - rho_k))                                         # (iv)
    return Params(t_ck=np.exp(lt), T_k=Tk, T_c=np.exp(lc), theta=theta, rho=rho)


def assert_params_close(a, b, rtol):
    for f in ("t_ck", "T_k", "T_c"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=rtol, err_msg=f)


@pytest.mark.parametrize("per_nest", [False, True])
def test_recovery_of_canonical_params_is_exact(per_nest):
    rho = np.array([0.2, 0.5, 0.64, 0.9]) if per_nest else 0.64
    p = canonical_params(0, rho=rho)
    s = cnces.shares(p)
    assert_params_close(cnces.recover_shifters(s.pi_ck, s.omega_k, p.theta, p.rho), p, 1e-11)


@pytest.mark.parametrize("per_nest", [False, True])
def test_normalize_keeps_shares_and_matches_recovery(per_nest):
    p = random_params(1, per_nest=per_nest)
    q = cnces.normalize(p)
    s, sq = cnces.shares(p), cnces.shares(q)
    np.testing.assert_allclose(sq.pi_ck, s.pi_ck, rtol=1e-11)
    np.testing.assert_allclose(sq.omega_k, s.omega_k, rtol=1e-11)
    lt = np.log(np.asarray(q.t_ck))
    np.testing.assert_allclose(lt.sum(0), 0, atol=1e-11)
    np.testing.assert_allclose(lt.sum(1), 0, atol=1e-11)
    np.testing.assert_allclose(np.log(np.asarray(q.T_c)).sum(), 0, atol=1e-11)
    np.testing.assert_allclose(np.sum(q.T_k * sq.lambda_k ** (1 - q.rho_k)), 1.0, rtol=1e-12)
    assert_params_close(cnces.recover_shifters(s.pi_ck, s.omega_k, p.theta, p.rho), q, 1e-10)


def test_gradient_calibration_agrees_with_closed_form():
    p = random_params(2, n=25, k=5)
    s = cnces.shares(p)
    fitted, res = cnces.calibrate_shifters(s.pi_ck, s.omega_k, p.theta, p.rho)
    assert bool(res.converged), res.summary()
    closed = cnces.recover_shifters(s.pi_ck, s.omega_k, p.theta, p.rho)
    assert_params_close(fitted, closed, 1e-6)
    np.testing.assert_allclose(cnces.shares(fitted).pi_c, s.pi_c, rtol=1e-8)


def test_recovery_vmaps_over_years():
    ps = [canonical_params(s) for s in range(3)]
    ss = [cnces.shares(p) for p in ps]
    pi = jnp.stack([s.pi_ck for s in ss])
    om = jnp.stack([s.omega_k for s in ss])
    out = jax.vmap(lambda a, b: cnces.recover_shifters(a, b, 3.0, 0.64))(pi, om)
    for i, p in enumerate(ps):
        np.testing.assert_allclose(out.t_ck[i], p.t_ck, rtol=1e-11)


def test_counterfactuals():
    p = cnces.default_params(n=60)
    s = cnces.shares(p)
    # location shock: the shocked location loses, all others gain; shares still sum to one
    cf = cnces.counterfactual(p, d_log_t_ck=cnces.shock_location(p, 0, 0.95))
    assert cf.ratio[0] < 1 and np.all(np.asarray(cf.ratio[1:]) > 1)
    np.testing.assert_allclose(cf.pi_c1.sum(), 1.0, atol=1e-13)
    # with rho = 0 (same observed shares, shifters re-recovered) every other location gains equally
    p0 = cnces.recover_shifters(s.pi_ck, s.omega_k, p.theta, 0.0)
    np.testing.assert_allclose(cnces.shares(p0).pi_c, s.pi_c, rtol=1e-10)
    cf0 = cnces.counterfactual(p0, d_log_t_ck=cnces.shock_location(p0, 0, 0.95))
    np.testing.assert_allclose(cf0.ratio[1:], cf0.ratio[1], rtol=1e-12)
    # small occupation shock: log change ≈ Δ (φ_ck - ω_k) (eq 11)
    d = 1e-5
    cfk = cnces.counterfactual(p, d_log_T_k=cnces.shock_occupation(p, 2, np.exp(d)))
    np.testing.assert_allclose(np.log(cfk.ratio) / d, s.phi_ck[:, 2] - s.omega_k[2], atol=1e-5)
    # batch of shocks equals a loop; composition correlation of c0 with itself is 1
    shocks = jnp.stack([cnces.shock_location(p, c, 0.9) for c in (0, 5, 7)])
    batched = jax.jit(cnces.relative_changes)(p, shocks)
    for i in range(3):
        np.testing.assert_allclose(batched[i], cnces.counterfactual(p, shocks[i]).ratio, rtol=1e-13)
    corr = cnces.composition_correlation(s.phi_ck, 3)
    np.testing.assert_allclose(corr[3], 1.0, rtol=1e-13)
    np.testing.assert_allclose(corr[10], np.corrcoef(s.phi_ck[10], s.phi_ck[3])[0, 1], rtol=1e-12)
