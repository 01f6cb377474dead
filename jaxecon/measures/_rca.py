"""Revealed comparative advantage / location quotients."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._common import as_activity


def rca(x):
    """Balassa revealed comparative advantage (location quotient) of each region in each industry.

    For activity ``x_ci`` (region c, industry i)::

        RCA_ci = (x_ci / sum_i x_ci) / (sum_c x_ci / sum_c sum_i x_ci)

    i.e. the industry's share in the region divided by its share in the whole economy (all rows).
    RCA > 1: the region is relatively specialized in the industry. Invariant to the overall scale of
    ``x`` (but not to rescaling single rows, which changes the national aggregate).

    Args:
        x: nonnegative activity, shape ``(regions, industries)``.

    Returns:
        Shape ``(regions, industries)``. NaN in the whole column of an industry with zero national
        activity (no national share to compare with) and in the whole row of a region with zero
        total activity.

    Raises:
        ValueError: ``x`` not 2-D, or (concrete input) a negative, NaN or infinite entry.
    """
    return _rca(as_activity(x, "x", ndims=(2,)))


@jax.jit
def _rca(x):
    row = jnp.sum(x, axis=1, keepdims=True)  # region totals
    col = jnp.sum(x, axis=0, keepdims=True)  # national industry totals
    tot = jnp.sum(x)
    ok = (row > 0) & (col > 0)
    denom = jnp.where(ok, row * col, jnp.ones_like(row * col))
    # (x/row) / (col/tot) = x * tot / (row * col)
    return jnp.where(ok, x * tot / denom, jnp.full_like(x, jnp.nan))
