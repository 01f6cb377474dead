"""Per-commuting-zone comparison of the constrained-efficient planner with the competitive economy
(paper 002 §5, Figures 11 and 13; issue 19 item 7).

For ``n`` commuting zones at their own states ``(b0, k0, s0)``:

- next-period capital shares under the DE and under the planner (SP), each the consistent allocation
  of :func:`.policy.allocation_at` (``b'`` and ``k'`` interpolated from the solution's policies, ``c``
  from the budget, paper eq. 10);
- their specialization, the Gini of the shares (Imbs-Wacziarg, :func:`jaxecon.measures.gini`; for two
  industries ``|k_1 − k_2|/2``), and ``gini_sp_minus_de = G(k'^SP) − G(k'^DE)`` (Figure 11: negative
  where the planner would diversify, i.e. the CZ is over-specialized in the competitive economy);
- the consumption-equivalent welfare gain of moving to the planner at the CZ's state (Figure 13),
  ``Λ(b0, k0, s0)`` with ``(1 + Λ)^(1−γ) V^DE = V^SP`` (paper eq. 29 with its exponent corrected;
  :func:`.welfare.welfare_gain`), multilinear in ``(b, k_1..k_{I−1})`` between the grid nodes within
  the exogenous state ``s0`` — the interpolation of :func:`.policy.policy_at` (clamped to the grid
  box in the shares; in the bonds clamped or extended linearly as ``grid.b_extrapolate``), so at a
  grid node it IS the table value.

:func:`tertile_summary` and :func:`by_group_summary` average the per-CZ table by tertile (Figure 11's
three groups "lower / similar / greater") or by a grouping such as the US state;
:func:`plot_cz_comparison` draws the two histograms; :func:`cz_planner_table` builds the table for
the ADH (or embedded synthetic) commuting zones from their 1980 machinery shares.
"""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jaxtyping import Array, Bool, Float, Int

from ..._checks import check_finite, is_concrete
from ...measures import gini
from ...numerics import interp_grad
from .policy import allocation_at, check_state_indices
from .simulate import check_shares
from .solution import EquilibriumSolution

__all__ = ["CZPlannerComparison", "cz_planner_comparison", "interpolate_gain", "tertile_summary",
           "by_group_summary", "plot_cz_comparison", "cz_planner_table", "cz_state_fips", "TERTILE_LABELS"]

#: Figure 11's names of the tertiles of ``gini_sp_minus_de`` (the planner's specialization relative to the DE's).
TERTILE_LABELS = ("lower", "similar", "greater")


class CZPlannerComparison(eqx.Module):
    """Result of :func:`cz_planner_comparison`, one row per commuting zone (``n`` rows).

    Attributes:
        b0, k0, s0: the states compared: bonds ``(n,)``, capital shares ``(n, I)``, exogenous state ``(n,)``.
        k_next_de, k_next_sp: next-period capital shares ``(n, I)`` of the consistent allocation of
            the DE and of the planner.
        b_next_de, b_next_sp: next-period bonds ``(n,)``.
        binding_de: the DE's collateral constraint binds (``η > 1e−6 u'(c)``) ``(n,)``;
        binding_sp: the planner's binds (its multiplier ``μ > 1e−6 u'(c)``, interpolated like ``η``) ``(n,)``.
        gini0, gini_de, gini_sp: Gini of ``k0``, ``k'^DE``, ``k'^SP`` ``(n,)``.
        gini_sp_minus_de: ``gini_sp − gini_de`` ``(n,)``.
        welfare_gain: ``Λ(b0, k0, s0)`` as a fraction of permanent consumption (0.01 = 1 %) ``(n,)``.
        in_grid_box: ``(b0, k0)`` lies inside the grid box (outside, ``Λ`` and the policies are
            clamped or extrapolated) ``(n,)``.
    """

    b0: Float[Array, " n"]
    k0: Float[Array, "n I"]
    s0: Int[Array, " n"]
    k_next_de: Float[Array, "n I"]
    k_next_sp: Float[Array, "n I"]
    b_next_de: Float[Array, " n"]
    b_next_sp: Float[Array, " n"]
    binding_de: Bool[Array, " n"]
    binding_sp: Bool[Array, " n"]
    gini0: Float[Array, " n"]
    gini_de: Float[Array, " n"]
    gini_sp: Float[Array, " n"]
    gini_sp_minus_de: Float[Array, " n"]
    welfare_gain: Float[Array, " n"]
    in_grid_box: Bool[Array, " n"]

    @property
    def n(self) -> int:
        return int(self.b0.shape[0])

    def to_frame(self, czone=None) -> pd.DataFrame:
        """The per-CZ table (``k_1`` shares only when I = 2; every share ``k{i}_*`` otherwise), with a
        ``czone`` column when codes ``(n,)`` are given."""
        I = self.k0.shape[-1]
        cols = {} if czone is None else {"czone": np.asarray(czone)}
        if czone is not None and cols["czone"].shape != (self.n,):
            raise ValueError(f"czone must have shape ({self.n},); got {cols['czone'].shape}")
        cols.update({"b0": np.asarray(self.b0), "s0": np.asarray(self.s0)})
        shares = range(1) if I == 2 else range(I)
        for name, arr in (("_0", self.k0), ("_next_de", self.k_next_de), ("_next_sp", self.k_next_sp)):
            for i in shares:
                cols[f"k{i + 1}{name}"] = np.asarray(arr[:, i])
        for name in ("b_next_de", "b_next_sp", "binding_de", "binding_sp", "gini0", "gini_de", "gini_sp",
                     "gini_sp_minus_de", "welfare_gain", "in_grid_box"):
            cols[name] = np.asarray(getattr(self, name))
        return pd.DataFrame(cols)


