"""Heterogeneous commuting zones: each CZ's rest-of-manufacturing composite with its own volatility
(issue 19 item 8).

In the two-industry economy (1 = machinery, SIC 35; 2 = the rest of manufacturing) every CZ so far
had the same composite TFP process ``log z̄_2 = μ_2 + u_2``, ``u_2' = ρ_2 u_2 + σ_2 ε``. Here each CZ
``c`` gets its own innovation volatility from its own industry portfolio.

Assumption (stated, not estimated): the rest of manufacturing of CZ ``c`` is a portfolio of
industries ``j`` with employment shares ``w_cj`` (normalized within the rest, ``Σ_j w_cj = 1``)
whose log TFP innovations are *independent* across industries with a *common* standard deviation
``σ`` and a common persistence ``ρ_2``. The composite's log TFP innovation is the share-weighted sum
``Σ_j w_cj σ ε_j``, whose standard deviation is

    σ_c = σ · sqrt(HHI_c),     HHI_c = Σ_j w_cj²                                   (1)

(the Herfindahl-Hirschman index of the rest-of-manufacturing shares, :func:`rest_of_manufacturing_hhi`).
The base ``σ`` is therefore the volatility of ONE industry, the composite of a CZ whose rest of
manufacturing is concentrated in a single industry (``HHI = 1``); a CZ spread evenly over ``K``
industries has ``σ/sqrt(K)``. The default base is the preset's ``σ_2 = 0.013`` (paper 002, Table 2
gives single-industry volatilities in [0.013, 0.027], machinery the most volatile), so (1) makes
every CZ's composite at most as volatile as that least volatile single industry. Correlated industry
shocks (common ``ρ_ε`` across pairs) would give ``σ_c = σ sqrt(ρ_ε + (1 − ρ_ε) HHI_c)``; with
``ρ_ε = 0`` that is (1). Machinery's process, θ, β, the calibrated ``μ_1 − μ_2`` scaling of ``z̄_1``
(:func:`.calibration.with_values`) and everything else are common to all CZs.

Under Tauchen (and Rouwenhorst) discretization the transition matrix of an AR(1) does not depend on
σ (the nodes scale with σ), so the CZs' chains differ only in the ``z̄_2`` nodes; each is rebuilt
here by :func:`.params.two_industry_params` with ``sigma = (σ_1, σ_c)`` (trend state included).

:func:`solve_heterogeneous` solves the stacked economies in one call: on a CPU with
:func:`jaxecon.numerics.sharded_map` (each device solving its share one economy after another, so
each economy runs only its own sweeps; make the CPU one device per core with
:func:`jaxecon.numerics.use_cpu_cores` before the first JAX operation), on a GPU with one
``jit(vmap(solve_equilibrium))``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import sharded_map
from ...numerics.time_iteration import RESULTS
from .equilibrium import EquilibriumSolution, solve_equilibrium
from .initial import MACHINERY_SIC2, _ratio, earliest_shares, resolve_adh
from .params import Grid, Params, two_industry_params

__all__ = ["REST_STATUS", "RestHHI", "rest_of_manufacturing_hhi", "composite_sigma", "heterogeneous_params",
           "solve_heterogeneous", "CHAIN_KEYWORDS"]

#: ``RestHHI.status`` codes.
REST_STATUS = {0: "ok", 1: "no rest-of-manufacturing employment"}

#: The :func:`.params.two_industry_params` keywords that define the exogenous chain (rebuilt per CZ).
CHAIN_KEYWORDS = ("rho", "sigma", "mu", "n_z", "method", "R_bar", "rho_R", "sigma_R", "n_R")

_LEVELS = ("sic2", "sic87dd")


# --------------------------------------------------------------------------------------------------
# the data: HHI of the rest-of-manufacturing portfolio per CZ
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class RestHHI:
    """HHI of each CZ's rest-of-manufacturing (non-SIC-35) employment shares at the earliest date.

    Attributes:
        czone: ``(n,)`` CZ codes.
        hhi: ``(n,)`` ``Σ_j w_cj²`` with ``w_cj`` industry ``j``'s share of the CZ's non-SIC-35
            manufacturing employment; NaN where ``status != 0``.
        n_industries: ``(n,)`` industries with positive employment in the rest (0 where missing).
        status: ``(n,)`` codes of :data:`REST_STATUS` (0 = ok, 1 = no rest-of-manufacturing employment).
        weight: ``(n,)`` rest-of-manufacturing employment (real data: its share of CZ employment in
            1980 × population 1990, proportional to it under a common employment/population ratio);
            0 where missing.
        year: actual year of the shares (1980 real, 1990 synthetic).
        source: ``"ADH"`` or ``"synthetic"``.
        level: industry level of the shares: ``"sic2"`` (2-digit SIC groups) or ``"sic87dd"`` (the
            397 industries of the files).
    """

    czone: np.ndarray
    hhi: np.ndarray
    n_industries: np.ndarray
    status: np.ndarray
    weight: np.ndarray
    year: int
    source: str
    level: str

    @property
    def ok(self) -> np.ndarray:
        """``(n,)`` True where the CZ has rest-of-manufacturing employment (``status == 0``)."""
        return self.status == 0

    def sigma(self, sigma_base: float = 0.013) -> np.ndarray:
        """``σ_c = σ_base · sqrt(HHI_c)`` (eq. 1) for the CZs with ``status == 0`` only (in row order);
        select the matching CZs with ``czone[ok]``."""
        return composite_sigma(self.hhi[self.ok], sigma_base)


def _hhi_rows(emp: np.ndarray, groups: np.ndarray | None):
    """HHI per row of the nonnegative matrix ``emp`` (columns aggregated by ``groups`` first)."""
    if groups is not None:
        codes, inv = np.unique(groups, return_inverse=True)
        agg = np.zeros((emp.shape[0], codes.size))
        np.add.at(agg.T, inv, emp.T)
        emp = agg
    tot = emp.sum(axis=1)
    ok = tot > 0
    w = emp / np.where(ok, tot, 1.0)[:, None]
    hhi = np.where(ok, np.sum(w * w, axis=1), np.nan)
    return hhi, np.where(ok, np.sum(emp > 0, axis=1), 0), ok, tot


def rest_of_manufacturing_hhi(data=None, *, source: str = "auto", seed: int = 0, level: str = "sic2",
                              report=print) -> RestHHI:
    """Each CZ's HHI of its rest-of-manufacturing employment shares at the earliest date (eq. 1).

    Data handling as :func:`.initial.cz_machinery_shares`: real ADH data (``source="adh"``, or
    ``"auto"`` when the files are found; ``data`` an :class:`jaxecon.data.ADHData` or a data path)
    gives the 1980 shares (``cz_industry_shares`` rows labelled 1990, keyed 1980 by
    :func:`jaxecon.data.load_adh`); otherwise the embedded synthetic 722 CZs
    (:func:`jaxecon.data.synthetic_czs`, ``seed``), a 1990-like snapshot. The industries of SIC 35
    (machinery) are dropped and the remaining employment shares renormalized to sum to one, then
    summed within 2-digit SIC groups (``level="sic2"``, default: the industry level of the model's
    15-industry tables and of Table 2's single-industry volatilities, and the level at which the
    independence assumption of the module docstring is least strained) or kept at the 397
    ``sic87dd`` industries (``level="sic87dd"``).

    CZs without rest-of-manufacturing employment get ``hhi = NaN`` and ``status = 1``; they are
    reported through ``report`` (a callable, or None), never silently used.
    """
    from ...data import synthetic_czs

    if source not in ("auto", "adh", "synthetic"):
        raise ValueError(f"source must be 'auto', 'adh' or 'synthetic'; got {source!r}")
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}; got {level!r}")
    adh = resolve_adh(data, source, report)
    if adh is not None:
        year, sh, sic2 = earliest_shares(adh)
        pop = np.asarray(adh.population[min(adh.population)], float)
        czone, src = np.asarray(adh.czones), "ADH"
    else:
        cz = synthetic_czs(seed=seed)
        sh = np.asarray(cz.employment, float)
        sic2 = np.asarray(cz.sic2)
        pop = None
        czone, year, src = np.asarray(cz.czone), int(cz.year), "synthetic"
    if np.any(sh < 0) or not np.all(np.isfinite(sh)):
        raise ValueError("industry employment shares must be finite and nonnegative")
    rest = sic2 != MACHINERY_SIC2
    emp = sh[:, rest]
    hhi, n_ind, ok, tot = _hhi_rows(emp, sic2[rest] if level == "sic2" else None)
    weight = np.where(ok, tot * pop if pop is not None else tot, 0.0)
    status = np.where(ok, 0, 1).astype(int)
    if report is not None and np.any(~ok):
        report(f"rest_of_manufacturing_hhi: {int(np.sum(~ok))} of {ok.size} CZs have no rest-of-manufacturing "
               f"employment (czone {', '.join(str(c) for c in czone[~ok][:8])}): HHI NaN, status 1")
    return RestHHI(czone=czone, hhi=hhi, n_industries=n_ind.astype(int), status=status, weight=weight,
                   year=int(year), source=src, level=level)


def composite_sigma(hhi, sigma_base: float = 0.013) -> np.ndarray:
    """``σ_c = σ_base · sqrt(HHI_c)`` (eq. 1 of the module docstring).

    Raises:
        ValueError: ``sigma_base`` not a finite number > 0, or an HHI missing (NaN: a CZ without
            rest-of-manufacturing employment) or outside ``(0, 1]``.
    """
    sb = float(sigma_base)
    if not (np.isfinite(sb) and sb > 0):
        raise ValueError(f"sigma_base (one industry's TFP innovation s.d.) must be a finite number > 0; got {sigma_base}")
    h = np.atleast_1d(np.asarray(hhi, dtype=float))
    bad = ~(np.isfinite(h) & (h > 0) & (h <= 1 + 1e-12))
    if np.any(bad):
        rows = np.nonzero(bad)[0]
        raise ValueError(f"composite_sigma: {rows.size} HHI value(s) missing or outside (0, 1] (rows "
                         f"{', '.join(str(r) for r in rows[:8])}: {h[rows[:8]]}); a CZ without rest-of-manufacturing "
                         "employment has no composite (drop it with RestHHI.ok)")
    return sb * np.sqrt(np.minimum(h, 1.0))


# --------------------------------------------------------------------------------------------------
# stacked economies
# --------------------------------------------------------------------------------------------------
def _z1_factor(base: Params, ref: Params) -> float:
    """``exp(μ_1 − μ_2)`` of :func:`.calibration.with_values`: ``base`` must equal ``ref`` (the chain
    rebuilt from the keywords) except for a common factor on ``z̄_1``; raises otherwise."""
    if base.n_states != ref.n_states:
        raise ValueError(f"base has {base.n_states} exogenous states, the chain keywords give {ref.n_states}")
    z, zr = np.asarray(base.z), np.asarray(ref.z)
    lr = np.log(z[:, 0]) - np.log(zr[:, 0])
    same = (np.allclose(z[:, 1], zr[:, 1], rtol=1e-12, atol=0.0) and np.allclose(np.asarray(base.R), np.asarray(ref.R),
                                                                                 rtol=1e-12, atol=0.0)
            and np.allclose(np.asarray(base.P), np.asarray(ref.P), rtol=0.0, atol=1e-12)
            and float(np.ptp(lr)) <= 1e-10)
    if not same:
        raise ValueError("heterogeneous_params: base's exogenous chain is not the one two_industry_params builds from "
                         "the chain keywords given (only a common factor on z̄_1, the calibrated μ_1 − μ_2, may differ); "
                         "pass the rho, sigma, mu, n_z, method, R_bar, rho_R, sigma_R, n_R, g, n_trend, trend_range "
                         "that base was built with")
    return float(np.exp(np.mean(lr)))


def heterogeneous_params(base: Params, sigma_rest, *, g: float = 0.0, n_trend: int = 1, trend_range=None,
                         trend_periods: float = 70.0, **chain) -> Params:
    """``n`` economies, stacked along a leading axis, that differ only in the rest-of-manufacturing
    volatility: economy ``c`` has ``u_2' = ρ_2 u_2 + σ_c ε`` with ``σ_c = sigma_rest[c]`` (from eq. 1,
    :func:`composite_sigma`), its chain rebuilt by :func:`.params.two_industry_params` with
    ``sigma = (σ_1, σ_c)``.

    Args:
        base: one two-industry :class:`Params`, e.g. the calibrated economy of
            :func:`.calibration.load_calibration`: γ, α, β, θ, ξ, φ, δ, ``R`` and the machinery
            nodes ``z̄_1`` (with the calibrated ``exp(μ_1 − μ_2)`` factor) are kept.
        sigma_rest: ``(n,)`` the composite volatilities ``σ_c > 0``.
        g, n_trend, trend_range, trend_periods: the relative-productivity trend of
            :func:`.params.two_industry_params`, passed through. ``base`` either has this trend
            already, or is stationary with ``n_trend > 1`` requested here: then the trend is built
            in and ``z̄_1`` keeps base's factor ``exp(μ_1 − μ_2)``.
        chain: the other chain keywords base was built with (:data:`CHAIN_KEYWORDS`, defaults those
            of :func:`.params.two_industry_params`; ``sigma = (σ_1, σ_2)`` is base's pair). base must
            match the chain they build up to the factor on ``z̄_1`` (checked).

    With ``σ_c`` equal to base's ``σ_2`` (an ``HHI = 1`` CZ under the default base) economy ``c`` is
    exactly ``base``.

    Raises:
        ValueError: base not one two-industry Params or not built from the chain keywords; an unknown
            keyword; ``sigma_rest`` not a non-empty 1-D array; a ``σ_c`` missing (NaN) or not > 0.
    """
    if not isinstance(base, Params) or base.gamma.ndim != 0 or base.n_industries != 2:
        raise ValueError("heterogeneous_params needs one (unbatched) two-industry Params as base")
    unknown = set(chain) - set(CHAIN_KEYWORDS)
    if unknown:
        raise ValueError(f"unknown chain keyword(s) {sorted(unknown)}; allowed: {list(CHAIN_KEYWORDS)} and g, n_trend, "
                         "trend_range, trend_periods")
    sig = np.asarray(sigma_rest, dtype=float)
    if sig.ndim != 1 or sig.size == 0:
        raise ValueError(f"sigma_rest must be a non-empty 1-D array of composite volatilities; got shape {sig.shape}")
    bad = ~(np.isfinite(sig) & (sig > 0))
    if np.any(bad):
        rows = np.nonzero(bad)[0]
        raise ValueError(f"sigma_rest must be finite and > 0 (a CZ without rest-of-manufacturing employment has no "
                         f"composite; drop it with RestHHI.ok): {rows.size} bad value(s) at rows "
                         f"{', '.join(str(r) for r in rows[:8])}: {sig[rows[:8]]}")
    pair = np.broadcast_to(np.asarray(chain.get("sigma", (0.027, 0.013)), dtype=float), (2,))
    trend = dict(g=g, n_trend=n_trend, trend_range=trend_range, trend_periods=trend_periods)
    build = lambda s2: two_industry_params(**{**chain, "sigma": (float(pair[0]), float(s2))}, **trend)  # noqa: E731
    ref = build(pair[1])
    if base.n_states == ref.n_states:
        _z1_factor(base, ref)
        z1 = base.z[:, 0]  # kept verbatim (it does not depend on σ_2)
    elif n_trend > 1:
        stationary = two_industry_params(**{**chain, "sigma": (float(pair[0]), float(pair[1]))})
        z1 = ref.z[:, 0] * _z1_factor(base, stationary)
    else:
        _z1_factor(base, ref)  # raises with the explanation
    zs, Ps = [], []
    cache = {}
    for s in sig:
        if s not in cache:
            p = ref if s == pair[1] else build(s)
            cache[s] = (jnp.stack([z1, p.z[:, 1]], axis=1), p.P)
        zs.append(cache[s][0])
        Ps.append(cache[s][1])
    n = sig.size
    rep = lambda x: jnp.broadcast_to(jnp.asarray(x), (n,) + jnp.shape(x))  # noqa: E731
    return Params(gamma=rep(base.gamma), alpha=rep(base.alpha), beta=rep(base.beta), theta=rep(base.theta),
                  xi=rep(base.xi), phi=rep(base.phi), delta=rep(base.delta), z=jnp.stack(zs),
                  R=rep(ref.R if base.n_states != ref.n_states else base.R), P=jnp.stack(Ps))


# --------------------------------------------------------------------------------------------------
# solving all economies in one call
# --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _element_solver(grid: Grid, settings: tuple):
    """One economy's solve (a stable function object, so :func:`sharded_map`'s compile cache hits)."""
    kw = dict(settings)
    return lambda p: solve_equilibrium(p, grid, **kw)


@functools.lru_cache(maxsize=16)
def _vmapped(fn):
    return jax.jit(jax.vmap(fn))


def _slice(tree, lo, hi, size):
    """Rows ``lo:hi`` of every leaf, padded to ``size`` rows by repeating the last (valid) row."""
    def one(x):
        x = x[lo:hi]
        pad = size - x.shape[0]
        return jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)], axis=0) if pad else x
    return jax.tree.map(one, tree)


def solve_heterogeneous(params_batch: Params, grid: Grid | None = None, *, chunk: int | None = None,
                        mode: str = "auto", report=print, **solver_kw) -> EquilibriumSolution:
    """Solve ``n`` stacked economies (e.g. :func:`heterogeneous_params`) in one call.

    ``mode="auto"``: :func:`jaxecon.numerics.sharded_map` over the devices on a CPU (one device
    unless :func:`jaxecon.numerics.use_cpu_cores` was called before the first JAX operation; each
    device solves its share one economy after another, each with its own number of sweeps), one
    ``jit(vmap(solve_equilibrium))`` on a GPU/TPU; ``"sharded"`` or ``"vmap"`` force one.

    Args:
        params_batch: :class:`Params` with a leading batch axis on every leaf.
        grid: the :class:`Grid` (default ``Grid()``).
        chunk: solve at most ``chunk`` economies per call (bounds memory; the last chunk is padded
            to the same size so one compiled program serves every chunk). None: all at once.
        mode: ``"auto"``, ``"sharded"`` or ``"vmap"``.
        report: callable receiving one line with the number of converged economies (None: silent).
        solver_kw: :func:`solve_equilibrium` keywords (numbers; ``init`` is not supported here).

    Returns:
        The batched :class:`EquilibriumSolution` (every field with a leading axis ``n``):
        ``converged``, ``result``, ``iterations`` per economy. Non-converged economies are reported,
        never dropped.

    Raises:
        ValueError: params not batched, grid not a Grid, bad ``chunk`` or ``mode``, ``init`` or an
            unhashable solver keyword.
    """
    if not isinstance(params_batch, Params) or params_batch.gamma.ndim != 1:
        raise ValueError("solve_heterogeneous needs a batched Params (a leading axis on every leaf, e.g. "
                         "heterogeneous_params); for one economy call solve_equilibrium")
    grid = Grid() if grid is None else grid
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be a specialization Grid; got {type(grid).__name__}")
    if mode not in ("auto", "sharded", "vmap"):
        raise ValueError(f"mode must be 'auto', 'sharded' or 'vmap'; got {mode!r}")
    if "init" in solver_kw:
        raise ValueError("solve_heterogeneous does not take init (warm starts differ per economy)")
    try:
        settings = tuple(sorted(solver_kw.items()))
        hash(settings)
    except TypeError:
        raise ValueError(f"solver keywords must be numbers (hashable); got {solver_kw}") from None
    n = int(params_batch.gamma.shape[0])
    if chunk is not None and (not isinstance(chunk, (int, np.integer)) or chunk < 1):
        raise ValueError(f"chunk must be a positive integer number of economies or None; got {chunk!r}")
    size = n if chunk is None else min(int(chunk), n)
    if mode == "auto":
        mode = "sharded" if jax.default_backend() == "cpu" else "vmap"
    fn = _element_solver(grid, settings)
    run = (lambda b: sharded_map(fn, b)) if mode == "sharded" else _vmapped(fn)
    parts = [run(_slice(params_batch, lo, min(lo + size, n), size)) for lo in range(0, n, size)]
    sol = parts[0] if len(parts) == 1 else jax.tree.map(lambda *xs: jnp.concatenate(xs), *parts)
    sol = jax.tree.map(lambda x: x[:n] if np.ndim(x) > 0 else x, sol)
    if report is not None:
        conv = np.asarray(sol.converged)
        counts = {name: int(np.sum(np.asarray(sol.result == item))) for name, item in RESULTS._name_to_item.items()}
        other = ", ".join(f"{k}: {v}" for k, v in counts.items() if v and k != "successful")
        report(f"solve_heterogeneous: {int(conv.sum())} of {n} economies converged ({mode}, "
               f"{jax.device_count()} device(s)){'; not converged: ' + other if other else ''}")
    return sol
