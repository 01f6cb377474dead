"""Initial allocations per commuting zone: capital shares backed out from machinery income shares
(paper 002 §4.1: "invert the model … to back out the initial capital stocks for every commuting
zone"; issue 19 item 2).

In the two-industry economy (1 = machinery, 2 = rest of manufacturing) a CZ's machinery share of
manufacturing income at exogenous state ``s`` is (DESIGN.md "The specialization model", output
``y_i = z̄_i k_i^(α+ξ_i)``)

    S(k) = z̄_1 k^(α+ξ_1) / (z̄_1 k^(α+ξ_1) + z̄_2 (1 − k)^(α+ξ_2)),

strictly increasing in the machinery capital share ``k``. Each CZ's data share (its machinery, SIC 35,
share of manufacturing employment at the earliest date, read as the income share) is inverted for
``k`` by a batched Newton iteration (:func:`jaxecon.numerics.newton` under ``vmap``) in logits,

    f(x) = log(z̄_1/z̄_2) + (α+ξ_1) log k − (α+ξ_2) log(1 − k) − logit(S),   k = 1/(1 + e^(−x)),

with ``f'(x) = (α+ξ_1)(1 − k) + (α+ξ_2) k > 0``. Only shares ``S(k_min) <= S <= S(k_max)`` have a ``k``
on the share grid; others (and missing shares: CZs without manufacturing) raise a named error or,
with ``outside="flag"``, are flagged row by row.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from ...numerics import newton
from .grid import state_axes
from .params import Grid, Params

__all__ = ["InitialAllocation", "income_share", "initial_allocation", "CZShares", "cz_machinery_shares",
           "STATUS", "MACHINERY_SIC2"]

MACHINERY_SIC2 = 35

#: ``InitialAllocation.status`` codes.
STATUS = {0: "ok", 1: "below the share grid", 2: "above the share grid", 3: "missing (no manufacturing)"}


def income_share(params: Params, k, z) -> Array:
    """Machinery income share ``S(k) = y_1/(y_1 + y_2)`` at capital share ``k`` and productivities ``z (2,)``."""
    a = params.alpha + params.xi
    y1 = z[0] * k ** a[0]
    y2 = z[1] * (1.0 - k) ** a[1]
    return y1 / (y1 + y2)


class InitialAllocation(eqx.Module):
    """Result of :func:`initial_allocation` (one row per CZ).

    Attributes:
        k: ``(n, 2)`` capital shares ``(k_1, 1 − k_1)``; rows that do not fit (``status != 0``) hold
            the nearest end of the share grid (missing shares: the grid midpoint), never NaN.
        share: ``(n,)`` the data shares inverted.
        model_share: ``(n,)`` ``S(k_1)`` at the returned ``k`` (equals ``share`` where ``status == 0``).
        status: ``(n,)`` codes of :data:`STATUS` (0 = fits).
        converged: ``(n,)`` Newton converged (rows with ``status == 0``; True elsewhere).
        iterations: ``(n,)`` Newton steps.
        state: the exogenous state whose ``z̄`` was used.
    """

    k: Float[Array, "n 2"]
    share: Float[Array, " n"]
    model_share: Float[Array, " n"]
    status: Int[Array, " n"]
    converged: Bool[Array, " n"]
    iterations: Int[Array, " n"]
    state: int = eqx.field(static=True)

    @property
    def fits(self) -> Array:
        return self.status == 0


def _state_default(params: Params) -> int:
    from .irf import median_state

    return median_state(params)


def initial_allocation(shares, params: Params, grid: Grid | None = None, *, state: int | None = None,
                       outside: str = "raise", czone=None, tol: float = 1e-13) -> InitialAllocation:
    """Invert machinery income shares for the capital share ``k_1`` per CZ (module docstring).

    Args:
        shares: ``(n,)`` machinery shares in ``[0, 1]`` (NaN: a CZ without manufacturing).
        params: a two-industry :class:`Params` (unbatched).
        grid: the :class:`Grid` whose share axis bounds the admissible ``k_1`` (default ``Grid()``).
        state: exogenous state whose ``z̄_1, z̄_2`` enter ``S`` (default: the median state,
            :func:`jaxecon.models.specialization.median_state`; with a trend state pass a state at
            trend level 0).
        outside: ``"raise"`` (default): a ``ValueError`` naming the CZs whose share no ``k`` on the
            share grid fits (or that are missing); ``"flag"``: return them with ``status != 0``.
        czone: optional ``(n,)`` CZ codes, used in the error message.
        tol: Newton tolerance on ``f`` (logit units).

    Raises:
        ValueError: not two industries, shares not 1-D, ``outside`` unknown, or (``outside="raise"``)
            shares no ``k`` on the grid fits.
    """
    if params.n_industries != 2 or params.gamma.ndim != 0:
        raise ValueError(f"initial_allocation needs one (unbatched) two-industry Params; got I = {params.n_industries}")
    if outside not in ("raise", "flag"):
        raise ValueError(f"outside must be 'raise' or 'flag'; got {outside!r}")
    s_in = np.asarray(shares, dtype=float)
    if s_in.ndim != 1 or s_in.size == 0:
        raise ValueError(f"shares must be a non-empty 1-D array; got shape {s_in.shape}")
    grid = Grid() if grid is None else grid
    kp = np.asarray(state_axes(grid, 2)[1].points)
    k_lo, k_hi = float(kp[0]), float(kp[-1])
    state = _state_default(params) if state is None else int(state)
    if not 0 <= state < params.n_states:
        raise ValueError(f"state must be an exogenous state index in [0, {params.n_states - 1}]; got {state}")
    z = jnp.asarray(params.z[state])
    s_lo, s_hi = float(income_share(params, k_lo, z)), float(income_share(params, k_hi, z))
    missing = ~np.isfinite(s_in)
    below = ~missing & (s_in < s_lo)
    above = ~missing & (s_in > s_hi)
    status = np.where(missing, 3, np.where(below, 1, np.where(above, 2, 0))).astype(int)
    if outside == "raise" and np.any(status != 0):
        bad = np.nonzero(status != 0)[0]
        ids = np.asarray(czone)[bad] if czone is not None else bad
        label = "czone" if czone is not None else "row"
        show = ", ".join(f"{label} {i}: {s_in[j]:.4g} ({STATUS[status[j]]})" for i, j in list(zip(ids, bad))[:8])
        raise ValueError(
            f"initial_allocation: {bad.size} of {s_in.size} machinery shares have no capital share k on the share "
            f"grid [{k_lo:.4g}, {k_hi:.4g}], which produces income shares [{s_lo:.4g}, {s_hi:.4g}] at state {state}: "
            f"{show}{' ...' if bad.size > 8 else ''}; pass outside='flag' to get them flagged instead")
    a = params.alpha + params.xi
    log_ratio = jnp.log(z[0]) - jnp.log(z[1])
    fit = status == 0
    s_fit = jnp.asarray(np.where(fit, s_in, 0.5))
    target = jnp.log(s_fit) - jnp.log1p(-s_fit)

    def f(x, t):
        return log_ratio - a[0] * jax.nn.softplus(-x) + a[1] * jax.nn.softplus(x) - t

    x0 = (target - log_ratio) / (0.5 * (a[0] + a[1]))
    res = jax.vmap(lambda x, t: newton(f, x, (t,), tol=tol, max_iter=60))(x0, target)
    k1 = jax.nn.sigmoid(res.x)
    k1 = jnp.where(fit, k1, jnp.asarray(np.where(status == 1, k_lo, np.where(status == 2, k_hi, 0.5 * (k_lo + k_hi)))))
    return InitialAllocation(
        k=jnp.stack([k1, 1.0 - k1], axis=1), share=jnp.asarray(s_in), model_share=income_share(params, k1, z),
        status=jnp.asarray(status), converged=jnp.where(fit, res.converged, True),
        iterations=jnp.asarray(res.iterations), state=state)


# --------------------------------------------------------------------------------------------------
# the data: machinery shares per CZ
# --------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CZShares:
    """Machinery (SIC 35) share of manufacturing employment per CZ at the earliest date.

    Attributes:
        czone: ``(n,)`` CZ codes.
        share: ``(n,)`` machinery / manufacturing employment (NaN where the CZ has no manufacturing).
        weight: ``(n,)`` manufacturing employment (real data: ``Lsh_manuf`` 1980 × population 1990,
            proportional to it under a common employment/population ratio; 0 where the share is NaN).
        year: the actual year of the shares (1980 real, 1990 synthetic).
        source: ``"ADH"`` or ``"synthetic"``.
    """

    czone: np.ndarray
    share: np.ndarray
    weight: np.ndarray
    year: int
    source: str

    def weighted_mean(self) -> float:
        """Employment-weighted mean machinery share over the CZs with manufacturing."""
        ok = np.isfinite(self.share) & (self.weight > 0)
        return float(np.sum(self.weight[ok] * self.share[ok]) / np.sum(self.weight[ok]))


def _ratio(num, den):
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def resolve_adh(data, source: str, report=print):
    """The ADH data to use, or ``None`` for the embedded synthetic CZs: ``source`` ``"adh"`` (``data`` an
    :class:`jaxecon.data.ADHData` or a path; an error when absent), ``"auto"`` (the files when found)
    or ``"synthetic"``."""
    from ...data import ADHData, load_adh, load_adh_if_present

    if source not in ("auto", "adh", "synthetic"):
        raise ValueError(f"source must be 'auto', 'adh' or 'synthetic'; got {source!r}")
    if source == "synthetic":
        return None
    if isinstance(data, ADHData):
        return data
    if source == "adh":
        return load_adh(data)
    return load_adh_if_present(data, otherwise="using the embedded synthetic CZs", report=report)


def earliest_shares(adh):
    """``(year, shares (n, J), sic2 (J,))``: the industry employment shares at the earliest date."""
    year = min(adh.share_arrays)
    sh = np.asarray(adh.share_arrays[year], float)
    sic2 = np.asarray(adh.industries["sic2"])
    if sic2.shape[0] != sh.shape[1]:
        raise ValueError(f"industries.csv has {sic2.shape[0]} industries but the share arrays {sh.shape[1]}")
    return int(year), sh, sic2


def cz_machinery_shares(data=None, *, source: str = "auto", seed: int = 0, report=print) -> CZShares:
    """Each CZ's machinery (SIC 35) share of manufacturing employment at the earliest date.

    Real ADH data (``source="adh"``, or ``"auto"`` when the files are found; ``data`` an
    :class:`jaxecon.data.ADHData` or a data path): the 1980 shares (``cz_industry_shares`` rows labelled
    1990, keyed 1980 by :func:`jaxecon.data.load_adh`), SIC 35 summed over its sic87dd codes
    (``industries.csv``) over ``Lsh_manuf`` 1980. Otherwise the embedded synthetic 722 CZs
    (:func:`jaxecon.data.synthetic_czs`, ``seed``), a 1990-like snapshot.
    """
    from ...data import synthetic_czs

    adh = resolve_adh(data, source, report)
    if adh is not None:
        year, sh, sic2 = earliest_shares(adh)
        manuf = sh.sum(axis=1)
        share = _ratio(sh[:, sic2 == MACHINERY_SIC2].sum(axis=1), manuf)
        pop = np.asarray(adh.population[min(adh.population)], float)
        weight = np.where(np.isfinite(share), np.asarray(adh.manuf_share[year], float) * pop, 0.0)
        return CZShares(czone=np.asarray(adh.czones), share=share, weight=weight, year=int(year), source="ADH")
    cz = synthetic_czs(seed=seed)
    emp = np.asarray(cz.employment, float)
    tot = emp.sum(axis=1)
    share = _ratio(emp[:, np.asarray(cz.sic2) == MACHINERY_SIC2].sum(axis=1), tot)
    return CZShares(czone=np.asarray(cz.czone), share=share, weight=np.where(np.isfinite(share), tot, 0.0),
                    year=int(cz.year), source="synthetic")
