"""Baseline calibration of the clusters model to CZ-industry employment (DESIGN.md, "Baseline").

Given employment E_ic (ADH 1990, or the synthetic default) the baseline reproduces the employment
shares L_ic = E_ic / Σ E exactly:

* μ_ic = L_ic / L_i (each Home variety has the same size in the baseline: the μ_ic varieties of
  industry i in location c share its employment; μ and z enter employment only through
  μ_ic z_ic^(ρ−1), so this fixes the split between them);
* Foreign: w* = 1 in the baseline and mean ln z*_i = 0 (two normalizations: the units of Foreign
  labor, (z*, w*, L*) -> (λ z*, λ w*, L*/λ), and the common scale of all productivities, which changes
  only price levels), so X*/X = L* = ``foreign_size``; z*_i such that every industry's import share
  of Home spending equals ``import_penetration`` (no industry-level import levels are in the ADH
  files), and τ such that trade balances (D6; ``uniform_penetration=False``: one common z*_i = 1 and τ
  from the aggregate import share only);
* Home industry price aggregates D_i = Σ_c μ_ic p_ic^(1−ρ) solve L_i = D_i A_i / m (D4-D5), so that
  with the common variety price p̄_i = D_i^(1/(1−ρ)) inside industry i, z_ic = m / (p̄_i L_ic^η) (D1).

The 2 I + 1 equations in (ln D_i, ln z*_i, ln τ) (employment, import shares, normalization) do not
involve η (z_ic absorbs it in closed form) and are solved once by Newton (optimistix), started from
the common-z* solution (I + 1 equations in (ln D_i, ln τ)); balanced trade (D6) holds by Walras' law
(Σ L_i = 1 is one of the targets) and is checked in the re-solved equilibrium. Targets (module constants, keyword arguments):

``IMPORT_PENETRATION = 0.14``: US manufacturing imports / apparent consumption (shipments + imports −
    exports) around 1990. A round number for the order of magnitude in the US Census / NBER
    trade-and-production series used in, e.g., Bernard, Jensen & Schott (2006, J. Int. Econ. 68(1));
    not checked against a published table in this code.
``FOREIGN_SIZE = 3.0``: Foreign / Home manufacturing expenditure, i.e. the US at about a quarter of
    world manufacturing around 1990 (a round number, same caveat).
``SHIPMENTS_PER_WORKER = 220.0``: thousands of 2007 US$ of manufacturing shipments per US
    manufacturing worker in 1990 (about $2.9 trillion of shipments, Census ASM, times a GDP-deflator
    factor of about 1.45 to 2007 dollars, over the 19.1 million CBP manufacturing workers of the ADH
    files; approximate). It converts ADH import changes (k$ of 2007) into model units, where Home
    revenue per worker is the markup m: ΔM_model = ΔM_$ m / (E s).
"""

from __future__ import annotations

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool, Float

from ..._checks import check_in_range
from .equilibrium import Equilibrium, _Consts, _pieces, solve_equilibrium
from .params import Params

__all__ = ["Baseline", "calibrate_baseline", "ClusterData", "cluster_data", "IMPORT_PENETRATION", "FOREIGN_SIZE",
           "SHIPMENTS_PER_WORKER"]

IMPORT_PENETRATION = 0.14
FOREIGN_SIZE = 3.0
SHIPMENTS_PER_WORKER = 220.0


class Baseline(eqx.Module):
    """A calibrated baseline: the Params, their equilibrium and the calibration's diagnostics.

    Attributes:
        params: calibrated :class:`Params`; equilibrium: its :class:`Equilibrium` (solved afresh).
        target_L: ``(C, I)`` the employment shares reproduced.
        root_residual: max residual of the calibration's I + 1 equations; root_converged: Newton's flag.
        employment_error: max |L_ic(model) − target| (the exactness check).
    """

    params: Params
    equilibrium: Equilibrium
    target_L: Float[Array, "C I"]
    root_residual: Float[Array, ""]
    root_converged: Bool[Array, ""]
    employment_error: Float[Array, ""]


