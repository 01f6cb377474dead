"""CNCES shares (paper 004, eqs 2-7): identities, special cases, a NumPy reference, batching, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401  (float64)
from jaxecon.models import cnces
from jaxecon.models.cnces import Params, shares
from jaxecon.numerics import stack


def random_params(seed, n=20, k=5, per_nest=False, rho=None, theta=None):
    rng = np.random.default_rng(seed)
    if rho is None:
        rho = rng.uniform(0.0, 0.9, size=k) if per_nest else rng.uniform(0.0, 0.9)
    return Params(t_ck=np.exp(rng.normal(0, 0.5, (n, k))), T_k=np.exp(rng.normal(0, 0.5, k)),
                  T_c=np.exp(rng.normal(0, 0.3, n)), theta=theta if theta is not None else rng.uniform(1, 5),
                  rho=rho)


def numpy_reference(p):
    """Eqs 2-7 in levels, written from the paper without logs (small, moderate parameters only)."""
    t, Tk, Tc, th = (np.asarray(p.t_ck), np.asarray(p.T_k), np.asarray(p.T_c), float(p.theta))
    rho = np.broadcast_to(np.asarray(p.rho), Tk.shape)
    Z = Tc ** th                                              # Z_c^-θ with γ = 1
    a = (t * Z[:, None]) ** (1 / (1 - rho))
    lam = a.sum(0)                                            # λ_k
    pi_ck = a / lam                                           # eq 3
    # eq 4; the location factor Z_c^(1/(1-ρ)) cancels there only for a common ρ, so keep it for ρ_k
    num = (t * Z[:, None]) ** (1 / (1 - rho)) * Tk * lam ** (-rho)
    phi = num / num.sum(1, keepdims=True)
    omega = Tk * lam ** (1 - rho) / (Tk * lam ** (1 - rho)).sum()   # eq 5
    pi_c = (pi_ck * omega).sum(1)                             # eq 7
    return pi_c, pi_ck, phi, omega, lam


@pytest.mark.parametrize("per_nest", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_identities_and_reference(seed, per_nest):
    p = random_params(seed, per_nest=per_nest)
    s = shares(p)
    assert s.pi_c.dtype == jnp.float64
    np.testing.assert_allclose(s.pi_c.sum(), 1.0, atol=1e-13)
    np.testing.assert_allclose(s.pi_ck.sum(0), 1.0, atol=1e-13)
    np.testing.assert_allclose(s.phi_ck.sum(1), 1.0, atol=1e-13)
    np.testing.assert_allclose(s.omega_k.sum(), 1.0, atol=1e-13)
    # eq 6: π_c = ω_k π_ck / φ_ck for every k
    np.testing.assert_allclose(s.omega_k * s.pi_ck / s.phi_ck, np.broadcast_to(s.pi_c[:, None], s.pi_ck.shape),
                               rtol=1e-12)
    ref = numpy_reference(p)
    for got, want in zip((s.pi_c, s.pi_ck, s.phi_ck, s.omega_k, s.lambda_k), ref):
        np.testing.assert_allclose(got, want, rtol=1e-11)


def test_lind_ramondo_generating_function():
    """π_c = Z_c G_c / G with G the correlation function of eq 2 (an independent route, via grad of G)."""
    p = random_params(3, per_nest=True)
    rho = jnp.broadcast_to(p.rho, p.T_k.shape)

    def G(x):  # x_c = Z_c^-θ
        return jnp.sum(p.T_k * jnp.sum((p.t_ck * x[:, None]) ** (1 / (1 - rho)), 0) ** (1 - rho))

    x = p.T_c ** p.theta
    np.testing.assert_allclose(x * jax.grad(G)(x) / G(x), shares(p).pi_c, rtol=1e-12)


def test_rho_zero_is_multinomial_logit():
    p = random_params(4, rho=0.0)
    w = np.asarray(p.T_k) * np.asarray(p.t_ck) * np.asarray(p.T_c)[:, None] ** float(p.theta)
    s = shares(p)
    np.testing.assert_allclose(s.pi_c, w.sum(1) / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(s.pi_ck, w / w.sum(0), rtol=1e-12)
    np.testing.assert_allclose(s.phi_ck, w / w.sum(1, keepdims=True), rtol=1e-12)


def test_one_nest_is_ces():
    p = random_params(5, k=1, rho=0.7)
    v = (np.asarray(p.t_ck[:, 0]) * np.asarray(p.T_c) ** float(p.theta)) ** (1 / 0.3)
    s = shares(p)
    np.testing.assert_allclose(s.pi_c, v / v.sum(), rtol=1e-12)
    # CES: elasticity of relative shares π_c/π_c' to t_c is 1/(1-ρ)
    f = lambda lt: jnp.log(shares(p.replace(t_ck=jnp.exp(lt))).pi_c)  # noqa: E731
    J = jax.jacfwd(f)(jnp.log(p.t_ck))[:, :, 0]
    np.testing.assert_allclose(J[0, 0] - J[1, 0], 1 / 0.3, rtol=1e-12)


def test_large_n_and_rho_near_one_stay_finite():
    rng = np.random.default_rng(0)
    n, k = 5000, 8
    p = Params(t_ck=np.exp(rng.normal(0, 1, (n, k))), T_k=np.ones(k), T_c=np.exp(rng.normal(0, 1, n)),
               theta=3.0, rho=0.999)
    s = jax.jit(shares)(p)
    assert not np.isfinite(np.asarray(s.lambda_k)).all()  # the levels overflow ...
    assert np.isfinite(np.asarray(s.log_lambda_k)).all()  # ... the logs do not
    for x in (s.pi_c, s.pi_ck, s.phi_ck, s.omega_k):
        assert np.isfinite(np.asarray(x)).all()
    np.testing.assert_allclose(s.pi_c.sum(), 1.0, atol=1e-12)
    np.testing.assert_allclose(s.pi_ck.sum(0), 1.0, atol=1e-12)


def test_vmap_equals_loop():
    ps = [random_params(s, rho=r) for s, r in zip(range(4), (0.0, 0.3, 0.64, 0.9))]
    batched = jax.jit(jax.vmap(shares))(stack(ps))
    for i, p in enumerate(ps):
        one = shares(p)
        np.testing.assert_allclose(batched.pi_c[i], one.pi_c, rtol=1e-13)
        np.testing.assert_allclose(batched.phi_ck[i], one.phi_ck, rtol=1e-13)


def test_default_economy():
    p = cnces.default_params()
    assert p.t_ck.shape == (722, 8)
    np.testing.assert_array_equal(p.T_k, cnces.OCCUPATION_SHIFTERS)
    np.testing.assert_array_equal(p.T_c[:8], cnces.TOP_CITY_SHIFTERS)
    np.testing.assert_array_equal(p.t_ck, cnces.default_params().t_ck)  # deterministic
    s = shares(p)
    assert int(jnp.argmax(s.pi_c)) == 0
    assert 2.5 < float(p.T_c.max() / p.T_c.min()) < 3.5
    assert len(cnces.location_names()) == 722


@pytest.mark.parametrize("change, match", [
    (dict(t_ck=-np.ones((3, 2))), "t_ck"),
    (dict(T_k=np.array([1.0, -1.0])), "T_k"),
    (dict(T_c=np.array([1.0, 0.0, 1.0])), "T_c"),
    (dict(T_c=np.array([1.0, np.nan, 1.0])), "T_c"),
    (dict(theta=0.0), "theta"),
    (dict(theta=-1.0), "theta"),
    (dict(rho=1.0), "rho"),
    (dict(rho=-0.1), "rho"),
    (dict(rho=np.array([0.2, 1.2])), "rho"),
    (dict(rho=np.array([0.2, 0.3, 0.4])), "rho"),
    (dict(T_k=np.ones(3)), "T_k"),
    (dict(T_c=np.ones(4)), "T_c"),
    (dict(t_ck=np.ones(3)), "t_ck"),
    (dict(theta=np.ones(2)), "theta"),
    # NaN parameters are named as NaN (issue 18 item 5), not reported through the other values' minimum
    (dict(theta=np.nan), r"theta must be > 0; got 1 NaN entry"),
    (dict(rho=np.array([0.2, np.nan])), r"rho must lie in \[0.0, 1.0\); got 1 NaN entry \(first at index 1\)"),
    (dict(T_k=np.array([0.857, np.nan])), r"T_k must be finite; got 1 non-finite entries: 1 NaN entry \(first at "
                                          r"index 1\)"),
])
def test_bad_input(change, match):
    base = dict(t_ck=np.ones((3, 2)), T_k=np.ones(2), T_c=np.ones(3), theta=3.0, rho=0.5)
    base.update(change)
    with pytest.raises(ValueError, match=match):
        Params(**base)


# ------------------------------------------------------------------------------------------------
# bad counterfactual input (issue 18 item 5): named errors instead of clamping or all-NaN ratios
# ------------------------------------------------------------------------------------------------
def test_shock_index_out_of_range_raises():
    p = random_params(0, n=20, k=5)
    for bad in (20, 722, -1):
        with pytest.raises(ValueError, match=r"c must be a location index in \[0, 19\].*got " + str(bad)):
            cnces.shock_location(p, bad)
    for bad in (5, -1):
        with pytest.raises(ValueError, match=r"k must be a nest index in \[0, 4\]"):
            cnces.shock_occupation(p, bad)
    for bad in (1.5, "3", True, np.array([1, 2])):
        with pytest.raises(ValueError, match="c must be an integer location index"):
            cnces.shock_location(p, bad)
    # valid indices, Python or NumPy or JAX integers, still work
    for good in (19, np.int64(3), jnp.asarray(2)):
        d = np.asarray(cnces.shock_location(p, good, 0.9))
        assert np.count_nonzero(d) == 5 and np.allclose(d[int(good)], np.log(0.9))


@pytest.mark.parametrize("factor", [0.0, -0.5, np.nan, np.inf])
def test_shock_factor_must_be_positive_finite(factor):
    p = random_params(1, n=20, k=5)
    with pytest.raises(ValueError, match="factor must be"):
        cnces.shock_location(p, 0, factor)
    with pytest.raises(ValueError, match="factor must be"):
        cnces.shock_occupation(p, 0, factor)


def test_counterfactual_rejects_nan_and_misshaped_shocks():
    p = random_params(2, n=20, k=5)
    d = np.zeros((20, 5))
    d[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"d_log_t_ck .*must be finite; got 1 non-finite entries: 1 NaN entry "
                                         r"\(first at index \(3, 1\)\)"):
        cnces.counterfactual(p, d_log_t_ck=d)
    with np.errstate(divide="ignore"):
        d_k = np.log(np.array([1.0, 0.0, 1.0, 1.0, 1.0]))                                 # a factor 0
    with pytest.raises(ValueError, match=r"d_log_T_k .*must be finite.*infinite"):
        cnces.counterfactual(p, d_log_T_k=d_k)
    with pytest.raises(ValueError, match=r"d_log_T_c .*must be finite"):
        cnces.counterfactual(p, d_log_T_c=np.full(20, np.nan))
    with pytest.raises(ValueError, match=r"d_log_T_c must broadcast to shape \(20,\); got shape \(5,\)"):
        cnces.counterfactual(p, d_log_T_c=np.zeros(5))
    batch = np.zeros((3, 20, 5))
    batch[2, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"d_log_t_ck .*1 NaN entry \(first at index \(2, 0, 0\)\)"):
        cnces.relative_changes(p, batch)
    with pytest.raises(ValueError, match=r"shape \(B, N, K\)"):
        cnces.relative_changes(p, np.zeros((20, 5)))
    # finite shocks (scalars broadcast) still run, also under jit
    assert np.all(np.isfinite(cnces.counterfactual(p, d_log_t_ck=0.1, d_log_T_k=np.zeros(5)).ratio))
    r = jax.jit(lambda x: cnces.counterfactual(p, d_log_t_ck=x).ratio)(jnp.zeros((20, 5)))
    np.testing.assert_allclose(r, 1.0, rtol=1e-14)
