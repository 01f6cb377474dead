"""Multilinear interpolation on regular tensor grids (1 to 3 dimensions, or more).

A grid is a tuple of :class:`Axis` objects, one per dimension. Each axis knows how to map a query
coordinate to the cell that contains it: analytically for a uniform axis, and for a power-spaced
axis (points concentrated near one end) or arbitrary increasing points by counting the grid points
at or below the query (fused compares; binary search beyond 128 points). Both avoid
``searchsorted``, which is slow under ``vmap`` (DESIGN.md "Numerics").

Values have shape ``(n_1, ..., n_d, *trailing)``: every trailing dimension (e.g. several policies
stored together) is interpolated at once. The result is differentiable in the query point and in the
values (and in the grid points).

Outside the grid
----------------
``extrapolate=False`` (default) clamps the query to the grid's box: the value at a point beyond an
end equals the value at the nearest boundary point (constant extension). ``extrapolate=True``
extends the boundary cell's multilinear function linearly.
"""

from __future__ import annotations

from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._checks import check_increasing, check_positive

__all__ = ["Axis", "uniform_axis", "power_axis", "points_axis", "interp_multilinear", "interp_tables",
           "interp_grad", "Interpolator"]


class Axis(eqx.Module):
    """One dimension of a tensor grid.

    Attributes:
        points: the strictly increasing node values, shape ``(n,)``.
        kind: ``"uniform"``, ``"power"`` or ``"points"`` (static): how queries are located.
        curvature: the exponent of a ``"power"`` axis (``x = lo + (hi - lo) u^curvature`` for
            ``u`` uniform on [0, 1]); 1 for the others.
    """

    points: Float[Array, " n"]
    kind: str = eqx.field(static=True)
    curvature: float = eqx.field(static=True, default=1.0)

    @property
    def n(self) -> int:
        return self.points.shape[0]

    def locate(self, x):
        """Left node index ``i`` in ``[0, n-2]`` and fraction ``t = (x - x_i)/(x_{i+1} - x_i)``."""
        pts = self.points
        n = pts.shape[0]
        lo, hi = pts[0], pts[-1]
        x_ = jax.lax.stop_gradient(x)
        if self.kind == "uniform":
            u = (x_ - lo) / (hi - lo) * (n - 1)
            i = jnp.clip(jnp.floor(u), 0, n - 2).astype(jnp.int32)
            # guard against rounding in the analytic map: move one cell if x is outside [x_i, x_{i+1}]
            i = jnp.where((x_ < pts[i]) & (i > 0), i - 1, i)
            i = jnp.where((x_ >= pts[i + 1]) & (i < n - 2), i + 1, i)
        elif n <= _COUNT_MAX:
            # the number of interior points at or below x: n − 2 fused compares, exact (a point on
            # the grid takes the cell to its right). For a power axis this replaced the analytic
            # inverse r^(1/curvature) (a log and an exp, plus two corrections for rounding), which
            # cost about twice as much at 40 points on a CPU; for explicit points, searchsorted.
            i = jnp.zeros(jnp.shape(x_), jnp.int32)
            for j in range(1, n - 1):
                i = i + (x_ >= pts[j]).astype(jnp.int32)
        else:
            i = jnp.clip(jnp.searchsorted(pts, x_, side="right") - 1, 0, n - 2).astype(jnp.int32)
        i = _computed_once(i)
        t = (x - pts[i]) / (pts[i + 1] - pts[i])
        return i, t


def _computed_once(i):
    """The cell index ``i``, unchanged, but stored once instead of recomputed by every consumer.

    XLA's CPU fusion copies cheap element-wise producers into each consumer, and a gather evaluates
    its fused index once per gathered element, so without this the compare chain that locates a
    query runs once per column of each corner gather. ``optimization_barrier`` does not stop this on
    the CPU backend (it is removed before fusion), but XLA never duplicates an expensive
    operation (here a square root) into several consumers, so ending the index computation with one
    materializes it: ``sqrt(i² + 1/4)`` lies within ``1/(8i)`` of ``i``, so rounding it gives ``i``
    back exactly (in float32 for every index below 2^22).
    """
    f = i.astype(jnp.result_type(float))
    return jnp.round(jnp.sqrt(f * f + 0.25)).astype(i.dtype)


_COUNT_MAX = 128  # non-uniform axes up to this many points are located by counting (Axis.locate)


def uniform_axis(lo: float, hi: float, n: int) -> Axis:
    """``n`` evenly spaced points on ``[lo, hi]``."""
    _check_axis_args(lo, hi, n)
    return Axis(points=jnp.linspace(lo, hi, n), kind="uniform")


