"""Pandas-facing OLS and 2SLS: column names in, labelled results out (array core in :mod:`._core`)."""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import pandas as pd
from jax.scipy.special import betainc

from ._core import VCOV_TYPES, LinearFit, check_ssc, iv_arrays, ols_arrays

__all__ = ["RegressionResult", "ols", "iv"]

INTERCEPT = "Intercept"


@dataclasses.dataclass(frozen=True)
class RegressionResult:
    """Result of :func:`ols` / :func:`iv`.

    Attributes:
        params, se, tstat, pvalue: pandas Series indexed by regressor name (endogenous first for iv,
            then exogenous, ``"Intercept"`` last when there are no fixed effects).
        vcov: covariance matrix (DataFrame, same labels).
        nobs: observations used (rows with a missing value in a used column are dropped first,
            see ``n_dropped``; rows with zero weight do not count).
        df_resid: degrees of freedom of the t distribution used for p-values (``N-K`` with ``K``
            counting the absorbed fixed-effect levels as in ``ssc="fixest"``, or ``G-1`` clustered);
            ``None`` with ``ssc="none"``, where p-values are normal (as Stata ivregress).
        df_k: ``K`` of the small-sample correction (``fit.df_k``; see ``ssc`` in :func:`ols`).
        n_clusters: number of clusters (None unless clustered).
        vcov_type, ssc: as requested. method: ``"ols"`` or ``"iv"``.
        first_stage: iv only: DataFrame of first-stage coefficients (rows: excluded instruments then
            exogenous regressors; one column per endogenous regressor).
        first_stage_f: iv only: Series, per endogenous regressor, the effective first-stage F of
            Montiel Olea & Pflueger (2013) under the requested covariance (with one instrument the
            squared robust/clustered first-stage t, i.e. the Kleibergen-Paap Wald F; under iid the
            classical first-stage F); see :class:`jaxecon.econometrics.LinearFit`.
        fit: the underlying :class:`LinearFit` (arrays). n_dropped: rows dropped for missing values.
        demean_converged: whether the fixed-effect absorption met its tolerance.
    """

    params: pd.Series
    se: pd.Series
    tstat: pd.Series
    pvalue: pd.Series
    vcov: pd.DataFrame
    nobs: int
    df_resid: int | None
    df_k: int
    n_clusters: int | None
    vcov_type: str
    ssc: str
    method: str
    first_stage: pd.DataFrame | None
    first_stage_f: pd.Series | None
    fit: LinearFit
    n_dropped: int
    demean_converged: bool

    def summary(self) -> pd.DataFrame:
        """Coefficient table: estimate, std. error, t, p."""
        return pd.DataFrame({"coef": self.params, "se": self.se, "t": self.tstat, "p": self.pvalue})


# --------------------------------------------------------------------------------------- input checks
def _names(arg, what) -> list[str]:
    if arg is None:
        return []
    if isinstance(arg, str):
        return [arg]
    names = list(arg)
    for a in names:
        if not isinstance(a, str):
            raise ValueError(f"{what} must be column names (str); got {a!r}")
    return names


