"""Parameters of the Bianchi (2011) overborrowing economy, its income process and its bond grid.

Model (Bianchi 2011, AER 101(7), section I; original code ``main.m``):

* preferences ``u(C) = C^(1−σ)/(1−σ)`` over the CES basket
  ``C = [ω cT^(−η) + (1−ω) cN^(−η)]^(−1/η)`` (§I.A, households);
* budget ``cT + p cN + b' = R b + yT + p yN`` and market clearing ``cN = yN``, so
  ``cT + b' = R b + yT`` (§I.B, competitive equilibrium);
* the price of nontradables ``p = (1−ω)/ω (cT/cN)^(1+η)`` (households' intratemporal condition);
* the collateral constraint ``b' >= −κ (p yN + yT)`` (§I.A).

Equation references name the paper's sections; the shared README (``bianchi2011/README.md``) gives
the forms used here, and the code follows it.

The exogenous state is one 16-state Markov chain of ``(yT, yN)`` (a VAR(1) discretized in the
original package, ``proc_shock.mat``). The calibration of ``main.m`` lines 23-28 is the default:
σ = 2, η = 1/0.83 − 1, β = 0.906, ω = 0.307, κ = 0.3235, R = 1.04. The bond grid is uniform on
[−1.02, −0.2] (800 points in the paper's appendix, 100 in ``main.m``).
"""

from __future__ import annotations

import os
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import as_float, check_in_range, check_positive, is_concrete
import warnings

from ...numerics import Axis, MarkovChain, product_chain, rouwenhorst, stationary_distribution, uniform_axis

__all__ = [
    "Params",
    "bianchi2011_params",
    "bianchi2011_chain",
    "synthetic_income_chain",
    "load_income_process",
    "bond_grid",
    "check_grid",
]


class Params(eqx.Module):
    """Parameters of the Bianchi (2011) small open economy.

    Attributes:
        sigma: relative risk aversion σ > 0 (paper: 2).
        eta: CES curvature η > 0; the elasticity of substitution between tradables and
            nontradables is 1/(1+η) < 1 (paper: η = 1/0.83 − 1).
        beta: discount factor β in (0, 1) (``main.m``: 0.906).
        omega: weight of tradables ω in (0, 1) (``main.m``: 0.307).
        kappa: collateral coefficient κ >= 0 (``main.m``: 0.3235).
        R: gross interest rate R = 1 + r > 0 (paper: 1.04).
        chain: the income process, a :class:`~jaxecon.numerics.MarkovChain` whose ``values`` have
            columns ``(yT, yN)`` (both > 0).
    """

    sigma: Float[Array, ""] = eqx.field(converter=as_float)
    eta: Float[Array, ""] = eqx.field(converter=as_float)
    beta: Float[Array, ""] = eqx.field(converter=as_float)
    omega: Float[Array, ""] = eqx.field(converter=as_float)
    kappa: Float[Array, ""] = eqx.field(converter=as_float)
    R: Float[Array, ""] = eqx.field(converter=as_float)
    chain: MarkovChain

    def __check_init__(self):
        check_positive(self.sigma, "Params.sigma")
        # η > 0 (elasticity 1/(1+η) < 1, as in the paper): the constraint map cT − κ p(cT) yN is
        # then concave, which the binding-region solver relies on (one root on its rising branch).
        check_positive(self.eta, "Params.eta (elasticity of substitution 1/(1+η) must be < 1)")
        check_in_range(self.beta, "Params.beta", 0.0, 1.0, lo_open=True, hi_open=True)
        check_in_range(self.omega, "Params.omega", 0.0, 1.0, lo_open=True, hi_open=True)
        check_positive(self.kappa, "Params.kappa", strict=False)
        check_positive(self.R, "Params.R")
        if not isinstance(self.chain, MarkovChain):
            raise ValueError(f"Params.chain must be a jaxecon.numerics.MarkovChain; got {type(self.chain)}")
        if self.chain.values.shape[-1] != 2:
            raise ValueError(
                f"Params.chain.values must have two columns (yT, yN); got shape {self.chain.values.shape}"
            )
        check_positive(self.chain.values, "Params.chain.values (endowments yT, yN)")

    @property
    def yT(self) -> Float[Array, " ns"]:
        """Tradable endowment in each state."""
        return self.chain.values[..., 0]

    @property
    def yN(self) -> Float[Array, " ns"]:
        """Nontradable endowment in each state."""
        return self.chain.values[..., 1]

    @property
    def n_states(self) -> int:
        return self.chain.values.shape[-2]


