"""A disk cache of equilibrium solutions whose key is everything the solve depends on.

:func:`solve_cached` returns ``solve_equilibrium(params, grid, **solver_kwargs)``, read back from
``cache_dir`` when an identical solve was stored before. The key (:func:`cache_key`) is a SHA-256
over

- every leaf of ``params`` (field name, dtype, shape and the exact bytes of the values),
- every field of ``grid`` (``repr`` of each static value, so floats are exact),
- every solver keyword (the same way; arrays and solutions by their leaves),
- the library tag :func:`solver_fingerprint`: ``jaxecon.__version__``, the JAX version, whether
  float64 is on, and a hash of the source files the solve runs through (the package root,
  ``jaxecon.numerics``, ``jaxecon.models`` top level and ``jaxecon.models.specialization``),

so a changed parameter, grid, setting or solver code can never load a stale solution. The file
holds every leaf of the solution (policies and all convergence diagnostics), written with
:func:`equinox.tree_serialise_leaves` and read back into the structure of the requested solve; a
loaded solution whose params differ from the requested ones by a single bit is discarded and
recomputed. Only converged solves are stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io as _io
import json
import os
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from ...reporting import atomic_write_bytes
from .equilibrium import EquilibriumSolution, solve_equilibrium
from .params import Grid, Params, two_industry_params

__all__ = ["solve_cached", "cache_key", "solver_fingerprint", "default_cache_dir", "solve_default",
           "solve_unconstrained", "DEFAULT_GRID", "UNCONSTRAINED_GRID"]

DEFAULT_GRID = Grid()
# Without the friction, impatient agents (beta R < 1) would borrow toward the natural debt limit;
# the counterfactual keeps the same grid and imposes the ad hoc limit b' >= b_min (Grid.debt_limit):
# a borrowing limit that does not move with the price of capital, so no fire-sale feedback.
UNCONSTRAINED_GRID = Grid(debt_limit=True)

_PACKAGE = Path(__file__).resolve().parents[2]  # .../jaxecon
_SOURCE_GLOBS = ("*.py", "numerics/**/*.py", "models/*.py", "models/specialization/**/*.py")
_fingerprint: str | None = None


def default_cache_dir() -> Path:
    """``$JAXECON_CACHE``, else ``$JAXECON_RESULTS/specialization_cache`` (``results/`` by default)."""
    if os.environ.get("JAXECON_CACHE"):
        return Path(os.environ["JAXECON_CACHE"])
    return Path(os.environ.get("JAXECON_RESULTS", "results")) / "specialization_cache"


def solver_fingerprint() -> str:
    """The library tag of the cache key: version, JAX version, x64 flag and a hash of the solver's sources."""
    global _fingerprint
    if _fingerprint is None:
        import jaxecon

        h = hashlib.sha256()
        files = sorted({f for g in _SOURCE_GLOBS for f in _PACKAGE.glob(g)})
        for f in files:
            h.update(str(f.relative_to(_PACKAGE)).encode())
            h.update(f.read_bytes())
        x64 = bool(jax.config.read("jax_enable_x64"))
        _fingerprint = f"jaxecon-{jaxecon.__version__}/jax-{jax.__version__}/x64-{x64}/src-{h.hexdigest()[:16]}"
    return _fingerprint


