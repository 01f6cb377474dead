"""The README's main job runs end to end and its summary equals an independent pandas computation."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_specialization_facts_synthetic(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXECON_RESULTS", str(tmp_path))
    mod = _load("specialization_facts")
    assert mod.main(["--synthetic-only", "--facts-only"]) == 0
    out = tmp_path / "specialization_facts"
    for f in ("report.md", "summary.csv", "per_cz.csv", "size_gradient.csv", "histograms.png", "specialization_vs_size.png"):
        assert (out / f).stat().st_size > 0, f
    per_cz = pd.read_csv(out / "per_cz.csv")
    assert len(per_cz) == 722
    summary = pd.read_csv(out / "summary.csv").set_index("measure")
    # independent recomputation of the HHI column with pandas from the synthetic employment
    from jaxecon.data import synthetic_czs

    emp = pd.DataFrame(synthetic_czs(seed=0).employment)
    s = emp.div(emp.sum(axis=1), axis=0)
    hhi = (s**2).sum(axis=1)
    np.testing.assert_allclose(per_cz["hhi_4d"], hhi, rtol=1e-12)
    np.testing.assert_allclose(summary.loc["hhi_4d", "mean"], hhi.mean(), rtol=1e-12)
    np.testing.assert_allclose(summary.loc["hhi_4d", "p90"], np.percentile(hhi, 90), rtol=1e-12)
    assert "synthetic" in (out / "report.md").read_text()


@pytest.mark.slow
def test_model_step_simulates_czs(tmp_path, monkeypatch):
    """The main job's model step: every CZ simulated, identities of the paths hold, report written."""
    import sys

    monkeypatch.setenv("JAXECON_RESULTS", str(tmp_path))
    sys.path.insert(0, str(ROOT / "experiments"))
    mod = _load("specialization_simulate_czs")
    df = mod.run(results_dir_name="sim", n_czs=30, periods=12, seed=0)
    assert len(df) == 30 and np.all(np.isfinite(df["annual_growth"]))
    assert np.all((df["k1_T"] > 0) & (df["k1_T"] < 1))
    assert np.all((df["share_binding"] >= 0) & (df["share_binding"] <= 1))
    # the growth column is the identity log(Y_T / Y_0) / periods
    np.testing.assert_allclose(df["annual_growth"], np.log(df["output_T"] / df["output_0"]) / 12, rtol=1e-12)
    assert (tmp_path / "sim" / "report.md").stat().st_size > 0


@pytest.mark.slow
def test_trade_off_main_job(tmp_path, monkeypatch, adh_path):
    """The main job end to end on two trends and two national paths (real ADH files): every CSV has its
    columns, no NaN row, the flagged CZs are labelled, and the g = 0 slope equals an independent
    np.polyfit of the CZs' growth on their initial Gini over the CZs that fit."""
    monkeypatch.setenv("JAXECON_RESULTS", str(tmp_path))
    mod = _load("specialization_trade_off")
    table = mod.run(data=str(adh_path), gs=(0.0, 0.005), n_paths=2, planner=False)
    out = tmp_path / "specialization_trade_off"
    tr = pd.read_csv(out / "trade_off.csv")
    for c in ("g", "slope_gini", "slope_machinery", "slope_gini_frictionless", "financial_share", "adjustment_share"):
        assert c in tr.columns, c
    assert len(tr) == 2 and tr["slope_gini"].notna().all()
    cal = pd.read_csv(out / "calibration.csv")
    assert list(cal["target"]) == ["debt_output", "share_1"] and {"data", "model"} <= set(cal.columns)
    czs = pd.read_csv(out / "czs.csv")
    assert len(czs) == 722
    assert not czs[["czone", "k0", "gini0", "growth"]].isna().any().any()
    assert (czs["status"] != "ok").any() and (czs["status"] == "ok").sum() > 300
    ok = czs["status"] == "ok"
    slope = np.polyfit(czs.loc[ok, "gini0"], czs.loc[ok, "growth"], 1)[0]
    np.testing.assert_allclose(table.loc[table["g"] == 0.0, "slope_gini"].iloc[0], slope, rtol=1e-8)
    assert (out / "report.md").read_text().startswith("# The specialization trade-off")