def interpolate_gain(solution: EquilibriumSolution, lam, b, k, s, *, axes=None):
    """``Λ`` (a table of the solution's policy shape, e.g. :func:`.welfare.welfare_gain`) at states
    ``b (n,)``, ``k (n, I)``, ``s (n,)``: multilinear in ``(b, k_1..k_{I−1})`` within ``s``, with the
    solution's outside-grid rule (module docstring). At a grid node it returns the table entry.

    ``axes``: the solution's axes computed outside ``jit`` (default ``solution.axes``). Under ``jit``
    pass them in: axes built inside a trace can differ from ``solution.axes`` in the last bit (XLA's
    own ``linspace``), and a query at an eager node would then fall a rounding error off it."""
    I = solution.n_industries
    axes = solution.axes if axes is None else axes
    ext = (solution.grid.b_extrapolate,) + (False,) * (I - 1)
    coords = [jnp.asarray(b, float)] + [jnp.asarray(k, float)[:, j] for j in range(I - 1)]
    val, _ = interp_grad(axes, jnp.asarray(lam, float), coords, extrapolate=ext,
                         tail=(jnp.asarray(s, jnp.int32),))
    return val


@jax.jit
def _compare(de, sp, sp_mu, lam, b, k, s, axes):
    a_de = allocation_at(de, b, k, s)
    a_sp = allocation_at(sp, b, k, s)
    binding_sp = a_sp["binding"] if sp_mu is None else allocation_at(sp_mu, b, k, s)["binding"]
    g_de, g_sp = gini(a_de["k_next"]), gini(a_sp["k_next"])
    in_box = jnp.ones_like(b, dtype=bool)
    for j, ax in enumerate(axes):
        x = b if j == 0 else k[:, j - 1]
        in_box = in_box & (x >= ax.points[0]) & (x <= ax.points[-1])
    return CZPlannerComparison(
        b0=b, k0=k, s0=s, k_next_de=a_de["k_next"], k_next_sp=a_sp["k_next"], b_next_de=a_de["b_next"],
        b_next_sp=a_sp["b_next"], binding_de=a_de["binding"], binding_sp=binding_sp, gini0=gini(k), gini_de=g_de,
        gini_sp=g_sp, gini_sp_minus_de=g_sp - g_de, welfare_gain=interpolate_gain(de, lam, b, k, s, axes=axes),
        in_grid_box=in_box)


