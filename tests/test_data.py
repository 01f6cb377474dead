"""Tests of jaxecon.data: the ADH loader (skips without the files) and the synthetic default."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

import jaxecon  # noqa: F401
from jaxecon.data import ADHData, SyntheticCZs, data_dir, load_adh, synthetic_czs
from jaxecon.data import targets as T
from jaxecon.data._industries import INDUSTRIES
from jaxecon.data._paths import ADH_FILES
from jaxecon.data._stats import STATISTICS, cz_statistics


@pytest.fixture(scope="module")
def adh(adh_path) -> ADHData:
    return load_adh(adh_path)


@pytest.fixture(scope="module")
def syn() -> SyntheticCZs:
    return synthetic_czs(0)


# ------------------------------------------------------------------------------------------- data_dir
def test_data_dir_missing_raises(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        data_dir(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="no adh"):
        data_dir(tmp_path)  # exists but holds nothing
    with pytest.raises(FileNotFoundError):
        load_adh(tmp_path / "nowhere")
    monkeypatch.setenv("JAXECON_DATA", str(tmp_path / "elsewhere"))
    try:
        found = data_dir()  # falls back to ../shared/data; message lists both when that is absent too
    except FileNotFoundError as err:
        assert "JAXECON_DATA" in str(err) and "shared" in str(err)
    else:
        assert (found / "adh").is_dir() or (found / ADH_FILES[0]).is_file()


def test_data_dir_accepts_root_and_adh_folder(adh_path):
    assert data_dir(adh_path.parent) == adh_path.parent.resolve()
    assert data_dir(adh_path) == adh_path.resolve()


# ------------------------------------------------------------------------------------------- load_adh
def test_load_adh_shapes_and_keys(adh):
    assert adh.czones.shape == (722,) and np.all(np.diff(adh.czones) > 0)
    assert adh.sic87dd.shape == (397,) and np.all(np.diff(adh.sic87dd) > 0)
    assert set(adh.share_arrays) == {1980, 1990} and set(adh.manuf_share) == {1980, 1990}
    assert set(adh.population) == {1990, 2000}
    for arr in adh.share_arrays.values():
        assert arr.shape == (722, 397) and arr.min() >= 0 and not arr.flags.writeable
    assert len(adh.exposure) == 1444 and len(adh.workfile) == 1444
    assert not adh.exposure.duplicated(["czone", "year"]).any()
    assert len(adh.industry_shares) == 722 * 397 * 2 and len(adh.industries) == 397
    assert adh.workfile["czone"].dtype == np.int64
    np.testing.assert_array_equal(adh.exposure["czone"].unique(), adh.czones)
    # embedded industry list = the file
    np.testing.assert_array_equal(np.asarray(INDUSTRIES), adh.industries[["sic87dd", "sic3", "sic2", "sicgroup"]])


def test_shares_sum_to_manuf_share(adh):
    for year, arr in adh.share_arrays.items():
        np.testing.assert_allclose(arr.sum(1), adh.manuf_share[year], atol=1e-6)
    zero = [(y, int(c)) for y, a in adh.share_arrays.items() for c in adh.czones[a.sum(1) == 0]]
    assert len(zero) == 2 and all(y == 1980 for y, _ in zero)


def test_lag_mapping(adh):
    s = adh.industry_shares
    assert (s["share_year"] == s["year"] - 10).all()
    # label-2000 rows are the 1990 array, label-1990 rows the 1980 array
    for label, year in ((2000, 1990), (1990, 1980)):
        sub = s[s["year"] == label]
        wide = sub.pivot(index="czone", columns="sic87dd", values="ind_share").loc[adh.czones, adh.sic87dd]
        np.testing.assert_array_equal(wide.to_numpy(), adh.share_arrays[year])
    # the 1990 manufacturing share (label 2000) is the 1990 CBP share l_shind_manuf_cbp of the label-1990 rows
    e = adh.exposure
    np.testing.assert_allclose(adh.manuf_share[1990], e.loc[e["year"] == 1990, "l_shind_manuf_cbp"], atol=1e-6)
    w = adh.workfile
    np.testing.assert_array_equal(adh.population[2000], w.loc[w["year"] == 2000, "l_popcount"])


def test_load_adh_is_cached_but_returns_fresh_frames(adh_path):
    a, b = load_adh(adh_path), load_adh(adh_path)
    assert a.exposure is not b.exposure and a.share_arrays[1990] is b.share_arrays[1990]
    a.exposure.loc[0, "y"] = 1e9
    assert load_adh(adh_path).exposure.loc[0, "y"] != 1e9


@pytest.mark.parametrize("file,column", [("cz_exposure.csv.gz", "Lsh_manuf"), ("industries.csv", "sic2")])
def test_missing_column_names_column_and_file(adh_path, tmp_path, file, column):
    for f in ADH_FILES:
        if f != file:
            (tmp_path / f).symlink_to(adh_path / f)
    df = pd.read_csv(adh_path / file).drop(columns=[column])
    df.to_csv(tmp_path / file, index=False)
    with pytest.raises(ValueError, match=f"'{column}'.*{file}"):
        load_adh(tmp_path)


def test_missing_file_named(adh_path, tmp_path):
    for f in ADH_FILES[:-1]:
        (tmp_path / f).symlink_to(adh_path / f)
    with pytest.raises(FileNotFoundError, match="industries.csv"):
        load_adh(tmp_path)


# ------------------------------------------------------------------------------------------- synthetic
def test_synthetic_shapes_and_determinism(syn):
    assert isinstance(syn, SyntheticCZs)
    assert syn.employment.shape == (722, 397) and syn.population.shape == (722,)
    np.testing.assert_array_equal(syn.czone, np.arange(1, 723))
    assert syn.year == 1990 and syn.sic87dd.shape == (397,) and (syn.sic2 == 35).sum() == 49
    assert np.all(np.isfinite(syn.employment)) and syn.employment.min() >= 0
    assert np.all(syn.population > 0) and np.all((syn.manuf_share > 0) & (syn.manuf_share < 1))
    np.testing.assert_allclose(syn.employment.sum(1), syn.total_employment * syn.manuf_share, rtol=1e-12)
    np.testing.assert_allclose(syn.industry_shares.sum(1), syn.manuf_share, rtol=1e-12)
    assert np.all(syn.employment.sum(1) > 0)
    again = synthetic_czs(0)
    for f in ("population", "manuf_share", "total_employment", "employment"):
        np.testing.assert_array_equal(getattr(again, f), getattr(syn, f))  # bit for bit
    other = synthetic_czs(1, n=50)
    assert other.employment.shape == (50, 397) and not np.array_equal(other.population, syn.population[:50])
    with pytest.raises(ValueError, match="n must be"):
        synthetic_czs(0, n=0)


def test_synthetic_statistics_valid_and_zero_machinery_mass(syn):
    st = cz_statistics(syn.population, syn.manuf_share, syn.employment, syn.sic2)
    assert np.all(np.isfinite(st["gini"])) and np.all((st["machinery_share"] >= 0) & (st["machinery_share"] <= 1))
    # the zero-machinery mass of the real data (about 7% of CZs) is reproduced
    assert 0.04 < np.mean(st["machinery_share"] == 0) < 0.11


def _quantile_rank_gap(sample, reference, p):
    """How far (in probability) the sample's p-quantile lies from the reference's p-quantile."""
    q = np.quantile(sample, p)
    lo, hi = np.mean(reference < q), np.mean(reference <= q)
    return max(lo - p, p - hi, 0.0)


def test_synthetic_matches_real_distributions(adh, syn):
    """Synthetic vs real 1990 distributions of the five statistics.

    Tolerances: with 722 CZs on each side the empirical CDF at any point has sd <= 0.5/sqrt(722) =
    0.019 per sample, 0.026 for the difference of two independent samples. So (i) each synthetic
    quantile p5..p95 must sit within 0.07 (~2.7 sd) in probability of the real one (it lies between
    the real p-0.07 and p+0.07 quantiles); (ii) the two-sample KS statistic must stay below 0.1
    (the 5% critical value is 1.36 sqrt(2/722) = 0.072, the 0.1% value 0.103); (iii) means within
    0.15 real sd (4 standard errors of a mean) and sds within 20%.
    """
    from jaxecon.data._make_targets import real_statistics

    real = real_statistics(adh)
    st = cz_statistics(syn.population, syn.manuf_share, syn.employment, syn.sic2)
    for k in STATISTICS:
        gaps = {p: _quantile_rank_gap(st[k], real[k], p) for p in (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)}
        assert max(gaps.values()) <= 0.07, (k, gaps)
        assert ks_2samp(st[k], real[k]).statistic < 0.1, k
        sd = np.std(real[k], ddof=1)
        assert abs(np.mean(st[k]) - np.mean(real[k])) < 0.15 * sd, k
        assert 0.8 < np.std(st[k], ddof=1) / sd < 1.2, k
        # stored targets summarize the same real sample
        assert T.TARGETS[k]["p50"] == pytest.approx(np.median(real[k]), rel=1e-12)
    # the dependence survives: specialization falls with size, as in the data
    assert np.corrcoef(st["log_population"], st["gini"])[0, 1] < -0.6


def test_stored_targets_equal_recomputation(adh):
    from jaxecon.data._make_targets import compute_targets, render_industries

    fresh = compute_targets(adh)
    assert fresh["STATISTICS"] == T.STATISTICS and fresh["YEAR"] == T.YEAR
    assert fresh["PROBS"] == pytest.approx(T.PROBS, abs=0)
    assert fresh["EMP_POP_RATIO"] == pytest.approx(T.EMP_POP_RATIO, rel=1e-12)
    for k in T.STATISTICS:
        for q, v in T.TARGETS[k].items():
            assert fresh["TARGETS"][k][q] == pytest.approx(v, rel=1e-12, abs=1e-15), (k, q)
        np.testing.assert_allclose(fresh["QUANTILES"][k], T.QUANTILES[k], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fresh["CORRELATION"], T.CORRELATION, rtol=1e-12, atol=1e-15)
    from jaxecon.data import _industries
    from pathlib import Path

    assert Path(_industries.__file__).read_text() == render_industries(adh)
    # the package data file is what the generator writes: its text is the generator's rendering of
    # its own numbers, and those numbers are the recomputation's to round-off (a correlation's last
    # bits move with the BLAS build and thread count, so the texts are not compared byte for byte)
    import json
    from importlib import resources

    from jaxecon.data._make_targets import render_targets
    stored = resources.files("jaxecon.data").joinpath("targets.json").read_text(encoding="utf-8")
    doc = json.loads(stored)
    assert stored == render_targets(doc)
    again = json.loads(render_targets(fresh))
    assert {k: v for k, v in doc.items() if k not in ("TARGETS", "QUANTILES", "CORRELATION", "EMP_POP_RATIO")} == \
        {k: v for k, v in again.items() if k not in ("TARGETS", "QUANTILES", "CORRELATION", "EMP_POP_RATIO")}
    assert doc["TARGETS"].keys() == again["TARGETS"].keys() and doc["QUANTILES"].keys() == again["QUANTILES"].keys()
    for k in doc["TARGETS"]:
        assert doc["TARGETS"][k].keys() == again["TARGETS"][k].keys()
        np.testing.assert_allclose(list(doc["TARGETS"][k].values()), list(again["TARGETS"][k].values()), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(doc["QUANTILES"][k], again["QUANTILES"][k], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(doc["CORRELATION"], again["CORRELATION"], rtol=1e-12, atol=1e-15)
    assert doc["EMP_POP_RATIO"] == pytest.approx(again["EMP_POP_RATIO"], rel=1e-12)


def test_targets_package_data_is_consistent():
    """targets.json (no real data needed): shapes, monotone quantiles, a valid correlation matrix."""
    assert T.YEAR == 1990 and T.STATISTICS == STATISTICS
    probs = np.asarray(T.PROBS)
    assert probs.shape == (101,) and np.all(np.diff(probs) > 0) and 0 < probs[0] and probs[-1] < 1
    for k in STATISTICS:
        q = np.asarray(T.QUANTILES[k])
        assert q.shape == probs.shape and np.all(np.diff(q) >= 0)
        assert T.TARGETS[k]["p5"] <= T.TARGETS[k]["p50"] <= T.TARGETS[k]["p95"] and T.TARGETS[k]["sd"] > 0
        assert T.TARGETS[k]["p50"] == pytest.approx(np.interp(0.5, probs, q), rel=1e-12)
    c = np.asarray(T.CORRELATION)
    assert c.shape == (5, 5) and np.array_equal(c, c.T) and np.all(np.diag(c) == 1.0)
    assert np.linalg.eigvalsh(c).min() > 0
    assert 0 < T.EMP_POP_RATIO < 1
    assert T.load() == {k: getattr(T, k) for k in ("YEAR", "STATISTICS", "EMP_POP_RATIO", "TARGETS", "PROBS",
                                                  "QUANTILES", "CORRELATION")}


# ------------------------------------------------------------------ corrupted files (issue 18 item 5)
def _copy_with(adh_path, tmp_path, name, write):
    """tmp_path holding links to the real files except ``name``, which ``write(path)`` writes."""
    for f in ADH_FILES:
        if f != name:
            (tmp_path / f).symlink_to(adh_path / f)
    write(tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("name", ["cz_exposure.csv.gz", "industry_shocks.csv.gz"])
def test_truncated_gzip_names_file(adh_path, tmp_path, name):
    raw = (adh_path / name).read_bytes()
    folder = _copy_with(adh_path, tmp_path, name, lambda p: p.write_bytes(raw[: len(raw) // 2]))
    with pytest.raises(ValueError, match=f"ADH file {name} .*truncated or corrupted.*EOFError"):
        load_adh(folder)


def test_corrupted_gzip_names_file(adh_path, tmp_path):
    name = "cz_exposure.csv.gz"
    raw = bytearray((adh_path / name).read_bytes())
    raw[len(raw) // 3: len(raw) // 3 + 64] = bytes(64)      # zeroed block inside the deflate stream
    folder = _copy_with(adh_path, tmp_path, name, lambda p: p.write_bytes(bytes(raw)))
    with pytest.raises(ValueError, match=f"ADH file {name} .*truncated or corrupted"):
        load_adh(folder)


def test_truncated_plain_csv_names_file_and_column(adh_path, tmp_path):
    name = "industries.csv"
    text = (adh_path / name).read_text()
    cut = text[: text.index("\n", len(text) // 2) + 6]           # ends in the middle of a line
    folder = _copy_with(adh_path, tmp_path, name, lambda p: p.write_text(cut))
    with pytest.raises(ValueError, match=f"file {name}: column '.*' has 1 missing or infinite value"):
        load_adh(folder)


def test_text_in_numeric_column_names_file_column_and_line(adh_path, tmp_path):
    name = "cz_exposure.csv.gz"
    df = pd.read_csv(adh_path / name)
    df["y"] = df["y"].astype(object)
    df.loc[5, "y"] = "1.2.3"
    folder = _copy_with(adh_path, tmp_path, name, lambda p: df.to_csv(p, index=False))
    with pytest.raises(ValueError, match=rf"file {name}: column 'y' must be numeric; line 7 \(czone "
                                         rf"{df.loc[5, 'czone']}, year {df.loc[5, 'year']}\) holds '1.2.3'"):
        load_adh(folder)


def test_shares_summing_to_57_rejected(adh_path, tmp_path):
    name = "cz_industry_shares.csv.gz"
    df = pd.read_csv(adh_path / name)
    rows = (df["czone"] == df["czone"].iloc[0]) & (df["year"] == 2000)
    df.loc[rows, "ind_share"] *= 57.0 / df.loc[rows, "ind_share"].sum()
    df.loc[rows, "ind_share"] = df.loc[rows, "ind_share"].clip(upper=1.0)   # each share stays <= 1
    folder = _copy_with(adh_path, tmp_path, name,
                        lambda p: df.to_csv(p, index=False, compression={"method": "gzip", "compresslevel": 1}))
    with pytest.raises(ValueError, match=rf"file {name}: column 'ind_share' of CZ {df['czone'].iloc[0]}, year 2000 "
                                         r"sums to .*'Lsh_manuf'"):
        load_adh(folder)


@pytest.mark.parametrize("name,column,value,match", [
    ("cz_exposure.csv.gz", "Lsh_manuf", 57.0, "a share in"),
    ("cz_exposure.csv.gz", "t2", 0.5, "a 0/1 dummy"),
    ("workfile_china.csv.gz", "l_popcount", -3.0, "a population > 0"),
    ("workfile_china.csv.gz", "wei", -1.0, "a weight >= 0"),
])
def test_impossible_values_rejected(adh_path, tmp_path, name, column, value, match):
    df = pd.read_csv(adh_path / name)
    df[column] = df[column].astype(float)
    df.loc[10, column] = value
    folder = _copy_with(adh_path, tmp_path, name, lambda p: df.to_csv(p, index=False))
    with pytest.raises(ValueError, match=rf"file {name}: column '{column}' must be {match}.*first {value!r} at line 12"):
        load_adh(folder)
