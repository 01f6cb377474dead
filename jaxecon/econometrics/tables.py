"""Regression tables in the usual layout: coefficient with stars over its (standard error)."""

from __future__ import annotations

import pandas as pd

from ._frame import RegressionResult

__all__ = ["regression_table", "stars"]


def stars(p: float, levels=(0.1, 0.05, 0.01)) -> str:
    """``*``, ``**``, ``***`` for p below the 10%, 5%, 1% levels (default)."""
    return "*" * sum(p < lv for lv in levels)


def regression_table(results: dict[str, RegressionResult], rows=None, labels: dict | None = None,
                     digits: int = 3, extra: dict[str, list] | None = None) -> pd.DataFrame:
    """Side-by-side table: one column per model, rows ``coef***`` and ``(se)``, then N and extras.

    Args:
        results: ``{column title: RegressionResult}``.
        rows: regressors to show, in order (default: union of all, first-seen order, no intercept).
        labels: display names for regressors.
        digits: decimals.
        extra: further rows, ``{row label: [one value per model]}`` (e.g. first-stage F, controls).

    Returns:
        DataFrame of strings (index: row labels; blank label for SE rows is ``""`` made unique).
    """
    labels = labels or {}
    if rows is None:
        rows = []
        for r in results.values():
            rows += [c for c in r.params.index if c not in rows and c != "Intercept"]
    out: dict[str, list] = {}
    index = []
    for name in rows:
        index += [labels.get(name, name), " " * (len(index) // 2 + 1)]
    for title, r in results.items():
        col = []
        for name in rows:
            if name in r.params.index:
                col += [f"{r.params[name]:.{digits}f}{stars(float(r.pvalue[name]))}", f"({r.se[name]:.{digits}f})"]
            else:
                col += ["", ""]
        col.append(f"{r.nobs:,}")
        out[title] = col
    index.append("Observations")
    if extra:
        for lab, vals in extra.items():
            for title, v in zip(results, vals):
                out[title].append(v if isinstance(v, str) else f"{v:.{digits}f}" if isinstance(v, float) else str(v))
            index.append(lab)
    return pd.DataFrame(out, index=index)
