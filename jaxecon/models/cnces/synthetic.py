"""The embedded default economy: 722 locations x 8 occupations, generated in code (no data file).

* Occupation shifters T_k: paper 004, Table 2(A) (2019 estimates), in its order.
* Location shifters T_c: the 8 largest locations get the paper's Table 2(B) values (the top 8 US
  metros, 3.03 down to 2.00); the other N - 8 are lognormal, ln T_c ~ N(ln 1.8, 0.15²), capped just
  below 2.00, so that the whole range spans the factor of three the paper reports ("some shifters
  being up to three times larger than others") and, with θ = 3 and ρ = 0.64, location shares span
  about four orders of magnitude (largest 8.4%, sd of ln π_c 1.06), like US commuting-zone populations.
* Location-occupation shifters: ln t_ck = β_k s_c + σ_t e_ck with s_c the standardized ln T_c, an
  urban gradient β_k (management, professional and sales more present in large locations; trades and
  primary in small ones) and idiosyncratic specialization e_ck ~ N(0, 1), σ_t = 0.15.
Randomness: numpy ``Generator(PCG64(seed))``; the same seed gives the same economy bit for bit.
"""

from __future__ import annotations

import numpy as np

from .params import Params

__all__ = ["OCCUPATIONS", "OCCUPATION_SHIFTERS", "TOP_CITIES", "TOP_CITY_SHIFTERS", "default_params",
           "location_names"]

#: Paper 004, Table 2(A): occupation shifters, 2019.
OCCUPATIONS = ("Management", "Professional", "Trades", "Service", "Sales", "Cleaners", "Primary", "Security")
OCCUPATION_SHIFTERS = np.array([0.849566, 0.743607, 0.610380, 0.344887, 0.318461, 0.090246, 0.066206, 0.066183])
#: Paper 004, Table 2(B): the top eight city shifters, 2019.
TOP_CITIES = ("New York", "Los Angeles", "Chicago", "Dallas", "Houston", "Philadelphia", "Washington", "Atlanta")
TOP_CITY_SHIFTERS = np.array([3.029541, 2.645708, 2.333439, 2.158189, 2.093633, 2.028458, 2.007037, 2.001475])

_URBAN_GRADIENT = np.array([0.06, 0.05, -0.06, 0.0, 0.02, 0.0, -0.08, 0.0])  # β_k, same order as OCCUPATIONS
_SIGMA_T = 0.15
_LOG_TC_MEDIAN = np.log(1.8)
_LOG_TC_SD = 0.15


def location_names(n: int = 722) -> list[str]:
    """Names of the default locations: the eight Table 2(B) metros, then ``loc009`` ... (1-based)."""
    return list(TOP_CITIES[: min(n, 8)]) + [f"loc{i:03d}" for i in range(9, n + 1)]


def default_params(seed: int = 0, n: int = 722, *, rho=0.64, theta: float = 3.0) -> Params:
    """The embedded default CNCES economy (module docstring): ``n`` locations (>= 8) x 8 occupations.

    Location 0 is the largest ("New York"); locations 0-7 carry the Table 2(B) shifters.
    ρ = 0.64 is the paper's IV estimate (Table 1), θ = 3 its calibration (Redding 2016).
    """
    if n < 8:
        raise ValueError(f"n must be >= 8 (the eight Table 2(B) locations); got {n}")
    rng = np.random.Generator(np.random.PCG64(seed))
    rest = np.exp(_LOG_TC_MEDIAN + _LOG_TC_SD * rng.standard_normal(n - 8))
    rest = np.minimum(rest, TOP_CITY_SHIFTERS[-1] * 0.99)
    T_c = np.concatenate([TOP_CITY_SHIFTERS, np.sort(rest)[::-1]])
    s = (np.log(T_c) - np.log(T_c).mean()) / np.log(T_c).std()
    e = rng.standard_normal((n, len(OCCUPATIONS)))
    t_ck = np.exp(_URBAN_GRADIENT[None, :] * s[:, None] + _SIGMA_T * e)
    return Params(t_ck=t_ck, T_k=OCCUPATION_SHIFTERS, T_c=T_c, theta=theta, rho=rho)
