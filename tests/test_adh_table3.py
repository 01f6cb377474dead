"""ADH (2013) Table 3, columns (1) and (6), from the real commuting-zone files."""

from __future__ import annotations

import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.econometrics import iv, shift_share

pytestmark = pytest.mark.realdata

REG = ["reg_midatl", "reg_encen", "reg_wncen", "reg_satl", "reg_escen", "reg_wscen", "reg_mount", "reg_pacif"]
CONTROLS = ["l_shind_manuf_cbp", "l_sh_popedu_c", "l_sh_popfborn", "l_sh_empl_f", "l_sh_routine33", "l_task_outsource"]
# Published: Autor, Dorn & Hanson (2013, AER), Table 3, 2SLS, state-clustered SEs.
PUBLISHED = {"(1)": (-0.746, 0.068), "(6)": (-0.596, 0.099)}


@pytest.fixture(scope="module")
def adh(adh_path):
    from jaxecon.data import load_adh

    return load_adh(adh_path)


@pytest.mark.parametrize("col,exog", [("(1)", ["t2"]), ("(6)", ["t2", *REG, *CONTROLS])])
def test_table3_published_digits(adh, col, exog):
    r = iv(adh.exposure, "y", "x", "z", exog, weights="wei", vcov="cluster", cluster="clus", ssc="none")
    b, se = PUBLISHED[col]
    assert round(r.params["x"], 3) == b
    assert round(r.se["x"], 3) == se
    assert r.nobs == 1444 and r.n_clusters == 48
    assert r.first_stage_f["x"] > 10  # strong instrument
    # the default (fixest) correction makes SEs larger by sqrt(G/(G-1) (N-1)/(N-K)); no fixed effects
    # are absorbed, so K = the regressors (x, the exogenous ones, the intercept)
    s = iv(adh.exposure, "y", "x", "z", exog, weights="wei", vcov="cluster", cluster="clus")
    k = len(exog) + 2
    assert s.ssc == "fixest" and s.df_k == k
    np.testing.assert_allclose(s.se["x"] / r.se["x"], np.sqrt(48 / 47 * 1443 / (1444 - k)), rtol=1e-10)
    np.testing.assert_allclose(s.params["x"], r.params["x"], rtol=1e-12)


def test_instrument_is_shift_share(adh):
    """z = sum_i s_ic g_i with the lagged industry shares and the shocks ``g`` (up to storage rounding)."""
    e = adh.exposure
    for label in (1990, 2000):
        g = adh.shocks[adh.shocks.year == label].set_index("sic87dd").loc[adh.sic87dd, "g"].to_numpy()
        z = np.asarray(shift_share(adh.share_arrays[label - 10], g))
        np.testing.assert_allclose(z, e.loc[e.year == label, "z"].to_numpy(), atol=1e-5)
