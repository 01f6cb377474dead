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


def _where(mask) -> str:
    """'at index i' of the first True entry of ``mask`` (a tuple index for arrays of 2+ dimensions)."""
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return f"at index {idx[0] if len(idx) == 1 else idx}" if idx else ""


def _nan_text(v) -> str | None:
    """'k NaN entr(y|ies) (first at index i)' when ``v`` holds NaNs, else None."""
    nan = np.isnan(v)
    k = int(nan.sum())
    if not k:
        return None
    where = _where(nan)
    return f"{k} NaN entr{'y' if k == 1 else 'ies'}" + (f" (first {where})" if where else "")


def check_finite(x, name: str) -> None:
    """Raise if a concrete ``x`` contains NaN or infinity (the message counts each and says where)."""
    if is_concrete(x):
        v = _values(x)
        if not np.all(np.isfinite(v)):
            parts = [t for t in (_nan_text(v),) if t]
            inf = np.isinf(v)
            if inf.any():
                where = _where(inf)
                parts.append(f"{int(inf.sum())} infinite" + (f" (first {where})" if where else ""))
            raise ValueError(f"{name} must be finite; got {np.sum(~np.isfinite(v))} non-finite entries: "
                             + ", ".join(parts))


def check_positive(x, name: str, *, strict: bool = True) -> None:
    """Raise if a concrete ``x`` is not > 0 (``strict``) or >= 0 anywhere; NaN entries are named."""
    if is_concrete(x):
        v = _values(x)
        with np.errstate(invalid="ignore"):
            bad = (v <= 0) if strict else (v < 0)
        nan = _nan_text(v)
        if np.any(bad) or nan:
            rel = "> 0" if strict else ">= 0"
            if nan:
                got = nan + (f" and {int(bad.sum())} entries not {rel} (min {np.nanmin(v)})" if bad.any() else "")
            elif v.size <= 8:
                got = f"{v}"
            else:
                got = f"{int(bad.sum())} entries not {rel}, min {np.min(v)} ({_where(bad)})"
            raise ValueError(f"{name} must be {rel}; got {got}")


def check_in_range(x, name: str, lo=None, hi=None, *, lo_open=False, hi_open=False) -> None:
    """Raise if a concrete ``x`` leaves the interval [lo, hi] (open ends as requested); NaN entries
    are named."""
    if not is_concrete(x):
        return
    v = _values(x)
    bad = np.isnan(v)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            bad |= (v <= lo) if lo_open else (v < lo)
        if hi is not None:
            bad |= (v >= hi) if hi_open else (v > hi)
    if np.any(bad):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        shown = v if v.size <= 8 else v[bad][:8]
        nan = _nan_text(v)
        raise ValueError(f"{name} must lie in {left}{lo}, {hi}{right}; got {nan + ': ' if nan else ''}{shown}")


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


def as_float(x):
    """``jnp.asarray(x, dtype=float)``: the converter of every Params field (``eqx.field(converter=as_float)``)."""
    import jax.numpy as jnp

    return jnp.asarray(x, dtype=float)
