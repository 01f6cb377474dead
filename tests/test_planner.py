"""Specialization model (issue 15): the constrained-efficient planner, its optimal taxes and welfare.

Independent checks: θ = ∞ and ξ = 0 (no externality: the planner is the DE); the pure pecuniary
externality (I = 1, φ = 0, ξ = 0: the planner borrows less, Bianchi 2011); a brute-force search
over b' with the future functions held fixed (NumPy); the envelope condition V_b = Λ of the
planner's policy value; the regulated DE started from the DE reproducing the planner
(Proposition 1); the first best with θ = ∞ (τ^K = ξ/α); batched = separate.
"""

import numpy as np
import pytest
import jax

import jaxecon  # noqa: F401
from jaxecon.models.specialization import (Grid, ergodic_distribution, ergodic_moments, one_industry_params,
                                           solve_equilibrium, three_industry_params, two_industry_params)
from jaxecon.models.specialization.planner import PlannerSolution, solve_planner
from jaxecon.models.specialization.taxes import capital_tax_identity, optimal_taxes, solve_regulated
from jaxecon.models.specialization.welfare import evaluate_policy, welfare_gain
from jaxecon.numerics import stack

INF = float("inf")
G1 = Grid(n_b=30, b_min=-0.35, b_max=0.8)
G2 = Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8)
G2_LIMIT = Grid(n_b=12, n_k=5, b_min=-0.35, b_max=0.8, debt_limit=True)
PECUNIARY = dict(n_z=3, xi=0.0, phi=0.0)  # I = 1: only the pecuniary externality


@pytest.fixture(scope="module")
def one():
    p = one_industry_params(**PECUNIARY)
    de = solve_equilibrium(p, G1)
    return de, solve_planner(p, G1, init=de)