def _check_employment(employment) -> np.ndarray:
    E = np.asarray(employment, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"employment must be a (C, I) array; got shape {E.shape}")
    if not np.all(np.isfinite(E)):
        raise ValueError(f"employment must be finite; got {int(np.sum(~np.isfinite(E)))} NaN/inf entries")
    if np.any(E < 0):
        raise ValueError(f"employment must be >= 0; got min {E.min()}")
    empty = np.flatnonzero(E.sum(axis=0) <= 0)
    if empty.size:
        raise ValueError(f"employment: industries {empty[:10].tolist()} (column indices) have no employment in any "
                         "location; drop them (μ's columns must sum to one)")
    return E


def _baseline_prices(d, lzs, ltau, sigma, rho, L_star):
    """Prices at w* = 1 given D_i = e^d (D2-D3) and the aggregates of D4: (ln p_i^(1−ρ), ln(τ p^F)^(1−ρ), pieces)."""
    n = d.shape[0]
    lzs = jnp.broadcast_to(lzs, (n,))
    k = _Consts(sigma=sigma, rho=rho, eta=jnp.zeros(()), log_tau=ltau, L_star=L_star, log_B=jnp.zeros(n),
                log_zs=lzs)
    lf = (1.0 - rho) * (ltau + jnp.log(rho / (rho - 1.0)) - lzs)  # ln (τ p^F_i)^(1−ρ), p^F = m / z*
    lu = jnp.logaddexp(d, lf)
    lps = jnp.logaddexp((1.0 - rho) * ltau + d, lf - (1.0 - rho) * ltau) / (1.0 - rho)
    q = _pieces(jnp.concatenate([lu / (1.0 - rho), lps, jnp.zeros(1)]), k)
    return lu, lf, q


def _calibration_residual(u, args):
    """Common z*_i = 1: residuals at u = (ln D, ln τ) of employment L_i = D_i A_i / m (I) and the aggregate
    import share Σ_i imports_i / X (1)."""
    sigma, rho, L_star, log_Li, log_ip = args
    n = log_Li.shape[0]
    d, ltau = u[:n], u[n]
    lu, lf, q = _baseline_prices(d, jnp.zeros(()), ltau, sigma, rho, L_star)
    r_emp = d + q["lA"] - q["lm"] - log_Li
    r_ip = jax.nn.logsumexp(lf + q["lH"]) - q["lm"] - log_ip  # imports_i = (τ p^F_i)^(1−ρ) H_i
    return jnp.concatenate([r_emp, r_ip[None]])


def _uniform_residual(u, args):
    """Residuals at u = (ln D, ln z*, ln τ): employment (I), the import share of Home's spending in every
    industry, (τ p^F_i)^(1−ρ) / p_i^(1−ρ) (I), and the normalization mean(ln z*) = 0 (module docstring).
    Balanced trade (D6) is implied (Walras: Σ L_i = 1 is among the targets)."""
    sigma, rho, L_star, log_Li, log_ip = args  # log_ip: (I,) target ln import shares
    n = log_Li.shape[0]
    d, lzs, ltau = u[:n], u[n:2 * n], u[2 * n]
    lu, lf, q = _baseline_prices(d, lzs, ltau, sigma, rho, L_star)
    r_emp = d + q["lA"] - q["lm"] - log_Li
    return jnp.concatenate([r_emp, lf - lu - log_ip, jnp.mean(lzs)[None]])


@functools.partial(jax.jit, static_argnames=("fn", "tol"))
def _root(fn, u0, args, tol):
    sol = optx.root_find(fn, optx.Newton(rtol=0.0, atol=tol), u0, args, max_steps=100, throw=False)
    res = jnp.max(jnp.abs(fn(sol.value, args)))
    return sol.value, res, sol.result == optx.RESULTS.successful


