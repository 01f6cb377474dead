"""Parameters, grids and calibrated presets of the specialization model (papers 002/003).

Symbols follow DESIGN.md ("The specialization model"): industries ``i = 1..I``, aggregate capital
fixed at 1, state ``(b, k, s)`` with bonds ``b``, capital shares ``k`` (``Σ k_i = 1``) and an
exogenous Markov state ``s`` giving productivities ``z̄_i(s)`` and the gross interest rate ``R(s)``.

:class:`Params` holds every number the equilibrium depends on (arrays, so a list of Params stacks
into a batch for ``jax.vmap``); :class:`Grid` holds the static discretization of the endogenous
states (Python numbers, so it can be a static argument of ``jit``).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..._checks import as_float, check_in_range, check_increasing, check_positive, is_concrete
from ...numerics import MarkovChain, drift_chain, product_chain, rouwenhorst, stationary_distribution, tauchen

__all__ = ["Params", "Grid", "exogenous_chain", "trend_levels", "two_industry_params", "one_industry_params", "three_industry_params"]


class Params(eqx.Module):
    """Parameters of the collateral-constrained multi-industry small open economy.

    Attributes:
        gamma: relative risk aversion γ > 0 in ``u(c) = (c^(1−γ) − 1)/(1−γ)``.
        alpha: capital elasticity α ∈ (0, 1) of ``y_i = z̄_i k_i^(α+ξ_i)``.
        beta: discount factor β ∈ (0, 1).
        theta: collateral coefficient θ >= 0 in ``−b'/R <= θ q`` (``inf``: no constraint).
        xi: agglomeration elasticities ξ_i >= 0 (external), shape ``(I,)``; α + ξ_i < 1.
        phi: adjustment-cost coefficients φ_i >= 0 of ``Φ_i(k, k') = (φ_i/2)(k'/k − 1 − δ_i)² k``.
        delta: δ_i > −1 in the adjustment cost (0 by default).
        z: productivity levels z̄_i(s) > 0, shape ``(n_s, I)``.
        R: gross interest rate R(s) > 0, shape ``(n_s,)``.
        P: transition matrix of s, shape ``(n_s, n_s)``.

    Validation (concrete values only): a clear ``ValueError`` naming the field. With ``θ = inf``
    the economy needs ``β E[R] < 1`` (otherwise bonds grow without bound and no stationary
    equilibrium exists on any grid).
    """

    gamma: Float[Array, ""] = eqx.field(converter=as_float)
    alpha: Float[Array, ""] = eqx.field(converter=as_float)
    beta: Float[Array, ""] = eqx.field(converter=as_float)
    theta: Float[Array, ""] = eqx.field(converter=as_float)
    xi: Float[Array, " I"] = eqx.field(converter=as_float)
    phi: Float[Array, " I"] = eqx.field(converter=as_float)
    delta: Float[Array, " I"] = eqx.field(converter=as_float)
    z: Float[Array, "ns I"] = eqx.field(converter=as_float)
    R: Float[Array, " ns"] = eqx.field(converter=as_float)
    P: Float[Array, "ns ns"] = eqx.field(converter=as_float)

    def __check_init__(self):
        # shapes (also checked under tracing; a batch adds one leading axis to every leaf)
        batched = self.gamma.ndim == 1
        lead = 1 if batched else 0
        if self.xi.ndim != 1 + lead:
            raise ValueError(f"Params.xi must have shape (I,); got {self.xi.shape}")
        I = self.xi.shape[-1]
        for name in ("phi", "delta"):
            if getattr(self, name).shape[-1:] != (I,):
                raise ValueError(f"Params.{name} must have shape ({I},) like xi; got {getattr(self, name).shape}")
        if self.z.ndim != 2 + lead or self.z.shape[-1] != I:
            raise ValueError(f"Params.z must have shape (n_s, {I}); got {self.z.shape}")
        ns = self.z.shape[-2]
        if self.R.shape[-1:] != (ns,):
            raise ValueError(f"Params.R must have shape ({ns},); got {self.R.shape}")
        if self.P.shape[-2:] != (ns, ns):
            raise ValueError(f"Params.P must have shape ({ns}, {ns}); got {self.P.shape}")
        if not is_concrete(self):
            return
        check_positive(self.gamma, "Params.gamma")
        check_in_range(self.alpha, "Params.alpha", 0.0, 1.0, lo_open=True, hi_open=True)
        check_in_range(self.beta, "Params.beta", 0.0, 1.0, lo_open=True, hi_open=True)
        check_in_range(self.theta, "Params.theta", 0.0, math.inf)
        check_in_range(self.xi, "Params.xi", 0.0, None)
        check_in_range(self.phi, "Params.phi", 0.0, None)
        check_in_range(self.delta, "Params.delta", -1.0, None, lo_open=True)
        check_positive(self.z, "Params.z")
        check_positive(self.R, "Params.R")
        a, xi = np.asarray(self.alpha), np.asarray(self.xi)
        if np.any(a[..., None] + xi >= 1.0):
            raise ValueError(f"Params.alpha + Params.xi must be < 1 for every industry; got {a[..., None] + xi}")
        P = np.asarray(self.P)
        if np.any(P < -1e-12) or not np.allclose(P.sum(axis=-1), 1.0, atol=1e-8):
            raise ValueError("Params.P must be a stochastic matrix (entries >= 0, rows sum to 1)")
        th = np.asarray(self.theta)
        Ps = P.reshape((-1, ns, ns))
        Rs = np.asarray(self.R).reshape((-1, ns))
        bs = np.asarray(self.beta).reshape(-1)
        for j, thj in enumerate(th.reshape(-1)):
            if np.isinf(thj):
                pi = np.asarray(stationary_distribution(Ps[j]))
                bR = bs[j] * float(pi @ Rs[j])
                if bR >= 1.0:
                    raise ValueError(
                        "Params.beta * E[R] must be < 1 when Params.theta = inf (no collateral "
                        f"constraint): with beta*R = {bR:.4f} >= 1 bonds grow without bound"
                    )

    @property
    def n_industries(self) -> int:
        return self.xi.shape[-1]

    @property
    def n_states(self) -> int:
        return self.z.shape[-2]

    @property
    def chain(self) -> MarkovChain:
        """The exogenous chain: values ``[z̄_1..z̄_I, R]`` per state and ``P``."""
        return MarkovChain(values=jnp.concatenate([self.z, self.R[:, None]], axis=1), P=self.P)


class Grid(eqx.Module):
    """Static discretization of the endogenous states ``(b, k_1..k_{I−1})``.

    The default is 40 bond × 15 share points. On the two-industry preset its consistent allocation
    (``b'`` interpolated net of output, :func:`~jaxecon.models.specialization.policy.allocation_at`) has
    mean log10 Euler errors −3.76 (bond) and −3.17 (capital) off the grid. With the same number of
    nodes, 20 × 30 has −3.62 / −3.42 but larger errors in the policies themselves (c, q, b' farther
    from a 61 × 45 solve), so the default keeps the bond points
    (``experiments/specialization_accuracy.py`` reports both measures for every grid).

    Attributes:
        n_b: bond grid size.
        b_min, b_max: bond grid bounds.
        b_curvature: power spacing ``b = b_min + (b_max − b_min) u^curvature`` (``> 1`` puts points
            near ``b_min``, where the collateral constraint binds and policies bend most; 1 =
            uniform).
        n_k: points per capital-share axis (the first I−1 shares; ``k_I = 1 − Σ``).
        k_min, k_max: bounds of each share axis (``0 < k_min < k_max < 1``); for I = 3 the grid
            points with ``k_1 + k_2 > 1 − k_min`` are infeasible and masked.
        b_points, k_points: optional explicit strictly increasing grids (tuples), overriding the
            bounds and sizes above (located by binary search: slower).
        b_extrapolate: extend next-period policies linearly beyond the bond grid's ends instead of
            clamping them. Needed without a collateral constraint (θ = inf): with β R < 1 agents
            borrow toward the natural debt limit, and only a linear extension of c below the grid
            lets the Euler equation feel it (a clamped c' makes c at the grid bottom explode).
        debt_limit: with θ = inf, impose the exogenous (ad hoc) debt limit ``b' >= b_min`` (the
            grid's lower end) instead of leaving borrowing unbounded. This is the frictionless
            counterfactual used by the experiments: the same state space as the constrained
            economy, a borrowing limit that does *not* move with the price of capital (so no
            fire-sale feedback and no collateral term ``θ q' η'`` in the capital Euler equation);
            its multiplier is reported in ``eta``. Ignored when θ is finite.
    """

    n_b: int = eqx.field(static=True, default=40)
    b_min: float = eqx.field(static=True, default=-0.45)
    b_max: float = eqx.field(static=True, default=0.8)
    b_curvature: float = eqx.field(static=True, default=1.6)
    n_k: int = eqx.field(static=True, default=15)
    k_min: float = eqx.field(static=True, default=0.02)
    k_max: float = eqx.field(static=True, default=0.98)
    b_points: tuple | None = eqx.field(static=True, default=None)
    k_points: tuple | None = eqx.field(static=True, default=None)
    b_extrapolate: bool = eqx.field(static=True, default=False)
    debt_limit: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.b_points is not None:
            check_increasing(np.asarray(self.b_points, dtype=float), "Grid.b_points")
        else:
            if not isinstance(self.n_b, (int, np.integer)) or self.n_b < 2:
                raise ValueError(f"Grid.n_b must be an integer >= 2; got {self.n_b!r}")
            if not self.b_max > self.b_min:
                raise ValueError(f"Grid needs b_max > b_min (strictly increasing bond grid); got {self.b_min}, {self.b_max}")
            check_positive(self.b_curvature, "Grid.b_curvature")
        if self.k_points is not None:
            kp = np.asarray(self.k_points, dtype=float)
            check_increasing(kp, "Grid.k_points")
            check_in_range(kp, "Grid.k_points (capital shares)", 0.0, 1.0, lo_open=True, hi_open=True)
        else:
            if not isinstance(self.n_k, (int, np.integer)) or self.n_k < 2:
                raise ValueError(f"Grid.n_k must be an integer >= 2; got {self.n_k!r}")
            if not self.k_max > self.k_min:
                raise ValueError(f"Grid needs k_max > k_min (strictly increasing share grid); got {self.k_min}, {self.k_max}")
            check_in_range(self.k_min, "Grid.k_min (capital share)", 0.0, 1.0, lo_open=True, hi_open=True)
            check_in_range(self.k_max, "Grid.k_max (capital share)", 0.0, 1.0, lo_open=True, hi_open=True)

    @property
    def size_b(self) -> int:
        return len(self.b_points) if self.b_points is not None else self.n_b

    @property
    def size_k(self) -> int:
        return len(self.k_points) if self.k_points is not None else self.n_k


# --------------------------------------------------------------------------------------------------
# exogenous process
# --------------------------------------------------------------------------------------------------
def exogenous_chain(rho, sigma, mu=None, n_z: int = 5, *, method: str = "tauchen", m: float = 3.0,
                    R_bar: float = 1.013, rho_R: float | None = None, sigma_R: float | None = None,
                    n_R: int = 3) -> tuple:
    """The exogenous Markov chain of ``(z̄_1..z̄_I, R)`` (DESIGN.md "Exogenous process").

    ``log z̄_i = μ_i + u_i`` with ``u_i' = ρ_i u_i + σ_i ε``, each discretized with ``n_z`` nodes
    (Tauchen, or Rouwenhorst with ``method="rouwenhorst"``) and combined by Kronecker product
    (:func:`jaxecon.numerics.product_chain`, industry 1 slowest). ``R`` is constant at ``R_bar``
    unless ``rho_R`` and ``sigma_R`` are given, in which case ``R = R_bar + AR(1)`` on ``n_R`` nodes
    is one more independent chain (varying fastest).

    Returns:
        ``(z, R, P)`` with shapes ``(n_s, I)``, ``(n_s,)``, ``(n_s, n_s)``.
    """
    rho = np.atleast_1d(np.asarray(rho, dtype=float))
    sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
    I = max(rho.size, sigma.size)
    rho = np.broadcast_to(rho, (I,))
    sigma = np.broadcast_to(sigma, (I,))
    mu = np.zeros(I) if mu is None else np.broadcast_to(np.asarray(mu, dtype=float), (I,))
    disc = {"tauchen": lambda r, s, u: tauchen(n_z, r, s, m=m, mu=u),
            "rouwenhorst": lambda r, s, u: rouwenhorst(n_z, r, s, mu=u)}
    if method not in disc:
        raise ValueError(f"method must be 'tauchen' or 'rouwenhorst'; got {method!r}")
    chains = [disc[method](float(rho[i]), float(sigma[i]), float(mu[i])) for i in range(I)]
    if rho_R is not None and sigma_R is not None:
        chains.append(disc[method](float(rho_R), float(sigma_R), 0.0) if method == "rouwenhorst"
                      else tauchen(n_R, float(rho_R), float(sigma_R), m=m))
    ch = product_chain(*chains)
    z = jnp.exp(ch.values[:, :I])
    R = R_bar + (ch.values[:, I] if ch.values.shape[1] > I else jnp.zeros(ch.n))
    return z, R, ch.P


# --------------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------------
# Paper 002, Table 10 (ξ, Bartelme et al.) and Table 11 (φ: Groth & Khan, Hall), 15 industries.
_TABLE10_XI = {
    "Food, Beverages and Tobacco": 0.16, "Textiles": 0.12, "Wood Products": 0.11, "Paper Products": 0.11,
    "Coke/ Petroleum Products": 0.07, "Chemicals": 0.20, "Rubber and Plastics": 0.25, "Mineral Products": 0.13,
    "Basic Metals": 0.11, "Fabricated Metals": 0.13, "Machinery and Equipment": 0.13,
    "Computers and Electronics": 0.09, "Electrical Machinery": 0.09, "Motor Vehicles": 0.15,
    "Other Transport Equipment": 0.16,
}
_TABLE11_PHI = {  # (Groth & Khan, Hall)
    "Food, Beverages and Tobacco": (0.01, -0.43), "Textiles": (3.26, -0.58), "Wood Products": (0.26, -0.22),
    "Paper Products": (0.0, -0.15), "Coke/ Petroleum Products": (-0.04, 0.26), "Chemicals": (-0.08, -0.02),
    "Rubber and Plastics": (-0.2, -1.75), "Mineral Products": (0.1, 0.0), "Basic Metals": (0.15, -0.06),
    "Fabricated Metals": (0.37, 0.27), "Machinery and Equipment": (0.22, -0.92),
    "Computers and Electronics": (-0.01, 0.38), "Electrical Machinery": (-0.01, -0.09),
    "Motor Vehicles": (0.25, 0.4), "Other Transport Equipment": (-0.06, 3.02),
}
MACHINERY = "Machinery and Equipment"


def _phi_of(industry: str) -> float:
    """φ of one industry: mean of the two studies of Table 11, negative estimates set to zero."""
    gk, hall = _TABLE11_PHI[industry]
    return 0.5 * (max(gk, 0.0) + max(hall, 0.0))


def table_values() -> dict:
    """The preset's industry values derived from paper 002's Tables 10 and 11.

    Machinery: ξ = 0.13 (Table 10); φ = mean(0.22, max(−0.92, 0)) = 0.11 (Table 11).
    Rest of manufacturing: the means over the other 14 industries of ξ (0.1343) and of the
    per-industry φ (each the mean of the two studies with negative estimates set to zero: 0.3118).
    """
    others = [k for k in _TABLE10_XI if k != MACHINERY]
    return {
        "xi": (_TABLE10_XI[MACHINERY], float(np.mean([_TABLE10_XI[k] for k in others]))),
        "phi": (_phi_of(MACHINERY), float(np.mean([_phi_of(k) for k in others]))),
    }


def trend_levels(g: float, n_trend: int, trend_range=None, trend_periods: float = 70.0) -> np.ndarray:
    """The grid of relative machinery productivity levels ℓ of the trend state (DESIGN.md
    "Relative productivity trend"): ``n_trend`` equally spaced levels on ``trend_range = (lo, hi)``,
    by default the span a drift of ``g`` per period covers in ``trend_periods`` periods
    (``(0, g·T)`` or ``(g·T, 0)``). The economy starts at ℓ = 0, which must be a node; the end nodes
    absorb (the drift is clamped there). ``n_trend = 1`` is the single level ℓ = 0 (no trend).
    A common ``trend_range`` lets economies with different ``g`` (``g = 0`` included) share one
    chain shape, so they stack into one batch.

    Raises:
        ValueError: ``n_trend`` not a positive integer; ``g`` not finite; a nonzero ``g`` with one
            level; ``g = 0`` with several levels and no ``trend_range``; a range without
            ``lo < hi``, or without 0 as a node; or a ``g`` that moves the trend off its grid within
            ``trend_periods`` periods (``g · trend_periods`` outside the range).
    """
    if not isinstance(n_trend, (int, np.integer)) or n_trend < 1:
        raise ValueError(f"n_trend must be an integer >= 1 (levels of the trend state); got {n_trend!r}")
    g = float(g)
    if not math.isfinite(g):
        raise ValueError(f"g (relative machinery TFP drift per period) must be finite; got {g}")
    if not (math.isfinite(trend_periods) and trend_periods > 0):
        raise ValueError(f"trend_periods must be a finite number > 0; got {trend_periods}")
    if n_trend == 1:
        if g != 0.0:
            raise ValueError(f"g = {g} needs n_trend >= 2 trend levels (one level has nowhere to drift)")
        return np.zeros(1)
    if trend_range is None:
        if g == 0.0:
            raise ValueError("g = 0 with n_trend > 1 needs an explicit trend_range (or use n_trend = 1)")
        trend_range = (min(0.0, g * trend_periods), max(0.0, g * trend_periods))
    lo, hi = (float(v) for v in trend_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"trend_range must be finite with lo < hi; got {trend_range}")
    levels = np.linspace(lo, hi, n_trend)
    j0 = int(np.argmin(np.abs(levels)))
    if abs(levels[j0]) > 1e-12 * (hi - lo):
        raise ValueError(f"trend_range {trend_range} with n_trend = {n_trend} has no node at 0 (the starting level); "
                         "choose lo, hi and n_trend so that 0 is a node")
    levels[j0] = 0.0
    end = g * trend_periods
    if not (lo - 1e-12 <= end <= hi + 1e-12):
        raise ValueError(f"g = {g} moves the trend off its grid: after trend_periods = {trend_periods} periods it "
                         f"reaches {end:.4g}, outside trend_range [{lo:.4g}, {hi:.4g}]")
    return levels


def _build(gamma, alpha, beta, theta, xi, phi, delta, rho, sigma, mu, n_z, method, R_bar, rho_R, sigma_R, n_R,
           g=0.0, n_trend=1, trend_range=None, trend_periods=70.0):
    levels = trend_levels(g, n_trend, trend_range, trend_periods)
    z, R, P = exogenous_chain(rho, sigma, mu, n_z, method=method, R_bar=R_bar, rho_R=rho_R, sigma_R=sigma_R, n_R=n_R)
    if n_trend > 1:
        # trend state ℓ slowest (state index s = j_ℓ · n_rest + s_rest); z̄_1 = exp(μ_1 + u_1 + ℓ)
        tr = drift_chain(levels, g)
        ch = product_chain(tr, MarkovChain(values=jnp.concatenate([z, R[:, None]], axis=1), P=P))
        ell = ch.values[:, 0]
        z = ch.values[:, 1:-1].at[:, 0].multiply(jnp.exp(ell))
        R, P = ch.values[:, -1], ch.P
    I = z.shape[1]
    bc = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (I,)).copy()
    return Params(gamma=gamma, alpha=alpha, beta=beta, theta=theta, xi=bc(xi), phi=bc(phi), delta=bc(delta),
                  z=z, R=R, P=P)


def two_industry_params(**overrides) -> Params:
    """The two-industry economy of the slides (003): industry 1 = machinery, 2 = rest of manufacturing.

    Every choice (override any by keyword; chain keywords rebuild the chain):

    - γ = 5, α = 0.3, β = 0.95, R̄ = 1.013 (paper 002, Table 2); R constant (``rho_R``/``sigma_R``
      give it its own AR(1) chain; Table 2 has ρ_R = 0.01, σ_R = 0.0186).
    - θ = 0.02, NOT the paper's 0.35: with capital in fixed supply q ≈ 7-10 × output, and the
      fire-sale feedback gain θγq/c is ≈ 14 at θ = 0.35 (no equilibrium where the constraint binds,
      DESIGN.md "Well-posedness"); at θ = 0.02 it stays below 1 and time iteration converges.
    - ξ = (0.13, 0.1343): machinery from Table 10; the rest = mean of the other 14 industries.
    - φ = (0.11, 0.3118): Table 11, each industry the mean of Groth-Khan and Hall with negative
      estimates set to zero; the rest = mean of the other 14 industries (see :func:`table_values`).
    - δ = 0 (DESIGN.md default).
    - TFP: log z̄_i = u_i AR(1) (μ_i = 0), ρ = (0.85, 0.80), σ = (0.027, 0.013) inside Table 2's
      ranges [0.71, 0.9] and [0.013, 0.027]: machinery the most volatile single industry, the
      composite rest the least volatile (a diversified portfolio). Tauchen with ``n_z = 5`` nodes per
      industry (m = 3): 25 exogenous states.
    - Relative productivity trend (DESIGN.md "Relative productivity trend", paper 002 B.3): ``g``
      (drift of log machinery TFP relative to the rest, per period) on ``n_trend`` levels
      (:func:`trend_levels`: ``trend_range``, by default 0 to ``g · trend_periods``), a
      :func:`jaxecon.numerics.drift_chain` composed by Kronecker product as the slowest state:
      ``n_trend × 25`` exogenous states, state ``s = j · 25 + s_TFP`` at level ``j``. Default
      ``g = 0``, ``n_trend = 1``: exactly the stationary economy.
    """
    tv = table_values()
    kw = dict(gamma=5.0, alpha=0.3, beta=0.95, theta=0.02, xi=tv["xi"], phi=tv["phi"], delta=0.0,
              rho=(0.85, 0.80), sigma=(0.027, 0.013), mu=(0.0, 0.0), n_z=5, method="tauchen",
              R_bar=1.013, rho_R=None, sigma_R=None, n_R=3, g=0.0, n_trend=1, trend_range=None,
              trend_periods=70.0)
    return _apply(kw, overrides)


def one_industry_params(**overrides) -> Params:
    """One industry (the Bianchi-Mendoza special case): I = 1, so k = 1 always and only q, c, b' move.

    γ = 5, α = 0.3, β = 0.95, R̄ = 1.013, θ = 0.02 (as the two-industry preset), ξ = 0.13,
    φ = 0.11 (machinery's; irrelevant when I = 1 since k' = k = 1), TFP ρ = 0.85, σ = 0.027 on
    7 Tauchen nodes, R constant.
    """
    kw = dict(gamma=5.0, alpha=0.3, beta=0.95, theta=0.02, xi=0.13, phi=0.11, delta=0.0,
              rho=0.85, sigma=0.027, mu=0.0, n_z=7, method="tauchen", R_bar=1.013, rho_R=None,
              sigma_R=None, n_R=3)
    return _apply(kw, overrides)


def three_industry_params(**overrides) -> Params:
    """A symmetric-ish three-industry economy for tests and scaling (3 Tauchen nodes per industry).

    Same preferences and θ as :func:`two_industry_params`; ξ = 0.13, φ = 0.2, ρ = 0.8, σ = 0.02 for
    every industry unless overridden.
    """
    kw = dict(gamma=5.0, alpha=0.3, beta=0.95, theta=0.02, xi=(0.13, 0.13, 0.13), phi=(0.2, 0.2, 0.2),
              delta=0.0, rho=(0.8, 0.8, 0.8), sigma=(0.02, 0.02, 0.02), mu=(0.0, 0.0, 0.0), n_z=3,
              method="tauchen", R_bar=1.013, rho_R=None, sigma_R=None, n_R=3)
    return _apply(kw, overrides)


def _apply(kw, overrides):
    unknown = set(overrides) - set(kw)
    if unknown:
        raise ValueError(f"unknown preset keyword(s): {sorted(unknown)}; allowed: {sorted(kw)}")
    kw.update(overrides)
    return _build(**kw)