def power_axis(lo: float, hi: float, n: int, curvature: float) -> Axis:
    """``n`` points ``lo + (hi - lo) u^curvature`` for ``u`` evenly spaced on [0, 1].

    ``curvature > 1`` concentrates points near ``lo`` (e.g. near a borrowing limit), ``< 1`` near
    ``hi``. Queries are located by counting the points at or below them.
    """
    _check_axis_args(lo, hi, n)
    check_positive(curvature, "curvature")
    u = jnp.linspace(0.0, 1.0, n)
    return Axis(points=lo + (hi - lo) * u**curvature, kind="power", curvature=float(curvature))


def points_axis(points) -> Axis:
    """An axis on arbitrary strictly increasing ``points`` (a query is located by counting the points
    at or below it; by binary search beyond 128 points)."""
    check_increasing(points, "points")
    return Axis(points=jnp.asarray(points, dtype=float), kind="points")


def _check_axis_args(lo, hi, n):
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"an axis needs an integer number of points n >= 2; got {n!r}")
    if not hi > lo:
        raise ValueError(f"an axis needs hi > lo; got lo={lo}, hi={hi}")


def _corners(axes, x, extrapolate):
    """The 2^d cell corners of query ``x`` (d,): a list of ``(weight, index tuple)``.

    ``extrapolate`` is one bool for all axes or a tuple with one per axis.
    """
    d = len(axes)
    ext = extrapolate if isinstance(extrapolate, (tuple, list)) else (extrapolate,) * d
    idx, frac = [], []
    for k, ax in enumerate(axes):
        i, t = ax.locate(x[k])
        idx.append(i)
        frac.append(t if ext[k] else jnp.clip(t, 0.0, 1.0))
    # shared by every table gathered at these corners (the barrier keeps them apart on backends
    # that honour it; on the CPU it is gone before fusion, and Axis.locate stores the index itself)
    idx, frac = jax.lax.optimization_barrier((jnp.stack(idx), jnp.stack(frac)))
    corners = []
    for corner in range(2**d):
        w = 1.0
        index = []
        for k in range(d):
            bit = (corner >> k) & 1
            w = w * (frac[k] if bit else 1.0 - frac[k])
            index.append(idx[k] + bit)
        corners.append((w, tuple(index)))
    return corners


def _gather(corners, values, tail=()):
    out = 0.0
    for w, index in corners:
        out = out + w * values[index + tail]
    return out


def _interp_one(axes, values, x, extrapolate):
    return _gather(_corners(axes, x, extrapolate), values)


def interp_tables(axes: Sequence[Axis], tables: Sequence, x, *, extrapolate=False, tail=()) -> list:
    """Interpolate several gridded tables at ONE query point ``x`` (d,), sharing the cell weights.

    Same formula and outside-grid behaviour as :func:`interp_multilinear`; each table has shape
    ``(n_1, ..., n_d, *trailing)`` and is gathered separately (interpolating one stacked table and
    slicing its columns makes XLA re-fuse the gather into every slice). ``extrapolate`` may be a tuple with one bool per axis (e.g. linear
    extension along a bond axis only).

    ``tail`` is a tuple of (possibly traced) integer indices into the leading trailing axes, applied
    inside the gather: ``tail=(s,)`` interpolates ``T[..., s, ...]`` without first slicing ``T[..., s]``
    out (a slice per query point under ``vmap`` would copy the whole grid).
    """
    corners = _corners(tuple(axes), x, extrapolate)
    tail = tuple(tail)
    return [_gather(corners, T, tail) for T in tables]


