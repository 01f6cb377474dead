"""jaxecon.econometrics OLS / 2SLS against pyfixest and linearmodels (independent implementations)."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import jaxecon  # noqa: F401  (float64)
from jaxecon.econometrics import (
    bootstrap_weights, demean, iv, iv_arrays, ols, ols_arrays, rank_rank, regression_table, shift_share,
)

pf = pytest.importorskip("pyfixest")
lm = pytest.importorskip("linearmodels")

N = 400


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(42)
    df = pd.DataFrame({"f1": rng.integers(0, 20, N), "f2": rng.integers(0, 10, N), "cl": rng.integers(0, 25, N)})
    df["w"] = rng.uniform(0.5, 2.0, N)
    df["x1"] = rng.normal(size=N) + 0.1 * df.f1
    df["x2"] = rng.normal(size=N)
    df["z1"] = rng.normal(size=N)
    df["z2"] = rng.normal(size=N)
    df["z3"] = rng.normal(size=N)
    e = rng.normal(size=N) + rng.normal(size=25)[df.cl]  # clustered errors
    df["d"] = df.z1 + 0.5 * df.z2 + 0.5 * e + rng.normal(size=N) + 0.05 * df.f2
    df["d2"] = 0.5 * df.z3 - 0.3 * df.z1 + 0.3 * e + rng.normal(size=N)
    df["y"] = 1 + 2 * df.d - df.x1 + 0.5 * df.x2 + e * (1 + np.abs(df.x1)) + 0.1 * df.f1 - 0.2 * df.f2
    return df


PF_VCOV = {"iid": "iid", "robust": "hetero", "cluster": {"CRV1": "cl"}}


def _pf_ssc(ssc):
    if ssc == "fixest":  # pyfixest's own default
        return pf.ssc()
    return pf.ssc(k_adj=False, k_fixef="none", G_adj=False)


def _pf(fml, df, vcov, ssc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, df, vcov=PF_VCOV[vcov], weights="w", ssc=_pf_ssc(ssc), fixef_rm="none",
                        fixef_tol=1e-14)


def _lm_dummies(df, y, endog, exog, instr, vcov):
    """linearmodels IV2SLS with the fixed effects as dummies, no small-sample correction."""
    dummies = pd.get_dummies(df[["f1", "f2"]].astype(str), drop_first=True).astype(float)
    X = pd.concat([pd.Series(1.0, index=df.index, name="const"), df[exog], dummies], axis=1)
    mod = lm.IV2SLS(df[y], X, df[endog] if endog else None, df[instr] if instr else None, weights=df["w"])
    kw = {"cov_type": {"iid": "unadjusted", "robust": "robust", "cluster": "clustered"}[vcov], "debiased": False}
    if vcov == "cluster":
        kw["clusters"] = df["cl"]
    return mod.fit(**kw)


CASES = [(v, s) for v in ("iid", "robust", "cluster") for s in ("fixest", "none")]


def _reference(kind, df, vcov, ssc):
    """(params, se) from pyfixest, or from linearmodels for iid without correction.

    pyfixest's iid variance without correction divides by N-1 (not N), so ``ssc="none"`` with
    ``vcov="iid"`` (sigma^2 = RSS/N, Stata ivregress) is checked against linearmodels instead; with no
    correction the count of fixed effects is irrelevant, so dummies give the same answer.
    """
    if vcov == "iid" and ssc == "none":
        if kind == "ols":
            r = _lm_dummies(df, "y", [], ["x1", "x2", "d"], [], vcov)
        else:
            r = _lm_dummies(df, "y", ["d"], ["x1", "x2"], ["z1", "z2"], vcov)
        return r.params, r.std_errors
    fml = "y ~ x1 + x2 + d | f1 + f2" if kind == "ols" else "y ~ x1 + x2 | f1 + f2 | d ~ z1 + z2"
    m = _pf(fml, df, vcov, ssc)
    return m.coef(), m.se()


@pytest.mark.parametrize("vcov,ssc", CASES)
@pytest.mark.parametrize("kind", ["ols", "iv"])
def test_matches_reference_twoway_fe_weights_clusters(data, kind, vcov, ssc):
    cl = "cl" if vcov == "cluster" else None
    if kind == "ols":
        r = ols(data, "y", ["x1", "x2", "d"], fe=("f1", "f2"), weights="w", vcov=vcov, cluster=cl, ssc=ssc)
    else:
        r = iv(data, "y", "d", ["z1", "z2"], ["x1", "x2"], fe=("f1", "f2"), weights="w", vcov=vcov,
               cluster=cl, ssc=ssc)
    coef, se = _reference(kind, data, vcov, ssc)
    names = list(r.params.index)
    assert set(names) == {"d", "x1", "x2"}
    np.testing.assert_allclose(r.params.values, coef[names].values, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r.se.values, se[names].values, rtol=1e-8)
    assert r.nobs == N and r.demean_converged
    np.testing.assert_allclose(r.tstat, r.params / r.se)
    np.testing.assert_allclose(np.diag(r.vcov.values), r.se.values**2)


@pytest.mark.parametrize("vcov", [pytest.param("iid", marks=pytest.mark.slow),
                                  pytest.param("robust", marks=pytest.mark.slow), "cluster"])
def test_multiple_endogenous_vs_linearmodels(data, vcov):
    """Two endogenous regressors, three instruments, intercept, weights (no fixed effects)."""
    cl = "cl" if vcov == "cluster" else None
    r = iv(data, "y", ["d", "d2"], ["z1", "z2", "z3"], ["x1", "x2"], weights="w", vcov=vcov, cluster=cl, ssc="none")
    X = data[["x1", "x2"]].assign(const=1.0)
    kw = {"cov_type": {"iid": "unadjusted", "robust": "robust", "cluster": "clustered"}[vcov], "debiased": False}
    if cl:
        kw["clusters"] = data["cl"]
    ref = lm.IV2SLS(data["y"], X, data[["d", "d2"]], data[["z1", "z2", "z3"]], weights=data["w"]).fit(**kw)
    names = ["d", "d2", "x1", "x2"]
    np.testing.assert_allclose(r.params[names].values, ref.params[names].values, atol=1e-8)
    np.testing.assert_allclose(r.se[names].values, ref.std_errors[names].values, rtol=1e-6)
    np.testing.assert_allclose(r.params["Intercept"], ref.params["const"], atol=1e-8)
    assert list(r.first_stage.columns) == ["d", "d2"]
    assert r.first_stage_f.shape == (2,)


@pytest.mark.parametrize("vcov", [pytest.param("iid", marks=pytest.mark.slow), "robust", "cluster"])
def test_ols_equals_2sls_with_regressors_as_instruments(data, vcov):
    cl = "cl" if vcov == "cluster" else None
    a = ols(data, "y", ["d", "x1", "x2"], fe=("f1", "f2"), weights="w", vcov=vcov, cluster=cl)
    b = iv(data, "y", "d", "d", ["x1", "x2"], fe=("f1", "f2"), weights="w", vcov=vcov, cluster=cl)
    np.testing.assert_allclose(b.params[a.params.index].values, a.params.values, atol=1e-10)
    np.testing.assert_allclose(b.se[a.params.index].values, a.se.values, rtol=1e-9)


@pytest.mark.parametrize("vcov", ["robust", "cluster"])
def test_first_stage_f_one_instrument_is_squared_t(data, vcov):
    """One instrument: effective F = squared first-stage t (pyfixest first stage, same vcov and ssc)."""
    cl = "cl" if vcov == "cluster" else None
    r = iv(data, "y", "d", "z1", ["x1", "x2"], fe=("f1", "f2"), weights="w", vcov=vcov, cluster=cl)
    fs = _pf("d ~ z1 + x1 + x2 | f1 + f2", data, vcov, "fixest")
    np.testing.assert_allclose(r.first_stage.loc[["z1", "x1", "x2"], "d"].values,
                               fs.coef()[["z1", "x1", "x2"]].values, atol=1e-8)
    np.testing.assert_allclose(r.first_stage_f["d"], fs.tstat()["z1"] ** 2, rtol=1e-6)


def test_first_stage_f_iid_is_classical_F(data):
    """iid: effective F equals the textbook F of the excluded instruments, ((RSS_r - RSS_u)/L)/(RSS_u/(N-K))."""
    r = iv(data, "y", "d", ["z1", "z2"], ["x1", "x2"], weights="w")
    sw = np.sqrt(data.w.values)[:, None]
    one = np.ones((N, 1))
    Xu = np.column_stack([data[["z1", "z2", "x1", "x2"]].values, one]) * sw
    Xr = np.column_stack([data[["x1", "x2"]].values, one]) * sw
    dd = data.d.values * sw[:, 0]
    rss = [np.sum((dd - M @ np.linalg.lstsq(M, dd, rcond=None)[0]) ** 2) for M in (Xu, Xr)]
    F = ((rss[1] - rss[0]) / 2) / (rss[0] / (N - 5))
    np.testing.assert_allclose(r.first_stage_f["d"], F, rtol=1e-9)


def test_demean_equals_dummy_regression_residuals(data):
    X = data[["x1", "x2"]].values
    codes = data[["f1", "f2"]].values
    w = data.w.values
    res = demean(X, codes, (20, 10), w)
    D = pd.get_dummies(data[["f1", "f2"]].astype(str)).astype(float).values
    sw = np.sqrt(w)[:, None]
    beta = np.linalg.lstsq(D * sw, X * sw, rcond=None)[0]
    np.testing.assert_allclose(np.asarray(res.values), X - D @ beta, atol=1e-10)
    assert bool(res.converged) and int(res.iterations) > 1


def _arrays(df):
    return dict(y=df.y.values, X_endog=df[["d"]].values, X_exog=df[["x1", "x2"]].values,
                Z=df[["z1", "z2"]].values, fe=df[["f1", "f2"]].values, cluster=df.cl.values)


def test_vmapped_bootstrap_equals_loop_and_resampled_data(data):
    a = _arrays(data)
    W = bootstrap_weights(jax.random.PRNGKey(0), 4, N, cluster=a["cluster"], n_clusters=25, weights=data.w.values)
    kw = dict(n_groups=(20, 10), n_clusters=25, vcov="cluster")

    def fit(w):
        return iv_arrays(a["y"], a["X_endog"], a["X_exog"], a["Z"], w, a["fe"], a["cluster"], **kw)

    batched = jax.jit(jax.vmap(fit))(W)
    loop = [fit(W[b]) for b in range(W.shape[0])]
    np.testing.assert_allclose(np.asarray(batched.coef), np.stack([np.asarray(f.coef) for f in loop]), atol=1e-10)
    np.testing.assert_allclose(np.asarray(batched.se), np.stack([np.asarray(f.se) for f in loop]), rtol=1e-8)
    # the weights of draw 0 = physically resampling the clusters (pandas layer, no weights trick)
    counts = np.asarray(W[0] / data.w.values)
    rows = np.repeat(np.arange(N), np.round(counts).astype(int))
    r = iv(data.iloc[rows], "y", "d", ["z1", "z2"], ["x1", "x2"], fe=("f1", "f2"), weights="w")
    np.testing.assert_allclose(r.params[["d", "x1", "x2"]].values, np.asarray(batched.coef[0]), atol=1e-8)


def test_vmap_over_outcomes_and_gradient(data):
    X = np.column_stack([data[["x1", "x2"]].values, np.ones(N)])
    w = data.w.values
    Y = np.stack([data.y.values, data.x2.values * 3.0 + 1.0])
    coefs = jax.vmap(lambda y: ols_arrays(y, X, w).coef)(jnp.asarray(Y))
    np.testing.assert_allclose(np.asarray(coefs[1]), [0.0, 3.0, 1.0], atol=1e-10)
    # d beta_1 / d y = row 1 of (X'WX)^{-1} X'W  (indirect inference differentiates through the estimator)
    g = jax.grad(lambda y: ols_arrays(y, X, w).coef[1])(jnp.asarray(data.y.values))
    A = np.linalg.solve(X.T @ (w[:, None] * X), X.T * w)
    np.testing.assert_allclose(np.asarray(g), A[1], atol=1e-12)


def test_bad_input_raises_clear_errors(data):
    with pytest.raises(ValueError, match="'nope'"):
        ols(data, "y", ["x1", "nope"])
    bad = data.assign(s=["a"] * N)
    with pytest.raises(ValueError, match="'s' must be numeric"):
        ols(bad, "y", ["x1", "s"])
    col = data.assign(x3=2 * data.x1 - data.x2)
    with pytest.raises(ValueError, match="'x3' is perfectly collinear with 'x1', 'x2'"):
        ols(col, "y", ["x1", "x2", "x3"])
    with pytest.raises(ValueError, match="'g1' is constant"):  # absorbed by the fixed effect
        ols(data.assign(g1=data.f1 * 0.5), "y", ["x1", "g1"], fe="f1")
    with pytest.raises(ValueError, match="underidentified"):
        iv(data, "y", ["d", "d2"], "z1", ["x1"])
    with pytest.raises(ValueError, match="'one' has 1 group"):
        ols(data.assign(one=1), "y", "x1", vcov="cluster", cluster="one")
    with pytest.raises(ValueError, match="'z2' is perfectly collinear"):
        iv(data.assign(z2=data.z1 * 2), "y", "d", ["z1", "z2"], ["x1"])
    with pytest.raises(ValueError, match="vcov must be one of"):
        ols(data, "y", "x1", vcov="hc9")
    with pytest.raises(ValueError, match="ssc must be one of .*'stata' was the former name"):
        ols(data, "y", "x1", ssc="stata")
    with pytest.raises(ValueError, match="weights column 'neg' must be >= 0"):
        ols(data.assign(neg=-1.0), "y", "x1", weights="neg")


def test_missing_values_dropped(data):
    d = data.copy()
    d.loc[:9, "x1"] = np.nan
    r = ols(d, "y", ["x1", "x2"])
    ref = ols(data.iloc[10:], "y", ["x1", "x2"])
    assert r.nobs == N - 10 and r.n_dropped == 10
    np.testing.assert_allclose(r.params.values, ref.params.values, atol=1e-12)


def test_shift_share_and_rank_rank(data):
    rng = np.random.default_rng(3)
    s = rng.dirichlet(np.ones(6), size=50)
    g = rng.normal(size=6)
    np.testing.assert_allclose(np.asarray(shift_share(s, g)), [sum(s[c, i] * g[i] for i in range(6)) for c in range(50)])
    with pytest.raises(ValueError, match="shocks must have shape"):
        shift_share(s, g[:5])
    # rank-rank without FE and without logs equals jaxecon.measures.rank_persistence (a separate implementation)
    from jaxecon.measures import rank_persistence

    m0 = rng.lognormal(size=80)
    m1 = m0 * rng.lognormal(sigma=0.5, size=80)
    df = pd.DataFrame({"a": m1, "b": m0})
    r = rank_rank(df, "a", "b", log=False)
    np.testing.assert_allclose(r.params["rank_before"], float(rank_persistence(m0, m1).slope), atol=1e-12)
    # with fixed effects: equal to least squares with dummies on the log ranks
    long = pd.DataFrame({"c": np.repeat(np.arange(30), 5), "i": np.tile(np.arange(5), 30)})
    long["v0"] = rng.lognormal(size=150)
    long["v1"] = long.v0 * rng.lognormal(sigma=0.7, size=150)
    r = rank_rank(long, "v1", "v0", rank_within="i", fe=("c", "i"))
    r1 = np.log(long.groupby("i").v1.rank(ascending=False))
    r0 = np.log(long.groupby("i").v0.rank(ascending=False))
    D = pd.get_dummies(long[["c", "i"]].astype(str)).astype(float).values
    b = np.linalg.lstsq(np.column_stack([r0, D]), r1, rcond=None)[0][0]
    np.testing.assert_allclose(r.params["rank_before"], b, atol=1e-10)


def test_regression_table_layout(data):
    a = ols(data, "y", ["x1", "x2"], vcov="robust")
    b = ols(data, "y", ["x1"], vcov="robust")
    t = regression_table({"(1)": a, "(2)": b}, extra={"F": [1.5, "-"]})
    assert t.loc["x1", "(1)"].startswith(f"{a.params['x1']:.3f}")
    assert t.loc["x1", "(1)"].endswith("***") == (a.pvalue["x1"] < 0.01)
    assert t.iloc[1, 0] == f"({a.se['x1']:.3f})"
    assert t.loc["x2", "(2)"] == "" and t.loc["Observations", "(1)"] == f"{N:,}"
