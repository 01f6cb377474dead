"""Loader for the Autor-Dorn-Hanson (2013) commuting-zone files (see ``shared/data/README.md``).

The year lag
------------
``cz_industry_shares.csv.gz`` holds the *lagged* (start-of-period) industry employment shares used
to build the ADH instrument, labelled with the period's start year: rows with ``year == 2000``
(period 2000-2007) hold **1990** shares and rows with ``year == 1990`` (period 1990-2000) hold **1980**
shares. The same holds for ``Lsh_manuf`` in ``cz_exposure.csv.gz`` (it equals the sum of the
industry shares of the same row label). :class:`ADHData` therefore keys ``share_arrays`` and
``manuf_share`` by the *actual* year of the shares (1980, 1990) and adds a column ``share_year`` =
``year - 10`` to the long ``industry_shares`` frame. ``population`` (``l_popcount``, the
start-of-period population) is keyed by its actual year, which equals the label (1990, 2000).
"""

from __future__ import annotations

import dataclasses
import functools
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from ._paths import ADH_FILES, adh_dir

N_CZ = 722
N_IND = 397
PERIODS = (1990, 2000)
SHARE_LAG = 10  # industry shares labelled `year` are from `year - 10`
SHARE_SUM_TOL = 1e-6  # |Σ_i ind_share - Lsh_manuf| allowed per CZ-year (the files agree to 1e-8)

_REG = ["reg_midatl", "reg_encen", "reg_wncen", "reg_satl", "reg_escen", "reg_wscen", "reg_mount", "reg_pacif"]
_CONTROLS = ["l_shind_manuf_cbp", "l_sh_popedu_c", "l_sh_popfborn", "l_sh_empl_f", "l_sh_routine33", "l_task_outsource"]

#: Columns that must be present in each file (others are kept as they are).
REQUIRED_COLUMNS = {
    "cz_exposure.csv.gz": ["czone", "year", "y", "x", "z", "wei", "clus", "t2", *_REG, *_CONTROLS, "Lsh_manuf"],
    "workfile_china.csv.gz": ["czone", "year", "y", "wei", "clus", "t2", "l_popcount"],
    "cz_industry_shares.csv.gz": ["czone", "year", "sic87dd", "ind_share"],
    "industry_shocks.csv.gz": ["year", "sic87dd", "g"],
    "industries.csv": ["sic87dd", "sic3", "sic2", "sicgroup"],
}


@dataclasses.dataclass(frozen=True)
class ADHData:
    """The ADH (2013) commuting-zone data, tidy and checked. Built by :func:`load_adh`.

    Attributes:
        path: folder the files were read from.
        exposure: ``cz_exposure`` (1,444 rows: 722 CZs x periods ``year`` 1990, 2000), sorted by
            (``czone``, ``year``); the regression file (``y``, ``x``, ``z``, ``wei``, ``clus``, ...).
        workfile: ``workfile_china`` (1,444 rows, 193 columns), same keys and order, ``czone`` int.
        industry_shares: long frame ``czone, year, sic87dd, ind_share, share_year`` (573,268 rows),
            sorted by (``czone``, ``year``, ``sic87dd``); ``year`` is the period label,
            ``share_year = year - 10`` the actual year of the shares (see the module docstring).
        shocks: ``industry_shocks`` (794 rows: period ``year`` x ``sic87dd``), sorted.
        industries: ``industries`` (397 rows: ``sic87dd, index, sic3, sic2, sicgroup``), sorted.
        czones: ``(722,)`` int, sorted CZ codes (the row order of every array below).
        sic87dd: ``(397,)`` int, sorted industry codes (the column order of ``share_arrays``).
        share_arrays: ``{1980: (722, 397), 1990: (722, 397)}`` industry employment / total CZ
            employment, keyed by the actual year of the shares; rows sum to ``manuf_share[year]``.
        manuf_share: ``{1980: (722,), 1990: (722,)}`` manufacturing share of CZ employment
            (``Lsh_manuf``), keyed by actual year. Two CZ-years (1980) are exactly 0.
        population: ``{1990: (722,), 2000: (722,)}`` start-of-period population ``l_popcount``.

    Arrays are read-only views shared between calls of :func:`load_adh` (which caches the parse);
    the data frames are fresh copies on every call.
    """

    path: Path
    exposure: pd.DataFrame
    workfile: pd.DataFrame
    industry_shares: pd.DataFrame
    shocks: pd.DataFrame
    industries: pd.DataFrame
    czones: np.ndarray
    sic87dd: np.ndarray
    share_arrays: dict
    manuf_share: dict
    population: dict


