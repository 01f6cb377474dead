"""A hubs economy on the 722 ADH commuting zones (1990).

From the ADH files (``jaxecon.data.load_adh``): each CZ's 1990 population (``l_popcount``), its 1990
manufacturing share of employment (``Lsh_manuf``, from the industry shares) and the split of that
manufacturing across the five manufacturing sectors of :data:`~jaxecon.models.hubs.SECTORS` by SIC
2-digit codes (food 20-21; nondurables 22, 23, 26, 27, 31; chemicals and plastics 28-30; machinery,
electronics and transport equipment 35-37; other durables 24, 25, 32-34, 38, 39), and its census
division. Synthetic, because the files do not have them: the split of non-manufacturing employment
across the 17 other sectors (national shares with noise, professional services rising with city
size), occupations (CNR shares within sector by group, higher in larger cities), wages, the
cost and input-output shares (ranges of :mod:`~jaxecon.models.hubs.synthetic`), and geography:
CZs are placed at random around their census division's approximate centroid (longitude/latitude
degrees / 60), so distances, hence d, are synthetic.

The economy is built so that this allocation *is* its equilibrium: the consumption shares α are set
by :func:`~jaxecon.models.hubs.consistent_alpha`, (λ, A) by :func:`~jaxecon.models.hubs.invert`, and
λ̂ = λ / externality(L) for the chosen τ. :func:`adh_economy` re-solves it and reports how far the
solver's equilibrium is from the data (with strong externalities the equilibrium need not be unique).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .equilibrium import log_lambda, solve_equilibrium
from .inversion import CityData, consistent_alpha, invert
from .params import Params
from .synthetic import MATERIALS, SECTORS, STRUCTURES_OF_VA, sector_groups, table1_externalities, trade_costs

__all__ = ["HubsEconomy", "adh_economy", "DIVISION_CENTROIDS"]

# approximate (longitude, latitude) of census division centroids; New England is the base division
DIVISION_CENTROIDS = {"reg_neng": (-71.5, 43.5), "reg_midatl": (-76.0, 41.0), "reg_encen": (-86.0, 41.5),
                      "reg_wncen": (-96.0, 42.5), "reg_satl": (-80.5, 33.5), "reg_escen": (-87.5, 34.0),
                      "reg_wscen": (-96.0, 31.5), "reg_mount": (-110.0, 40.0), "reg_pacif": (-120.0, 40.0)}
MANUF_SIC2 = {"Food and beverage manufacturing": (20, 21), "Nondurable manufacturing": (22, 23, 26, 27, 31),
              "Chemicals and plastics": (28, 29, 30), "Machinery and electronics": (35, 36, 37),
              "Durable manufacturing": (24, 25, 32, 33, 34, 38, 39)}
CNR_IN_SECTOR = {"PS": 0.55, "HE": 0.45, "M": 0.25, "ATT": 0.15, "NT": 0.20}
MIN_SHARE = 1e-4      # floor on a sector's employment share (the inversion takes logs of every cell)


@dataclasses.dataclass(frozen=True)
class HubsEconomy:
    """An economy and its provenance: ``params``; ``data`` (the allocation it reproduces);
    ``info`` (groups, names, coords, czones, population); ``note`` (what is real, what synthetic);
    ``reproduction_error`` (max |ln L^kj_n(solve) − ln L^kj_n(data)|) and ``converged``."""

    params: Params
    data: CityData
    info: dict
    note: str
    reproduction_error: float
    converged: bool


def _coords(exposure, rng):
    e = exposure[exposure["year"] == exposure["year"].min()].sort_values("czone")
    regs = [c for c in DIVISION_CENTROIDS if c != "reg_neng"]
    M = e[regs].to_numpy()
    div = np.where(M.sum(1) == 0, "reg_neng", np.asarray(regs, dtype=object)[M.argmax(1)])
    cent = np.array([DIVISION_CENTROIDS[d] for d in div])
    pts = cent + rng.normal(scale=(3.0, 2.0), size=cent.shape)
    return np.column_stack([(pts[:, 0] + 125.0) / 60.0, (pts[:, 1] - 24.0) / 60.0]), div


def adh_economy(adh, key, *, externalities: float = 1.0, nu: float = 3.0, vartheta: float = 4.0,
                epsilon: float = 1.4, solve_kwargs: dict | None = None) -> HubsEconomy:
    """The 722-CZ economy of the module docstring (``adh`` from :func:`jaxecon.data.load_adh`)."""
    groups = sector_groups(22)
    names = [n for n, _ in SECTORS]
    J, K = 22, 2
    seeds = np.asarray(jax.random.randint(key, (6,), 0, 2**31 - 1))
    rng = [np.random.default_rng(int(s)) for s in seeds]
    pop = np.asarray(adh.population[1990], dtype=float)
    N = pop.size
    Ln = pop / pop.sum()
    manuf = np.asarray(adh.manuf_share[1990], dtype=float)
    sic2 = adh.industries.set_index("sic87dd").loc[adh.sic87dd, "sic2"].to_numpy()
    S = np.asarray(adh.share_arrays[1990], dtype=float)
    share = np.zeros((J, N))
    for name, codes in MANUF_SIC2.items():
        share[names.index(name)] = S[:, np.isin(sic2, codes)].sum(1)
    # non-manufacturing: national weights with noise; professional services rise with size
    lsize = np.log(Ln) - np.log(Ln).mean()
    other = [j for j, g in enumerate(groups) if g != "M"]
    base = rng[0].dirichlet(np.full(len(other), 6.0))
    tilt = np.array([0.15 if groups[j] == "PS" else (-0.05 if groups[j] == "ATT" else 0.0) for j in other])
    wgt = base[:, None] * np.exp(tilt[:, None] * lsize[None] + rng[1].normal(scale=0.2, size=(len(other), N)))
    share[other] = (1 - manuf)[None] * wgt / wgt.sum(0, keepdims=True)
    share = np.maximum(share, MIN_SHARE)
    share /= share.sum(0, keepdims=True)
    Lj = share * Ln[None]
    cnr = np.array([CNR_IN_SECTOR[g] for g in groups])[:, None] * np.exp(
        0.08 * lsize[None] + rng[2].normal(scale=0.1, size=(J, N)))
    cnr = np.clip(cnr, 0.02, 0.95)
    Lkj = np.stack([Lj * cnr, Lj * (1 - cnr)])
    w = np.array([1.6, 0.8])[:, None] * np.exp(0.04 * lsize[None] + rng[3].normal(scale=0.05, size=(K, N)))
    data = CityData(w=w, Lkj=Lkj)
    coords, div = _coords(adh.exposure, rng[4])
    mat = np.array([rng[5].uniform(*MATERIALS[g]) for g in groups])
    sva = np.array([rng[5].uniform(*STRUCTURES_OF_VA[g]) for g in groups])
    gamma_L = (1 - mat) * (1 - sva)
    # input weights proportional to the supplying sector's size (so that no sector sells more materials
    # than it produces), own inputs weighted up, Dirichlet noise
    size_j = Lj.sum(1) / Lj.sum()
    io = np.stack([rng[5].dirichlet(200.0 * size_j * (1.0 + 2.0 * np.eye(J)[j])) for j in range(J)]) * mat[:, None]
    gamma_H = 1.0 - gamma_L - io.sum(1)
    tR, tL = table1_externalities(groups, externalities)
    Lk = Lkj.sum(axis=(1, 2))
    p0 = Params(nu=nu, vartheta=vartheta, epsilon=epsilon, alpha=np.full(J, 1.0 / J), gamma_L=gamma_L,
                gamma_H=gamma_H, gamma_io=io, d=trade_costs(coords, groups), H=Ln * N, T=np.ones((J, N)),
                lam_hat=np.ones((K, J, N)), A=np.ones((K, N)), tau_R=tR, tau_L=tL, Lk=Lk)
    alpha = np.asarray(consistent_alpha(data, p0))
    p0 = dataclasses.replace(p0, alpha=alpha / alpha.sum())
    lam, A = invert(data, p0)
    lam_hat = np.exp(np.log(np.asarray(lam)) - (np.asarray(log_lambda(p0, data.L)) - np.log(p0.lam_hat)))
    params = dataclasses.replace(p0, lam_hat=lam_hat, A=A)
    Params(**{f.name: getattr(params, f.name) for f in dataclasses.fields(params)})   # re-run the checks
    e = jax.jit(lambda q: solve_equilibrium(q, **(solve_kwargs or {})))(params)
    err = float(np.max(np.abs(np.log(np.asarray(e.Lkj)) - np.log(Lkj))))
    note = (f"ADH commuting-zone economy: {N} CZs with their 1990 populations and manufacturing shares "
            "(split across five manufacturing sectors by SIC 2-digit industry shares) from the ADH files; "
            "non-manufacturing sector split, occupations, wages, cost shares and geography (CZs scattered "
            "around census-division centroids) synthetic (`hubs.adh_economy`). The equilibrium solver "
            f"reproduces this allocation to max |Δ ln L^kj_n| = {err:.1e}.")
    info = dict(groups=groups, names=tuple(names), coords=coords, czones=np.asarray(adh.czones), population=pop,
                division=div)
    return HubsEconomy(params=params, data=data, info=info, note=note, reproduction_error=err,
                       converged=bool(e.converged))
