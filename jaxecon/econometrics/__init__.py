"""Regression estimators in JAX: OLS / 2SLS with absorbed fixed effects and clustered SEs, LOWESS,
shift-share exposure, rank persistence with fixed effects, bootstrap by resampling weights.

Two layers:

* pandas-facing: :func:`ols` and :func:`iv` take a DataFrame and column names and return a
  :class:`RegressionResult` with labelled ``params``, ``se``, ``vcov``, ``tstat``, ``pvalue``,
  first-stage coefficients and effective F; :func:`rank_rank`, :func:`regression_table`;
* array core (pure JAX, ``jit``/``vmap``/``grad``): :func:`demean`, :func:`ols_arrays`,
  :func:`iv_arrays` returning :class:`LinearFit`, :func:`lowess`, :func:`lowess_bootstrap`,
  :func:`shift_share`, :func:`bootstrap_weights`; vmap them over bootstrap weights or simulated
  outcomes.

Small-sample corrections: ``ssc="fixest"`` (default; fixest's and pyfixest's default: the absorbed
fixed-effect levels count in K, except, for clustered errors, fixed effects nested in the cluster
variable) or ``ssc="none"`` (no correction, Stata ivregress' default; use it to reproduce tables
computed that way, e.g. ADH 2013 Table 3). pyfixest, linearmodels and statsmodels are used only in
the tests, as independent references.
"""

from ._core import DemeanResult, LinearFit, demean, iv_arrays, ols_arrays
from ._frame import RegressionResult, iv, ols
from .bootstrap import bootstrap_weights, resample_counts
from .lowess import LowessBands, lowess, lowess_bootstrap
from .persistence import rank_rank
from .shiftshare import shift_share
from .tables import regression_table, stars

__all__ = [
    "ols", "iv", "RegressionResult", "LinearFit", "DemeanResult", "demean", "ols_arrays", "iv_arrays",
    "lowess", "lowess_bootstrap", "LowessBands", "shift_share", "rank_rank", "bootstrap_weights",
    "resample_counts", "regression_table", "stars",
]