#: Unreadable-file errors of ``pandas.read_csv`` on a truncated or corrupted (gzip) file.
_READ_ERRORS = (EOFError, OSError, UnicodeDecodeError, zlib.error, pd.errors.ParserError, pd.errors.EmptyDataError)


def _read(folder: Path, name: str) -> pd.DataFrame:
    f = folder / name
    if not f.is_file():
        raise FileNotFoundError(f"ADH file {name} not found in {folder}")
    try:
        df = pd.read_csv(f)
    except _READ_ERRORS as err:
        raise ValueError(f"ADH file {name} ({f}) could not be read; it is truncated or corrupted "
                         f"({type(err).__name__}: {err})") from err
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {', '.join(repr(c) for c in missing)} missing from file {name} ({f})")
    for col in REQUIRED_COLUMNS[name]:
        _numeric_column(df, col, name)
    return df


def _line(df: pd.DataFrame, mask) -> str:
    """'line L (czone C, year Y)' of the first True row of ``mask`` (line 1 is the header)."""
    i = int(np.argmax(np.asarray(mask)))
    keys = ", ".join(f"{k} {df[k].iloc[i]}" for k in ("czone", "year", "sic87dd") if k in df.columns)
    return f"line {i + 2}" + (f" ({keys})" if keys else "")


def _numeric_column(df: pd.DataFrame, col: str, name: str) -> None:
    """A required column must be all numbers: no text, no empty cell, no infinity."""
    v = df[col]
    if not pd.api.types.is_numeric_dtype(v) or pd.api.types.is_bool_dtype(v):
        text = pd.to_numeric(v, errors="coerce").isna() & v.notna()
        raise ValueError(f"file {name}: column {col!r} must be numeric; {_line(df, text)} holds "
                         f"{v[text].iloc[0]!r}")
    x = v.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(x)):
        bad = ~np.isfinite(x)
        raise ValueError(f"file {name}: column {col!r} has {int(bad.sum())} missing or infinite value(s), "
                         f"first at {_line(df, bad)}")


def _check_values(df: pd.DataFrame, col: str, name: str, ok, allowed: str) -> None:
    """Raise naming the file, the column and the first row where ``ok`` (a predicate) fails."""
    x = df[col].to_numpy(dtype=np.float64)
    bad = ~ok(x)
    if bad.any():
        raise ValueError(f"file {name}: column {col!r} must be {allowed}; {int(bad.sum())} value(s) are not, "
                         f"first {float(x[bad][0])!r} at {_line(df, bad)}")


def _int_column(df: pd.DataFrame, col: str, name: str) -> None:
    v = df[col].to_numpy()
    if not np.all(np.isfinite(v)) or not np.all(v == np.round(v)):
        raise ValueError(f"column {col!r} of file {name} must hold integers")
    df[col] = v.astype(np.int64)


def _check_keys(df: pd.DataFrame, keys: list[str], name: str) -> None:
    dup = df.duplicated(keys)
    if dup.any():
        raise ValueError(f"file {name}: key ({', '.join(keys)}) not unique, e.g. {df.loc[dup, keys].iloc[0].to_dict()}")


