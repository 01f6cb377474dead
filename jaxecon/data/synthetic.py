"""The embedded synthetic 722-CZ default: generated in code from summary targets, no data file.

How a draw is made (``synthetic_czs(seed, n)``; numpy ``Generator(PCG64(seed))``, deterministic)
-------------------------------------------------------------------------------------------------
1. *Marginals and dependence.* Five per-CZ statistics -- log population, manufacturing share of
   employment, Gini and HHI of the manufacturing industry shares, SIC 35 (machinery) share of
   manufacturing -- are drawn jointly from a Gaussian copula: correlated standard normals with the
   real data's normal-score correlation (``targets.CORRELATION``), mapped to uniforms and through
   each statistic's real inverse CDF (piecewise-linear interpolation of the stored quantiles at
   0.5%, 1%, ..., 99%, 99.5%; values are clamped to [p0.5, p99.5]). The targets were computed once
   from the 1990 ADH data by ``_make_targets.py``.
2. *Industry profile.* Each CZ has ``K`` active industries whose shares follow a lognormal profile
   evaluated at normal quantiles, ``s_j ∝ exp(σ Φ^-1((j - 1/2)/K))``, j = 1..K, the other ``397 - K``
   industries are zero. For fixed K the HHI rises with σ (from 1/K); ``σ`` is solved by a
   safeguarded Newton iteration so that the HHI equals its drawn target, and ``K`` by integer
   bisection (at a given HHI the Gini falls with K) so that the Gini is as close as possible to its
   drawn target. Where a drawn (Gini, HHI) pair is not attainable by the family the Gini is
   approximated; the realised distributions are checked against the real ones in the tests.
3. *Machinery.* Shares are split greedily (largest first) between SIC 35 (49 industries) and the
   rest (348) so that the SIC 35 total comes close to its drawn target; the two blocks are then
   rescaled to hit it exactly. A CZ whose drawn machinery share is 0 (about 7% of real CZs) gets no
   SIC 35 activity.
4. *Which industries.* Industries get a national size ``ν_i`` (lognormal, drawn once per seed);
   within each block, a CZ's shares are assigned in decreasing order to industries ranked by
   ``log ν_i + Gumbel noise`` (so big industries are present in more CZs, as in the data).
5. *Levels.* population = exp(log population); total employment = ``EMP_POP_RATIO`` × population
   (real 1990 median of CBP employment / population); manufacturing employment by industry =
   total employment × manufacturing share × industry share.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import ndtr, ndtri

from . import targets as _targets
from ._industries import INDUSTRIES as _INDUSTRIES
from ._stats import STATISTICS

N_IND = len(_INDUSTRIES)


@dataclasses.dataclass(frozen=True, eq=False)
class SyntheticCZs:
    """A synthetic cross-section of commuting zones (1990-like snapshot). Built by :func:`synthetic_czs`.

    Attributes:
        czone: ``(n,)`` int, synthetic CZ ids 1..n.
        year: the snapshot year the targets describe (1990).
        population: ``(n,)`` population.
        manuf_share: ``(n,)`` manufacturing share of total employment (like ADH ``Lsh_manuf``).
        total_employment: ``(n,)`` total employment (``EMP_POP_RATIO * population``).
        employment: ``(n, 397)`` manufacturing employment by industry, columns in ``sic87dd`` order;
            rows sum to ``total_employment * manuf_share``; nonnegative, zeros for absent industries.
        sic87dd, sic3, sic2, sicgroup: ``(397,)`` int industry codes (SIC87 as harmonised by Dorn).
        seed: the seed used.

    Arrays are read-only.
    """

    czone: np.ndarray
    year: int
    population: np.ndarray
    manuf_share: np.ndarray
    total_employment: np.ndarray
    employment: np.ndarray
    sic87dd: np.ndarray
    sic3: np.ndarray
    sic2: np.ndarray
    sicgroup: np.ndarray
    seed: int

    @property
    def industry_shares(self) -> np.ndarray:
        """``(n, 397)`` industry employment / total CZ employment (like ADH ``ind_share``)."""
        return self.employment / self.total_employment[:, None]

    @property
    def n(self) -> int:
        """Number of CZs."""
        return self.czone.shape[0]


# ---------------------------------------------------------------------------------------------------
# profile family: K active industries, s_j ∝ exp(σ z_j), z_j = Φ^-1((j - 1/2)/K) ascending
# ---------------------------------------------------------------------------------------------------
def _profile_z(K: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred profile points ``z_j - z_K`` (<= 0) for j <= K, and the 0/1 mask of active entries."""
    j = np.arange(1, width + 1, dtype=np.float64)[None, :]
    Kc = K[:, None].astype(np.float64)
    active = (j <= Kc).astype(np.float64)
    z = ndtri(np.minimum((j - 0.5) / Kc, 0.5 + 0.5 * (1.0 - 1.0 / Kc)))  # inactive -> clamp, masked
    z_top = ndtri((Kc - 0.5) / Kc)
    return (z - z_top) * active, active


