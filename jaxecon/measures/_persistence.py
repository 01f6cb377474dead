"""Rank persistence of a regional measure between two dates."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive, is_concrete


class RankPersistence(NamedTuple):
    """Result of :func:`rank_persistence` (a pytree, so it passes through ``jit``/``vmap``).

    Attributes:
        slope: OLS slope of the later rank on the earlier rank.
        intercept: OLS intercept.
        n: number of regions (observations).
    """

    slope: jax.Array
    intercept: jax.Array
    n: jax.Array


def _scaled_ranks(v):
    """Average ranks (ties share the mean of their positions), rescaled to [0, 1]."""
    n = v.shape[-1]
    srt = jnp.sort(v)
    less = jnp.searchsorted(srt, v, side="left")  # #{j: v_j < v_i}
    leq = jnp.searchsorted(srt, v, side="right")  # #{j: v_j <= v_i}
    avg_rank = (less + leq + 1).astype(v.dtype) / 2.0  # 1-based average rank
    return (avg_rank - 1.0) / (n - 1.0)


def _as_measure(m, name):
    if jnp.ndim(m) != 1:
        raise ValueError(f"{name} must be 1-D (one value per region); got shape {jnp.shape(m)}")
    if is_concrete(m) and not np.all(np.isfinite(np.asarray(m))):
        raise ValueError(
            f"{name} must be finite; got {int(np.sum(~np.isfinite(np.asarray(m))))} NaN/inf entries "
            "(e.g. regions with zero activity: drop them first)"
        )
    m = jnp.asarray(m)
    if not jnp.issubdtype(m.dtype, jnp.floating):
        m = m.astype(jnp.result_type(float))
    return m


def rank_persistence(m0, m1, *, weights=None) -> RankPersistence:
    """Rank-rank regression of a regional measure at a later date on the same measure earlier.

    Both measures are converted to ranks across regions (ties get their average rank), rescaled to
    ``[0, 1]`` as ``r = (rank - 1) / (n - 1)``, and the later rank is regressed by (weighted) least
    squares on the earlier one::

        r1_c = a + b r0_c + e_c,
        b = sum_c w_c (r0_c - rbar0)(r1_c - rbar1) / sum_c w_c (r0_c - rbar0)^2,   a = rbar1 - b rbar0

    with ``rbar`` the ``w``-weighted means (``w = 1`` by default). ``b = 1`` means the ranking of
    regions is fully persistent, ``b = 0`` no persistence. Ranks are always unweighted; ``weights``
    (e.g. population) only weight the regression.

    For fixed effects (e.g. CZ and industry effects in a panel of RCAs, paper 002 Fact 3) use
    :func:`jaxecon.econometrics.rank_rank`, which absorbs them; it agrees with this function when
    no effects are given.

    Args:
        m0: shape ``(n,)``, the measure at the earlier date (e.g. ``gini(x_1980)``).
        m1: shape ``(n,)``, the same regions at the later date.
        weights: optional nonnegative regression weights, shape ``(n,)``, not all zero.

    Returns:
        :class:`RankPersistence` ``(slope, intercept, n)``.

    Raises:
        ValueError: shapes differ or are not 1-D, ``n < 2``, or (concrete input) NaN/inf in a measure
        (regions with zero activity give NaN measures: drop them first) or negative weights.
        Under ``jit``/``vmap`` NaNs are not checked and propagate to the result.
    """
    m0 = _as_measure(m0, "m0")
    m1 = _as_measure(m1, "m1")
    if m0.shape != m1.shape:
        raise ValueError(f"m0 and m1 must have the same shape; got {m0.shape} and {m1.shape}")
    n = m0.shape[0]
    if n < 2:
        raise ValueError(f"rank_persistence needs at least 2 regions; got {n}")
    if weights is None:
        w = jnp.ones_like(m0)
    else:
        if jnp.shape(weights) != m0.shape:
            raise ValueError(f"weights must have shape {m0.shape}; got {jnp.shape(weights)}")
        check_positive(weights, "weights", strict=False)
        if is_concrete(weights) and not np.sum(np.asarray(weights)) > 0:
            raise ValueError("weights must not all be zero")
        w = jnp.asarray(weights).astype(m0.dtype)
    slope, intercept = _rank_ols(m0, m1, w)
    return RankPersistence(slope=slope, intercept=intercept, n=jnp.asarray(n, dtype=jnp.result_type(int)))


@jax.jit
def _rank_ols(m0, m1, w):
    r0 = _scaled_ranks(m0)
    r1 = _scaled_ranks(m1).astype(r0.dtype)
    w = w.astype(r0.dtype)
    w = w / jnp.sum(w)
    mean0 = jnp.sum(w * r0)
    mean1 = jnp.sum(w * r1)
    d0 = r0 - mean0
    slope = jnp.sum(w * d0 * (r1 - mean1)) / jnp.sum(w * d0 * d0)
    intercept = mean1 - slope * mean0
    return slope, intercept
