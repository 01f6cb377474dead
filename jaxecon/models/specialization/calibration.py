"""Calibration of the specialization model by gradient through the solver (issue 19 item 3; paper 002
§4.2, DESIGN.md "Gradients through solves", "Well-posedness").

The free parameters (any of ``theta``, ``beta``, ``dmu`` = μ_1 − μ_2, the log level of machinery TFP
relative to the rest) are mapped from unconstrained reals, so every step of the optimizer is a valid
economy:

    θ = exp(u_θ)   or, with a cap,  θ = θ_cap · σ(u_θ);    β = σ(u_β);    μ_1 − μ_2 = u_μ,

(σ the logistic function); ``dmu`` multiplies ``z̄_1(s)`` of the base Params by ``exp(dmu)``. The
model moments are those of :func:`ergodic_moments` of :func:`solve_equilibrium` (both implicitly
differentiable), and the loss is the sum of squared distances to the targets,
``Σ_m (moment_m − target_m)²``; :func:`jaxecon.calibrate.calibrate` minimizes it with optax L-BFGS.
A solve or ergodic distribution that does not converge makes the loss NaN (the calibration then
stops and says so), so no step is taken on a failed solve.

Well-posedness: the fire-sale feedback gain ``θ γ q / c`` (:func:`fire_sale_gain`, the largest over
the nodes where the constraint binds) must stay below one; :func:`largest_well_posed_theta` finds
the θ at which it reaches a chosen margin below one (the gain is close to proportional to θ).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from ...calibrate import CalibrationResult, calibrate
from .equilibrium import RESULTS, EquilibriumSolution, solve_equilibrium
from .ergodic import ErgodicMoments, ergodic_distribution, ergodic_moments
from .params import Grid, Params

__all__ = ["FREE", "DEBT_OUTPUT_TARGET", "calibrate_two_industry", "load_calibration", "calibration_fingerprint",
           "two_industry_base", "with_values", "to_unconstrained", "from_unconstrained", "model_moments", "fire_sale_gain",
           "largest_well_posed_theta", "SpecializationCalibration", "calibrate_moments"]

#: The parameters :func:`calibrate_moments` can free.
FREE = ("theta", "beta", "dmu")


def with_values(base: Params, values: dict) -> Params:
    """``base`` with ``theta``/``beta`` replaced and ``z̄_1`` scaled by ``exp(dmu)`` (keys optional)."""
    p = base
    if "theta" in values:
        p = eqx.tree_at(lambda q: q.theta, p, jnp.asarray(values["theta"], float))
    if "beta" in values:
        p = eqx.tree_at(lambda q: q.beta, p, jnp.asarray(values["beta"], float))
    if "dmu" in values:
        z = p.z.at[:, 0].multiply(jnp.exp(jnp.asarray(values["dmu"], float)))
        p = eqx.tree_at(lambda q: q.z, p, z)
    return p


def from_unconstrained(u: dict, theta_cap: float | None = None) -> dict:
    """Parameter values from the optimizer's unconstrained coordinates (module docstring)."""
    out = {}
    if "theta" in u:
        out["theta"] = jnp.exp(u["theta"]) if theta_cap is None else theta_cap * jax.nn.sigmoid(u["theta"])
    if "beta" in u:
        out["beta"] = jax.nn.sigmoid(u["beta"])
    if "dmu" in u:
        out["dmu"] = jnp.asarray(u["dmu"], float)
    return out


def to_unconstrained(values: dict, theta_cap: float | None = None) -> dict:
    """Inverse of :func:`from_unconstrained` (``0 < θ < θ_cap``, ``0 < β < 1``)."""
    out = {}
    if "theta" in values:
        th = float(values["theta"])
        if not th > 0 or (theta_cap is not None and not th < theta_cap):
            raise ValueError(f"theta must be in (0, theta_cap = {theta_cap}); got {th}")
        out["theta"] = jnp.asarray(np.log(th) if theta_cap is None else np.log(th / (theta_cap - th)))
    if "beta" in values:
        b = float(values["beta"])
        if not 0 < b < 1:
            raise ValueError(f"beta must be in (0, 1); got {b}")
        out["beta"] = jnp.asarray(np.log(b / (1 - b)))
    if "dmu" in values:
        out["dmu"] = jnp.asarray(float(values["dmu"]))
    return out