def _check_columns(data: pd.DataFrame, numeric: list[str], other: list[str]):
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    missing = [c for c in dict.fromkeys(numeric + other) if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {', '.join(repr(c) for c in missing)} not found in data")
    bad = [c for c in dict.fromkeys(numeric)
           if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
    if bad:
        raise ValueError(f"column(s) {', '.join(repr(c) for c in bad)} must be numeric; got dtype "
                         f"{', '.join(str(data[c].dtype) for c in bad)}")


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int32), len(uniques)


def _check_collinear(M: np.ndarray, names: list[str], context: str, raw: np.ndarray, tol: float = 1e-9) -> None:
    """Raise naming the first column that is (numerically) a linear combination of earlier ones.

    ``M`` is the (demeaned, weighted) matrix, ``raw`` the same columns before demeaning: a column
    whose norm shrinks below ``tol`` times its raw norm is absorbed by the fixed effects.
    """
    scale = np.sqrt(np.sum(M * M, axis=0))
    raw_scale = np.sqrt(np.sum(raw * raw, axis=0))
    for j, name in enumerate(names):
        if scale[j] <= tol * raw_scale[j] or scale[j] == 0:
            raise ValueError(f"regressor {name!r} is constant (zero after absorbing the fixed effects/"
                             f"intercept) {context}; drop it")
        if j == 0:
            continue
        prev = M[:, :j]
        coef, *_ = np.linalg.lstsq(prev, M[:, j], rcond=None)
        r = M[:, j] - prev @ coef
        if np.sqrt(np.sum(r * r)) <= 1e-8 * scale[j]:
            used = [names[i] for i in range(j) if abs(coef[i]) > 1e-10]
            raise ValueError(f"regressor {name!r} is perfectly collinear with {', '.join(map(repr, used))} "
                             f"{context}; drop one of them")


@jax.jit
def _t_sf2(t, df):
    """Two-sided Student-t tail ``P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2)`` (scalar, compiled once)."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def _pvalues(t: np.ndarray, df) -> np.ndarray:
    if df is None:  # normal: P(|Z| > |t|) = erfc(|t| / sqrt 2)
        return np.array([math.erfc(abs(float(v)) / math.sqrt(2.0)) for v in t])
    return np.array([float(_t_sf2(float(v), float(df))) for v in t])


def _prepare(data, y, xcols, zcols, fe, weights, vcov, cluster, ssc):
    fe = _names(fe, "fe")
    if vcov is None:
        vcov = "cluster" if cluster is not None else "iid"
    if vcov not in VCOV_TYPES:
        raise ValueError(f"vcov must be one of {VCOV_TYPES}; got {vcov!r}")
    check_ssc(ssc)
    if vcov == "cluster" and cluster is None:
        raise ValueError("vcov='cluster' needs cluster=<column name>")
    if cluster is not None and vcov != "cluster":
        raise ValueError(f"cluster={cluster!r} given with vcov={vcov!r}; pass vcov='cluster' (or drop cluster)")
    if not isinstance(y, str):
        raise ValueError(f"y must be one column name (str); got {y!r}")
    numeric = [y, *xcols, *zcols] + ([weights] if weights is not None else [])
    other = fe + ([cluster] if cluster is not None else [])
    _check_columns(data, numeric, other)
    used = list(dict.fromkeys(numeric + other))
    complete = data[used].notna().all(axis=1).to_numpy()
    df = data.loc[complete, used]
    n_dropped = int((~complete).sum())
    if len(df) == 0:
        raise ValueError("no complete rows (every row has a missing value in a used column)")
    arr = {c: df[c].to_numpy(dtype=np.float64) for c in dict.fromkeys(numeric)}
    bad = [c for c, a in arr.items() if not np.all(np.isfinite(a))]
    if bad:
        raise ValueError(f"column(s) {', '.join(map(repr, bad))} contain infinite values")
    w = arr[weights] if weights is not None else None
    if w is not None:
        if np.any(w < 0):
            raise ValueError(f"weights column {weights!r} must be >= 0")
        keep = w > 0
        if not keep.any():
            raise ValueError(f"weights column {weights!r} is zero everywhere")
    fe_codes, n_groups = None, ()
    if fe:
        cols = [_codes(df[c]) for c in fe]
        fe_codes = np.stack([c for c, _ in cols], axis=1)
        n_groups = tuple(g for _, g in cols)
    cl_codes, n_cl = None, None
    if cluster is not None:
        cl_codes, n_cl = _codes(df[cluster])
        gpos = n_cl if w is None else len(np.unique(cl_codes[w > 0]))
        if gpos < 2:
            raise ValueError(f"cluster variable {cluster!r} has {gpos} group(s); clustered standard errors "
                             "need at least 2")
    return df, arr, w, fe, fe_codes, n_groups, cl_codes, n_cl, vcov, n_dropped


def _demeaned_for_check(M, w, fe_codes, n_groups, tol=1e-10, max_iter=1000):
    """NumPy alternating projections (for the collinearity check only; no JAX compile needed)."""
    if not n_groups:
        return M
    w = np.ones(M.shape[0]) if w is None else w
    M = M.copy()
    scale = max(1.0, float(np.max(np.abs(M), initial=0.0)))
    wsums = [np.bincount(fe_codes[:, j], weights=w, minlength=g) for j, g in enumerate(n_groups)]
    for _ in range(max_iter):
        old = M.copy()
        for j, g in enumerate(n_groups):
            c = fe_codes[:, j]
            ws = np.where(wsums[j] > 0, wsums[j], 1.0)
            means = np.stack([np.bincount(c, weights=w * M[:, k], minlength=g) for k in range(M.shape[1])], 1)
            M -= means[c] / ws[c, None]
        if len(n_groups) == 1 or np.max(np.abs(M - old)) <= tol * scale:
            break
    return M


def _result(fit: LinearFit, names, vcov, ssc, method, n_dropped, cluster_given, fs_rows=None, endog=None):
    coef = np.asarray(fit.coef)
    V = np.asarray(fit.vcov)
    se = np.sqrt(np.diag(V))
    nobs = int(round(float(fit.nobs)))
    G = int(round(float(fit.n_clusters))) if cluster_given else None
    df_k = int(round(float(fit.df_k)))
    if ssc == "fixest" and nobs <= df_k:
        raise ValueError(f"ssc='fixest' needs more observations than K, the regressors plus the absorbed "
                         f"fixed-effect levels: N = {nobs}, K = {df_k}; drop fixed effects or pass ssc='none'")
    if ssc == "none":
        df_resid = None
    else:
        df_resid = (G - 1) if vcov == "cluster" else nobs - df_k
    t = coef / se
    p = _pvalues(t, df_resid)
    idx = pd.Index(names)
    fs = fsf = None
    if method == "iv":
        fs = pd.DataFrame(np.asarray(fit.first_stage_coef), index=fs_rows, columns=endog)
        fsf = pd.Series(np.asarray(fit.first_stage_f), index=endog, name="effective_F")
    if not bool(np.all(np.isfinite(coef))):
        raise ValueError("the estimate is not finite (numerically collinear regressors?)")
    return RegressionResult(
        params=pd.Series(coef, idx, name="coef"), se=pd.Series(se, idx, name="se"),
        tstat=pd.Series(t, idx, name="t"), pvalue=pd.Series(p, idx, name="p"),
        vcov=pd.DataFrame(V, index=idx, columns=idx), nobs=nobs, df_resid=df_resid,
        df_k=df_k, n_clusters=G,
        vcov_type=vcov, ssc=ssc, method=method, first_stage=fs, first_stage_f=fsf, fit=fit,
        n_dropped=n_dropped, demean_converged=bool(fit.demean_converged))


def ols(data: pd.DataFrame, y: str, x, *, fe=(), weights: str | None = None, vcov: str | None = None,
        cluster: str | None = None, ssc: str = "fixest") -> RegressionResult:
    """OLS (weighted, with absorbed fixed effects) of column ``y`` on columns ``x``.

    ``y_i = x_i' beta [+ a] [+ fixed effects] + u_i``, estimated by ``min sum_i w_i u_i^2``. An
    intercept (named ``"Intercept"``) is added only when no fixed effects are absorbed. Fixed effects
    (``fe``: one or more column names, any dtype) are absorbed by weighted alternating projections.

    Args:
        data: DataFrame. Rows with a missing value in any used column are dropped (``n_dropped``).
        y: outcome column; x: regressor column name(s).
        fe: fixed-effect column name(s) to absorb.
        weights: column of nonnegative (analytic) weights.
        vcov: ``"iid"``, ``"robust"`` (heteroskedasticity-robust) or ``"cluster"`` (one-way, needs
            ``cluster``); default ``"cluster"`` if ``cluster`` is given else ``"iid"``.
        cluster: cluster column name.
        ssc: small-sample correction.

            * ``"fixest"`` (default): fixest's and pyfixest's default (``ssc(adj=TRUE,
              fixef.K="nested", cluster.adj=TRUE)``). ``K`` counts the
              regressors *and the absorbed fixed-effect levels*: ``K = k_x + sum_j L_j - (d-1)``
              over the ``d`` fixed-effect dimensions with ``L_j`` levels, except that for clustered
              errors a dimension nested in the cluster variable (each level inside one cluster, e.g.
              CZ fixed effects with state clusters) counts 1 instead of ``L_j``. iid
              ``sigma^2 = RSS/(N-K)``, robust ``V * N/(N-K)``, clustered ``V * G/(G-1) (N-1)/(N-K)``;
              t-distributed p-values with ``N-K`` (``G-1`` clustered) degrees of freedom.
            * ``"none"``: no correction (``sigma^2 = RSS/N``, robust and clustered sandwiches as
              they are; Stata ivregress' default, e.g. ADH 2013 Table 3), normal p-values. Use it
              to reproduce a published table computed that way.

    Returns:
        :class:`RegressionResult`.

    Raises:
        ValueError: missing or non-numeric columns (named), perfectly collinear regressors (named),
        a cluster variable with fewer than 2 groups, negative weights, bad ``vcov``/``ssc``,
        ``ssc="fixest"`` with ``K >= N``.
    """
    xcols = _names(x, "x")
    if not xcols:
        raise ValueError("x must name at least one regressor")
    df, arr, w, fe, fe_codes, n_groups, cl, G, vcov, n_dropped = _prepare(
        data, y, xcols, [], fe, weights, vcov, cluster, ssc)
    X = np.column_stack([arr[c] for c in xcols])
    names = list(xcols)
    if not fe:
        X = np.column_stack([X, np.ones(len(df))])
        names.append(INTERCEPT)
    ctx = "(after absorbing the fixed effects)" if fe else ""
    Xc = _demeaned_for_check(X, w, fe_codes, n_groups)
    sw = np.sqrt(w)[:, None] if w is not None else 1.0
    _check_collinear(Xc * sw, names, ctx, X * sw)
    fit = ols_arrays(arr[y], X, w, fe_codes, cl, n_groups=n_groups, n_clusters=G, vcov=vcov, ssc=ssc)
    return _result(fit, names, vcov, ssc, "ols", n_dropped, cluster is not None)


def iv(data: pd.DataFrame, y: str, endog, instruments, exog=(), *, fe=(), weights: str | None = None,
       vcov: str | None = None, cluster: str | None = None, ssc: str = "fixest") -> RegressionResult:
    """Two-stage least squares of ``y`` on ``endog`` (instrumented by ``instruments``) and ``exog``.

    ``y_i = x_i' beta + w_i' gamma [+ a] [+ fixed effects] + u_i`` with ``x`` endogenous and
    ``z`` (the excluded instruments) plus ``w`` as instruments::

        beta_2SLS = (X' P_Z X)^{-1} X' P_Z y  (weighted, on the fixed-effect-demeaned data)

    any number of endogenous regressors and instruments (at least as many instruments). The
    intercept, fixed effects, weights, ``vcov``, ``cluster`` and ``ssc`` are as in :func:`ols`; under
    ``ssc="fixest"`` ``K`` counts the endogenous and exogenous regressors (not the excluded
    instruments) plus the fixed-effect levels, as pyfixest's ``feols("y ~ exog | fe | endog ~ z")``,
    and the first-stage F uses the same rule with the instruments in place of the endogenous
    regressors.
    Also returns the first-stage coefficients and the effective first-stage F (see
    :class:`RegressionResult`). With ``instruments == endog`` the estimate equals OLS.

    Raises:
        ValueError: as :func:`ols`, plus fewer instruments than endogenous regressors, and
        collinearity among the instruments and exogenous regressors (named).
    """
    en = _names(endog, "endog")
    zs = _names(instruments, "instruments")
    ex = _names(exog, "exog")
    if not en:
        raise ValueError("endog must name at least one endogenous regressor")
    if len(zs) < len(en):
        raise ValueError(f"underidentified: {len(zs)} instrument(s) {zs} for {len(en)} endogenous "
                         f"regressor(s) {en}; need at least as many instruments as endogenous regressors")
    df, arr, w, fe, fe_codes, n_groups, cl, G, vcov, n_dropped = _prepare(
        data, y, en + ex, zs, fe, weights, vcov, cluster, ssc)
    n = len(df)
    Xen = np.column_stack([arr[c] for c in en])
    Xex = np.column_stack([arr[c] for c in ex]) if ex else np.zeros((n, 0))
    ex_names = list(ex)
    if not fe:
        Xex = np.column_stack([Xex, np.ones(n)])
        ex_names.append(INTERCEPT)
    Z = np.column_stack([arr[c] for c in zs])
    ctx = "(after absorbing the fixed effects)" if fe else ""
    sw = np.sqrt(w)[:, None] if w is not None else 1.0
    raw = np.column_stack([Xen, Xex, Z])
    allm = _demeaned_for_check(raw, w, fe_codes, n_groups) * sw
    raw = raw * sw
    ken, kex = Xen.shape[1], Xex.shape[1]
    _check_collinear(allm[:, :ken + kex], en + ex_names, ctx, raw[:, :ken + kex])
    order = list(range(ken + kex, raw.shape[1])) + list(range(ken, ken + kex))
    _check_collinear(allm[:, order], zs + ex_names, "among the instruments and exogenous regressors " + ctx,
                     raw[:, order])
    fit = iv_arrays(arr[y], Xen, Xex, Z, w, fe_codes, cl, n_groups=n_groups, n_clusters=G, vcov=vcov, ssc=ssc)
    return _result(fit, en + ex_names, vcov, ssc, "iv", n_dropped, cluster is not None,
                   fs_rows=zs + ex_names, endog=en)
