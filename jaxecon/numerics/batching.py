"""Batching and sharding of parameter pytrees.

Every solver in jaxecon takes one parameter set; a batch of regions (or of parameter values) is a
pytree whose array leaves carry one extra leading axis, built by :func:`stack` and solved with
``jax.vmap``. :func:`shard_batch` spreads that leading axis over all available devices with
``jax.sharding`` so the same ``jit(vmap(solve))`` call runs on 1 CPU, 1 GPU or several devices.
Test multi-device behaviour on a CPU with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
set before importing jax.
"""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
from jaxtyping import PyTree

__all__ = ["stack", "unstack", "batch_size", "regions_mesh", "shard_batch", "unpad", "sharded_vmap"]


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


def sharded_vmap(fn: Callable, batched: PyTree, *args, mesh=None) -> PyTree:
    """``jit(vmap(fn))(batched, *args)`` with the batch sharded over all devices; padding removed.

    ``args`` are broadcast (not batched) to every element.
    """
    sharded, n = shard_batch(batched, mesh)
    out = jax.jit(jax.vmap(fn, in_axes=(0,) + (None,) * len(args)))(sharded, *args)
    return unpad(out, n)
