"""Within-region concentration measures: shares, Gini, HHI, max share.

All functions take ``x`` of shape ``(regions, industries)`` (or ``(industries,)`` for one region) with
nonnegative activity on any scale (employment counts, employment shares of total employment, ...;
rows need not sum to one) and return one number per region (shape ``(regions,)`` or ``()``).

Conventions shared by all of them
---------------------------------
* The measure is computed on the within-region shares ``s_ci = x_ci / sum_i x_ci``, so it is invariant
  to rescaling a row (e.g. industry shares of *total* employment give the same Gini as shares of
  manufacturing employment).
* Industries with zero activity count (they are part of the ``n`` industries).
* A region with zero total activity has no shares: its measure is NaN (a deliberate choice, so it is
  never mistaken for a number; drop such regions before ranking or regressing).
* Concrete inputs with a negative or NaN entry raise ``ValueError("x must be >= 0 ...")``; inputs
  that are not 1-D or 2-D raise ``ValueError``. Under ``jit``/``vmap`` only the shape is checked.
* Pure JAX: jit-, vmap- and grad-safe (no Python loops, no data-dependent shapes).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._common import as_activity, row_shares


def shares(x):
    """Within-region shares ``s_ci = x_ci / sum_j x_cj``.

    Args:
        x: nonnegative activity, shape ``(regions, industries)`` or ``(industries,)``.

    Returns:
        Array of the same shape as ``x``; each row sums to 1. Rows with zero total are all NaN.

    Raises:
        ValueError: ``x`` not 1-D/2-D, or (concrete input) a negative, NaN or infinite entry.
    """
    return _shares(as_activity(x, "x"))


_shares = jax.jit(row_shares)


@functools.partial(jax.jit, static_argnames="normalize")
def _gini(x, normalize):
    n = x.shape[-1]
    s = row_shares(x)
    s_sorted = jnp.sort(s, axis=-1)
    k = jnp.arange(1, n + 1, dtype=s.dtype)
    weights = 2.0 * k - n - 1.0
    # sum(s) is 1 for every valid row (NaN rows stay NaN); keep it in the formula for exactness.
    g = jnp.sum(weights * s_sorted, axis=-1) / (n * jnp.sum(s_sorted, axis=-1))
    if normalize:
        g = g * (n / (n - 1.0))
    return g


@jax.jit
def _hhi(x):
    s = row_shares(x)
    return jnp.sum(s * s, axis=-1)


@jax.jit
def _max_share(x):
    return jnp.max(row_shares(x), axis=-1)


def gini(x, *, normalize: bool = False):
    """Gini coefficient of the within-region industry shares (Imbs-Wacziarg 2003 specialization).

    With ``s_1..s_n`` a region's shares over all ``n`` industries (zeros included)::

        G = sum_i sum_j |s_i - s_j| / (2 n^2 mean(s))

    computed in O(n log n) with the equivalent sorted formula (``s_(1) <= ... <= s_(n)``)::

        G = sum_{k=1..n} (2k - n - 1) s_(k) / (n sum_k s_k)

    G = 0 when all industries have equal shares; G = 1 - 1/n when all activity is in one industry.
    With ``normalize=True`` the result is multiplied by ``n / (n - 1)`` so that the one-industry
    maximum is 1 (requires ``n >= 2``).

    Args:
        x: nonnegative activity, shape ``(regions, industries)`` or ``(industries,)``; any scale.
        normalize: rescale by ``n/(n-1)``.

    Returns:
        Shape ``(regions,)`` (or ``()`` for 1-D input). NaN for a region with zero total activity.

    Example: ``gini([1, 0, 0, 0]) == 0.75``, ``gini([1, 0, 0, 0], normalize=True) == 1``.
    """
    x = as_activity(x, "x")
    n = x.shape[-1]
    if normalize and n < 2:
        raise ValueError(f"gini(normalize=True) needs at least 2 industries; got shape {x.shape}")
    return _gini(x, bool(normalize))


def hhi(x):
    """Herfindahl-Hirschman index of the within-region shares, ``H = sum_i s_i^2``.

    Ranges from ``1/n`` (equal shares over all ``n`` industries) to 1 (one industry).

    Args:
        x: nonnegative activity, shape ``(regions, industries)`` or ``(industries,)``; any scale.

    Returns:
        Shape ``(regions,)`` (or ``()``). NaN for a region with zero total activity.

    Example: ``hhi([1, 1]) == 0.5``.
    """
    return _hhi(as_activity(x, "x"))


def max_share(x):
    """Largest within-region share, ``max_i s_i`` (in ``[1/n, 1]``).

    Args:
        x: nonnegative activity, shape ``(regions, industries)`` or ``(industries,)``; any scale.

    Returns:
        Shape ``(regions,)`` (or ``()``). NaN for a region with zero total activity.
    """
    return _max_share(as_activity(x, "x"))
