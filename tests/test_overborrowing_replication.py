"""Bianchi (2011) at 800 bond points against the paper's numbers (slow: about 2 minutes).

Tolerances of issue 5: crisis probability within 0.5 pp of 5.5% (DE) and 0.4% (planner), welfare
gain within 0.02 of 0.135%, average tax within 0.5 of 5.0%, mean debt/GDP within 1 point of
29.2% / 28.6%. The published numbers are independent of this code (AER tables).
"""

import jax
import pytest

import jaxecon  # noqa: F401
from jaxecon.models import overborrowing as ob

TOL = {"crisis_prob_de": 0.5, "crisis_prob_sp": 0.5, "welfare_gain": 0.02, "tax": 0.5,
       "debt_gdp_de": 1.0, "debt_gdp_sp": 1.0}


@pytest.mark.slow
def test_replicates_paper_at_800_points():
    try:
        chain = ob.load_income_process()
    except FileNotFoundError as err:
        pytest.skip(f"the original Bianchi (2011) income process is needed: {err}")
    params = ob.bianchi2011_params(chain=chain)
    r = ob.replicate(params, ob.bond_grid(800), jax.random.key(2011), n_periods=100_000, burn=5_000, n_euler=2_000)
    assert bool(r["de"].converged) and bool(r["sp"].converged) and r["values_converged"]
    for k, tol in TOL.items():
        assert abs(r["stats"][k] - ob.PAPER[k]) <= tol, (k, r["stats"][k], ob.PAPER[k])
    # the bond grid's ends are never reached on the simulated paths
    assert r["grid_edge_share"]["de"] == 0.0 and r["grid_edge_share"]["sp"] == 0.0
