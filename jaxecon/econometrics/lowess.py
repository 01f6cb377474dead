"""LOWESS (locally weighted linear regression with tricube weights) and pairs-bootstrap bands."""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_finite, check_in_range
from .bootstrap import resample_counts

__all__ = ["lowess", "lowess_bootstrap", "LowessBands"]


def _fit_at(x0, x, y, counts, k):
    """Local linear fit at ``x0`` (paper 002 eq. 4) on the ``k`` nearest observations (with multiplicity)."""
    d = jnp.abs(x - x0)
    order = jnp.argsort(d)
    ds = d[order]
    cum = jnp.cumsum(counts[order])
    h = ds[jnp.argmax(cum >= k)]  # distance to the k-th nearest neighbour (counting multiplicities)
    h = jnp.where(h > 0, h, 1.0)
    u = d / h
    wt = jnp.where(u < 1.0, (1.0 - u**3) ** 3, 0.0) * counts  # tricube
    sw = jnp.sum(wt)
    xm = jnp.sum(wt * x) / sw
    ym = jnp.sum(wt * y) / sw
    sxx = jnp.sum(wt * (x - xm) ** 2)
    sxy = jnp.sum(wt * (x - xm) * (y - ym))
    ok = sxx > 1e-12 * jnp.maximum(1.0, sw * xm * xm)
    beta = jnp.where(ok, sxy / jnp.where(ok, sxx, 1.0), 0.0)
    return ym + beta * (x0 - xm)


@functools.partial(jax.jit, static_argnames=("k",))
def _lowess(x, y, counts, xeval, k):
    return jax.vmap(_fit_at, in_axes=(0, None, None, None, None))(xeval, x, y, counts, k)


def _prep(x, y, frac, xeval):
    x = jnp.asarray(x, dtype=jnp.result_type(float))
    y = jnp.asarray(y, dtype=x.dtype)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D of the same length; got {x.shape} and {y.shape}")
    check_finite(x, "x")
    check_finite(y, "y")
    check_in_range(frac, "frac", 0.0, 1.0, lo_open=True)
    n = x.shape[0]
    k = int(frac * n + 1e-10)  # as statsmodels
    if k < 2:
        raise ValueError(f"frac * n must be at least 2 (got frac={frac}, n={n})")
    xeval = x if xeval is None else jnp.atleast_1d(jnp.asarray(xeval, dtype=x.dtype))
    return x, y, n, k, xeval


def lowess(x, y, *, frac: float = 2.0 / 3.0, xeval=None, weights=None):
    """LOWESS fit without robustifying iterations (Cleveland 1979; Imbs-Wacziarg 2003; paper 002 eqs 3-4).

    At each evaluation point ``x0``::

        (a(x0), b(x0)) = argmin_{a,b} sum_j w_j(x0) (y_j - a - b x_j)^2,   fit(x0) = a(x0) + b(x0) x0
        w_j(x0) = (1 - (|x_j - x0| / h(x0))^3)^3  for |x_j - x0| < h(x0), else 0   (tricube)

    with ``h(x0)`` the distance from ``x0`` to its ``k``-th nearest observation, ``k = int(frac n)``
    (the same span rule as ``statsmodels.nonparametric.lowess`` with ``it=0, delta=0``).

    Args:
        x, y: ``(n,)`` data. frac: span (share of observations in each local regression).
        xeval: points to evaluate at (default ``x``, in its order).
        weights: optional ``(n,)`` frequency weights (e.g. bootstrap counts): observation ``j``
            counts ``weights_j`` times, both in the neighbourhood size and in the local fit.

    Returns:
        ``(len(xeval),)`` fitted values. O(n_eval n log n); jit-compiled, vmappable over weights.
    """
    x, y, n, k, xeval = _prep(x, y, frac, xeval)
    counts = jnp.ones_like(x) if weights is None else jnp.asarray(weights, dtype=x.dtype)
    return _lowess(x, y, counts, xeval, k)


class LowessBands(eqx.Module):
    """Result of :func:`lowess_bootstrap`: ``xeval``, point ``fit``, percentile ``lower``/``upper``
    bands at ``level``, and the ``draws`` (n_boot, n_eval)."""

    xeval: jax.Array
    fit: jax.Array
    lower: jax.Array
    upper: jax.Array
    draws: jax.Array
    level: float = eqx.field(static=True)


def lowess_bootstrap(key, x, y, *, frac: float = 2.0 / 3.0, xeval=None, n_boot: int = 200,
                     level: float = 0.95, chunk: int = 50) -> LowessBands:
    """LOWESS with pairs-bootstrap percentile bands (paper 002, Figure 3).

    Each bootstrap draw resamples the ``n`` pairs ``(x_j, y_j)`` with replacement, represented as
    multinomial frequency weights (so the span ``k = int(frac n)`` counts repeated draws), and refits
    :func:`lowess` at the fixed points ``xeval``; the band is the ``(1-level)/2`` and
    ``(1+level)/2`` percentiles across draws. Draws are vmapped in chunks of ``chunk``.
    """
    x, y, n, k, xeval = _prep(x, y, frac, xeval)
    check_in_range(level, "level", 0.0, 1.0, lo_open=True, hi_open=True)
    fit = _lowess(x, y, jnp.ones_like(x), xeval, k)
    counts = resample_counts(key, n_boot, n)
    one = jax.jit(jax.vmap(lambda c: _lowess(x, y, c, xeval, k)))
    draws = jnp.concatenate([one(counts[i:i + chunk]) for i in range(0, n_boot, chunk)], axis=0)
    a = (1.0 - level) / 2.0
    lo, hi = jnp.nanquantile(draws, jnp.array([a, 1.0 - a]), axis=0)
    return LowessBands(xeval=xeval, fit=fit, lower=lo, upper=hi, draws=draws, level=float(level))
