"""Bootstrap by resampling weights: pairs (observations) or clusters, as frequency-weight vectors.

A bootstrap resample that draws observation ``i`` ``m_i`` times gives the same weighted estimator
as the original sample with weights ``w_i m_i`` (for least squares, 2SLS and LOWESS alike), so a
batch of resamples is a ``(n_draws, n)`` array of weights and the estimator is ``jax.vmap``-ed over
it: one compiled program, no Python loop, no data-dependent shapes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["resample_counts", "bootstrap_weights"]


def resample_counts(key, n_draws: int, n_units: int):
    """Multinomial counts of a nonparametric bootstrap: ``n_units`` draws with replacement.

    Returns ``(n_draws, n_units)`` float counts ``m_{b,j} = #{draws of unit j in resample b}``
    (each row sums to ``n_units``).
    """
    idx = jax.random.randint(key, (n_draws, n_units), 0, n_units)
    return jax.vmap(lambda i: jnp.zeros(n_units).at[i].add(1.0))(idx)


def bootstrap_weights(key, n_draws: int, n: int, *, cluster=None, n_clusters: int | None = None, weights=None):
    """Weight vectors of a pairs (``cluster=None``) or cluster bootstrap.

    Pairs: ``W_{b,i} = w_i m_{b,i}`` with ``m_b`` multinomial counts over the ``n`` observations.
    Cluster: ``W_{b,i} = w_i m_{b,g(i)}`` with counts over the ``n_clusters`` clusters (a drawn
    cluster brings all its observations; a cluster drawn twice counts twice).

    Args:
        key: PRNG key. n_draws: number of resamples. n: number of observations.
        cluster: ``(n,)`` integer codes in ``0..n_clusters-1`` for a cluster bootstrap.
        weights: ``(n,)`` base weights (default ones).

    Returns:
        ``(n_draws, n)`` weights, to ``jax.vmap`` an estimator over.
    """
    base = jnp.ones(n) if weights is None else jnp.asarray(weights, dtype=jnp.result_type(float))
    if cluster is None:
        return base[None, :] * resample_counts(key, n_draws, n)
    cluster = jnp.asarray(cluster)
    if n_clusters is None:
        n_clusters = int(np.max(np.asarray(cluster))) + 1
    counts = resample_counts(key, n_draws, int(n_clusters))
    return base[None, :] * counts[:, cluster]
