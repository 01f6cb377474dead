"""Simulation of both economies on the same shocks, crisis statistics, moments and event study.

Definitions (shared data README, as in the Julia replication of the original code): a crisis is a
period in which the constraint binds (slack < 1e-5) and the current account ``b' − b`` exceeds the
decentralized mean by one decentralized standard deviation; debt/GDP is ``−b / (p yN + yT)`` with
the beginning-of-period b; volatilities are standard deviations relative to the mean (percent);
the real exchange rate is the CES price index in tradable units.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import Axis, simulate_indices
from .economy import collateral_slack, composite, price, price_index
from .params import Params
from .time_iteration import Solution, _bounds, _interp_b

__all__ = ["simulate_path", "simulate_pair", "crisis_flags", "moments", "event_study", "BINDING_TOL"]

BINDING_TOL = 1e-5


def _policy_at(params: Params, grid: Axis, cT_grid, b, s):
    """Consumption at an off-grid ``(b, s)``: the linear interpolant of ``cT(·, s)``, capped by the
    exact collateral root (so the constraint holds exactly off the grid) and by the grid ends."""
    cash, c_max, c_min, _, _ = _bounds(params, grid, b, s)
    c = jnp.clip(_interp_b(grid, cT_grid, b, s), c_min, c_max)
    return c, cash


def simulate_path(params: Params, grid: Axis, cT_grid, states, b0):
    """Simulate one economy along the state path ``states`` (int, ``(T,)``) from bonds ``b0``.

    ``cT_grid``: the policy ``Solution.cT`` (``(nb, ns)``). Returns a dict of ``(T,)`` arrays:
    ``b`` (beginning of period), ``b_next``, ``cT``, ``p`` (price of nontradables), ``C``
    (composite consumption), ``P`` (price index), ``Y = yT + p yN`` (GDP in tradables), ``CA =
    b' − b``, ``slack``, ``binding`` (slack < 1e-5), ``states``. vmap over ``cT_grid`` to run the
    DE and the planner on the same shocks at once.
    """

    def step(b, s):
        c, cash = _policy_at(params, grid, cT_grid, b, s)
        b_next = cash - c
        return b_next, (b, b_next, c)

    _, (b, b_next, c) = jax.lax.scan(step, jnp.asarray(b0, dtype=float), states)
    yT, yN = params.yT[states], params.yN[states]
    p = price(params, c, yN)
    slack = collateral_slack(params, b_next, c, yT, yN)
    return dict(
        b=b, b_next=b_next, cT=c, p=p, C=composite(params, c, yN), P=price_index(params, p),
        Y=yT + p * yN, CA=b_next - b, slack=slack, binding=slack < BINDING_TOL, states=states,
    )


@jax.jit
def _simulate_batch(params, grid, cT_stack, states, b0):
    return jax.vmap(lambda c: simulate_path(params, grid, c, states, b0))(cT_stack)


def simulate_pair(params: Params, grid: Axis, de: Solution, sp: Solution, key, *, n_periods=100_000,
                  burn=5_000, b0=None):
    """Simulate the DE and the planner on the same shock path (one batched scan).

    Returns ``(sim_de, sim_sp)``: dicts of NumPy arrays of length ``n_periods`` (after ``burn``
    periods, started at ``b0``, default −0.95, inside the ergodic region).
    """
    states = simulate_indices(params.chain, key, n_periods + burn)
    b0 = -0.95 if b0 is None else b0
    out = _simulate_batch(params, grid, jnp.stack([de.cT, sp.cT]), states, jnp.asarray(b0, dtype=float))
    sims = [{k: np.asarray(v[j, burn:]) for k, v in out.items()} for j in range(2)]
    return sims[0], sims[1]


def crisis_flags(sim_de, sim_sp):
    """Crisis indicators ``binding & CA > mean_DE(CA) + std_DE(CA)`` for both economies and the threshold."""
    threshold = np.mean(sim_de["CA"]) + np.std(sim_de["CA"], ddof=1)
    return sim_de["binding"] & (sim_de["CA"] > threshold), sim_sp["binding"] & (sim_sp["CA"] > threshold), threshold


def moments(sim):
    """Moments of one simulated economy (percent): mean debt/GDP ``−b/Y``, std of C, of the real
    exchange rate P and of CA/GDP, share of binding periods."""
    def rel_std(x):
        return 100.0 * np.std(x, ddof=1) / np.mean(x)

    return dict(
        debt_gdp=100.0 * np.mean(-sim["b"] / sim["Y"]),
        std_c=rel_std(sim["C"]),
        std_rer=rel_std(sim["P"]),
        std_ca_gdp=100.0 * np.std(sim["CA"] / sim["Y"], ddof=1),
        binding_share=100.0 * np.mean(sim["binding"]),
    )


def event_study(params: Params, grid: Axis, de: Solution, sp: Solution, sim_de, sim_sp, crisis_de,
                *, before: int = 2, after: int = 3):
    """The median decentralized crisis (by the current account ``b' − b``) and the planner on the
    same shocks, restarted ``before`` periods earlier at the same DE debt (Bianchi 2011, footnote 12).

    Returns a dict: ``t`` (relative time), DE and SP paths of C (percent deviation from each
    economy's simulated mean), CA/GDP and the price index, and the impact values at t = 0.
    """
    T = len(sim_de["b"])
    cand = [t for t in np.flatnonzero(crisis_de) if t >= before and t + after < T]
    if not cand:
        raise ValueError("no decentralized crisis in the simulated path")
    order = sorted(cand, key=lambda t: sim_de["CA"][t])
    tstar = order[int(np.ceil(0.5 * len(order))) - 1]
    idx = np.arange(tstar - before, tstar + after + 1)
    states = jnp.asarray(sim_de["states"][idx])
    b0 = sim_de["b"][idx[0]]
    out = _simulate_batch(params, grid, jnp.stack([de.cT, sp.cT]), states, jnp.asarray(b0, dtype=float))
    res = {"t": np.arange(-before, after + 1), "tstar": int(tstar), "n_crises": len(cand)}
    for j, (name, base) in enumerate((("de", sim_de), ("sp", sim_sp))):
        path = {k: np.asarray(v[j]) for k, v in out.items()}
        res[f"C_{name}"] = 100.0 * (path["C"] / np.mean(base["C"]) - 1.0)
        res[f"CA_gdp_{name}"] = 100.0 * path["CA"] / path["Y"]
        res[f"rer_{name}"] = -100.0 * (path["P"] / np.mean(base["P"]) - 1.0)
        res[f"impact_C_{name}"] = float(res[f"C_{name}"][before])
    return res
