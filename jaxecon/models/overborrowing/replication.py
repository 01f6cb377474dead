"""The Bianchi (2011) replication in one call: solve both economies, value them, simulate, summarize.

Statistics follow the definitions of the shared data README (and the Julia replication of the
original code): crisis = binding (slack < 1e-5) and ``b' − b`` above the DE mean + 1 DE std;
welfare gain ``(V_SP/V_DE)^(1/(1−σ)) − 1`` interpolated at the DE path's states and averaged;
tax ``τ`` interpolated at the planner path's states, 0 in binding periods, averaged; debt/GDP
``−b/(p yN + yT)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...numerics import Axis
from .accuracy import euler_errors
from .equilibrium import solve_equilibrium
from .params import Params
from .planner import solve_planner
from .simulate import crisis_flags, event_study, moments, simulate_pair
from .time_iteration import _interp_b
from .welfare import evaluate_policy, optimal_tax, welfare_gain

__all__ = ["PAPER", "replicate", "path_average"]

#: Published numbers (Bianchi 2011, AER tables; percent), decentralized / planner.
PAPER = {
    "crisis_prob_de": 5.5, "crisis_prob_sp": 0.4,
    "welfare_gain": 0.135, "tax": 5.0,
    "debt_gdp_de": 29.2, "debt_gdp_sp": 28.6,
    "std_c_de": 5.9, "std_c_sp": 5.3,
    "std_rer_de": 7.5, "std_rer_sp": 3.4,
    "std_ca_gdp_de": 2.8, "std_ca_gdp_sp": 0.6,
    "crisis_c_de": -16.7, "crisis_c_sp": -10.1,
}


@jax.jit
def _path_values(grid, values, b, s):
    return jax.vmap(lambda bi, si: _interp_b(grid, values, bi, si))(b, s)


def path_average(grid: Axis, values, b, s, mask=None) -> float:
    """Mean over a simulated path of a gridded function ``values(b, s)`` (linear in b), with
    ``values`` set to 0 where ``mask`` is True."""
    v = np.asarray(_path_values(grid, values, jnp.asarray(b), jnp.asarray(s)))
    if mask is not None:
        v = np.where(mask, 0.0, v)
    return float(np.mean(v))


def replicate(params: Params, grid: Axis, key, *, n_periods: int = 100_000, burn: int = 5_000,
              n_euler: int = 20_000, progress=None) -> dict:
    """Solve, value, simulate and summarize both economies (see the module docstring).

    Returns a dict with ``stats`` (name -> value in percent, keys as :data:`PAPER` plus extras),
    the solutions ``de``/``sp``, value functions, welfare gain and tax grids, simulations and the
    event study. ``progress``: optional callable taking a message (e.g. ``tqdm.write``).
    """
    say = progress or (lambda m: None)
    say("solving the decentralized equilibrium")
    de = solve_equilibrium(params, grid)
    say("solving the planner")
    sp = solve_planner(params, grid, init=(de.cT, de.mu))
    say("policy evaluation and welfare")
    V_de, ok_de = evaluate_policy(params, grid, de)
    V_sp, ok_sp = evaluate_policy(params, grid, sp)
    W = welfare_gain(params, V_de, V_sp)
    tau = optimal_tax(params, grid, sp)
    say("simulating both economies on the same shocks")
    k_sim, k_eb, k_es = jax.random.split(key, 3)
    sim_de, sim_sp = simulate_pair(params, grid, de, sp, k_sim, n_periods=n_periods, burn=burn)
    c_de, c_sp, thr = crisis_flags(sim_de, sim_sp)
    m_de, m_sp = moments(sim_de), moments(sim_sp)
    ev = event_study(params, grid, de, sp, sim_de, sim_sp, c_de)
    say("Euler-equation errors")
    lo, hi = float(grid.points[0]), float(grid.points[-1])
    b_u = jax.random.uniform(k_eb, (n_euler,), minval=lo, maxval=hi)
    s_u = jax.random.randint(k_es, (n_euler,), 0, params.n_states)
    ee = {}
    for name, sol, sim in (("de", de, sim_de), ("sp", sp, sim_sp)):
        e_u = np.asarray(euler_errors(params, grid, sol, b_u, s_u))
        pick = np.linspace(0, len(sim["b"]) - 1, n_euler).astype(int)
        e_p = np.asarray(euler_errors(params, grid, sol, jnp.asarray(sim["b"][pick]), jnp.asarray(sim["states"][pick])))
        ee[name] = dict(uniform_mean=float(e_u.mean()), uniform_max=float(e_u.max()),
                        path_mean=float(e_p.mean()), path_max=float(e_p.max()))
    stats = {
        "crisis_prob_de": 100.0 * float(np.mean(c_de)),
        "crisis_prob_sp": 100.0 * float(np.mean(c_sp)),
        "welfare_gain": 100.0 * path_average(grid, W, sim_de["b"], sim_de["states"]),
        "tax": 100.0 * path_average(grid, tau, sim_sp["b"], sim_sp["states"], mask=sim_sp["binding"]),
        "debt_gdp_de": m_de["debt_gdp"], "debt_gdp_sp": m_sp["debt_gdp"],
        "std_c_de": m_de["std_c"], "std_c_sp": m_sp["std_c"],
        "std_rer_de": m_de["std_rer"], "std_rer_sp": m_sp["std_rer"],
        "std_ca_gdp_de": m_de["std_ca_gdp"], "std_ca_gdp_sp": m_sp["std_ca_gdp"],
        "crisis_c_de": ev["impact_C_de"], "crisis_c_sp": ev["impact_C_sp"],
        "binding_share_de": m_de["binding_share"], "binding_share_sp": m_sp["binding_share"],
    }
    grid_edge = {
        name: float(np.mean((sim["b_next"] <= lo + 1e-9) | (sim["b_next"] >= hi - 1e-9)))
        for name, sim in (("de", sim_de), ("sp", sim_sp))
    }
    return dict(stats=stats, de=de, sp=sp, V_de=V_de, V_sp=V_sp, values_converged=bool(ok_de & ok_sp),
                welfare=W, tax=tau, sim_de=sim_de, sim_sp=sim_sp, crisis_de=c_de, crisis_sp=c_sp,
                threshold=thr, event=ev, euler=ee, grid_edge_share=grid_edge)
