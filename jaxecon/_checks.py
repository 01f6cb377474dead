"""Input validation shared by the whole package.

Checks run eagerly on concrete values (NumPy arrays, Python numbers, JAX arrays outside ``jit``) and
raise :class:`ValueError` naming the argument and the allowed range. Under ``jit``/``vmap`` tracing
the values are unknown, so the value checks are skipped (shape checks still run); callers validate
their inputs once, before the heavy traced computation.
"""

from __future__ import annotations

import numpy as np
import jax


def is_concrete(x) -> bool:
    """True when ``x`` holds actual numbers (not a tracer inside ``jit``/``vmap``/``grad``)."""
    leaves = jax.tree_util.tree_leaves(x)
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def _values(x):
    return np.asarray(x)


def check_finite(x, name: str) -> None:
    """Raise if a concrete ``x`` contains NaN or infinity."""
    if is_concrete(x):
        v = _values(x)
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} must be finite; got {np.sum(~np.isfinite(v))} non-finite entries")


def check_positive(x, name: str, *, strict: bool = True) -> None:
    """Raise if a concrete ``x`` is not > 0 (``strict``) or >= 0 anywhere."""
    if is_concrete(x):
        v = _values(x)
        bad = (v <= 0) if strict else (v < 0)
        if np.any(bad) or np.any(np.isnan(v)):
            rel = "> 0" if strict else ">= 0"
            raise ValueError(f"{name} must be {rel}; got {v if v.size <= 8 else f'min {np.nanmin(v)}'}")


def check_in_range(x, name: str, lo=None, hi=None, *, lo_open=False, hi_open=False) -> None:
    """Raise if a concrete ``x`` leaves the interval [lo, hi] (open ends as requested)."""
    if not is_concrete(x):
        return
    v = _values(x)
    bad = np.isnan(v)
    if lo is not None:
        bad |= (v <= lo) if lo_open else (v < lo)
    if hi is not None:
        bad |= (v >= hi) if hi_open else (v > hi)
    if np.any(bad):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        shown = v if v.size <= 8 else v[bad][:8]
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}; got {shown}")


def check_increasing(x, name: str) -> None:
    """Raise if a concrete 1-D grid ``x`` is not strictly increasing."""
    v = _values(x) if is_concrete(x) else None
    if np.ndim(x) != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {np.shape(x)}")
    if v is not None and (v.size < 2 or np.any(np.diff(v) <= 0)):
        raise ValueError(f"{name} must be strictly increasing with at least 2 points; got {v}")


def check_ndim(x, name: str, ndim: int) -> None:
    """Raise if ``x`` does not have ``ndim`` dimensions."""
    if np.ndim(x) != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got shape {np.shape(x)}")
