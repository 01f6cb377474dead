"""Batching and sharding of parameter pytrees.

Every solver in jaxecon takes one parameter set; a batch of regions (or of parameter values) is a
pytree whose array leaves carry one extra leading axis, built by :func:`stack` and solved with
``jax.vmap``. :func:`shard_batch` spreads that leading axis over all available devices with
``jax.sharding`` so the same ``jit(vmap(solve))`` call runs on 1 CPU, 1 GPU or several devices;
:func:`sharded_map` instead solves each device's share one element after another (``lax.map``),
which on a CPU is faster for solvers whose elements take different numbers of iterations.

A CPU is one JAX device unless told otherwise: :func:`use_cpu_cores` (or
``jax.config.update("jax_num_cpu_devices", n)``, or ``XLA_FLAGS=--xla_force_host_platform_device_count=n``),
before the first JAX operation, makes it ``n`` devices, one per core, so the sharded calls keep
every core busy with its own elements (XLA's own threading within one element leaves much of a
second core idle on the small arrays of a single solve).
"""

from __future__ import annotations

from typing import Callable, Sequence

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from jaxtyping import PyTree

__all__ = ["stack", "unstack", "batch_size", "regions_mesh", "shard_batch", "unpad", "sharded_vmap", "sharded_map",
           "map_batch", "use_cpu_cores"]


def stack(trees: Sequence[PyTree]) -> PyTree:
    """Stack a list of pytrees of identical structure (e.g. equinox Params) along a new axis 0.

    Static fields (e.g. grid sizes) must be equal across the list; array leaves are stacked.
    """
    trees = list(trees)
    if not trees:
        raise ValueError("stack needs at least one pytree")
    struct = jax.tree.structure(trees[0])
    for k, t in enumerate(trees[1:], start=1):
        if jax.tree.structure(t) != struct:
            raise ValueError(
                f"element {k} has a different structure (or different static fields) than element 0"
            )
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def batch_size(tree: PyTree) -> int:
    """Length of the leading (batch) axis shared by all array leaves."""
    sizes = {np.shape(x)[0] for x in jax.tree.leaves(tree) if np.ndim(x) > 0}
    if len(sizes) != 1:
        raise ValueError(f"array leaves disagree on the batch size: {sorted(sizes)}")
    return sizes.pop()


def unstack(tree: PyTree) -> list[PyTree]:
    """Inverse of :func:`stack`: a list with one pytree per batch element."""
    n = batch_size(tree)
    return [jax.tree.map(lambda x, i=i: x[i], tree) for i in range(n)]


def regions_mesh(n_devices: int | None = None, axis_name: str = "regions") -> jax.sharding.Mesh:
    """A one-dimensional device mesh over the first ``n_devices`` devices (default: all).

    Uses ``AxisType.Auto`` (DESIGN.md: the ``Explicit`` default breaks optimistix/lineax solvers).
    """
    n = n_devices or jax.device_count()
    kw = {}
    if hasattr(jax.sharding, "AxisType"):
        kw["axis_types"] = (jax.sharding.AxisType.Auto,)
    return jax.make_mesh((n,), (axis_name,), **kw)


def shard_batch(tree: PyTree, mesh: jax.sharding.Mesh | None = None) -> tuple[PyTree, int]:
    """Pad the leading axis to a multiple of the device count and shard it over ``mesh``.

    Padding repeats the last element (so padded rows are valid inputs and produce no NaNs).

    Returns:
        ``(sharded_tree, n)``: the padded, sharded pytree and the original batch size ``n``; drop
        the padding from results with :func:`unpad`.
    """
    mesh = mesh or regions_mesh()
    n = batch_size(tree)
    n_dev = mesh.devices.size
    pad = (-n) % n_dev
    axis = mesh.axis_names[0]

    def put(x):
        x = jnp.asarray(x)
        if x.ndim == 0:
            return jax.device_put(x, NamedSharding(mesh, P()))
        if pad:
            x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)], axis=0)
        return jax.device_put(x, NamedSharding(mesh, P(axis)))

    return jax.tree.map(put, tree), n


def unpad(tree: PyTree, n: int) -> PyTree:
    """Keep the first ``n`` entries of every batched leaf (drop :func:`shard_batch` padding)."""
    return jax.tree.map(lambda x: x[:n] if np.ndim(x) > 0 else x, tree)


