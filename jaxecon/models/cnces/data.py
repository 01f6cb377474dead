"""Real-data CNCES economy: commuting zones as locations, the 10 ADH industry groups as nests.

Employment of CZ c in group k = (sum of the CZ's 1990 employment shares of the group's SIC87
industries, ``ADHData.share_arrays[1990]``) × the CZ's 1990 population (``ADHData.population[1990]``;
the employment/population ratio cancels from all shares). Observed shares: π_ck = E_ck / Σ_c E_ck,
ω_k = Σ_c E_ck / Σ E. Empty cells (825 of 7,220) get half the smallest positive cell so that logs
exist; they keep φ_ck ≈ 0. Shifters are then recovered in closed form (§3.2) for the requested ρ, θ.
"""

from __future__ import annotations

import numpy as np

from .params import Params
from .recovery import recover_shifters

__all__ = ["adh_shares", "adh_params"]


def adh_shares(adh=None, year: int = 1990) -> dict:
    """Observed CZ × industry-group shares from the ADH files (module docstring).

    Returns dict with ``pi_ck`` (722, 10), ``omega_k`` (10,), ``employment`` (722, 10), ``czones``,
    ``nest_names`` and ``n_empty`` (cells floored).
    """
    if adh is None:
        from ...data import load_adh
        adh = load_adh()
    groups = adh.industries["sicgroup"].to_numpy()
    ids = sorted(set(groups.tolist()))
    S = adh.share_arrays[year]
    E = np.stack([S[:, groups == g].sum(1) for g in ids], axis=1) * adh.population[year][:, None]
    empty = E <= 0
    E = np.where(empty, 0.5 * E[~empty].min(), E)
    return dict(pi_ck=E / E.sum(0), omega_k=E.sum(0) / E.sum(), employment=E, czones=np.asarray(adh.czones),
                nest_names=[f"SIC group {g}" for g in ids], n_empty=int(empty.sum()))


def adh_params(rho=0.64, theta: float = 3.0, adh=None, year: int = 1990) -> tuple[Params, dict]:
    """Params reproducing the ADH CZ × industry-group shares exactly for the given ρ, θ."""
    obs = adh_shares(adh, year)
    return recover_shifters(obs["pi_ck"], obs["omega_k"], theta, rho), obs
