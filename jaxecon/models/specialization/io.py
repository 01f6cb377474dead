"""Saving and loading an :class:`EquilibriumSolution` as ``.npz`` with the keys of issue 6."""

from __future__ import annotations

from pathlib import Path

from .solution import NPZ_KEYS, EquilibriumSolution

__all__ = ["save_npz", "load_npz", "NPZ_KEYS"]


def save_npz(sol: EquilibriumSolution, path) -> Path:
    """Write exactly ``NPZ_KEYS`` (atomically): :meth:`EquilibriumSolution.to_npz`."""
    return sol.to_npz(path)


def load_npz(path) -> EquilibriumSolution:
    """Rebuild a solution from :func:`save_npz` output: :meth:`EquilibriumSolution.from_npz`."""
    return EquilibriumSolution.from_npz(path)