def cz_planner_comparison(de: EquilibriumSolution, sp: EquilibriumSolution, b0, k0, s0, *,
                          lam=None) -> CZPlannerComparison:
    """Compare the planner's next-period specialization and welfare with the DE's at each CZ's state
    (module docstring). One vectorized (jit-compiled) call for any number of CZs.

    Args:
        de: the competitive solution (unbatched).
        sp: the planner's (:class:`.planner.PlannerSolution`; any solution on the same grid with
            ``lam`` given, e.g. a regulated DE).
        b0: bonds ``(n,)``; k0: capital shares ``(n, I)`` on the simplex; s0: exogenous state index,
            a scalar or ``(n,)``.
        lam: the table ``Λ`` of :func:`.welfare.welfare_gain` (policy shape); computed from ``de``
            and ``sp`` when omitted (pass it to compare several sets of CZs without re-evaluating
            ``V^DE``).

    Returns:
        :class:`CZPlannerComparison`.

    Raises:
        ValueError: batched solutions, solutions on different grids or with different numbers of
            industries / states, shapes that do not match (``b0 (n,)``, ``k0 (n, I)``, ``s0`` scalar or
            ``(n,)``, ``lam`` the policy shape), shares off the simplex, non-finite bonds, state
            indices out of range, or ``lam`` missing for a non-planner ``sp``.
    """
    from .planner import PlannerSolution
    from .welfare import welfare_gain

    for name, sol in (("de", de), ("sp", sp)):
        if not isinstance(sol, EquilibriumSolution):
            raise ValueError(f"cz_planner_comparison: {name} must be a solution; got {type(sol).__name__}")
        if sol.iterations.ndim != 0:
            raise ValueError(f"cz_planner_comparison: {name} is a batched solution; index the batch first")
    if de.grid != sp.grid or de.c.shape != sp.c.shape or de.k_next.shape != sp.k_next.shape:
        raise ValueError("cz_planner_comparison: the DE and planner solutions must be on the same grid with the "
                         f"same industries and states; got policy shapes {de.c.shape} and {sp.c.shape}")
    I, ns = de.n_industries, de.params.n_states
    b0 = jnp.asarray(b0, dtype=float)
    k0 = jnp.asarray(k0, dtype=float)
    if b0.ndim != 1 or b0.shape[0] == 0:
        raise ValueError(f"b0 must be a non-empty 1-D array (n,); got shape {b0.shape}")
    n = b0.shape[0]
    if k0.shape != (n, I):
        raise ValueError(f"k0 must have shape ({n}, {I}) (one row of {I} capital shares per CZ); got {k0.shape}")
    if jnp.ndim(s0) == 0:
        s0 = jnp.full((n,), s0) if not is_concrete(s0) else np.full((n,), np.asarray(s0))
    if jnp.shape(s0) != (n,):
        raise ValueError(f"s0 must be a scalar or have shape ({n},); got {jnp.shape(s0)}")
    check_shares(k0, "k0")
    check_finite(b0, "b0")
    check_state_indices(s0, ns, "s0")
    s0 = jnp.asarray(s0, dtype=jnp.int32)
    if lam is None:
        if not isinstance(sp, PlannerSolution):
            raise ValueError("cz_planner_comparison: pass lam (a welfare-gain table) when sp is not a PlannerSolution")
        lam = welfare_gain(de, sp)
    lam = jnp.asarray(lam, dtype=float)
    if lam.shape != de.c.shape:
        raise ValueError(f"lam must have the policy shape {de.c.shape} (welfare_gain(de, sp)); got {lam.shape}")
    check_finite(lam, "lam")
    sp_mu = eqx.tree_at(lambda t: t.eta, sp, sp.mu) if isinstance(sp, PlannerSolution) else None
    return _compare(de, sp, sp_mu, lam, b0, k0, s0, de.axes)


# --------------------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------------------
def _frame(comparison, include_flagged: bool) -> pd.DataFrame:
    if isinstance(comparison, CZPlannerComparison):
        return comparison.to_frame()
    if not isinstance(comparison, pd.DataFrame):
        raise ValueError(f"expected a CZPlannerComparison or a DataFrame of cz_planner_table; got {type(comparison).__name__}")
    df = comparison
    missing = [c for c in ("gini_sp_minus_de", "welfare_gain") if c not in df.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}")
    if not include_flagged and "status" in df.columns:
        df = df[df["status"] == 0]
    return df


def _summary_columns(df) -> list:
    return [c for c in df.columns if c not in ("czone", "s0", "status", "state_fips")
            and pd.api.types.is_numeric_dtype(df[c])]