def _max_abs(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def test_pure_pecuniary_externality_planner_borrows_less(one):
    de, sp = one
    assert bool(de.converged) and bool(sp.converged), sp.summary()
    assert isinstance(sp, PlannerSolution) and bool(sp.v_converged)
    m_de, m_sp = ergodic_moments(de), ergodic_moments(sp)
    # the overborrowing result: less debt, fewer binding periods
    assert float(m_sp.debt_output) < float(m_de.debt_output)
    assert float(m_sp.binding_frequency) < float(m_de.binding_frequency)
    lam = np.asarray(welfare_gain(de, sp))
    dist = np.asarray(ergodic_distribution(de).dist)
    assert float(np.sum(dist * lam.reshape(-1))) > 0.0
    assert np.all(lam > -1e-9)  # the planner is never worse (its choice set contains the DE's)
    # the planner's multiplier exists where it binds and H is the private multiplier there
    mu, H, binding = (np.asarray(a) for a in (sp.mu, sp.eta, sp.binding))
    assert np.all(mu >= 0.0) and np.all(mu[~binding] == 0.0) and np.all(H[~binding] == 0.0)
    assert int(sp.n_underborrowing) == 0


def test_planner_policy_beats_a_brute_force_search_up_to_interpolation(one):
    """With the planner's future functions (C, Q, H, V) fixed, a fine search over b' at every node
    (NumPy, linear interpolation, the implementability constraint for q) finds no choice better
    than the planner's by more than interpolation error, while the DE's is beaten by more."""
    de, sp = one
    p = sp.params
    bg = np.asarray(sp.axes[0].points)
    P, z, R = np.asarray(p.P), np.asarray(p.z)[:, 0], np.asarray(p.R)
    beta, gam, al, th = (float(v) for v in (p.beta, p.gamma, p.alpha, p.theta))
    C, Q, H, V = (np.asarray(a) for a in (sp.c, sp.q, sp.eta, sp.v))
    up = C**-gam
    cand = np.linspace(bg[0], bg[-1], 4001)
    u = lambda c: c ** (1 - gam) / (1 - gam)

    def E(tab, bq, s):
        return sum(P[s, t] * np.interp(bq, bg, tab[:, t]) for t in range(len(R)))

    gap_sp, gap_de = [], []
    for s in range(len(R)):
        M = beta * (E(up * Q, cand, s) + al * E(up * z[None, :], cand, s) + th * E(Q * H, cand, s))
        EV = E(V, cand, s)
        for i, b in enumerate(bg):
            c = z[s] + b - cand / R[s]
            cc = np.where(c > 0, c, 1.0)
            feas = (c > 0) & (-cand / R[s] <= th * M / cc**-gam + 1e-12)
            best = np.max(np.where(feas, u(cc) + beta * EV, -np.inf))
            at = lambda bn: u(z[s] + b - bn / R[s]) + beta * E(V, np.array([bn]), s)[0]
            gap_sp.append((best - at(float(sp.b_next[i, s]))) / abs(best))
            gap_de.append((best - at(float(de.b_next[i, s]))) / abs(best))
    gap_sp, gap_de = np.array(gap_sp), np.array(gap_de)
    assert gap_sp.max() < 1e-4 and np.median(gap_sp) < 1e-6
    assert gap_de.max() > gap_sp.max() and np.mean(gap_de) > 3 * np.mean(gap_sp)


def test_envelope_condition_of_the_planner_value(one):
    """The slope of the planner's policy value in b equals Λ = u'(c) + μθγq̃/c (the envelope
    condition holds at an optimum only): central differences on the grid, away from the kink at the
    regime boundary."""
    _, sp = one
    p = sp.params
    bg = np.asarray(sp.axes[0].points)
    C, Q, MU, V = (np.asarray(a) for a in (sp.c, sp.q, sp.mu, sp.v))
    lam = C ** -float(p.gamma) + MU * float(p.theta) * float(p.gamma) * Q / C
    slope = (V[2:] - V[:-2]) / (bg[2:] - bg[:-2])[:, None]
    rel = np.abs(slope / lam[1:-1] - 1.0)
    b = np.asarray(sp.binding)
    smooth = b[:-2] == b[2:]  # both neighbours in the same regime
    assert np.median(rel[smooth]) < 5e-3 and np.max(rel[smooth]) < 3e-2


def test_proposition_1_one_industry(one):
    """The regulated DE with the computed taxes, started from the DE (not the planner),
    reproduces the planner's allocation; τ^B = 0 where the planner binds with H > 0."""
    de, sp = one
    tau_b, tau_k = optimal_taxes(sp)
    tb = np.asarray(tau_b)
    assert tb.shape == sp.c.shape and np.asarray(tau_k).shape == sp.k_next.shape
    H, binding = np.asarray(sp.eta), np.asarray(sp.binding)
    assert np.max(np.abs(tb[binding & (H > 0)])) < 1e-6
    assert np.all(tb[~binding] > -1e-6)  # a tax on debt, not a subsidy, where slack
    np.testing.assert_allclose(np.asarray(capital_tax_identity(sp, tau_k)), 0.0, atol=1e-7)
    reg = solve_regulated(sp.params, sp.grid, tau_b, tau_k, init=de)
    assert bool(reg.converged), reg.summary()
    for name, tol in (("c", 1e-5), ("b_next", 1e-5), ("q", 1e-4), ("eta", 1e-5)):
        assert _max_abs(getattr(reg, name), getattr(sp, name)) < tol, name
    assert np.array_equal(np.asarray(reg.binding), binding)


def test_nonconvergence_is_flagged_and_bad_input_raises(one):
    de, _ = one
    short = solve_planner(de.params, G1, init=de, max_iter=3)
    assert not bool(short.converged) and np.all(np.isfinite(np.asarray(short.c)))
    assert "PLANNER NOT CONVERGED" in short.summary()
    with pytest.raises(ValueError, match="damping"):
        solve_planner(de.params, G1, init=de, damping=1.0)
    with pytest.raises(ValueError, match="same grid"):
        solve_planner(de.params, Grid(n_b=20, b_min=-0.35, b_max=0.8), init=de)
    with pytest.raises(ValueError, match="tau_b"):
        solve_regulated(de.params, G1, np.zeros(7), np.zeros(1), init=de)
    with pytest.raises(ValueError, match="tau_k"):
        solve_regulated(de.params, G1, 0.0, np.zeros((3, 3)), init=de)
    with pytest.raises(ValueError, match="same grid"):
        welfare_gain(de, solve_equilibrium(de.params, Grid(n_b=20, b_min=-0.35, b_max=0.8)))


def test_npz_has_the_de_keys_plus_v_and_mu(one, tmp_path):
    from jaxecon.models.specialization import NPZ_KEYS

    _, sp = one
    sp.to_npz(tmp_path / "sp.npz")
    with np.load(tmp_path / "sp.npz") as f:
        assert set(f.files) == set(NPZ_KEYS) | {"v", "mu"}
        np.testing.assert_array_equal(f["mu"][:, 0], np.asarray(sp.mu))
        np.testing.assert_array_equal(f["v"][:, 0], np.asarray(sp.v))


def test_welfare_gain_is_zero_against_itself(one):
    de, _ = one
    v, ok = evaluate_policy(de)
    assert bool(ok)
    fake = PlannerSolution(**{f: getattr(de, f) for f in de.__dataclass_fields__}, mu=de.eta, v=v,
                           n_underborrowing=np.asarray(0), n_mixed=np.asarray(0), v_converged=ok)
    np.testing.assert_allclose(np.asarray(welfare_gain(de, fake)), 0.0, atol=1e-12)
    # policy evaluation against a dense linear solve (NumPy) on the one-industry grid
    p = de.params
    bg = np.asarray(de.axes[0].points)
    nb, ns = de.c.shape
    T = np.zeros((nb * ns, nb * ns))
    for i in range(nb):
        for s in range(ns):
            bn = float(de.b_next[i, s])
            j = min(max(np.searchsorted(bg, bn, side="right") - 1, 0), nb - 2)
            t = min(max((bn - bg[j]) / (bg[j + 1] - bg[j]), 0.0), 1.0)
            for s2 in range(ns):
                T[i * ns + s, j * ns + s2] += (1 - t) * float(p.P[s, s2])
                T[i * ns + s, (j + 1) * ns + s2] += t * float(p.P[s, s2])
    g = float(p.gamma)
    U = np.asarray(de.c).reshape(-1) ** (1 - g) / (1 - g)
    V = np.linalg.solve(np.eye(nb * ns) - float(p.beta) * T, U)
    np.testing.assert_allclose(np.asarray(v).reshape(-1), V, rtol=1e-9)


@pytest.mark.slow
def test_no_externality_planner_equals_de():
    """θ = ∞ (ad hoc debt limit) and ξ = 0: the planner is the DE, Λ = 0, τ = 0 (started from the
    DE's initial guess, not from the DE)."""
    p = two_industry_params(n_z=3, theta=INF, xi=0.0)
    de = solve_equilibrium(p, G2_LIMIT, tol=1e-9)
    start = solve_equilibrium(p, G2_LIMIT, max_iter=5)  # a rough start, far from the fixed point
    sp = solve_planner(p, G2_LIMIT, init=start, tol=1e-9, max_iter=3000)
    assert bool(de.converged) and bool(sp.converged), sp.summary()
    for name in ("c", "b_next", "k_next", "eta"):
        assert _max_abs(getattr(sp, name), getattr(de, name)) < 1e-6, name
    assert _max_abs(sp.q, de.q) < 1e-5
    np.testing.assert_allclose(np.asarray(welfare_gain(de, sp)), 0.0, atol=1e-7)
    tau_b, tau_k = optimal_taxes(sp)
    assert float(np.max(np.abs(np.asarray(tau_b)))) < 1e-6 and float(np.max(np.abs(np.asarray(tau_k)))) < 1e-5


G3_LIMIT = Grid(n_b=8, n_k=5, b_min=-0.35, b_max=0.8, debt_limit=True)


@pytest.mark.slow  # I = 3 compiles slowly (about 110 s for the DE and the planner on 2 cores)
def test_no_externality_planner_equals_de_three_industries():
    """I = 3 (two share axes, infeasible corners masked): with θ = ∞ and ξ = 0 the planner is the DE
    to solver tolerance (started from a rough DE, 5 sweeps)."""
    p = three_industry_params(n_z=2, theta=INF, xi=(0.0, 0.0, 0.0))
    de = solve_equilibrium(p, G3_LIMIT, tol=1e-9)
    start = solve_equilibrium(p, G3_LIMIT, max_iter=5)
    sp = solve_planner(p, G3_LIMIT, init=start, tol=1e-9, max_iter=3000)
    assert bool(de.converged) and bool(sp.converged), sp.summary()
    assert sp.k_next.shape == de.k_next.shape == (8, 5, 5, 8, 3)
    assert 0.0 < float(sp.share_binding) < 1.0  # the ad hoc limit binds somewhere, not everywhere
    feasible = np.asarray(de.feasible)
    assert 0 < feasible.sum() < feasible.size  # the masked corners exist
    for name in ("c", "b_next", "k_next", "eta"):
        assert _max_abs(getattr(sp, name), getattr(de, name)) < 1e-6, name
    assert _max_abs(sp.q, de.q) < 1e-5
    np.testing.assert_allclose(np.asarray(sp.k_next).sum(-1), 1.0, atol=1e-12)


@pytest.mark.slow
def test_first_best_is_the_de_with_agglomeration_subsidies():
    """θ = ∞ and ξ > 0: the planner equals the regulated DE with τ^K_i = ξ_i/α, τ^B = 0."""
    p = two_industry_params(n_z=3, theta=INF)
    de = solve_equilibrium(p, G2_LIMIT)
    sp = solve_planner(p, G2_LIMIT, init=de)
    assert bool(sp.converged), sp.summary()
    reg = solve_regulated(p, G2_LIMIT, 0.0, np.asarray(p.xi) / float(p.alpha), init=de)
    assert bool(reg.converged), reg.summary()
    for name in ("c", "b_next", "k_next"):
        assert _max_abs(getattr(sp, name), getattr(reg, name)) < 1e-5, name
    assert _max_abs(sp.k_next, de.k_next) > 1e-3  # the subsidy matters


@pytest.mark.slow
def test_proposition_1_two_industries():
    """Finite θ, the two-industry economy: the regulated DE with the computed (state-contingent)
    taxes, started from the DE, reproduces the planner; the aggregate price is untaxed."""
    p = two_industry_params(n_z=3)
    de = solve_equilibrium(p, G2)
    sp = solve_planner(p, G2, init=de)
    assert bool(sp.converged), sp.summary()
    tau_b, tau_k = optimal_taxes(sp)
    np.testing.assert_allclose(np.asarray(capital_tax_identity(sp, tau_k)), 0.0, atol=1e-7)
    reg = solve_regulated(p, G2, tau_b, tau_k, init=de)
    assert bool(reg.converged), reg.summary()
    for name, tol in (("c", 1e-5), ("b_next", 1e-5), ("k_next", 1e-5), ("q", 1e-4)):
        assert _max_abs(getattr(reg, name), getattr(sp, name)) < tol, name


@pytest.mark.slow
def test_batched_equals_separate():
    ps = [one_industry_params(**PECUNIARY, theta=t) for t in (0.015, 0.02)]
    des = [solve_equilibrium(p, G1) for p in ps]
    sps = [solve_planner(p, G1, init=d) for p, d in zip(ps, des)]
    batch = jax.vmap(lambda p, d: solve_planner(p, G1, init=d))(stack(ps), stack(des))
    for j, sp in enumerate(sps):
        assert bool(batch.converged[j])
        np.testing.assert_allclose(np.asarray(batch.c[j]), np.asarray(sp.c), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.asarray(batch.v[j]), np.asarray(sp.v), rtol=1e-9)


def _planner_functionals(theta, beta, base, init, linear_solver=None):
    import equinox as eqx
    import jax.numpy as jnp

    p = eqx.tree_at(lambda q: (q.theta, q.beta), base, (theta, beta))
    sp = solve_planner(p, G1, init=init, tol=1e-13, newton_tol=1e-13, max_iter=5000, linear_solver=linear_solver)
    return jnp.stack([jnp.mean(sp.q), jnp.mean(sp.c)]), sp.converged


@pytest.mark.slow  # compiles the planner's JVP and VJP (about 60 s and 180 s on 2 cores)
def test_planner_gradients_equal_finite_differences():
    """d(mean q, mean c on the grid)/d(θ, β) of the planner (implicit adjoint of the time iteration,
    forward mode) against central differences of two tight solves (h = 2e-6; measured agreement
    4e-9 to 9e-8 relative); reverse mode (an unrestarted GMRES on the transposed system: the
    default restarted one stagnates there) equals forward mode. The DE that starts every solve is
    held fixed (a start does not move the fixed point)."""
    import lineax as lx
    base = one_industry_params(**PECUNIARY)
    de = solve_equilibrium(base, G1, tol=1e-12, newton_tol=1e-13)
    x0 = (base.theta, base.beta)
    jac = jax.jacfwd(lambda a, b: _planner_functionals(a, b, base, de)[0], argnums=(0, 1))(*x0)
    h = 2e-6
    for a in range(2):
        up, dn = list(x0), list(x0)
        up[a] = up[a] + h
        dn[a] = dn[a] - h
        (f_up, ok_up), (f_dn, ok_dn) = (_planner_functionals(*x, base, de) for x in (up, dn))
        assert bool(ok_up) and bool(ok_dn)
        fd = (np.asarray(f_up) - np.asarray(f_dn)) / (2 * h)
        assert np.all(np.abs(fd) > 1e-3)  # a derivative that is there, not a zero matched by a zero
        np.testing.assert_allclose(np.asarray(jac[a]), fd, rtol=1e-5, err_msg=f"argument {a}")
    n = 4 * G1.n_b * base.n_states  # unknowns (log c, q, μ, H) per node
    full = lx.GMRES(rtol=1e-10, atol=1e-12, restart=n, stagnation_iters=n, max_steps=10 * n)
    g = jax.grad(lambda a: _planner_functionals(a, x0[1], base, de, full)[0][0])(x0[0])
    np.testing.assert_allclose(float(g), float(jac[0][0]), rtol=1e-8)


def test_planner_euler_errors_off_the_grid(one):
    """The planner's conditions at random off-grid states (consistent allocation) are as accurate
    as the DE's Euler equations on the same grid."""
    from jaxecon.models.specialization import euler_errors
    from jaxecon.models.specialization.planner import planner_euler_errors

    de, sp = one
    e_sp = planner_euler_errors(sp, jax.random.key(1), 2000)
    e_de = euler_errors(de, jax.random.key(1), 2000)
    assert e_sp["bond"]["mean_log10"] < -3.5 and e_sp["price"]["mean_log10"] < -3.5
    assert e_sp["bond"]["mean_log10"] < e_de["bond"]["mean_log10"] + 0.3
    assert e_sp["collateral"]["max_log10"] < -10
    with pytest.raises(ValueError, match="PlannerSolution"):
        planner_euler_errors(de, jax.random.key(1), 10)


def test_simulated_comparison_on_common_shocks(one):
    from jaxecon.models.specialization import simulated_comparison

    de, sp = one
    out = simulated_comparison(de, sp, jax.random.key(3), n=200, periods=300, burn=50)
    assert out["SP"]["crisis_frequency"] < out["DE"]["crisis_frequency"]
    assert out["SP"]["debt_output"] < out["DE"]["debt_output"]
    assert abs(out["DE"]["gini"]) < 1e-12 and abs(out["SP"]["gini"]) < 1e-12  # one industry
    with pytest.raises(ValueError, match="burn"):
        simulated_comparison(de, sp, jax.random.key(3), periods=10, burn=10)


@pytest.mark.slow
def test_default_economy_planner_accuracy():
    """The default two-industry economy on the default 40 x 15 grid: the planner converges, its
    conditions off the grid have mean log10 errors <= -3 (measured with b' interpolated net of
    output: bond -3.73, portfolio -3.84, price -3.08; -2.76 for the price with b' interpolated
    directly), and it borrows less and hits the constraint less often than the DE."""
    from jaxecon.models.specialization import planner_euler_errors

    g = Grid()
    de = solve_equilibrium(two_industry_params(), g)
    sp = solve_planner(de.params, g, init=de)
    assert bool(sp.converged), sp.summary()
    e = planner_euler_errors(sp, jax.random.key(0), 20_000)
    for name in ("bond", "portfolio", "price"):
        assert e[name]["mean_log10"] <= -3.0, (name, e[name])
    m_de, m_sp = ergodic_moments(de), ergodic_moments(sp)
    assert float(m_sp.debt_output) < float(m_de.debt_output)
    assert float(m_sp.binding_frequency) < float(m_de.binding_frequency)


@pytest.mark.slow
def test_capped_private_multiplier_removes_the_boundary_cycle():
    """A node on the regime boundary (θ = 0.017997, the two-industry economy on G2): with DESIGN.md's
    uncapped H (h_slope = inf) the private multiplier jumps from 0 to the full wedge as μ crosses 0
    and time iteration cycles; with the cap H <= 10 μ it converges, the capped nodes keep
    0 <= H <= 10 μ, and the regulated DE with the computed taxes (τ^B takes up the rest of the wedge
    there) still reproduces the plan (Proposition 1)."""
    p = two_industry_params(n_z=3, theta=0.017997118905373848)
    de = solve_equilibrium(p, G2)
    cycling = solve_planner(p, G2, init=de, h_slope=INF, max_iter=800)
    assert not bool(cycling.converged) and int(cycling.n_mixed) == 0
    sp = solve_planner(p, G2, init=de)
    assert bool(sp.converged), sp.summary()
    assert int(sp.n_mixed) >= 1 and "mixed nodes" in sp.summary()
    mu, H, binding = (np.asarray(a) for a in (sp.mu, sp.eta, sp.binding))
    assert np.all(H <= 10.0 * mu * (1 + 1e-12)) and np.all(H >= 0.0) and np.all(H[~binding] == 0.0)
    tau_b, tau_k = (np.asarray(a) for a in optimal_taxes(sp))
    # binding nodes: τ^B = 0 where H is the full wedge (DESIGN.md), τ^B > 0 where H is capped at 10 μ
    capped = binding & (H > 0) & np.isclose(H, 10.0 * mu, rtol=1e-9, atol=0)
    assert int(capped.sum()) == int(sp.n_mixed)
    assert np.all(tau_b[capped] > 1e-6)  # well above the solver tolerance that τ^B = 0 holds to
    assert np.max(np.abs(tau_b[binding & (H > 0) & ~capped])) < 1e-6
    reg = solve_regulated(p, G2, tau_b, tau_k, init=de)
    assert bool(reg.converged), reg.summary()
    for name, tol in (("c", 1e-5), ("b_next", 1e-5), ("k_next", 1e-5), ("q", 1e-4)):
        assert _max_abs(getattr(reg, name), getattr(sp, name)) < tol, name
    with pytest.raises(ValueError, match="h_slope"):
        solve_planner(p, G2, init=de, h_slope=0.0)