def calibrate_baseline(employment, *, sigma: float = 3.0, rho: float = 5.0, eta: float = 0.0,
                       import_penetration: float = IMPORT_PENETRATION, foreign_size: float = FOREIGN_SIZE,
                       uniform_penetration: bool = True, tol: float = 1e-12) -> Baseline:
    """Calibrate μ_ic, z_ic, z*_i, τ, L* so that the baseline reproduces ``employment`` exactly.

    Args:
        employment: ``(C, I)`` nonnegative employment (any scale; e.g. ADH 1990 industry shares times CZ
            employment, from :func:`cluster_data`); every industry needs some employment.
        sigma, rho, eta: elasticities (validated by :class:`Params`).
        import_penetration: target Σ_i imports_i / X (module docstring for the default and its source).
        foreign_size: X*/X = L* (w* = 1 in the baseline).
        uniform_penetration: True (default): z*_i per industry so that every industry's import share of
            Home spending equals the target (mean ln z* = 0); False: one common z*_i = 1, so that only the
            aggregate matches (small industries then have very high import shares).

    Returns:
        :class:`Baseline`. Raises ValueError for NaN/negative employment, empty industries, a target
        outside (0, 1), or a target that needs τ < 1.
    """
    E = _check_employment(employment)
    check_in_range(import_penetration, "import_penetration", 0.0, 1.0, lo_open=True, hi_open=True)
    check_in_range(foreign_size, "foreign_size", 0.0, None, lo_open=True)
    Params(sigma=sigma, rho=rho, eta=eta, tau=1.0, L_star=foreign_size, z=np.ones((1, 1)), z_star=np.ones(1),
           mu=np.ones((1, 1)))  # validates σ, ρ, η before any solve
    L = E / E.sum()
    L_i = L.sum(axis=0)
    mu = L / L_i
    args = (jnp.asarray(sigma, float), jnp.asarray(rho, float), jnp.asarray(foreign_size, float),
            jnp.log(jnp.asarray(L_i)), jnp.log(jnp.asarray(import_penetration, float)))
    m = rho / (rho - 1.0)
    n = L_i.shape[0]
    for tau0 in (2.0, 1.3, 4.0):
        # start: each industry's import share equal to the target, D_i ∝ L_i (D2 with A_i ignored)
        f = (tau0 * m) ** (1.0 - rho)
        u0 = jnp.concatenate([jnp.log(L_i * n * f * (1.0 - import_penetration) / import_penetration),
                              jnp.log(tau0) * jnp.ones(1)])
        u, res, ok = _root(_calibration_residual, u0, args, tol)
        if np.isfinite(float(res)) and float(res) <= 1e3 * tol:
            break
    n = L_i.shape[0]
    d, ltau = np.asarray(u[:n]), float(u[n])
    if not np.isfinite(res) or float(res) > 1e3 * tol:
        raise RuntimeError(f"baseline calibration did not converge (residual {float(res):.3e}); try another "
                           "import_penetration or foreign_size")
    lzs = np.zeros(n)
    if uniform_penetration:
        # continuation from the common-z* solution's import shares s_i to the uniform target, in ln s
        u = jnp.concatenate([u[:n], jnp.zeros(n), u[n:]])
        r_ = jnp.asarray(rho, float)
        lpF0 = jnp.log(m) - jnp.zeros(n)
        log_s0 = (1.0 - r_) * (u[2 * n] + lpF0) - jnp.logaddexp(u[:n], (1.0 - r_) * (u[2 * n] + lpF0))
        for t in (0.25, 0.5, 0.75, 1.0):
            log_ip = (1.0 - t) * log_s0 + t * np.log(import_penetration)
            u, res, ok = _root(_uniform_residual, u, args[:4] + (log_ip,), tol)
            if not np.isfinite(res):
                break
        if not np.isfinite(res) or float(res) > 1e3 * tol:
            raise RuntimeError(f"baseline calibration (uniform import penetration) did not converge (residual "
                               f"{float(res):.3e})")
        d, lzs, ltau = np.asarray(u[:n]), np.asarray(u[n:2 * n]), float(u[2 * n])
    else:
        d, ltau = np.asarray(u[:n]), float(u[n])
    if ltau < 0:
        raise ValueError(f"import_penetration={import_penetration} with foreign_size={foreign_size} needs a trade "
                         f"cost tau = {np.exp(ltau):.4f} < 1; lower the import penetration target")
    pbar = np.exp(d / (1.0 - rho))  # common variety price inside industry i
    pos = L > 0
    z = np.where(pos, m / (pbar[None, :] * np.where(pos, L, 1.0) ** eta), 1.0)  # D1 inverted
    params = Params(sigma=sigma, rho=rho, eta=eta, tau=np.exp(ltau), L_star=foreign_size, z=z,
                    z_star=np.exp(lzs), mu=mu)
    eq = jax.jit(solve_equilibrium)(params)
    err = jnp.max(jnp.abs(eq.L - L))
    return Baseline(params=params, equilibrium=eq, target_L=jnp.asarray(L), root_residual=res,
                    root_converged=ok, employment_error=err)