def tertile_summary(comparison, by: str = "gini_sp_minus_de", *, include_flagged: bool = False) -> pd.DataFrame:
    """Means of every numeric column by tertile of column ``by`` (Figure 11's three groups for the
    default ``by = gini_sp_minus_de``: ``lower`` = the planner diversifies most, ``similar``,
    ``greater`` = the planner specializes more; other columns, e.g. ``gini0``: tertiles 1, 2, 3).

    Tertiles of the rank (ties broken by row order), so every tertile has ``n/3`` rows (±1) even
    when many values tie. ``comparison``: a :class:`CZPlannerComparison` or the DataFrame of
    :func:`cz_planner_table` (rows with ``status != 0`` dropped unless ``include_flagged``).
    Returns one row per tertile with ``count``, ``<by>_min``, ``<by>_max``, ``share_sp_less_specialized``
    (``gini_sp_minus_de < 0``) and the means.
    """
    df = _frame(comparison, include_flagged)
    if by not in df.columns:
        raise ValueError(f"tertile_summary: no column {by!r}; have {list(df.columns)}")
    if len(df) < 3:
        raise ValueError(f"tertile_summary needs at least 3 rows; got {len(df)}")
    labels = list(TERTILE_LABELS) if by == "gini_sp_minus_de" else [1, 2, 3]
    tert = pd.qcut(df[by].rank(method="first"), 3, labels=labels)
    return _grouped(df, tert, f"tertile of {by}", extra_by=by)


def _grouped(df, keys, name, extra_by=None) -> pd.DataFrame:
    cols = _summary_columns(df)
    g = df.assign(sp_less_specialized=(df["gini_sp_minus_de"] < 0).astype(float)).groupby(keys, observed=True)
    out = g[cols].mean()
    out.insert(0, "count", g.size())
    if extra_by is not None:
        out.insert(1, f"{extra_by}_min", g[extra_by].min())
        out.insert(2, f"{extra_by}_max", g[extra_by].max())
    out.insert(out.columns.get_loc("count") + 1, "share_sp_less_specialized", g["sp_less_specialized"].mean())
    out.index.name = name
    return out


def by_group_summary(comparison, groups, *, include_flagged: bool = False) -> pd.DataFrame:
    """Per group (e.g. US state, :func:`cz_state_fips`): ``count``, mean/min/max of ``welfare_gain``,
    mean ``gini_sp_minus_de``, ``share_sp_less_specialized``, sorted by group.

    Args:
        comparison: a :class:`CZPlannerComparison` or the DataFrame of :func:`cz_planner_table`.
        groups: ``(n,)`` labels, one per row of the comparison (before flagged rows are dropped), or
            the name of a column of the DataFrame (e.g. ``"state_fips"``).
        include_flagged: keep rows with ``status != 0``.
    """
    if isinstance(comparison, pd.DataFrame) and isinstance(groups, str):
        if groups not in comparison.columns:
            raise ValueError(f"by_group_summary: no column {groups!r}")
        groups = comparison[groups].to_numpy()
    full = comparison.to_frame() if isinstance(comparison, CZPlannerComparison) else comparison
    g = np.asarray(groups)
    if g.shape != (len(full),):
        raise ValueError(f"groups must have one label per CZ, shape ({len(full)},); got {g.shape}")
    full = full.assign(_group=g)
    df = _frame(full, include_flagged)
    grp = df.groupby("_group")
    out = pd.DataFrame({
        "count": grp.size(),
        "welfare_gain_mean": grp["welfare_gain"].mean(),
        "welfare_gain_min": grp["welfare_gain"].min(),
        "welfare_gain_max": grp["welfare_gain"].max(),
        "gini_sp_minus_de_mean": grp["gini_sp_minus_de"].mean(),
        "share_sp_less_specialized": grp["gini_sp_minus_de"].apply(lambda x: float(np.mean(x < 0))),
    })
    out.index.name = "group"
    return out.sort_index()


