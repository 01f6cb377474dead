"""Shared input handling for the specialization measures."""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_finite, check_positive


def as_activity(x, name: str = "x", ndims: tuple[int, ...] = (1, 2)):
    """Return ``x`` as a floating JAX array after validating it.

    Shape: ``x.ndim`` must be in ``ndims`` (always checked, also under ``jit``/``vmap``). Values (only
    when concrete, i.e. outside tracing): every entry must be >= 0 and finite; NaN counts as invalid.
    Integer inputs are cast to the default float dtype (float64 when jaxecon enabled x64).
    """
    ndim = jnp.ndim(x)
    if ndim not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {allowed} (regions x industries); got shape {jnp.shape(x)}")
    check_positive(x, name, strict=False)  # negatives and NaN -> "x must be >= 0; ..."
    check_finite(x, name)  # +inf
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    if x.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one industry (last axis); got shape {x.shape}")
    return x


def row_shares(x):
    """Within-row shares of a validated array; rows with zero total give NaN (no division warning)."""
    tot = jnp.sum(x, axis=-1, keepdims=True)
    pos = tot > 0
    safe = jnp.where(pos, tot, jnp.ones_like(tot))
    return jnp.where(pos, x / safe, jnp.full_like(x, jnp.nan))
