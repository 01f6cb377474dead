"""Calibration targets of the synthetic default: summary numbers of the real ADH data (1990).

The numbers live in the package data file ``targets.json``, written by
``python -m jaxecon.data._make_targets`` (see that module for the definitions); this module reads it
once at import. Numbers only: no commuting-zone-level data.

``YEAR``, ``STATISTICS`` (names, in the order of ``CORRELATION``), ``EMP_POP_RATIO``, ``TARGETS``
(``{statistic: {"p5", ..., "p95", "mean", "sd"}}``), ``PROBS`` and ``QUANTILES``
(``{statistic: inverse CDF at PROBS}``), ``CORRELATION`` (5 x 5, normal scores).
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["YEAR", "STATISTICS", "EMP_POP_RATIO", "TARGETS", "PROBS", "QUANTILES", "CORRELATION", "load"]


def load() -> dict:
    """The contents of ``targets.json`` (lists turned into tuples, as the generator computes them)."""
    raw = json.loads(resources.files(__package__).joinpath("targets.json").read_text(encoding="utf-8"))
    return {
        "YEAR": int(raw["YEAR"]),
        "STATISTICS": tuple(raw["STATISTICS"]),
        "EMP_POP_RATIO": float(raw["EMP_POP_RATIO"]),
        "TARGETS": {k: {q: float(v) for q, v in d.items()} for k, d in raw["TARGETS"].items()},
        "PROBS": tuple(float(p) for p in raw["PROBS"]),
        "QUANTILES": {k: tuple(float(v) for v in q) for k, q in raw["QUANTILES"].items()},
        "CORRELATION": tuple(tuple(float(c) for c in row) for row in raw["CORRELATION"]),
    }


_T = load()
YEAR: int = _T["YEAR"]
STATISTICS: tuple = _T["STATISTICS"]
EMP_POP_RATIO: float = _T["EMP_POP_RATIO"]
TARGETS: dict = _T["TARGETS"]
PROBS: tuple = _T["PROBS"]
QUANTILES: dict = _T["QUANTILES"]
CORRELATION: tuple = _T["CORRELATION"]
del _T
