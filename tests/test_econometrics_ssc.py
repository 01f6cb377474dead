"""Small-sample corrections with absorbed fixed effects: ``ssc="fixest"`` equals pyfixest's defaults.

pyfixest (``feols`` without an ``ssc`` argument: ``ssc(k_adj=True, k_fixef="nonnested", G_adj=True,
G_df="min")``, fixest's defaults) is the independent reference. Each design is checked for OLS and
2SLS, with and without weights: coefficients, standard errors, t statistics, p-values, the ``K`` of
the correction and the t distribution's degrees of freedom.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pandas as pd
import pytest

import jaxecon  # noqa: F401  (float64)
from jaxecon.econometrics import iv, iv_arrays, ols

pf = pytest.importorskip("pyfixest")

RTOL = 1e-8


def _frame(rng, n, fe_codes: dict, cluster):
    """Outcome with cluster-correlated, heteroskedastic errors; one endogenous regressor ``d``."""
    df = pd.DataFrame(fe_codes)
    df["cl"] = cluster
    G = int(df.cl.max()) + 1
    df["w"] = rng.uniform(0.3, 3.0, n)
    df["x1"] = rng.normal(size=n) + 0.05 * df[list(fe_codes)[0]]
    df["z"] = rng.normal(size=n)
    e = rng.normal(size=n) + rng.normal(size=G)[df.cl]
    df["d"] = df.z + 0.5 * e + rng.normal(size=n)
    # modest slopes so that the p-values are not all 0 (they are compared too)
    df["y"] = 0.1 * df.d + 0.05 * df.x1 + e * (1 + 0.5 * np.abs(df.x1)) + 0.1 * df[list(fe_codes)[-1]]
    return df


@pytest.fixture(scope="module")
def two_fe():
    """Two non-nested fixed effects (40 and 25 levels) and 30 clusters crossing both."""
    rng = np.random.default_rng(7)
    n = 1500
    return _frame(rng, n, {"f1": rng.integers(0, 40, n), "f2": rng.integers(0, 25, n)}, rng.integers(0, 30, n))


@pytest.fixture(scope="module")
def panel():
    """A 150-region x 2-period panel, region FE nested in 24 'states' (the clusters), period FE."""
    rng = np.random.default_rng(11)
    n_r = 150
    region = np.repeat(np.arange(n_r), 2)
    state = rng.permutation(np.arange(n_r) % 24)[region]
    return _frame(rng, 2 * n_r, {"region": region, "period": np.tile([0, 1], n_r)}, state)


def _reference(df, fe, vcov, kind, weights):
    pv = {"iid": "iid", "robust": "hetero", "cluster": {"CRV1": "cl"}}[vcov]
    fml = f"y ~ x1 | {' + '.join(fe)}" + (" | d ~ z" if kind == "iv" else "")
    if kind == "ols":
        fml = f"y ~ d + x1 | {' + '.join(fe)}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, df, vcov=pv, weights=weights, fixef_tol=1e-14)


def _jaxecon(df, fe, vcov, kind, weights, ssc="fixest"):
    cl = "cl" if vcov == "cluster" else None
    if kind == "ols":
        return ols(df, "y", ["d", "x1"], fe=fe, weights=weights, vcov=vcov, cluster=cl, ssc=ssc)
    return iv(df, "y", "d", "z", ["x1"], fe=fe, weights=weights, vcov=vcov, cluster=cl, ssc=ssc)


def _assert_matches(r, m):
    names = ["d", "x1"]
    np.testing.assert_allclose(r.params[names].values, m.coef()[names].values, rtol=1e-10)
    np.testing.assert_allclose(r.se[names].values, m.se()[names].values, rtol=RTOL)
    np.testing.assert_allclose(r.tstat[names].values, m.tstat()[names].values, rtol=RTOL)
    np.testing.assert_allclose(r.pvalue[names].values, m.pvalue()[names].values, rtol=1e-7, atol=1e-12)
    assert r.df_k == m._df_k
    assert r.df_resid == m._df_t


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("kind", ["ols", "iv"])
def test_two_nonnested_fe_clustered(two_fe, kind, weights):
    r = _jaxecon(two_fe, ("f1", "f2"), "cluster", kind, weights)
    m = _reference(two_fe, ("f1", "f2"), "cluster", kind, weights)
    _assert_matches(r, m)
    # every level counts: the 2 regressors + 40 + 25 levels - 1 redundant level
    assert r.df_k == 2 + 40 + 25 - 1


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("kind", ["ols", "iv"])
def test_fe_nested_in_clusters(panel, kind, weights):
    r = _jaxecon(panel, ("region", "period"), "cluster", kind, weights)
    m = _reference(panel, ("region", "period"), "cluster", kind, weights)
    _assert_matches(r, m)
    # the 150 region levels (nested in the states) count as one; the 2 period levels count
    assert r.df_k == 2 + 1 + 2 - 1
    # robust errors ignore nesting: all 150 + 2 - 1 levels count (K ~ N/2, SEs ~ sqrt 2 larger)
    rr = _jaxecon(panel, ("region", "period"), "robust", kind, weights)
    _assert_matches(rr, _reference(panel, ("region", "period"), "robust", kind, weights))
    assert rr.df_k == 2 + 150 + 2 - 1
    none = _jaxecon(panel, ("region", "period"), "robust", kind, weights, ssc="none")
    np.testing.assert_allclose(rr.se / none.se, np.sqrt(rr.nobs / (rr.nobs - rr.df_k)), rtol=1e-12)


@pytest.mark.parametrize("vcov", ["robust", "iid"])
@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("kind", ["ols", "iv"])
def test_one_fe_robust_and_iid(two_fe, kind, weights, vcov):
    r = _jaxecon(two_fe, ("f1",), vcov, kind, weights)
    _assert_matches(r, _reference(two_fe, ("f1",), vcov, kind, weights))
    assert r.df_k == 2 + 40


def test_fe_identical_to_cluster_counts_one(panel):
    """A fixed effect equal to the cluster variable is nested in it (pyfixest flags it by name)."""
    d = panel.assign(state=panel.cl)
    r = ols(d, "y", ["d", "x1"], fe=("state", "period"), vcov="cluster", cluster="cl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("y ~ d + x1 | cl + period", d, vcov={"CRV1": "cl"}, fixef_tol=1e-14)
    _assert_matches(r, m)
    assert r.df_k == 2 + 1 + 2 - 1


def test_zero_weights_count_only_levels_present(two_fe):
    """Zero weights (a bootstrap draw that leaves observations out) drop their levels from K and N:
    the vmapped array core equals pyfixest on the subsample with positive weight."""
    df = two_fe
    codes = df[["f1", "f2"]].to_numpy()
    cl = df.cl.to_numpy()
    keep = (df.f1 >= 5) & (df.cl != 3)  # 5 levels of f1 and one cluster left out entirely
    W = np.stack([df.w.to_numpy(), df.w.to_numpy() * keep])

    def fit(w):
        return iv_arrays(df.y.values, df[["d"]].values, df[["x1"]].values, df[["z"]].values, w, codes, cl,
                         n_groups=(40, 25), n_clusters=30, vcov="cluster")

    batch = jax.vmap(fit)(W)
    sub = df[keep]
    m = _reference(sub, ("f1", "f2"), "cluster", "iv", "w")
    np.testing.assert_allclose(np.asarray(batch.se[1]), m.se()[["d", "x1"]].values, rtol=RTOL)
    assert int(batch.df_k[1]) == m._df_k == 2 + 35 + 25 - 1
    assert int(batch.df_k[0]) == 2 + 40 + 25 - 1
    assert int(batch.nobs[1]) == len(sub) and int(batch.n_clusters[1]) == 29


def test_first_stage_f_counts_fixed_effects(two_fe):
    """One instrument: effective F = squared first-stage t of pyfixest's first stage (default ssc)."""
    r = iv(two_fe, "y", "d", "z", ["x1"], fe=("f1", "f2"), weights="w", vcov="cluster", cluster="cl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = pf.feols("d ~ z + x1 | f1 + f2", two_fe, vcov={"CRV1": "cl"}, weights="w", fixef_tol=1e-14)
    np.testing.assert_allclose(r.first_stage_f["d"], fs.tstat()["z"] ** 2, rtol=RTOL)


def test_no_residual_degrees_of_freedom_is_a_named_error():
    """Two fixed effects pairing the observations in a cycle: K = 1 + n/2 + n/2 - 1 = N."""
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame({"a": np.arange(n) // 2, "b": ((np.arange(n) + 1) % n) // 2, "x": rng.normal(size=n)})
    df["y"] = df.x + rng.normal(size=n)
    with pytest.raises(ValueError, match=r"ssc='fixest' needs more observations than K.*N = 40, K = 40"):
        ols(df, "y", "x", fe=("a", "b"), vcov="robust")
    r = ols(df, "y", "x", fe=("a", "b"), vcov="robust", ssc="none")
    assert r.df_k == 40 and np.isfinite(r.params["x"])