def _feed(h, obj, path: str) -> None:
    """Hash ``obj`` exactly, with its path; raise ``TypeError`` for a value that cannot be keyed."""
    h.update(f"<{path}:{type(obj).__module__}.{type(obj).__qualname__}>".encode())
    if obj is None or isinstance(obj, (bool, int, float, complex, str, np.generic)):
        h.update(repr(obj).encode())
    elif isinstance(obj, (np.ndarray, jax.Array)):
        a = np.asarray(obj)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    elif isinstance(obj, (tuple, list)):
        h.update(str(len(obj)).encode())
        for i, v in enumerate(obj):
            _feed(h, v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            _feed(h, obj[k], f"{path}.{k}")
    elif dataclasses.is_dataclass(obj):  # eqx.Module: Params, Grid, a solution used as init, ...
        for f in dataclasses.fields(obj):
            _feed(h, getattr(obj, f.name), f"{path}.{f.name}")
    else:
        raise TypeError(f"solve_cached cannot key {path} of type {type(obj).__name__}; pass plain numbers, "
                        "arrays or equinox modules")


def cache_key(params: Params, grid: Grid, **solver_kwargs) -> str:
    """The hex SHA-256 key of a solve (module docstring: parameters, grid, solver settings, library tag)."""
    h = hashlib.sha256()
    h.update(solver_fingerprint().encode())
    _feed(h, params, "params")
    _feed(h, grid, "grid")
    _feed(h, dict(solver_kwargs), "solver")
    return h.hexdigest()


def _same_leaves(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    if jax.tree_util.tree_structure(a) != jax.tree_util.tree_structure(b) or len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            return False
    return True


def _load(path: Path, like, params: Params, grid: Grid):
    try:
        sol = eqx.tree_deserialise_leaves(path, like)
    except Exception:  # partial or foreign file: recompute
        return None
    for got, want in zip(jax.tree_util.tree_leaves(sol), jax.tree_util.tree_leaves(like)):
        if np.shape(got) != want.shape or np.asarray(got).dtype != want.dtype:
            return None
    if sol.grid != grid or not _same_leaves(sol.params, params):
        return None
    return sol


def solve_cached(params: Params, grid: Grid | None = None, *, cache_dir=None, name: str = "solution",
                 verbose: bool = False, **solver_kwargs) -> EquilibriumSolution:
    """``solve_equilibrium(params, grid, **solver_kwargs)``, from the disk cache when stored before.

    Args:
        params: one unbatched :class:`Params`.
        grid: the :class:`Grid` (default ``Grid()``).
        cache_dir: folder of the cache (default :func:`default_cache_dir`).
        name: a readable prefix of the file name (``<name>_<key[:20]>.eqx``; the key decides, not the name).
        verbose: print the summary and the solve time (or that the solution was read from the cache).
        **solver_kwargs: passed to :func:`solve_equilibrium` and part of the key.

    Returns:
        The solution, with every diagnostic of the original solve. Converged solves are written to the
        cache (atomically, with a ``.json`` note of the key's ingredients); a non-converged one is
        returned but never stored.
    """
    grid = DEFAULT_GRID if grid is None else grid
    if not isinstance(params, Params):
        raise ValueError(f"params must be a specialization Params; got {type(params).__name__}")
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    if params.gamma.ndim != 0:
        raise ValueError("solve_cached takes one economy (unbatched Params)")
    key = cache_key(params, grid, **solver_kwargs)
    folder = Path(default_cache_dir() if cache_dir is None else cache_dir)
    path = folder / f"{name}_{key[:20]}.eqx"
    if path.exists():
        like = eqx.filter_eval_shape(lambda p: solve_equilibrium(p, grid, **solver_kwargs), params)
        sol = _load(path, like, params, grid)
        if sol is not None:
            if verbose:
                print(f"[{name}] read from {path}\n[{name}] {sol.summary()}", flush=True)
            return sol
    t0 = time.perf_counter()
    sol = solve_equilibrium(params, grid, **solver_kwargs)
    jax.block_until_ready(sol)
    if verbose:
        print(f"[{name}] {sol.summary()}\n[{name}] solved in {time.perf_counter() - t0:.1f} s", flush=True)
    if bool(sol.converged):
        buf = _io.BytesIO()
        eqx.tree_serialise_leaves(buf, sol)
        atomic_write_bytes(path, buf.getvalue())
        note = {"key": key, "library": solver_fingerprint(), "grid": repr(grid),
                "solver_kwargs": {k: repr(v) for k, v in solver_kwargs.items()},
                "params": {f.name: np.asarray(getattr(params, f.name)).tolist() for f in dataclasses.fields(params)}}
        atomic_write_bytes(path.with_suffix(".json"), json.dumps(note, indent=1).encode())
    return sol


def solve_default(*, cache_dir=None, verbose: bool = True) -> EquilibriumSolution:
    """The two-industry preset (θ = 0.02) on the default grid, through :func:`solve_cached`."""
    return solve_cached(two_industry_params(), DEFAULT_GRID, cache_dir=cache_dir, name="two_industry_default",
                        verbose=verbose)


def solve_unconstrained(*, cache_dir=None, verbose: bool = True) -> EquilibriumSolution:
    """The same economy without the financial friction (θ = inf) on ``Grid(debt_limit=True)``: the
    paper's counterfactual, with the ad hoc debt limit ``b' >= b_min`` (:data:`UNCONSTRAINED_GRID`)."""
    return solve_cached(two_industry_params(theta=float("inf")), UNCONSTRAINED_GRID, cache_dir=cache_dir,
                        name="two_industry_theta_inf", verbose=verbose)