def interp_grad(axes: Sequence[Axis], table, x: Sequence, *, extrapolate=False, tail=()):
    """Value and gradient of a multilinear interpolant at many points, struct-of-arrays style.

    The same interpolant as :func:`interp_multilinear`, with its derivative written out: with
    ``w_k = t_k`` or ``1 − t_k`` the corner weights of ``f(x) = Σ_corners Π_k w_k f(corner)``,

        ∂f/∂x_k = (∂t_k/∂x_k) Σ_corners (±1) Π_{l≠k} w_l f(corner),   ∂t_k/∂x_k = 1/(x_{k,i+1} − x_{k,i}),

    (+ for the upper corner along ``k``), and ``∂t_k/∂x_k = 0`` where the query is clamped to the grid
    box (``extrapolate`` False for that axis and ``x_k`` outside it), as ``jax.jacfwd`` of
    :func:`interp_multilinear` gives.

    Layout. The query is a sequence of ``d`` coordinate arrays of one common shape (e.g. ``(N,)``:
    N points), not a ``(N, d)`` array, and ``table`` has shape ``(n_1, .., n_d, *tail_dims, *columns)``:
    ``tail`` holds integer arrays (shaped like the coordinates) that index the ``tail_dims``
    (e.g. a Markov state per point), and every trailing column is interpolated at once. Each corner is
    ONE gather of a contiguous row of columns through a flat index, so a caller interpolating several
    quantities stores them as columns of one table. This layout lets XLA fuse the arithmetic into a
    few vectorized loops (a ``vmap`` of a per-point interpolation gathers through a
    multi-dimensional index per table).

    Returns:
        ``(value, grad)``: ``value`` of shape ``coords.shape + columns``, ``grad`` a list of the ``d``
        partial derivatives, each shaped like ``value``.
    """
    axes = tuple(axes)
    d = len(axes)
    tail = tuple(tail)
    table = jnp.asarray(table)
    if len(x) != d:
        raise ValueError(f"interp_grad: {len(x)} coordinate arrays for {d} axes")
    if table.ndim < d + len(tail) or tuple(table.shape[:d]) != tuple(ax.n for ax in axes):
        raise ValueError(f"interp_grad: table of shape {table.shape} does not match axes of sizes "
                         f"{tuple(ax.n for ax in axes)} followed by {len(tail)} tail dimension(s)")
    ext = extrapolate if isinstance(extrapolate, (tuple, list)) else (extrapolate,) * d
    lead = table.shape[: d + len(tail)]
    columns = table.shape[d + len(tail):]
    flat_table = table.reshape((-1,) + columns)
    strides = [int(np.prod(lead[j + 1:], dtype=np.int64)) for j in range(len(lead))]
    idx, frac, slope = [], [], []
    for k, ax in enumerate(axes):
        i, t = ax.locate(x[k])
        dt = 1.0 / (ax.points[i + 1] - ax.points[i])
        if not ext[k]:
            dt = jnp.where((t >= 0.0) & (t <= 1.0), dt, 0.0)
            t = jnp.clip(t, 0.0, 1.0)
        idx.append(i)
        frac.append(t)
        slope.append(dt)
    base = 0
    for j, v in enumerate(idx + [jnp.asarray(v_, jnp.int32) for v_ in tail]):
        base = base + v * strides[j]
    expand = (lambda a: a[(...,) + (None,) * len(columns)]) if columns else (lambda a: a)
    frac = [expand(t) for t in frac]
    value = 0.0
    grad = [0.0] * d
    for corner in range(2**d):
        bits = [(corner >> k) & 1 for k in range(d)]
        offset = sum(strides[k] for k in range(d) if bits[k])
        f = jnp.take(flat_table, base + offset, axis=0, mode="clip")
        w = [frac[k] if bits[k] else 1.0 - frac[k] for k in range(d)]
        weight = 1.0
        for k in range(d):
            weight = weight * w[k]
        value = value + weight * f
        for k in range(d):
            others = 1.0
            for m in range(d):
                if m != k:
                    others = others * w[m]
            grad[k] = grad[k] + (others if bits[k] else -others) * f
    return value, [expand(slope[k]) * grad[k] for k in range(d)]


def interp_multilinear(
    axes: Sequence[Axis],
    values: Float[Array, "..."],
    x: Float[Array, "... d"],
    *,
    extrapolate: bool = False,
) -> Float[Array, "..."]:
    """Multilinear interpolation of gridded ``values`` at query points ``x``.

    ``f(x) = Σ_corners Π_k w_k f(corner)``, ``w_k = t_k`` or ``1 − t_k`` with ``t_k`` the query's
    fractional position in its cell along axis ``k``. Exact for functions that are multilinear
    (affine in each coordinate separately) within each cell.

    Args:
        axes: one :class:`Axis` per grid dimension (``d`` of them).
        values: shape ``(n_1, ..., n_d, *trailing)``.
        x: query points, shape ``(..., d)`` (any number of leading batch dimensions).
        extrapolate: see the module docstring (default: clamp to the grid box).

    Returns:
        shape ``(..., *trailing)``.
    """
    axes = tuple(axes)
    d = len(axes)
    if values.ndim < d:
        raise ValueError(f"values must have at least {d} dimensions for {d} axes; got shape {values.shape}")
    for k, ax in enumerate(axes):
        if values.shape[k] != ax.n:
            raise ValueError(
                f"values.shape[{k}] = {values.shape[k]} does not match axis {k} with {ax.n} points"
            )
    x = jnp.asarray(x)
    if x.shape[-1] != d:
        raise ValueError(f"query points must have last dimension {d}; got shape {x.shape}")
    batch = x.shape[:-1]
    flat = x.reshape((-1, d))
    out = jax.vmap(lambda p: _interp_one(axes, values, p, extrapolate))(flat)
    return out.reshape(batch + values.shape[d:])


class Interpolator(eqx.Module):
    """Gridded values bundled with their axes; call it with query points ``(..., d)``."""

    axes: tuple[Axis, ...]
    values: Float[Array, "..."]
    extrapolate: bool = eqx.field(static=True, default=False)

    def __call__(self, x):
        return interp_multilinear(self.axes, self.values, x, extrapolate=self.extrapolate)