# Summary moments of the original 16-state chain (computed once from the shared files
# bianchi2011/income_states.csv and transition.csv under its stationary law; numbers only, the
# data themselves are never copied into the repository): sd and first-order autocorrelation of
# log yT and log yN, and their correlation.
_SD_LOG_YT, _AC_LOG_YT = 0.057059, 0.525633
_SD_LOG_YN, _AC_LOG_YN = 0.055551, 0.621454
_CORR_LOG_YT_YN = 0.833272


def synthetic_income_chain() -> MarkovChain:
    """A 16-state ``(yT, yN)`` chain generated in code that mimics the original one's moments.

    The fallback when the shared replication files are absent (default runs must not need them).
    ``log yT = x`` with ``x`` a 4-node Rouwenhorst AR(1); ``log yN = β x + e`` with ``e`` an
    independent 4-node Rouwenhorst AR(1). ``β``, and the standard deviations and persistences of
    ``x`` and ``e``, are set so that the sd and autocorrelation of ``log yT`` and ``log yN`` and
    their correlation equal the original chain's (stored above); levels are scaled to stationary
    mean 1. It is *not* the paper's process (its VAR has cross-lags), so the replication of the
    paper's numbers requires :func:`load_income_process`.
    """
    var_t, var_n = _SD_LOG_YT**2, _SD_LOG_YN**2
    beta = _CORR_LOG_YT_YN * _SD_LOG_YN / _SD_LOG_YT
    var_e = var_n - beta**2 * var_t
    ac_e = (_AC_LOG_YN * var_n - beta**2 * var_t * _AC_LOG_YT) / var_e
    x = rouwenhorst(4, _AC_LOG_YT, _SD_LOG_YT * np.sqrt(1.0 - _AC_LOG_YT**2))
    e = rouwenhorst(4, ac_e, np.sqrt(var_e) * np.sqrt(1.0 - ac_e**2))
    joint = product_chain(x, e)
    log_yt = joint.values[:, 0]
    log_yn = beta * joint.values[:, 0] + joint.values[:, 1]
    levels = jnp.exp(jnp.column_stack([log_yt, log_yn]))
    pi = stationary_distribution(joint)
    levels = levels / (pi @ levels)[None, :]
    return MarkovChain(values=levels, P=joint.P)


def bianchi2011_chain(path: str | os.PathLike | None = None) -> MarkovChain:
    """The 16-state ``(yT, yN)`` chain of the original package, read from the shared files.

    Reads ``income_states.csv`` and ``transition.csv`` with :func:`load_income_process` (``path``,
    ``$JAXECON_DATA/bianchi2011`` or ``../shared/data/bianchi2011``). When they are absent it warns
    and returns :func:`synthetic_income_chain`, so that default runs work without data; anything
    compared with the paper's numbers must use the real chain (the replication checks this).
    """
    try:
        return load_income_process(path)
    except FileNotFoundError as err:
        warnings.warn(
            f"{err}; using jaxecon's synthetic 16-state income chain instead (the paper's numbers "
            "need the original chain)",
            UserWarning,
            stacklevel=2,
        )
        return synthetic_income_chain()


