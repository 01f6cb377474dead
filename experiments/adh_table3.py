"""ADH (2013) Table 3, columns (1) and (6): 2SLS of the change in manufacturing employment on imports.

Reads the real ADH commuting-zone file (``cz_exposure.csv.gz``) through ``jaxecon.data.load_adh``;
prints a message and exits 0 when the files are absent. Writes ``results/adh_table3/``:
``table3.csv``, ``table3.md`` and ``report.md``.

    python experiments/adh_table3.py
"""

from __future__ import annotations

import sys

import pandas as pd

import jaxecon  # noqa: F401
from jaxecon.econometrics import iv, regression_table
from jaxecon.reporting import ResultsDir, markdown_table

REG = ["reg_midatl", "reg_encen", "reg_wncen", "reg_satl", "reg_escen", "reg_wscen", "reg_mount", "reg_pacif"]
CONTROLS = ["l_shind_manuf_cbp", "l_sh_popedu_c", "l_sh_popfborn", "l_sh_empl_f", "l_sh_routine33", "l_task_outsource"]
PUBLISHED = {"(1)": (-0.746, 0.068), "(6)": (-0.596, 0.099)}
COLUMNS = {"(1)": ["t2"], "(6)": ["t2", *REG, *CONTROLS]}


def main() -> int:
    from jaxecon.data import load_adh_if_present

    adh = load_adh_if_present(otherwise="set JAXECON_DATA or place the files in ../shared/data. Skipping.")
    if adh is None:
        return 0
    e = adh.exposure
    res, res_fixest, rows = {}, {}, []
    for col, exog in COLUMNS.items():
        r = iv(e, "y", "x", "z", exog, weights="wei", vcov="cluster", cluster="clus", ssc="none")
        s = iv(e, "y", "x", "z", exog, weights="wei", vcov="cluster", cluster="clus", ssc="fixest")
        res[col], res_fixest[col] = r, s
        b, se = PUBLISHED[col]
        rows.append({"column": col, "published coef": b, "published SE": se, "jaxecon coef": r.params["x"],
                     "jaxecon SE (ssc=none)": r.se["x"], "jaxecon SE (ssc=fixest)": s.se["x"],
                     "first-stage coef": r.first_stage.loc["z", "x"], "first-stage F (eff.)": r.first_stage_f["x"],
                     "digits match": round(r.params["x"], 3) == b and round(r.se["x"], 3) == se,
                     "N": r.nobs, "clusters": r.n_clusters})
    comp = pd.DataFrame(rows).set_index("column")
    table = regression_table(
        res, rows=["x"], labels={"x": "Change in imports from China per worker (k$)"},
        extra={"Census division dummies": ["no", "yes"], "ADH controls (6)": ["no", "yes"],
               "First-stage coefficient on z": [f"{res[c].first_stage.loc['z', 'x']:.3f}" for c in res],
               "First-stage effective F": [f"{res[c].first_stage_f['x']:.1f}" for c in res]})
    out = ResultsDir("adh_table3")
    out.csv(comp, "comparison.csv")
    out.csv(table, "table3.csv")
    out.text(markdown_table(table), "table3.md")
    ok = bool(comp["digits match"].all())
    comp_md = markdown_table(comp, floatfmt="{:.4f}")
    report = f"""# ADH (2013) Table 3, columns (1) and (6)

2SLS of the decadal change in the manufacturing share of working-age population (`y`) on the change
in US imports from China per worker (`x`, k$), instrumented by other high-income countries' imports
from China (`z`), stacked 1990-2000 and 2000-2007, weighted by start-of-period population (`wei`),
standard errors clustered by state (48 clusters). Column (1): period dummy only; column (6): plus
8 census-division dummies and the six ADH controls. Data: `cz_exposure.csv.gz` (1,444 CZ-periods).

{markdown_table(table)}

*** p<0.01, ** p<0.05, * p<0.1 (normal p-values, no small-sample correction as in Stata ivregress).

## Published vs jaxecon

{comp_md}

**Both columns reproduce the published coefficients and state-clustered standard errors to the
published three digits: {"yes" if ok else "NO"}.** The match needs `ssc="none"` (no small-sample correction:
ADH used Stata's `ivregress` default); with the library's default correction (`ssc="fixest"`, as
fixest/pyfixest/Stata `regress`: `G/(G-1) (N-1)/(N-K)`, here no fixed effects are absorbed, so `K` counts
the regressors only) the SE would read {res_fixest['(1)'].se['x']:.3f} and {res_fixest['(6)'].se['x']:.3f}.
The effective first-stage F (Montiel Olea-Pflueger; with one instrument the squared clustered
first-stage t, i.e. the Kleibergen-Paap Wald F) is {res['(1)'].first_stage_f['x']:.1f} in column (1) and
{res['(6)'].first_stage_f['x']:.1f} in column (6): the instrument is strong.
"""
    out.text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