def use_cpu_cores(n: int | None = None) -> int:
    """Make the CPU ``n`` JAX devices (default: one per core); call before the first JAX operation.

    With one device per core, :func:`sharded_map` and :func:`sharded_vmap` run each core on its own
    share of the batch. Returns ``n``. Raises a ``RuntimeError`` saying so when JAX has already
    started its backends (the device count is fixed from then on).
    """
    n = int(n or os.cpu_count() or 1)
    if n < 1:
        raise ValueError(f"use_cpu_cores: need at least one device; got {n}")
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError as err:
        raise RuntimeError("use_cpu_cores must be called before the first JAX operation (the CPU device "
                           f"count is fixed once JAX has started): {err}") from None
    return n


@functools.lru_cache(maxsize=32)
def _compiled(fn: Callable, mesh, n_args: int, kind: str):
    """The jitted batched form of ``fn`` (cached, so repeated calls do not recompile)."""
    if kind == "vmap":
        return jax.jit(jax.vmap(fn, in_axes=(0,) + (None,) * n_args))
    if kind == "lax_map":
        return jax.jit(lambda batch, *args: jax.lax.map(lambda one: fn(one, *args), batch))
    spec = P(mesh.axis_names[0])

    def each_device(batch, *args):
        return jax.lax.map(lambda one: fn(one, *args), batch)

    specs = dict(mesh=mesh, in_specs=(spec,) + (P(),) * n_args, out_specs=spec)
    if hasattr(jax, "shard_map"):
        return jax.jit(jax.shard_map(each_device, check_vma=False, **specs))
    from jax.experimental.shard_map import shard_map  # jax < 0.7

    return jax.jit(shard_map(each_device, check_rep=False, **specs))


def sharded_vmap(fn: Callable, batched: PyTree, *args, mesh=None) -> PyTree:
    """``jit(vmap(fn))(batched, *args)`` with the batch sharded over all devices; padding removed.

    ``args`` are broadcast (not batched) to every element. Every element of a device's share runs
    in one vectorized program (a solver's loop runs until its slowest element has converged).
    """
    mesh = mesh or regions_mesh()
    sharded, n = shard_batch(batched, mesh)
    return unpad(_compiled(fn, mesh, len(args), "vmap")(sharded, *args), n)


def sharded_map(fn: Callable, batched: PyTree, *args, mesh=None) -> PyTree:
    """``fn`` at every element of ``batched``: the batch split over the devices, each device solving
    its share one element after another (``lax.map`` inside ``shard_map``); padding removed.

    ``args`` are broadcast to every element. Each element runs only its own iterations, so for
    solvers whose elements converge at different speeds this beats :func:`sharded_vmap` on a CPU
    (the specialization benchmark, ``benchmarks/RESULTS.md``); on a GPU, where the vectorized
    program fills the device, prefer :func:`sharded_vmap`. The compiled program is cached per
    ``(fn, mesh, len(args))``: pass the same ``fn`` object to reuse it.

    Not for gradients through implicitly differentiated solves: under ``jax.grad`` the optimistix
    adjoint inside ``lax.map`` raises equinox's "closure-converted function called with different
    dynamic arguments" (found by the indirect-inference calibration). Differentiate a batch with
    ``jax.vmap`` instead (tested: ``tests/test_time_iteration.py``).
    """
    mesh = mesh or regions_mesh()
    sharded, n = shard_batch(batched, mesh)
    return unpad(_compiled(fn, mesh, len(args), "map")(sharded, *args), n)


def map_batch(fn: Callable, batched: PyTree, *args, mesh=None) -> PyTree:
    """``fn`` at every element of ``batched`` in ONE compiled call, in the way that is fastest for
    iterative solvers on the backend at hand.

    On a CPU each element runs only its own iterations, one element after another: over the devices
    with :func:`sharded_map` when JAX has several CPU devices (:func:`use_cpu_cores`), else with
    ``jax.lax.map`` on the one device (``jax.vmap`` would run every element until the slowest has
    converged, with no vector units to gain from it). On an accelerator, :func:`sharded_vmap` (one
    vectorized program per device fills it). ``args`` are broadcast to every element; results are
    those of ``jax.vmap(fn)`` (to round-off). Not for reverse-mode gradients through implicitly
    differentiated solves on a multi-device CPU (see :func:`sharded_map`).
    """
    if jax.default_backend() == "cpu":
        if len(jax.devices()) > 1:
            return sharded_map(fn, batched, *args, mesh=mesh)
        return _compiled(fn, None, len(args), "lax_map")(batched, *args)
    return sharded_vmap(fn, batched, *args, mesh=mesh)