def _parse(folder: Path):
    frames = {name: _read(folder, name) for name in ADH_FILES}
    for name, df in frames.items():
        for col in ("czone", "year", "sic87dd"):
            if col in df.columns:
                _int_column(df, col, name)

    exp_name, wf_name, sh_name, shock_name, ind_name = ADH_FILES
    exposure, workfile, shares, shocks, industries = (frames[n] for n in ADH_FILES)

    # --- keys: 722 CZs x 2 periods in exposure and workfile -----------------------------------------
    for df, name in ((exposure, exp_name), (workfile, wf_name)):
        _check_keys(df, ["czone", "year"], name)
        years = sorted(df["year"].unique())
        if years != list(PERIODS):
            raise ValueError(f"file {name}: column 'year' must hold periods {PERIODS}; got {years}")
        counts = df.groupby("year")["czone"].nunique()
        if df["czone"].nunique() != N_CZ or not (counts == N_CZ).all():
            raise ValueError(f"file {name}: expected {N_CZ} CZs x {len(PERIODS)} periods; got {len(df)} rows, "
                             f"{df['czone'].nunique()} CZs")
    # --- impossible values -----------------------------------------------------------------------------
    share01, nonneg = (lambda x: (x >= 0) & (x <= 1)), (lambda x: x >= 0)
    dummy = lambda x: (x == 0) | (x == 1)  # noqa: E731
    _check_values(exposure, "Lsh_manuf", exp_name, share01, "a share in [0, 1]")
    for col in ("t2", *_REG):
        _check_values(exposure, col, exp_name, dummy, "a 0/1 dummy")
    for df, name in ((exposure, exp_name), (workfile, wf_name)):
        _check_values(df, "wei", name, nonneg, "a weight >= 0")
    _check_values(workfile, "l_popcount", wf_name, lambda x: x > 0, "a population > 0")
    exposure = exposure.sort_values(["czone", "year"], ignore_index=True)
    workfile = workfile.sort_values(["czone", "year"], ignore_index=True)
    czones = np.sort(exposure["czone"].unique())
    if not np.array_equal(np.sort(workfile["czone"].unique()), czones):
        raise ValueError(f"files {exp_name} and {wf_name} cover different CZs (column 'czone')")

    # --- industries -----------------------------------------------------------------------------------
    _check_keys(industries, ["sic87dd"], ind_name)
    industries = industries.sort_values("sic87dd", ignore_index=True)
    sic = industries["sic87dd"].to_numpy()
    if len(sic) != N_IND:
        raise ValueError(f"file {ind_name}: expected {N_IND} industries (column 'sic87dd'); got {len(sic)}")
    _check_keys(shocks, ["year", "sic87dd"], shock_name)
    shocks = shocks.sort_values(["year", "sic87dd"], ignore_index=True)

    # --- long shares -> arrays --------------------------------------------------------------------------
    _check_keys(shares, ["czone", "year", "sic87dd"], sh_name)
    shares = shares[["czone", "year", "sic87dd", "ind_share"]].sort_values(["czone", "year", "sic87dd"],
                                                                           ignore_index=True)
    _check_values(shares, "ind_share", sh_name, share01, "a share in [0, 1]")
    v = shares["ind_share"].to_numpy(dtype=np.float64)
    if len(shares) != N_CZ * N_IND * len(PERIODS):
        raise ValueError(f"file {sh_name}: expected a complete {N_CZ} CZ x {N_IND} industry x {len(PERIODS)} "
                         f"period panel; got {len(shares)} rows")
    ci = np.searchsorted(czones, shares["czone"].to_numpy())
    ii = np.searchsorted(sic, shares["sic87dd"].to_numpy())
    bad_c = (ci >= N_CZ) | (czones[np.minimum(ci, N_CZ - 1)] != shares["czone"].to_numpy())
    bad_i = (ii >= N_IND) | (sic[np.minimum(ii, N_IND - 1)] != shares["sic87dd"].to_numpy())
    if bad_c.any() or bad_i.any():
        raise ValueError(f"file {sh_name}: {'czone' if bad_c.any() else 'sic87dd'} codes not in "
                         f"{exp_name if bad_c.any() else ind_name}")
    shares["share_year"] = shares["year"] - SHARE_LAG

    share_arrays, manuf_share, population = {}, {}, {}
    for label in PERIODS:
        m = (shares["year"] == label).to_numpy()
        arr = np.zeros((N_CZ, N_IND))
        arr[ci[m], ii[m]] = v[m]
        arr.setflags(write=False)
        share_arrays[label - SHARE_LAG] = arr
        e = exposure[exposure["year"] == label]  # sorted by czone
        ms = e["Lsh_manuf"].to_numpy(dtype=np.float64).copy()
        # a CZ's industry shares add up to its manufacturing share (<= 1): the same number in two files
        gap = np.abs(arr.sum(axis=1) - ms)
        if np.any(gap > SHARE_SUM_TOL):
            i = int(np.argmax(gap))
            raise ValueError(f"file {sh_name}: column 'ind_share' of CZ {czones[i]}, year {label} sums to "
                             f"{arr[i].sum()!r}, but its manufacturing share 'Lsh_manuf' in {exp_name} is "
                             f"{ms[i]!r} ({int((gap > SHARE_SUM_TOL).sum())} CZ-years disagree by more than "
                             f"{SHARE_SUM_TOL})")
        ms.setflags(write=False)
        manuf_share[label - SHARE_LAG] = ms
        p = workfile.loc[workfile["year"] == label, "l_popcount"].to_numpy(dtype=np.float64).copy()
        p.setflags(write=False)
        population[label] = p
    for a in (czones, sic):
        a.setflags(write=False)
    return dict(exposure=exposure, workfile=workfile, industry_shares=shares, shocks=shocks,
                industries=industries, czones=czones, sic87dd=sic, share_arrays=share_arrays,
                manuf_share=manuf_share, population=population)