@dataclasses.dataclass(frozen=True)
class ClusterData:
    """CZ-industry employment and what the experiment needs beside it.

    Attributes:
        employment: ``(C, I)`` manufacturing employment (workers), industries with none dropped.
        total_employment: ``(C,)`` all-industry employment; population: ``(C,)`` working-age population.
        sic87dd: ``(I,)`` industry codes kept; czones: ``(C,)``; state: ``(C,)`` cluster codes (state FIPS,
            or synthetic groups); source: "ADH 1990" or "synthetic".
    """

    employment: np.ndarray
    total_employment: np.ndarray
    population: np.ndarray
    sic87dd: np.ndarray
    czones: np.ndarray
    state: np.ndarray
    source: str


def cluster_data(path=None, *, synthetic_seed: int = 0, use_real: bool = True) -> ClusterData:
    """ADH 1990 employment by CZ and industry if the files are present, else the synthetic default.

    Real: the ``cz_industry_shares`` rows labelled 2000 hold 1990 shares (of total CZ employment), times
    the 1990 CBP employment ``l_no_workers_totcbp`` (workfile rows of period 1990); population
    ``l_popcount`` (1990); state = ``clus``. Synthetic: :func:`jaxecon.data.synthetic_czs` (722 CZs),
    state = 48 groups of consecutive CZ ids. Industries with no employment anywhere are dropped.
    """
    from jaxecon.data import load_adh, synthetic_czs

    adh = None
    if use_real:
        try:
            adh = load_adh(path)
        except FileNotFoundError:
            adh = None
    if adh is not None:
        wf = adh.workfile[adh.workfile["year"] == 1990]
        tot = wf["l_no_workers_totcbp"].to_numpy(dtype=float)
        emp = np.asarray(adh.share_arrays[1990]) * tot[:, None]
        state = adh.exposure.loc[adh.exposure["year"] == 1990, "clus"].to_numpy()
        pop, sic, cz, src = np.asarray(adh.population[1990], float), np.asarray(adh.sic87dd), np.asarray(adh.czones), \
            "ADH 1990"
    else:
        s = synthetic_czs(synthetic_seed)
        emp, tot, pop, sic, cz = (np.asarray(s.employment, float), np.asarray(s.total_employment, float),
                                  np.asarray(s.population, float), np.asarray(s.sic87dd), np.asarray(s.czone))
        state = (np.arange(len(cz)) * 48) // len(cz)
        src = "synthetic"
    keep = emp.sum(axis=0) > 0
    return ClusterData(employment=emp[:, keep], total_employment=tot, population=pop, sic87dd=sic[keep], czones=cz,
                       state=np.asarray(state), source=src)


def baseline_params_at_eta(params: Params, target_L, eta) -> Params:
    """The calibrated baseline for another η, in closed form (traceable, differentiable in ``eta``).

    The calibration's variety prices p̄_i do not depend on η, so z_ic(η) = m / (p̄_i L_ic^η) =
    z_ic(η₀) L_ic^(η₀ − η) where μ_ic > 0 (module docstring); everything else is unchanged.
    """
    L = jnp.asarray(target_L)
    pos = params.mu > 0
    z = jnp.where(pos, params.z * jnp.where(pos, L, 1.0) ** (params.eta - eta), 1.0)
    return eqx.tree_at(lambda q: (q.eta, q.z), params, (jnp.asarray(eta, dtype=float), z))
