"""Saving and loading an :class:`EquilibriumSolution` as ``.npz`` with the keys of issue 6."""

from __future__ import annotations

import io as _io
import os
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from ...reporting import atomic_write_bytes
from .equilibrium import RESULTS, EquilibriumSolution
from .params import Grid, Params

__all__ = ["save_npz", "load_npz", "NPZ_KEYS"]

NPZ_KEYS = ("b_grid", "k_grid", "z", "R", "P", "alpha", "beta", "gamma", "theta", "xi", "phi", "delta",
            "c", "q", "eta", "b_next", "k_next")


def save_npz(sol: EquilibriumSolution, path) -> Path:
    """Write exactly ``NPZ_KEYS`` (atomically). For I = 1 a length-1 k axis (k_grid = [1.0]) is
    inserted so policies are ``(n_b, 1, n_s)`` and ``k_next`` is ``(n_b, 1, n_s, 1)``."""
    if sol.c.ndim != sol.k_next.ndim - 1 or sol.iterations.ndim != 0:
        raise ValueError("to_npz needs an unbatched solution (index the batch first)")
    I = sol.n_industries
    axes = sol.axes
    pol = {k: np.asarray(getattr(sol, k)) for k in ("c", "q", "eta", "b_next", "k_next")}
    if I == 1:
        k_grid = np.array([1.0])
        pol = {k: v[:, None] for k, v in pol.items()}
    else:
        k_grid = np.asarray(axes[1].points)
    p = sol.params
    data = dict(b_grid=np.asarray(axes[0].points), k_grid=k_grid, z=np.asarray(p.z), R=np.asarray(p.R),
                P=np.asarray(p.P), alpha=np.asarray(p.alpha), beta=np.asarray(p.beta), gamma=np.asarray(p.gamma),
                theta=np.asarray(p.theta), xi=np.asarray(p.xi), phi=np.asarray(p.phi), delta=np.asarray(p.delta),
                **pol)
    assert tuple(data) == NPZ_KEYS
    buf = _io.BytesIO()
    np.savez(buf, **data)
    return atomic_write_bytes(Path(path), buf.getvalue())


def load_npz(path) -> EquilibriumSolution:
    """Rebuild a solution from :func:`save_npz` output. The grid is rebuilt from explicit points
    (``Grid(b_points=..., k_points=...)``); binding is ``η > 0``; convergence diagnostics, which
    the file does not hold, are set to ``converged=True``, ``iterations=-1`` and NaN residuals."""
    with np.load(path) as f:
        missing = [k for k in NPZ_KEYS if k not in f]
        if missing:
            raise ValueError(f"{path} lacks the key(s) {missing}")
        d = {k: f[k] for k in NPZ_KEYS}
    I = d["xi"].shape[0]
    params = Params(gamma=d["gamma"], alpha=d["alpha"], beta=d["beta"], theta=d["theta"], xi=d["xi"],
                    phi=d["phi"], delta=d["delta"], z=d["z"], R=d["R"], P=d["P"])
    pol = {k: d[k] for k in ("c", "q", "eta", "b_next", "k_next")}
    if I == 1:
        pol = {k: v[:, 0] for k, v in pol.items()}
        grid = Grid(b_points=tuple(float(x) for x in d["b_grid"]))
    else:
        grid = Grid(b_points=tuple(float(x) for x in d["b_grid"]), k_points=tuple(float(x) for x in d["k_grid"]))
    shape = pol["c"].shape
    from .grid import grid_states

    feasible = np.asarray(grid_states(grid, I, d["z"].shape[0])[3]).reshape(shape)
    binding = pol["eta"] > 0
    return EquilibriumSolution(
        params=params, grid=grid, **{k: jnp.asarray(v) for k, v in pol.items()},
        binding=jnp.asarray(binding), no_equilibrium=jnp.zeros(shape, bool), feasible=jnp.asarray(feasible),
        iterations=jnp.asarray(-1), max_change=jnp.asarray(np.nan), max_residual=jnp.asarray(np.nan),
        converged=jnp.asarray(True), result=RESULTS.successful, n_no_equilibrium=jnp.asarray(0),
        n_unsolved=jnp.asarray(0), share_binding=jnp.asarray(float(binding[feasible].mean())),
        share_b_low=jnp.asarray(float((pol["b_next"] <= d["b_grid"][0])[feasible].mean())),
        share_b_high=jnp.asarray(float((pol["b_next"] >= d["b_grid"][-1])[feasible].mean())),
        share_off_grid=jnp.asarray(0.0), sweep_newton_steps=jnp.asarray(-1),
    )
