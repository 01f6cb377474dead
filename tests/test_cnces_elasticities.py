"""CNCES elasticities: autodiff vs central finite differences vs analytic; closed forms (eqs 8-11)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import cnces
from jaxecon.models.cnces import Params
from jaxecon.models.cnces.elasticities import log_pi_c


def random_params(seed, n=10, k=4, per_nest=True):
    rng = np.random.default_rng(seed)
    rho = rng.uniform(0.1, 0.8, size=k) if per_nest else 0.64
    return Params(t_ck=np.exp(rng.normal(0, 0.5, (n, k))), T_k=np.exp(rng.normal(0, 0.5, k)),
                  T_c=np.exp(rng.normal(0, 0.3, n)), theta=2.5, rho=rho)


def central_differences(f, x, h=1e-5):
    """Jacobian of f at x by central differences, one coordinate at a time (NumPy loop)."""
    x = np.asarray(x, dtype=float)
    f0 = np.asarray(f(x))
    J = np.zeros(f0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        J[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return J


@pytest.mark.parametrize("per_nest", [False, True])
def test_autodiff_equals_finite_differences(per_nest):
    p = random_params(0, per_nest=per_nest)
    lt, lk, lc = (np.log(np.asarray(x)) for x in (p.t_ck, p.T_k, p.T_c))
    f = jax.jit(log_pi_c)
    e = cnces.elasticities(p)
    fd_t = central_differences(lambda x: f(x, lk, lc, p.theta, p.rho), lt)
    fd_c = central_differences(lambda x: f(lt, lk, x, p.theta, p.rho), lc)
    fd_k = central_differences(lambda x: f(lt, x, lc, p.theta, p.rho), lk)
    np.testing.assert_allclose(e.t, fd_t, atol=1e-8)
    np.testing.assert_allclose(e.T_c, fd_c, atol=1e-8)
    np.testing.assert_allclose(e.T_k, fd_k, atol=1e-8)


def test_autodiff_equals_analytic():
    p = random_params(1, n=15, k=5)
    e, a = cnces.elasticities(p), cnces.analytic_elasticities(p)
    for x, y in ((e.t, a.t), (e.T_c, a.T_c), (e.T_k, a.T_k)):
        np.testing.assert_allclose(x, y, atol=1e-13)


def test_closed_forms_cross_entries_and_eq11_are_exact():
    p = random_params(2, per_nest=False)
    e, c = cnces.elasticities(p), cnces.closed_form_elasticities(p)
    off = ~np.eye(p.n_locations, dtype=bool)
    np.testing.assert_allclose(np.asarray(c.t)[off], np.asarray(e.t)[off], atol=1e-13)      # eq 9 (derived form)
    np.testing.assert_allclose(np.asarray(c.T_c)[off], np.asarray(e.T_c)[off], atol=1e-13)  # θ × eq 10
    np.testing.assert_allclose(c.T_k, e.T_k, atol=1e-13)                                     # eq 11
    # eq 9 printed form with φ_c'k: -π_c' φ_c'k [1 + ρ/(1-ρ) π_ck/π_c]
    s = cnces.shares(p)
    rho = float(p.rho)
    eq9 = -(s.pi_c[None, :, None] * s.phi_ck[None, :, :]) * (1 + rho / (1 - rho) * (s.pi_ck / s.pi_c[:, None])[:, None, :])
    np.testing.assert_allclose(np.asarray(eq9)[off], np.asarray(e.t)[off], atol=1e-13)
    # own T_c closed form is θ/(1-ρ) for a common ρ
    np.testing.assert_allclose(np.diag(c.T_c), float(p.theta) / (1 - rho), rtol=1e-13)


def test_closed_forms_converge_as_share_goes_to_zero():
    p = random_params(3, per_nest=False)
    errs, shares0 = [], []
    for scale in (1.0, 0.5, 0.25, 0.1, 0.05):
        q = p.replace(T_c=p.T_c.at[0].set(p.T_c[0] * scale))
        df = cnces.approximation_errors(q).sort_index()
        errs.append(abs(df.loc[0, "own_T_c_err"]))
        shares0.append(df.loc[0, "pi_c"])
        np.testing.assert_allclose(df["own_T_c_err"], df["own_T_c_err_predicted"], rtol=1e-10, atol=1e-12)
        assert df.attrs["cross_t_max_err"] < 1e-12 and df.attrs["T_k_max_err"] < 1e-12
    errs, shares0 = np.array(errs), np.array(shares0)
    assert np.all(np.diff(shares0) < 0) and np.all(np.diff(errs) < 0)
    assert errs[0] > 0.1 and errs[-1] < 1e-4
    # the error is O(π_c): err / π_c <= θ [1 + ρ/(1-ρ) / min_k ω_k]  (π_ck / π_c <= 1 / ω_k)
    rho, omega = float(p.rho), np.asarray(cnces.shares(p).omega_k)
    assert np.all(errs / shares0 <= float(p.theta) * (1 + rho / (1 - rho) / omega.min()))
    assert abs(errs[-1] / shares0[-1] / (errs[-2] / shares0[-2]) - 1) < 1e-3


def test_rho_zero_cross_elasticity_is_flat():
    p = random_params(4, per_nest=False).replace(rho=0.0)
    e = cnces.elasticities(p)
    s = cnces.shares(p)
    off = ~np.eye(p.n_locations, dtype=bool)
    expect = np.broadcast_to(-float(p.theta) * np.asarray(s.pi_c)[None, :], off.shape)
    np.testing.assert_allclose(np.asarray(e.T_c)[off], expect[off], atol=1e-13)


def test_vmap_over_parameter_sets_equals_loop():
    ps = [random_params(s) for s in range(3)]
    from jaxecon.numerics import stack
    f = jax.jit(jax.vmap(lambda p: cnces.elasticities(p, which=("T_c",)).T_c))
    batched = f(stack(ps))
    for i, p in enumerate(ps):
        np.testing.assert_allclose(batched[i], cnces.elasticities(p).T_c, atol=1e-13)
