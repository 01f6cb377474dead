"""Rank-rank persistence regressions with fixed effects (paper 002, Fact 3 / eq. 5 and eq. 33)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frame import RegressionResult, ols

__all__ = ["rank_rank"]


def rank_rank(data: pd.DataFrame, now: str, before: str, *, rank_within=None, fe=(), log: bool = True,
              descending: bool = True, positive_only: bool = True, weights: str | None = None,
              vcov: str | None = None, cluster: str | None = None, ssc: str = "fixest") -> RegressionResult:
    """Regress the rank of ``now`` on the rank of ``before`` (both ranked within groups), with fixed effects.

    Paper 002, Fact 3 (Morris-Levenson 2022)::

        log Rank_{i,c,t} = alpha + beta_h log Rank_{i,c,t-h} + delta_c + gamma_i + e_{i,c,t}

    ``Rank`` is the rank of region c among all regions in industry i (``rank_within="industry"``) by
    the measure (e.g. RCA), 1 = the largest (``descending=True``), ties at their average rank; ``beta_h``
    is the rank-rank elasticity (1: the ordering persists fully). Fixed effects are absorbed.

    Args:
        data: long frame, one row per (unit, group).
        now, before: columns of the measure at the later and earlier date.
        rank_within: column(s) within whose groups to rank (None: rank over all rows).
        fe: fixed effects to absorb (e.g. ``("czone", "industry")``).
        log: regress log ranks (an elasticity) instead of ranks.
        positive_only: keep only rows where both measures are > 0 (an industry present in the region
            at both dates) and rank among those; otherwise zeros tie at the bottom.
        weights, vcov, cluster, ssc: passed to :func:`jaxecon.econometrics.ols`.

    Returns:
        :class:`RegressionResult` of ``rank_now`` on ``rank_before``; coefficient name ``"rank_before"``.
    """
    for c in (now, before):
        if c not in data.columns:
            raise ValueError(f"column {c!r} not found in data")
    df = data.copy()
    if positive_only:
        df = df[(df[now] > 0) & (df[before] > 0)]
    keys = [] if rank_within is None else ([rank_within] if isinstance(rank_within, str) else list(rank_within))
    for c in keys:
        if c not in df.columns:
            raise ValueError(f"column {c!r} (rank_within) not found in data")

    def rank(col):
        s = df.groupby(keys)[col] if keys else df[col]
        return s.rank(method="average", ascending=not descending)

    df["rank_now"] = rank(now)
    df["rank_before"] = rank(before)
    if log:
        df["rank_now"] = np.log(df["rank_now"])
        df["rank_before"] = np.log(df["rank_before"])
    return ols(df, "rank_now", "rank_before", fe=fe, weights=weights, vcov=vcov, cluster=cluster, ssc=ssc)