def load_income_process(path: str | os.PathLike | None = None) -> MarkovChain:
    """Read the 16-state chain from ``income_states.csv`` and ``transition.csv``.

    Args:
        path: folder holding the two files; default ``bianchi2011/`` in :func:`jaxecon.data.data_dir`
            (``$JAXECON_DATA`` or ``../shared/data`` beside the repository root).

    Raises:
        FileNotFoundError: the folder or a file is missing (the message names it).
        ValueError: a column is missing (named with its file), the shapes disagree, or the
            transition matrix is not stochastic (a row not summing to one within 1e-8, named).
    """
    import pandas as pd

    if path is None:
        from ...data import data_dir  # the one place that knows where the real data live

        path = data_dir() / "bianchi2011"
    folder = Path(path)
    inc_file, tr_file = folder / "income_states.csv", folder / "transition.csv"
    for f in (inc_file, tr_file):
        if not f.is_file():
            raise FileNotFoundError(f"Bianchi (2011) income file not found: {f}")
    inc = pd.read_csv(inc_file)
    for col in ("state", "yT", "yN"):
        if col not in inc.columns:
            raise ValueError(f"column {col!r} missing from {inc_file}")
    inc = inc.sort_values("state")
    tr = pd.read_csv(tr_file)
    n = len(inc)
    cols = [f"s{k}" for k in range(1, n + 1)]
    for col in cols:
        if col not in tr.columns:
            raise ValueError(f"column {col!r} missing from {tr_file}")
    P = tr[cols].to_numpy(dtype=float)
    if P.shape != (n, n):
        raise ValueError(f"{tr_file} must hold a {n} x {n} matrix; got {P.shape}")
    if not np.all(np.isfinite(P)) or np.any(P < 0):
        raise ValueError(f"{tr_file} holds negative or non-numeric transition probabilities")
    row_gap = np.abs(P.sum(axis=1) - 1.0)
    if np.any(row_gap > 1e-8):
        bad = int(np.argmax(row_gap))
        raise ValueError(f"{tr_file}: row {bad + 1} of the transition matrix sums to {P[bad].sum():.10g}, not 1 "
                         "(a stochastic matrix is required; it is not renormalized silently)")
    P = P / P.sum(axis=1, keepdims=True)  # round-off only (|row sum − 1| <= 1e-8)
    values = inc[["yT", "yN"]].to_numpy(dtype=float)
    return MarkovChain(values=jnp.asarray(values), P=jnp.asarray(P))


def bianchi2011_params(chain: MarkovChain | None = None, **overrides) -> Params:
    """The calibration of Bianchi (2011) (``main.m`` lines 23-28), with optional overrides.

    σ = 2, η = 1/0.83 − 1, β = 0.906, ω = 0.307, κ = 0.3235, R = 1.04 and the 16-state chain
    (:func:`bianchi2011_chain` unless ``chain`` is given).
    """
    base = dict(sigma=2.0, eta=1.0 / 0.83 - 1.0, beta=0.906, omega=0.307, kappa=0.3235, R=1.04)
    unknown = set(overrides) - set(base)
    if unknown:
        raise ValueError(f"unknown parameter(s) {sorted(unknown)}; allowed: {sorted(base)}")
    base.update(overrides)
    return Params(**base, chain=chain if chain is not None else bianchi2011_chain())


def bond_grid(n: int = 800, lo: float = -1.02, hi: float = -0.2) -> Axis:
    """The uniform bond grid ``b ∈ [lo, hi]`` with ``n`` points (paper appendix: 800 on [−1.02, −0.2])."""
    return uniform_axis(lo, hi, n)


def check_grid(params: Params, grid: Axis) -> None:
    """Raise if the grid allows non-positive tradable consumption: ``R b_min + yT − b_max <= 0``.

    The saving corner ``b' = b_max`` must leave positive consumption at the poorest grid point in
    every state (as in the Julia replication's model check). Skipped under tracing.
    """
    if not is_concrete(params) or not is_concrete(grid.points):
        return
    lo, hi = float(grid.points[0]), float(grid.points[-1])
    worst = np.asarray(params.R) * lo + np.min(np.asarray(params.yT), axis=-1) - hi
    if np.any(worst <= 0):
        raise ValueError(
            f"bond grid [{lo}, {hi}] permits non-positive tradable consumption "
            f"(R b_min + min yT − b_max = {np.min(worst):.4f}); raise b_min or lower b_max"
        )