@functools.lru_cache(maxsize=4)
def _parse_cached(folder: Path, stamp: tuple):
    return _parse(folder)


def load_adh(path=None) -> ADHData:
    """Read, check and tidy the five ADH (2013) files.

    Args:
        path: the data directory (holding ``adh/``) or the ``adh`` folder itself; default as in
            :func:`jaxecon.data.data_dir` (``$JAXECON_DATA``, then ``../shared/data``).

    Returns:
        :class:`ADHData`. Share arrays and ``manuf_share`` are keyed by the *actual* year of the
        shares: the ``cz_industry_shares`` rows labelled 2000 hold 1990 shares, those labelled 1990
        hold 1980 shares (ADH use start-of-period shares). Rows are CZs in sorted ``czone`` order,
        columns industries in sorted ``sic87dd`` order.

    Raises:
        FileNotFoundError: no data directory, or one of the five files missing (named).
        ValueError: naming the file (and the column and line where one is at fault): a file that
            cannot be read (truncated or corrupted), a required column missing, text, empty cells or
            infinities in a required column, duplicate keys, not 722 CZs x 2 periods, an incomplete
            share panel, or impossible values (industry shares or ``Lsh_manuf`` outside [0, 1], a
            CZ's industry shares not adding up to its ``Lsh_manuf``, negative weights ``wei``, a
            population ``l_popcount`` <= 0, dummies ``t2``/``reg_*`` not 0/1).

    The parse is cached (``functools.lru_cache``) on the resolved folder and the files' sizes and
    modification times; a repeated call costs only copying the frames.
    """
    folder = adh_dir(path).resolve()
    stamp = []
    for name in ADH_FILES:
        f = folder / name
        if not f.is_file():
            raise FileNotFoundError(f"ADH file {name} not found in {folder}")
        st = f.stat()
        stamp.append((name, st.st_size, st.st_mtime_ns))
    d = _parse_cached(folder, tuple(stamp))
    frames = {k: d[k].copy() for k in ("exposure", "workfile", "industry_shares", "shocks", "industries")}
    return ADHData(path=folder, czones=d["czones"], sic87dd=d["sic87dd"],
                   share_arrays=dict(d["share_arrays"]), manuf_share=dict(d["manuf_share"]),
                   population=dict(d["population"]), **frames)


def load_adh_if_present(path=None, *, otherwise: str, report=print) -> ADHData | None:
    """:func:`load_adh`, or ``None`` when the files are absent, saying so and what happens instead.

    For scripts whose real-data part is optional: the message names where the data were looked for
    (from the ``FileNotFoundError``) followed by ``otherwise`` (e.g. "skipping the benchmark").
    Other errors (a missing column, bad keys) still raise.
    """
    try:
        return load_adh(path)
    except FileNotFoundError as err:
        report(f"ADH data not found ({err}); {otherwise}")
        return None