def _solve_sigma(zc, active, log_h, iters: int = 100, tol: float = 1e-12):
    """σ >= 0 with log HHI(σ) = log_h for the profile ``exp(σ zc)`` (safeguarded Newton).

    ``log HHI`` rises with σ (from ``-log K`` at σ = 0): Newton steps are kept inside the bracket
    [lo, hi] of the root and replaced by bisection when they leave it. Only unconverged rows iterate.
    """
    n = zc.shape[0]
    K = active.sum(1)
    # start from the lognormal approximation HHI ≈ exp(σ²)/K
    sig = np.sqrt(np.maximum(log_h + np.log(K), 0.0))
    lo = np.zeros(n)
    hi = np.full(n, 60.0)
    done = (np.log(K) + log_h) <= 0.0  # K <= 1/H: σ = 0 is the best the family can do
    sig[done] = 0.0
    rows = np.flatnonzero(~done)
    for _ in range(iters):
        if rows.size == 0:
            break
        z, a, sg = zc[rows], active[rows], sig[rows]
        w = np.exp(sg[:, None] * z) * a
        w2 = w * w
        s1, s2 = w.sum(1), w2.sum(1)
        f = np.log(s2) - 2.0 * np.log(s1) - log_h[rows]
        df = 2.0 * ((z * w2).sum(1) / s2 - (z * w).sum(1) / s1)
        lo_r = np.where(f <= 0, sg, lo[rows])
        hi_r = np.where(f > 0, sg, hi[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = sg - f / df
        ok = np.isfinite(step) & (step > lo_r) & (step < hi_r)
        new = np.where(ok, step, 0.5 * (lo_r + hi_r))
        conv = (np.abs(f) < tol) | (np.abs(new - sg) < tol * (1.0 + sg))
        sig[rows], lo[rows], hi[rows] = np.where(conv, sg, new), lo_r, hi_r
        rows = rows[~conv]
    return sig


def _profile(K, h_target):
    """Ascending shares (n, K.max()) of the profile with HHI = h_target, and its Gini over N_IND."""
    width = int(K.max())
    zc, active = _profile_z(K, width)
    sig = _solve_sigma(zc, active, np.log(h_target))
    w = np.exp(sig[:, None] * zc) * active
    s = w / w.sum(1, keepdims=True)
    # active shares occupy ranks N_IND-K+1..N_IND of the ascending order over all industries
    j = np.arange(1, width + 1, dtype=np.float64)[None, :]
    rank = N_IND - K[:, None] + j
    g = np.sum((2 * rank - N_IND - 1) * s, axis=1) / N_IND
    return s, g


def _choose_k(g_t, h_t, k_max):
    """Integer K in [ceil(1/H), k_max] whose profile (HHI = H) has Gini closest to g_t."""
    k_min = np.minimum(np.ceil(1.0 / h_t - 1e-9).astype(np.int64), k_max)
    k_min = np.maximum(k_min, 1)
    lo, hi = k_min.copy(), k_max.copy()
    _, g_lo = _profile(lo, h_t)
    _, g_hi = _profile(hi, h_t)
    # invariant (where bracketing): G(lo) >= g_t > G(hi)
    while True:
        open_ = (hi - lo > 1) & (g_lo >= g_t) & (g_hi < g_t)
        if not open_.any():
            break
        mid = np.where(open_, (lo + hi) // 2, lo)
        g_mid = g_lo.copy()
        _, g_mid[open_] = _profile(mid[open_], h_t[open_])
        up = open_ & (g_mid >= g_t)
        down = open_ & (g_mid < g_t)
        lo, g_lo = np.where(up, mid, lo), np.where(up, g_mid, g_lo)
        hi, g_hi = np.where(down, mid, hi), np.where(down, g_mid, g_hi)
    return np.where(np.abs(g_lo - g_t) <= np.abs(g_hi - g_t), lo, hi)


def _split_machinery(p_desc: np.ndarray, m: float, n_mach: int, n_rest: int) -> np.ndarray:
    """Boolean mask over descending shares: which go to SIC 35 so that their sum ≈ m."""
    K = p_desc.size
    take = np.zeros(K, dtype=bool)
    if m <= 0.0:
        return take
    if m >= 1.0:
        take[:] = True
        return take
    remaining = m
    count = 0
    for j in range(K):
        if count >= n_mach:
            break
        if p_desc[j] <= remaining * (1 + 1e-12):
            take[j] = True
            remaining -= p_desc[j]
            count += 1
    if count == 0:  # every share exceeds m: give SIC 35 the smallest one (rescaled below)
        take[K - 1] = True
    if take.all():  # keep at least one non-machinery industry when m < 1
        take[np.flatnonzero(take)[-1]] = False
    # the rest block holds at most n_rest industries
    extra = (K - take.sum()) - n_rest
    for j in range(K - 1, -1, -1):
        if extra <= 0:
            break
        if not take[j] and take.sum() < n_mach:
            take[j] = True
            extra -= 1
    return take


def synthetic_czs(seed: int = 0, n: int = 722) -> SyntheticCZs:
    """The project's embedded synthetic commuting zones (default: 722 CZs, a 1990 snapshot).

    Generated in code (no CZ-level data is shipped) so that the cross-CZ distributions of
    (a) the Gini and (b) the HHI of manufacturing industry shares, (c) the SIC 35 machinery share of
    manufacturing employment, (d) the manufacturing share of employment and (e) log population
    match those of the real ADH data in 1990 (targets stored in :mod:`jaxecon.data.targets`), with
    the real data's rank correlations between them. See the module docstring for the algorithm.

    Args:
        seed: seed of ``numpy.random.Generator(PCG64(seed))``; same seed -> bit-identical result.
        n: number of CZs (>= 1).

    Returns:
        :class:`SyntheticCZs` with ``population (n,)``, ``manuf_share (n,)``,
        ``total_employment (n,)``, ``employment (n, 397)`` and the industry codes.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    n = int(n)
    rng = np.random.Generator(np.random.PCG64(seed))
    ind = np.asarray(_INDUSTRIES, dtype=np.int64)
    sic87dd, sic3, sic2, sicgroup = ind.T
    mach = sic2 == 35
    n_mach, n_rest = int(mach.sum()), int((~mach).sum())

    # 1. copula draw of the five statistics -----------------------------------------------------------
    corr = np.asarray(_targets.CORRELATION)
    chol = np.linalg.cholesky(corr)
    u = ndtr(rng.standard_normal((n, len(STATISTICS))) @ chol.T)
    probs = np.asarray(_targets.PROBS)
    draw = {k: np.interp(u[:, i], probs, np.asarray(_targets.QUANTILES[k])) for i, k in enumerate(STATISTICS)}
    g_t = draw["gini"]
    h_t = np.clip(draw["hhi"], 1.0 / N_IND, 1.0)
    m_t = np.clip(draw["machinery_share"], 0.0, 1.0)

    # 2. profile: K and σ per CZ -------------------------------------------------------------------------
    k_max = np.where(m_t <= 0.0, n_rest, np.where(m_t >= 1.0, n_mach, N_IND)).astype(np.int64)
    K = _choose_k(g_t, h_t, k_max)
    s_asc, _ = _profile(K, h_t)

    # 3-4. machinery split and assignment to industries -------------------------------------------------
    log_nu = rng.normal(0.0, 1.0, N_IND)
    keys = log_nu[None, :] + rng.gumbel(size=(n, N_IND))
    idx_mach = np.flatnonzero(mach)
    idx_rest = np.flatnonzero(~mach)
    order_mach = idx_mach[np.argsort(-keys[:, idx_mach], axis=1, kind="stable")]
    order_rest = idx_rest[np.argsort(-keys[:, idx_rest], axis=1, kind="stable")]
    shares = np.zeros((n, N_IND))
    for c in range(n):
        k = int(K[c])
        p = s_asc[c, :k][::-1]  # descending
        take = _split_machinery(p, float(m_t[c]), n_mach, n_rest)
        pm, pr = p[take], p[~take]
        if m_t[c] > 0 and pm.size:
            pm = pm * (m_t[c] / pm.sum())
        if m_t[c] < 1 and pr.size:
            pr = pr * ((1.0 - m_t[c]) / pr.sum())
        shares[c, order_mach[c, : pm.size]] = pm
        shares[c, order_rest[c, : pr.size]] = pr

    # 5. levels -----------------------------------------------------------------------------------------
    population = np.exp(draw["log_population"])
    manuf = draw["manuf_share"]
    total = _targets.EMP_POP_RATIO * population
    employment = shares * (total * manuf)[:, None]
    arrays = dict(czone=np.arange(1, n + 1, dtype=np.int64), population=population, manuf_share=manuf,
                  total_employment=total, employment=employment, sic87dd=sic87dd.copy(), sic3=sic3.copy(),
                  sic2=sic2.copy(), sicgroup=sicgroup.copy())
    for a in arrays.values():
        a.setflags(write=False)
    return SyntheticCZs(year=int(_targets.YEAR), seed=seed, **arrays)