def model_moments(base: Params, values: dict, grid: Grid, **solve_kw) -> tuple[ErgodicMoments, Array, EquilibriumSolution]:
    """Ergodic moments of the economy ``with_values(base, values)``, a flag that solve and
    distribution converged, and the solution (differentiable in ``values``)."""
    sol = solve_equilibrium(with_values(base, values), grid, **solve_kw)
    dist = ergodic_distribution(sol)
    return ergodic_moments(sol, dist), sol.converged & dist.converged, sol


def fire_sale_gain(sol: EquilibriumSolution) -> Float[Array, ""]:
    """The largest fire-sale feedback gain ``θ γ q / c`` over feasible nodes where the constraint
    binds (DESIGN.md "Well-posedness"; 0 when it binds nowhere). Above one no equilibrium exists there."""
    p = sol.params
    g = p.theta * p.gamma * sol.q / sol.c
    return jnp.max(jnp.where(sol.binding & sol.feasible, g, 0.0))


def largest_well_posed_theta(base: Params, grid: Grid, *, theta0: float = 0.02, margin: float = 0.95,
                             max_tries: int = 8, rtol: float = 0.01, report=None, **solve_kw):
    """The θ at which the fire-sale gain :func:`fire_sale_gain` equals ``margin`` (< 1) with a
    converged solve, other parameters as in ``base``.

    Secant-free update ``θ ← θ · margin / gain(θ)`` (the gain is nearly proportional to θ since q/c
    moves little with θ), from ``theta0``, until the gain is within ``rtol`` of ``margin``. A step
    whose solve does not converge is halved back toward the last converged θ.

    Returns:
        ``(theta, gain, solution, trail)``, ``trail`` a list of ``(θ, gain, result message)``.

    Raises:
        ValueError: ``margin`` not in (0, 1), or the solve at ``theta0`` does not converge.
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be in (0, 1); got {margin}")
    trail = []
    good = None
    th = float(theta0)
    for _ in range(max_tries):
        sol = solve_equilibrium(with_values(base, {"theta": th}), grid, **solve_kw)
        gain = float(fire_sale_gain(sol))
        ok = bool(sol.converged)
        trail.append((th, gain, RESULTS[sol.result]))
        if report is not None:
            report(f"  theta = {th:.5f}: {RESULTS[sol.result]}, fire-sale gain {gain:.4f}")
        if ok:
            good = (th, gain, sol)
            if abs(gain - margin) <= rtol * margin or gain == 0.0:
                break
            th = th * margin / gain
        else:
            if good is None:
                raise ValueError(f"the solve at theta0 = {theta0} does not converge ({RESULTS[sol.result]})")
            th = 0.5 * (th + good[0])
    if good is None:
        raise ValueError("no converged solve")
    return good[0], good[1], good[2], trail


class SpecializationCalibration(eqx.Module):
    """Result of :func:`calibrate_moments`.

    Attributes:
        values: the calibrated parameter values (``theta``, ``beta``, ``dmu`` as freed).
        params: the calibrated :class:`Params`.
        moments: :class:`ErgodicMoments` at the calibrated values.
        targets: the targets (dict name -> value).
        result: the :class:`jaxecon.calibrate.CalibrationResult` (loss, gradient norm, steps, flags,
            histories) in the unconstrained coordinates.
        solution: the equilibrium at the calibrated values.
    """

    values: dict
    params: Params
    moments: ErgodicMoments
    targets: dict
    result: CalibrationResult
    solution: EquilibriumSolution


def calibrate_moments(base: Params, grid: Grid, targets: dict, start: dict, *, theta_cap: float | None = None,
                      max_steps: int = 40, grad_tol: float = 1e-9, loss_tol: float | None = 1e-12,
                      optimizer=None, progress=None, solve_kw: dict | None = None) -> SpecializationCalibration:
    """Fit the free parameters (the keys of ``start``, a subset of :data:`FREE`) so that the ergodic
    moments named in ``targets`` (fields of :class:`ErgodicMoments`, e.g. ``debt_output``,
    ``share_1``) equal the targets: minimize ``Σ (m − t)²`` with optax (default L-BFGS) through the
    implicitly differentiated solver (module docstring).

    Args:
        base: the economy whose other parameters stay fixed.
        grid: the solver grid.
        targets: ``{moment name: target}``.
        start: ``{free parameter: starting value}``.
        theta_cap: bound θ < theta_cap (e.g. the largest well-posed θ); None: θ > 0 only.
        max_steps, grad_tol, loss_tol, optimizer: passed to :func:`jaxecon.calibrate.calibrate`;
            ``loss_tol`` (default 1e-12: every moment within 1e-6) suits exactly attainable targets.
        progress: optional callable receiving one line per loss evaluation (host callback).
        solve_kw: extra keywords of :func:`solve_equilibrium`.

    Raises:
        ValueError: unknown free parameters or moment names, or an empty ``start``/``targets``.
    """
    if not start or set(start) - set(FREE):
        raise ValueError(f"start must name free parameters among {FREE}; got {sorted(start)}")
    names = ErgodicMoments.__dataclass_fields__.keys() if hasattr(ErgodicMoments, "__dataclass_fields__") else ()
    if not targets or any(k not in names for k in targets):
        raise ValueError(f"targets must name ErgodicMoments fields {sorted(names)}; got {sorted(targets)}")
    solve_kw = dict(solve_kw or {})
    tgt = {k: jnp.asarray(float(v)) for k, v in targets.items()}

    def loss(u):
        vals = from_unconstrained(u, theta_cap)
        m, ok, _ = model_moments(base, vals, grid, **solve_kw)
        terms = {k: getattr(m, k) - tgt[k] for k in tgt}
        val = sum(d ** 2 for d in terms.values())
        if progress is not None:
            jax.debug.callback(lambda v, t, o, vv: progress(
                "  loss {:.3e}  ".format(float(v)) + "  ".join(f"{k} {float(t[k]):+.3e}" for k in sorted(t))
                + "  (" + ", ".join(f"{k} = {float(vv[k]):.6g}" for k in sorted(vv)) + ")" + ("" if o else "  NOT CONVERGED")),
                val, terms, ok, vals)
        return jnp.where(ok, val, jnp.nan)

    u0 = to_unconstrained(start, theta_cap)
    res = calibrate(loss, u0, optimizer=optimizer if optimizer is not None else optax.lbfgs(), max_steps=max_steps,
                    grad_tol=grad_tol, loss_tol=loss_tol)
    vals = from_unconstrained(res.params, theta_cap)
    m, _, sol = model_moments(base, vals, grid, **solve_kw)
    return SpecializationCalibration(values=vals, params=with_values(base, vals), moments=m,
                                     targets=dict(targets), result=res, solution=sol)


# --------------------------------------------------------------------------------------------------
# the two-industry calibration of issue 19 (paper 002 §4.2)
# --------------------------------------------------------------------------------------------------
DEBT_OUTPUT_TARGET = 0.20  # paper 002 Table 2: NFA/GDP = −20%, with β = 0.95


def calibration_fingerprint(base: Params, grid: Grid, targets: dict) -> str:
    """Key of a calibration: the base economy, the grid, the targets and the solver's sources
    (:func:`jaxecon.models.specialization.cache_key`); a stored calibration with another key is stale."""
    from .cache import cache_key

    return cache_key(base, grid, targets=tuple(sorted((k, float(v)) for k, v in targets.items())))


def _moments_dict(m: ErgodicMoments) -> dict:
    return {k: float(getattr(m, k)) for k in ("debt_output", "share_1", "binding_frequency", "gini", "q")}


def calibrate_two_industry(share_target: float, grid: Grid, *, base: Params | None = None,
                           debt_target: float = DEBT_OUTPUT_TARGET, margin: float = 0.95, max_steps: int = 25,
                           theta_paper: float = 0.35, theta0: float = 0.01, max_iter: int = 300, report=print) -> dict:
    """The calibration of issue 19 item 3 as a record (what ``calibration/calibrate_specialization.py``
    writes): (θ, μ_1 − μ_2) to ergodic mean debt/output = ``debt_target`` and mean machinery capital
    share = ``share_target``, β = 0.95, by gradient (:func:`calibrate_moments`), θ bounded by the
    largest well-posed θ (fire-sale gain = ``margin``).

    Steps: (1) the paper's θ = 0.35 solved once (capped at 150 sweeps) as evidence of what the solver
    says there; (2) μ_1 − μ_2 to the share target at θ = 0.02; (3) the largest well-posed θ at that
    μ (:func:`largest_well_posed_theta`, from ``theta0``); (4) (θ, μ_1 − μ_2) jointly to both targets with
    ``θ = θ_cap σ(u)``; (5) if the debt target is not met, the closest attainable moments are those
    at the θ where the optimizer stopped (at the bound) with μ_1 − μ_2 refitted alone to the
    attainable share target, and the record says why (θ at the well-posedness bound,
    ``d loss / d θ`` there), plus β one step either side at that θ (lower β: less debt; higher β:
    a higher q and gain).
    """
    t_start = _now()
    base = two_industry_base() if base is None else base
    targets = {"debt_output": float(debt_target), "share_1": float(share_target)}
    rec = {"model": "specialization, two industries (machinery, rest of manufacturing)",
           "grid": {"n_b": grid.size_b, "n_k": grid.size_k, "b_min": grid.b_min, "b_max": grid.b_max,
                    "k_min": grid.k_min, "k_max": grid.k_max},
           "targets": targets, "fingerprint": calibration_fingerprint(base, grid, targets)}
    # (1) the paper's θ
    report(f"[1/5] the paper's theta = {theta_paper}: one solve (at most 150 sweeps)")
    s35 = solve_equilibrium(with_values(base, {"theta": theta_paper}), grid, max_iter=150)
    rec["solver_max_iter"] = int(max_iter)
    rec["theta_paper"] = {"theta": theta_paper, "result": RESULTS[s35.result], "converged": bool(s35.converged),
                          "sweeps": int(s35.iterations), "n_no_equilibrium": int(s35.n_no_equilibrium),
                          "share_off_grid": float(s35.share_off_grid), "share_binding": float(s35.share_binding),
                          "fire_sale_gain_max": float(fire_sale_gain(s35)),
                          "fire_sale_gain_max_all_nodes": float(jnp.max(theta_paper * base.gamma * s35.q / s35.c))}
    report(f"      {RESULTS[s35.result]}; gain theta*gamma*q/c up to {rec['theta_paper']['fire_sale_gain_max_all_nodes']:.1f}")
    # (2) μ_1 − μ_2 to the share
    th0 = float(theta0)
    skw = {"max_iter": int(max_iter)}
    report(f"[2/5] mu_1 - mu_2 to the machinery share target at theta = {th0} (gradient, L-BFGS)")
    b1 = with_values(base, {"theta": th0})
    c1 = calibrate_moments(b1, grid, {"share_1": share_target}, {"dmu": 0.0}, max_steps=max_steps, progress=report,
                           solve_kw=skw)
    dmu1 = float(c1.values["dmu"])
    report(f"      {c1.result.summary()}; mu_1 - mu_2 = {dmu1:.5f}")
    # (3) the well-posedness bound
    report(f"[3/5] largest well-posed theta (fire-sale gain theta*gamma*q/c = {margin} at the binding nodes)")
    b2 = with_values(base, {"dmu": dmu1})
    th_cap, gain_cap, sol_cap, trail = largest_well_posed_theta(b2, grid, theta0=th0, margin=margin, report=report,
                                                               **skw)
    m_cap = ergodic_moments(sol_cap)
    rec["well_posedness"] = {"margin": margin, "theta_cap": th_cap, "gain_at_cap": gain_cap,
                             "moments_at_cap": _moments_dict(m_cap),
                             "trail": [{"theta": t, "gain": g, "result": r} for t, g, r in trail]}
    # (4) joint calibration with θ < θ_cap
    report(f"[4/5] (theta, mu_1 - mu_2) to both targets by gradient, theta < {th_cap:.5f}")
    start = {"theta": min(th0, 0.9 * th_cap), "dmu": dmu1}
    cal = calibrate_moments(base, grid, targets, start, theta_cap=th_cap, max_steps=max_steps, progress=report,
                            solve_kw=skw)
    report(f"      {cal.result.summary()}")
    joint = {"theta": float(cal.values["theta"]), "mu_1_minus_mu_2": float(cal.values["dmu"]),
             "loss": float(cal.result.loss), "steps": int(cal.result.iterations),
             "gradient_norm": float(cal.result.grad_norm), "model_moments": _moments_dict(cal.moments)}
    if abs(float(cal.moments.debt_output) - debt_target) > 1e-3:
        # the debt target is out of reach: keep θ where the optimizer stopped (at the bound) and fit the
        # attainable share target exactly with μ_1 − μ_2 alone
        report(f"[4b/5] debt target out of reach: mu_1 - mu_2 alone to the share target at theta = "
               f"{joint['theta']:.5f}")
        cal = calibrate_moments(with_values(base, {"theta": joint["theta"]}), grid, {"share_1": share_target},
                                {"dmu": joint["mu_1_minus_mu_2"]}, max_steps=max_steps, progress=report, solve_kw=skw)
        cal = eqx.tree_at(lambda c: c.values, cal, {"theta": jnp.asarray(joint["theta"]), "dmu": cal.values["dmu"]})
        report(f"      {cal.result.summary()}")
    rec["joint_calibration"] = joint
    vals = {k: float(v) for k, v in cal.values.items()}
    mom = _moments_dict(cal.moments)
    # (5) the outcome
    report("[5/5] outcome: d loss / d theta at the stop, beta either side")
    lossf = lambda th: sum((getattr(model_moments(base, {"theta": th, "dmu": vals["dmu"]}, grid, **skw)[0], k) - v) ** 2
                           for k, v in targets.items())
    dl_dtheta = float(jax.grad(lossf)(jnp.asarray(vals["theta"])))
    ddebt_dtheta = float(jax.grad(lambda th: model_moments(base, {"theta": th, "dmu": vals["dmu"]}, grid, **skw)[0]
                                  .debt_output)(jnp.asarray(vals["theta"])))
    beta_side = []
    for db in (-0.02, 0.01):
        bb = float(base.beta) + db
        mb, okb, sb = model_moments(base, {"theta": vals["theta"], "dmu": vals["dmu"], "beta": bb}, grid, **skw)
        beta_side.append({"beta": bb, "result": RESULTS[sb.result], "debt_output": float(mb.debt_output),
                          "fire_sale_gain": float(fire_sale_gain(sb))})
        report(f"      beta = {bb:.3f}: {RESULTS[sb.result]}, debt/output {float(mb.debt_output):.4f}, "
               f"gain {float(fire_sale_gain(sb)):.3f}")
    met = {k: abs(mom[k] - v) <= 1e-3 for k, v in targets.items()}
    if all(met.values()):
        outcome = "calibrated: both targets met to 1e-3 with a well-posed theta"
    else:
        outcome = (
            "closest attainable: the debt target is not reachable at any well-posed theta. Debt is capped at "
            "R theta q, and the fire-sale gain theta gamma q / c must stay below one where the constraint binds, "
            "so debt/output < R c/(gamma Y) ~ R/gamma = {:.3f} at a binding state and, averaged over the ergodic "
            "distribution (the constraint binds only part of the time), below that. At the stop theta is at the "
            "well-posedness bound (theta_cap: larger theta solved had no-equilibrium states), d debt/output / d theta = "
            "{:.3g} and d loss / d theta = {:.3g}. Calibrating beta at the bound instead does not help: a lower "
            "beta lowers q and debt, a higher one raises q and the gain past the bound (see beta_either_side). "
            "Reported: theta where the joint optimizer stopped (at the bound; joint_calibration), with mu_1 - mu_2 "
            "refitted alone to the share target; loss, steps and gradient norm are those of that refit."
        ).format(float(base.R.mean()) / float(base.gamma), ddebt_dtheta, dl_dtheta)
    gamma, alpha = float(base.gamma), float(base.alpha)
    rec.update({
        "parameters": {"theta": vals["theta"], "mu_1_minus_mu_2": vals["dmu"], "beta": float(base.beta),
                       "gamma": gamma, "alpha": alpha, "R_bar": float(np.asarray(base.R).mean()),
                       "xi": [float(v) for v in np.asarray(base.xi)], "phi": [float(v) for v in np.asarray(base.phi)]},
        "model_moments": mom, "targets_met_1e-3": met,
        "loss": float(cal.result.loss), "steps": int(cal.result.iterations),
        "gradient_norm": float(cal.result.grad_norm), "converged": bool(cal.result.converged),
        "stalled": bool(cal.result.stalled), "loss_history": [float(v) for v in np.asarray(cal.result.loss_history)
                                                               if np.isfinite(v)],
        "d_loss_d_theta_at_stop": dl_dtheta, "d_debt_output_d_theta_at_stop": ddebt_dtheta, "fire_sale_gain_at_stop": float(fire_sale_gain(cal.solution)),
        "solve_at_stop": RESULTS[cal.solution.result], "beta_either_side": beta_side,
        "share_only_calibration": {"theta": th0, "mu_1_minus_mu_2": dmu1, "loss": float(c1.result.loss),
                                   "steps": int(c1.result.iterations), "share_1": float(c1.moments.share_1),
                                   "debt_output": float(c1.moments.debt_output)},
        "outcome": outcome, "date": _now(), "started": t_start,
    })
    report(f"      {outcome}")
    return rec


def two_industry_base() -> Params:
    """The base economy of the calibration: :func:`two_industry_params` (β = 0.95, θ = 0.02, μ = 0)."""
    from .params import two_industry_params

    return two_industry_params()


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_calibration(path, base: Params | None = None, grid: Grid | None = None, share_target: float | None = None,
                     debt_target: float = DEBT_OUTPUT_TARGET, *, verify: bool = True, rtol: float = 1e-6,
                     report=None):
    """The calibrated two-industry Params from a file written by ``calibration/calibrate_specialization.py``,
    or ``None`` when the file is missing or stale (checked only when ``grid`` and ``share_target`` are
    given).

    Stale means: other targets or another grid than the file's, or (when the fingerprint, which also
    covers the solver's sources, differs and ``verify``) a re-solve at the stored parameters whose
    ergodic moments differ from the stored ones by more than ``rtol`` relative. A change of the
    solver's code that leaves the solution unchanged therefore keeps the calibration valid.
    """
    import json
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        return None
    rec = json.loads(path.read_text())
    base = two_industry_base() if base is None else base
    p = rec["parameters"]
    params = with_values(base, {"theta": p["theta"], "dmu": p["mu_1_minus_mu_2"], "beta": p["beta"]})
    if grid is None or share_target is None:
        return params
    say = report or (lambda s: None)
    tg = rec.get("targets", {})
    if not (np.isclose(tg.get("share_1", np.nan), share_target, rtol=1e-12, atol=0)
            and np.isclose(tg.get("debt_output", np.nan), debt_target, rtol=1e-12, atol=0)):
        say(f"calibration {path.name}: other targets than {share_target:.6g}, {debt_target:.6g}: stale")
        return None
    g = rec.get("grid", {})
    if any(not np.isclose(float(g.get(f, np.nan)), float(getattr(grid, f)), rtol=0, atol=1e-15)
           for f in ("n_b", "n_k", "b_min", "b_max", "k_min", "k_max")):
        say(f"calibration {path.name}: computed on another grid ({g}): stale")
        return None
    key = calibration_fingerprint(base, grid, {"debt_output": float(debt_target), "share_1": float(share_target)})
    if rec.get("fingerprint") == key:
        return params
    if not verify:
        return None
    m, _, sol = model_moments(base, {"theta": p["theta"], "dmu": p["mu_1_minus_mu_2"], "beta": p["beta"]}, grid,
                              max_iter=int(rec.get("solver_max_iter", 300)))
    stored = rec.get("model_moments", {})
    now = _moments_dict(m)
    same = bool(sol.converged) and all(np.isclose(now[k], stored.get(k, np.nan), rtol=rtol, atol=0)
                                       for k in ("debt_output", "share_1"))
    say(f"calibration {path.name}: the solver's sources changed since it was written; a re-solve at its parameters "
        f"gives debt/output {now['debt_output']:.8f} (stored {stored.get('debt_output', np.nan):.8f}) and share "
        f"{now['share_1']:.8f} (stored {stored.get('share_1', np.nan):.8f}): {'still valid' if same else 'stale'}")
    return params if same else None
