"""Synthetic hubs economies: Zipf city sizes, cities in a box, distance-based trade costs, and
consumption / input-output shares in the ranges of US input-output tables.

Ranges used (approximate ranges of the BEA input-output "Use" tables after redefinitions, as used in
Caliendo, Parro, Rossi-Hansberg & Sarte 2018, REStud 85(4), and Caliendo & Parro 2015, REStud 82(1)):
materials are 55-70% of gross output in manufacturing and 30-50% in services; of value added,
structures/capital take 25-40% (more in real estate and utilities), labor the rest; personal
consumption is dominated by health, real estate (housing services), retail and professional services
(each several percent to ~15%), manufacturing goods together ~15-25%. The 22 sectors and their four
tradable groups follow the paper (HE, PS, M, ATT; retail, utilities-construction and real estate
non-traded, §III); the paper's split of its 22 industries is not published in this note, so the list
below is this package's (19 tradable + 3 non-traded).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .params import Params

__all__ = ["SECTORS", "GROUPS", "TABLE1", "sector_groups", "synthetic_economy", "table1_externalities",
           "zipf_sizes", "trade_costs"]

GROUPS = ("HE", "PS", "M", "ATT", "NT")
# (name, group); ordered so that the first few sectors cover every group (small test economies).
SECTORS = (
    ("Durable manufacturing", "M"), ("Professional and business services", "PS"), ("Health care", "HE"),
    ("Accommodation and food", "ATT"), ("Retail trade", "NT"), ("Finance and insurance", "PS"),
    ("Nondurable manufacturing", "M"), ("Educational services", "HE"), ("Wholesale trade", "ATT"),
    ("Real estate", "NT"), ("Information and communications", "PS"), ("Chemicals and plastics", "M"),
    ("Transportation", "ATT"), ("Utilities and construction", "NT"), ("Management of companies", "PS"),
    ("Machinery and electronics", "M"), ("Warehousing", "ATT"), ("Administrative support", "PS"),
    ("Food and beverage manufacturing", "M"), ("Arts and recreation", "PS"), ("Other services", "PS"),
    ("Social assistance", "HE"),
)
# Paper 001 Table 1 (2SLS): group -> (τ^R CNR, τ^R non-CNR, τ^L); non-traded sectors set to zero (§III).
TABLE1 = {"HE": (0.63, 0.44, 0.20), "PS": (1.22, 0.71, 0.39), "M": (1.23, 1.28, 0.51), "ATT": (0.80, 0.54, 0.37),
          "NT": (0.0, 0.0, 0.0)}
# Trade-cost slope κ_g of d^j_mn = exp(κ_g dist_mn) (box side 1): PS easiest to trade, HE hardest of the
# traded groups (paper §IV), non-traded effectively autarkic.
KAPPA = {"PS": 0.4, "M": 0.8, "ATT": 1.2, "HE": 2.0, "NT": 5.0}
# Materials share of gross output, structures share of value added, by group (ranges in the module docstring).
MATERIALS = {"M": (0.55, 0.70), "PS": (0.30, 0.45), "HE": (0.35, 0.45), "ATT": (0.35, 0.50), "NT": (0.30, 0.50)}
STRUCTURES_OF_VA = {"M": (0.25, 0.35), "PS": (0.25, 0.35), "HE": (0.20, 0.30), "ATT": (0.25, 0.35), "NT": (0.30, 0.60)}
# Mean CNR intensity (productivity of CNR relative to non-CNR, in logs) by group.
CNR_TILT = {"PS": 0.6, "HE": 0.3, "M": -0.4, "ATT": -0.5, "NT": -0.3}


def sector_groups(n_sectors: int = 22) -> tuple[str, ...]:
    """Group label of each of the first ``n_sectors`` sectors of :data:`SECTORS`."""
    if not 1 <= n_sectors <= len(SECTORS):
        raise ValueError(f"n_sectors must lie in [1, {len(SECTORS)}]; got {n_sectors}")
    return tuple(g for _, g in SECTORS[:n_sectors])


def table1_externalities(groups, scale: float = 1.0):
    """(τ^R (2, J), τ^L (J,)) from paper 001 Table 1 for sectors in ``groups`` (row 0 CNR), times ``scale``."""
    tR = np.array([[TABLE1[g][0] for g in groups], [TABLE1[g][1] for g in groups]]) * scale
    tL = np.array([TABLE1[g][2] for g in groups]) * scale
    return tR, tL


def zipf_sizes(n: int, exponent: float = 1.0) -> np.ndarray:
    """Rank-size (Zipf) populations shares: size of rank i ∝ i^(−exponent), summing to one."""
    s = np.arange(1, n + 1, dtype=float) ** (-float(exponent))
    return s / s.sum()


def trade_costs(coords: np.ndarray, groups, kappa: dict | None = None) -> np.ndarray:
    """d^j_mn = exp(κ_g(j) ‖coord_m − coord_n‖), ``(J, N, N)``, exactly 1 on the diagonal."""
    kappa = KAPPA if kappa is None else kappa
    dist = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    d = np.exp(np.array([kappa[g] for g in groups])[:, None, None] * dist[None])
    idx = np.arange(len(coords))
    d[:, idx, idx] = 1.0
    return d


def synthetic_economy(key, n_cities: int, n_sectors: int = 22, *, nu: float = 3.0, vartheta: float = 4.0,
                      epsilon: float = 1.4, externalities: float = 0.0, zipf_exponent: float = 1.0,
                      sd_lambda: float = 0.25, sd_amenity: float = 0.25, cnr_share: float = 0.35,
                      total_population: float = 1.0, coords=None):
    """A random hubs economy and its description.

    Cities: amenities A^k_n = size_n^(1/ν) × lognormal(sd_amenity) with Zipf ``size_n`` (rank i ∝
    i^(−zipf_exponent)), so populations are close to Zipf; locations uniform in the unit square
    (or ``coords``, (N, 2)); d from :func:`trade_costs`. Sectors: the first ``n_sectors`` of
    :data:`SECTORS`; α^j, γ^j_L, γ^j_H, γ^jl drawn in the ranges of the module docstring (input-output
    weights Dirichlet with extra weight on own-sector inputs). Productivities λ̂^kj_n lognormal
    (sd_lambda) around an occupation tilt by group; T = 1 (T and the k-common part of λ are not
    separately identified). Externalities: Table 1 of paper 001 times ``externalities`` (0 = none).
    Normalizations: mean_n ln A^k_n = 0 per k and mean_{k,n} ln λ̂^kj_n = 0 per j.

    Returns:
        (Params, info) with info = dict(groups, names, coords (N, 2), zipf (N,)).
    """
    if n_cities < 2:
        raise ValueError(f"n_cities must be >= 2; got {n_cities}")
    groups = sector_groups(n_sectors)
    J, N, K = n_sectors, int(n_cities), 2
    seeds = np.asarray(jax.random.randint(key, (8,), 0, 2**31 - 1))
    rng = [np.random.default_rng(int(s)) for s in seeds]
    coords = rng[0].uniform(size=(N, 2)) if coords is None else np.asarray(coords, dtype=float)
    size = zipf_sizes(N, zipf_exponent)
    size = size[rng[1].permutation(N)]
    mat = np.array([rng[2].uniform(*MATERIALS[g]) for g in groups])
    sva = np.array([rng[2].uniform(*STRUCTURES_OF_VA[g]) for g in groups])
    gamma_H = (1 - mat) * sva
    gamma_L = (1 - mat) - gamma_H
    conc = np.ones((J, J)) + 4.0 * np.eye(J)
    io = np.stack([rng[3].dirichlet(conc[j]) for j in range(J)])
    gamma_io = io * mat[:, None]
    gamma_H = 1.0 - gamma_L - gamma_io.sum(1)            # exact adding-up after rounding
    alpha = rng[4].dirichlet(np.full(J, 4.0))
    d = trade_costs(coords, groups)
    tilt = np.array([CNR_TILT[g] for g in groups])
    llam = rng[5].normal(scale=sd_lambda, size=(K, J, N))
    llam[0] += tilt[:, None] / 2
    llam[1] -= tilt[:, None] / 2
    llam -= llam.mean(axis=(0, 2), keepdims=True)
    lA = np.log(size)[None, :] / nu + rng[6].normal(scale=sd_amenity, size=(K, N))
    lA -= lA.mean(axis=1, keepdims=True)
    tR, tL = table1_externalities(groups, externalities)
    Lk = total_population * np.array([cnr_share, 1 - cnr_share])
    params = Params(nu=nu, vartheta=vartheta, epsilon=epsilon, alpha=alpha, gamma_L=gamma_L, gamma_H=gamma_H,
                    gamma_io=gamma_io, d=d, H=size * N, T=np.ones((J, N)), lam_hat=np.exp(llam), A=np.exp(lA),
                    tau_R=tR, tau_L=tL, Lk=Lk)
    info = dict(groups=groups, names=tuple(n for n, _ in SECTORS[:J]), coords=coords, zipf=size)
    return params, info
