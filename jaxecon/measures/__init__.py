"""Specialization measures over a (regions x industries) array of nonnegative activity.

``shares``            within-region shares s_ci = x_ci / sum_i x_ci
``gini``              Imbs-Wacziarg Gini of the within-region shares (zeros included), O(n log n)
``hhi``               Herfindahl index sum_i s_ci^2
``max_share``         largest within-region share
``rca``               Balassa RCA / location quotient (x_ci/x_c.) / (x_.i/x_..)
``rank_persistence``  rank-rank OLS slope of a measure between two dates

All are pure JAX (jit/vmap safe). A region with zero total activity gets NaN; negative or NaN
concrete input raises ``ValueError``.
"""

from ._concentration import gini, hhi, max_share, shares
from ._persistence import RankPersistence, rank_persistence
from ._rca import rca

__all__ = ["gini", "hhi", "max_share", "rca", "shares", "rank_persistence", "RankPersistence"]
