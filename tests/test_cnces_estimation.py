"""§3 round trip: simulate a panel from known parameters, estimate ρ by 2SLS (jaxecon.econometrics.iv),
recover the shifters from the fixed effects."""

import jax
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import cnces
from jaxecon.models.cnces.estimation import estimate_rho, recover_panel, simulate_panel
from jaxecon.numerics import unstack


@pytest.fixture(scope="module")
def panel():
    base = cnces.default_params(seed=1, n=80)
    sim = simulate_panel(jax.random.key(0), base, n_years=6)
    return base, sim, estimate_rho(sim.data)


def test_iv_recovers_rho_and_ols_is_biased(panel):
    base, sim, est = panel
    beta = 1 / (1 - float(base.rho))
    assert abs(est.beta - beta) < 3 * est.beta_se, (est.beta, est.beta_se, beta)
    assert abs(est.rho - float(base.rho)) < 3 * est.rho_se
    assert est.first_stage_f > 10
    # OLS is biased towards zero (Table 1: 0.29 OLS vs 2.78 IV)
    assert est.beta_ols < beta - 10 * est.beta_ols_se
    assert est.beta_ols < est.beta


def test_infeasible_ols_on_true_error_is_exact(panel):
    """Adding the structural error as a regressor removes the endogeneity: β exactly, residual 0."""
    from jaxecon.econometrics import ols
    base, sim, _ = panel
    r = ols(sim.data, "log_pi", ["log_w", "log_eta"], fe=["loc_year", "occ_year"])
    np.testing.assert_allclose(r.params["log_w"], 1 / (1 - float(base.rho)), rtol=1e-8)


def test_shifter_recovery_from_fixed_effects(panel):
    base, sim, est = panel
    theta, rho = float(base.theta), float(base.rho)
    truth = unstack(jax.vmap(cnces.normalize)(sim.params))
    exact = unstack(recover_panel(sim.pi_ck, sim.omega_k, theta, rho))
    for a, b in zip(exact, truth):
        for f in ("t_ck", "T_k", "T_c"):
            np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9)
    # λ_kt: exp(-δ_kt) (paper §3.2) equals the model's λ_kt of the normalized truth
    lam = np.exp(-np.log(sim.pi_ck).mean(1))
    lam_true = np.stack([np.asarray(cnces.shares(b).lambda_k) for b in truth])
    np.testing.assert_allclose(lam ** (1 - rho), lam_true ** (1 - rho), rtol=1e-9)
    # the residual of ln π on the two fixed effects (econometrics.demean) is ln t / (1 - ρ)
    from jaxecon.econometrics import demean
    d = sim.data
    codes = np.column_stack([d["loc_year"].to_numpy(), d["occ_year"].to_numpy()])
    eps = np.asarray(demean(d["log_pi"].to_numpy(), codes, (int(d["loc_year"].max()) + 1,
                                                            int(d["occ_year"].max()) + 1)).values)
    lt = np.stack([np.log(np.asarray(b.t_ck)) for b in truth])
    t_i, c_i, k_i = d["year"].to_numpy(), d["loc"].to_numpy(), d["occ"].to_numpy()
    np.testing.assert_allclose((1 - rho) * eps, lt[t_i, c_i, k_i], atol=1e-8)
    # with the estimated ρ the recovery errs by first order in ρ̂ - ρ only
    est_p = unstack(recover_panel(sim.pi_ck, sim.omega_k, theta, est.rho))
    err = max(np.abs(np.log(np.asarray(a.t_ck)) - np.log(np.asarray(b.t_ck))).max() for a, b in zip(est_p, truth))
    bound = abs(est.rho - rho) * np.abs(eps).max() * 1.01
    assert err <= bound