def plot_cz_comparison(comparison, path, *, include_flagged: bool = False, bins: int = 40) -> Path:
    """Histograms of ``Λ`` (in % of permanent consumption, Figure 13) and of ``gini_sp_minus_de``
    (Figure 11) over the CZs, written to ``path`` (matplotlib, Agg). Returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = _frame(comparison, include_flagged)
    path = Path(path)
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    lam = 100.0 * df["welfare_gain"].to_numpy()
    axs[0].hist(lam, bins=bins, color="tab:blue", alpha=0.8)
    axs[0].set_xlabel("welfare gain of the planner Λ, % of permanent consumption")
    axs[0].set_ylabel("commuting zones")
    axs[0].set_title(f"Λ at the initial state: mean {lam.mean():.3g} %, range [{lam.min():.3g}, {lam.max():.3g}] %",
                     fontsize=9)
    d = df["gini_sp_minus_de"].to_numpy()
    axs[1].hist(d, bins=bins, color="tab:orange", alpha=0.8)
    axs[1].axvline(0.0, color="k", lw=0.8)
    axs[1].set_xlabel("Gini of next-period shares: planner − competitive")
    axs[1].set_title(f"planner less specialized in {100 * np.mean(d < 0):.0f} % of {d.size} CZs", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------------------
# the commuting zones' table
# --------------------------------------------------------------------------------------------------
def cz_state_fips(czone, data=None) -> np.ndarray:
    """State FIPS code (``clus`` of the ADH regression file ``cz_exposure``) of each CZ code in ``czone``.

    ``data``: an :class:`jaxecon.data.ADHData` or a data path (default :func:`jaxecon.data.load_adh`).
    Raises ``ValueError`` for a CZ code absent from the file."""
    from ...data import ADHData, load_adh

    adh = data if isinstance(data, ADHData) else load_adh(data)
    ex = adh.exposure
    fips = ex.groupby("czone")["clus"].first()
    cz = np.asarray(czone)
    missing = ~np.isin(cz, fips.index.to_numpy())
    if np.any(missing):
        raise ValueError(f"cz_state_fips: CZ code(s) {cz[missing][:8]} not in cz_exposure")
    return fips.loc[cz].to_numpy().astype(int)


def cz_planner_table(de: EquilibriumSolution, sp: EquilibriumSolution, *, lam=None, data=None,
                     source: str = "auto", b0: float | None = None, s0: int | None = None, seed: int = 0,
                     report=print) -> pd.DataFrame:
    """The per-CZ comparison for every commuting zone, as a DataFrame (the main job's entry point).

    Each CZ starts at ``b0`` (default: the DE's ergodic mean bonds, :func:`.simulate.ergodic_state`
    with ``seed``), its capital shares backed out from its machinery income share
    (:func:`.initial.cz_machinery_shares`, :func:`.initial.initial_allocation` with
    ``outside="flag"``), and the exogenous state ``s0`` (default :func:`.irf.median_state`; the same
    state inverts the shares). CZs whose share has no capital share on the grid (or no manufacturing)
    keep the nearest end of the share grid and ``status != 0`` (never NaN); the summaries drop them.

    Args:
        de, sp: the DE and the planner on the same grid (two industries).
        lam: the ``Λ`` table (default ``welfare_gain(de, sp)``).
        data, source: passed to :func:`.initial.cz_machinery_shares` (``"auto"``: the ADH data when
            found, else the embedded synthetic CZs).
        b0: common initial bonds; s0: initial exogenous state; seed: of the ergodic simulation.

    Returns:
        DataFrame, one row per CZ: ``czone``, ``machinery_share`` (data), ``status``
        (:data:`.initial.STATUS`), ``state_fips`` (ADH data only), then the columns of
        :meth:`CZPlannerComparison.to_frame` (``gini_sp_minus_de``, ``welfare_gain`` as a fraction,
        ``k1_0``, ``k1_next_de``, ``k1_next_sp``, ``gini0``, ...).
    """
    from .initial import cz_machinery_shares, initial_allocation, resolve_adh
    from .irf import median_state
    from .simulate import ergodic_state

    if de.n_industries != 2:
        raise ValueError(f"cz_planner_table needs a two-industry economy; got I = {de.n_industries}")
    adh = resolve_adh(data, source, report)
    czs = (cz_machinery_shares(adh, source="adh") if adh is not None
           else cz_machinery_shares(source="synthetic", seed=seed))
    s0 = median_state(de.params) if s0 is None else int(s0)
    init = initial_allocation(czs.share, de.params, de.grid, state=s0, outside="flag", czone=czs.czone)
    if b0 is None:
        b0 = ergodic_state(de, seed=seed).b
    n = czs.czone.shape[0]
    comp = cz_planner_comparison(de, sp, jnp.full((n,), float(b0)), init.k, s0, lam=lam)
    df = comp.to_frame(czone=czs.czone)
    df.insert(1, "machinery_share", czs.share)
    df.insert(2, "status", np.asarray(init.status))
    if czs.source == "ADH":
        df.insert(3, "state_fips", cz_state_fips(czs.czone, adh))
    df.attrs.update({"source": czs.source, "year": czs.year, "s0": s0, "b0": float(b0)})
    return df
