"""The decentralized equilibrium's solution object, and its ``.npz`` file (the keys of issue 6)."""

from __future__ import annotations

import io as _io
from pathlib import Path

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...numerics.time_iteration import RESULTS, PolicySolution
from ...reporting import atomic_write_bytes
from .grid import grid_states, state_axes
from .params import Grid, Params

__all__ = ["EquilibriumSolution", "NPZ_KEYS"]

NPZ_KEYS = ("b_grid", "k_grid", "z", "R", "P", "alpha", "beta", "gamma", "theta", "xi", "phi", "delta",
            "c", "q", "eta", "b_next", "k_next")


class EquilibriumSolution(PolicySolution):
    """Policies on the grid and convergence diagnostics of :func:`solve_equilibrium`.

    Policy arrays have shape ``(n_b, n_k, ..., n_k, n_s)`` (I−1 share axes; ``(n_b, n_s)`` when
    I = 1); ``k_next`` has a trailing axis of length I. Under ``vmap`` every field gains a leading
    batch axis and every diagnostic is per element.

    Attributes:
        params, grid: the inputs.
        c, q, eta, b_next, k_next: consumption, capital price, collateral multiplier, bonds and
            capital shares chosen for next period.
        binding: nodes where the constraint binds.
        no_equilibrium: nodes where no equilibrium exists (flagged, see module docstring).
        feasible: nodes inside the simplex (all True for I <= 2).
        iterations: time-iteration sweeps performed.
        max_change: sup-norm of the relative policy change in the last sweep.
        max_residual: largest Newton residual (relative Euler error) over valid feasible nodes.
        converged: ``max_change <= tol`` with every node solved and no no-equilibrium node.
        result: a :class:`jaxecon.numerics.time_iteration.RESULTS` item (``RESULTS[sol.result]`` is
            its message; ``sol.result == RESULTS.successful`` per element).
        n_no_equilibrium, n_unsolved: counts of flagged nodes in the last sweep.
        share_binding: share of feasible nodes where the constraint binds.
        share_b_low, share_b_high: share of feasible nodes whose b' lies at or beyond the lower /
            upper end of the bond grid.
        share_off_grid: share of feasible nodes whose b' leaves the bond grid (without
            ``Grid.b_extrapolate``): the grid is too narrow, and ``result`` is ``grid_edge``.
        sweep_newton_steps: Newton steps per node allowed in the (non-final) sweeps at the end:
            ``newton_sweep_iter``, or ``newton_max_iter`` after a stall (see ``solve_equilibrium``).
    """

    params: Params
    grid: Grid
    c: Float[Array, "..."]
    q: Float[Array, "..."]
    eta: Float[Array, "..."]
    b_next: Float[Array, "..."]
    k_next: Float[Array, "... I"]
    binding: Bool[Array, "..."]
    no_equilibrium: Bool[Array, "..."]
    feasible: Bool[Array, "..."]
    max_residual: Float[Array, ""]
    n_no_equilibrium: Int[Array, ""]
    n_unsolved: Int[Array, ""]
    share_binding: Float[Array, ""]
    share_b_low: Float[Array, ""]
    share_b_high: Float[Array, ""]
    share_off_grid: Float[Array, ""]
    sweep_newton_steps: Int[Array, ""]

    @property
    def n_industries(self) -> int:
        return self.k_next.shape[-1]

    @property
    def axes(self) -> tuple:
        """The interpolation axes ``(b, k_1..k_{I−1})``."""
        return state_axes(self.grid, self.n_industries)

    def summary(self) -> str:
        """A one-paragraph human-readable account of the solve (unbatched solutions)."""
        lines = [
            f"time iteration: {RESULTS[self.result]} after {int(self.iterations)} sweeps "
            f"(sup-norm change {float(self.max_change):.2e}, max Newton residual {float(self.max_residual):.1e})",
            f"constraint binds at {100 * float(self.share_binding):.1f}% of grid states; "
            f"no-equilibrium states: {int(self.n_no_equilibrium)}; unsolved: {int(self.n_unsolved)}",
            f"b' at/below the bond-grid bottom at {100 * float(self.share_b_low):.1f}% of states, "
            f"at/above the top at {100 * float(self.share_b_high):.1f}%",
        ]
        if int(self.sweep_newton_steps) > 1:
            lines.append(f"Newton steps per node and sweep at the end: {int(self.sweep_newton_steps)} "
                         "(newton_sweep_iter, or newton_max_iter once a stall switched to full solves per sweep)")
        stuck = (self.result == RESULTS.max_steps_reached) | (self.result == RESULTS.nonfinite)
        if int(self.n_unsolved) > 0 or bool(stuck):
            lines.append("NOT CONVERGED: too few Newton steps per node and sweep, or an unstable iteration; try "
                         "newton_sweep_iter=3, damping=0.3, or a wider grid")
        if float(self.share_off_grid) > 0:
            lines.append(f"OFF THE GRID: b' leaves the bond grid at {100 * float(self.share_off_grid):.1f}% of states; "
                         "widen the grid (b_min, b_max) or, if the economy has no debt limit, this theta admits no "
                         "equilibrium on it")
        if int(self.n_no_equilibrium) > 0:
            lines.append("NO EQUILIBRIUM where the constraint binds at some states: the fire-sale feedback "
                         "gain theta*gamma*q/c exceeds one there (lower theta or gamma)")
        return "\n".join(lines)

    def to_npz(self, path) -> None:
        """Write the solution (I = 1, 2: exactly the keys listed in issue 6).

        Keys: ``b_grid (n_b,)``, ``k_grid`` (grid of k_1, length 1 when I = 1), ``z (n_s, I)``,
        ``R (n_s,)``, ``P``, scalars ``alpha beta gamma theta``, ``xi phi delta (I,)``, and
        ``c q eta b_next (n_b, n_k, n_s)``, ``k_next (n_b, n_k, n_s, I)``. For I = 3 the same keys
        with two share axes (``k_grid`` is the common axis of k_1 and k_2).
        """
        return _save_npz(self, path)

    @classmethod
    def from_npz(cls, path) -> "EquilibriumSolution":
        """Read a file written by :meth:`to_npz` (diagnostics recomputed where possible)."""
        return _load_npz(cls, path)



def _save_npz(sol, path) -> Path:
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


def _load_npz(cls, path):
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
    feasible = np.asarray(grid_states(grid, I, d["z"].shape[0])[3]).reshape(shape)
    binding = pol["eta"] > 0
    return cls(
        params=params, grid=grid, **{k: jnp.asarray(v) for k, v in pol.items()},
        binding=jnp.asarray(binding), no_equilibrium=jnp.zeros(shape, bool), feasible=jnp.asarray(feasible),
        iterations=jnp.asarray(-1), max_change=jnp.asarray(np.nan), max_residual=jnp.asarray(np.nan),
        converged=jnp.asarray(True), result=RESULTS.successful, n_no_equilibrium=jnp.asarray(0),
        n_unsolved=jnp.asarray(0), share_binding=jnp.asarray(float(binding[feasible].mean())),
        share_b_low=jnp.asarray(float((pol["b_next"] <= d["b_grid"][0])[feasible].mean())),
        share_b_high=jnp.asarray(float((pol["b_next"] >= d["b_grid"][-1])[feasible].mean())),
        share_off_grid=jnp.asarray(0.0), sweep_newton_steps=jnp.asarray(-1),
    )
