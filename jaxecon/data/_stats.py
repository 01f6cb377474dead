"""The five cross-CZ statistics that the synthetic default is calibrated to match."""

from __future__ import annotations

import numpy as np

#: Names of the statistics, in the order of the copula correlation matrix in ``targets.json``.
STATISTICS = ("log_population", "manuf_share", "gini", "hhi", "machinery_share")


def cz_statistics(population, manuf_share, industry_activity, sic2) -> dict[str, np.ndarray]:
    """Per-CZ statistics used to calibrate and check :func:`jaxecon.data.synthetic_czs`.

    Args:
        population: ``(n,)`` CZ population.
        manuf_share: ``(n,)`` manufacturing share of CZ employment (ADH ``Lsh_manuf``).
        industry_activity: ``(n, 397)`` manufacturing activity by industry, any row scale (ADH
            ``ind_share`` or employment counts).
        sic2: ``(397,)`` 2-digit SIC of each column.

    Returns:
        dict with ``(n,)`` arrays: ``log_population``; ``manuf_share``; ``gini`` (unnormalized
        Imbs-Wacziarg Gini of the within-manufacturing industry shares, zeros included); ``hhi``
        (Herfindahl of the same shares); ``machinery_share`` (share of SIC 35, industrial machinery,
        in the CZ's manufacturing employment). Rows without manufacturing give NaN in the last three.
    """
    from ..measures import gini, hhi

    x = np.asarray(industry_activity, dtype=np.float64)
    tot = x.sum(axis=1)
    mach = np.asarray(sic2) == 35
    with np.errstate(invalid="ignore", divide="ignore"):
        msh = np.where(tot > 0, x[:, mach].sum(axis=1) / np.where(tot > 0, tot, 1.0), np.nan)
    return {
        "log_population": np.log(np.asarray(population, dtype=np.float64)),
        "manuf_share": np.asarray(manuf_share, dtype=np.float64),
        "gini": np.asarray(gini(x)),
        "hhi": np.asarray(hhi(x)),
        "machinery_share": msh,
    }
