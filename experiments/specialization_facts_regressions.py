"""Paper 002 (Boehnert, The Regional Specialization Trade-off), Facts 1-3 on the ADH commuting-zone data.

Fact 1 (eq. 1): specialization (Gini and HHI of manufacturing industry employment shares, 1990)
against 1990 income and 1990-2000 income growth, with the shift-share control g_hat (eq. 2) and the
ADH controls. Fact 2 (eqs 3-4): LOWESS of log-normalized specialization on log-normalized income
with pairs-bootstrap bands. Fact 3 (eq. 5): rank-rank persistence of RCA across CZs within each
industry between 1980 and 1990 with CZ and industry fixed effects.
Exits 0 with a message when the ADH files are absent. Writes ``results/specialization_facts_regressions/``.

    python experiments/specialization_facts_regressions.py [--boot 500]
"""

from __future__ import annotations

import argparse
import sys

import jax
import numpy as np
import pandas as pd

import jaxecon  # noqa: F401
from jaxecon.econometrics import lowess_bootstrap, ols, rank_rank, regression_table, shift_share
from jaxecon.reporting import ResultsDir, markdown_table

REG = ["reg_midatl", "reg_encen", "reg_wncen", "reg_satl", "reg_escen", "reg_wscen", "reg_mount", "reg_pacif"]
CONTROLS = ["l_sh_popedu_c", "l_sh_popfborn", "l_sh_empl_f", "l_sh_routine33", "l_task_outsource"]


def zscore(v):
    return (v - v.mean()) / v.std(ddof=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--boot", type=int, default=500, help="bootstrap draws for the LOWESS bands")
    args = ap.parse_args(argv)
    from jaxecon.data import load_adh_if_present
    from jaxecon.measures import gini, hhi, rca

    adh = load_adh_if_present(otherwise="set JAXECON_DATA or place the files in ../shared/data. Skipping.")
    if adh is None:
        return 0
    out = ResultsDir("specialization_facts_regressions")
    wf = adh.workfile.merge(adh.exposure[["czone", "year", "x", "z", "reg_midatl"]], on=["czone", "year"],
                            suffixes=("", "_e"))
    w90 = wf[wf.year == 1990].set_index("czone").loc[adh.czones]
    w00 = wf[wf.year == 2000].set_index("czone").loc[adh.czones]
    S90 = np.asarray(adh.share_arrays[1990])  # 1990 industry employment shares (of total employment)
    ok = S90.sum(axis=1) > 0
    g90 = adh.shocks[adh.shocks.year == 1990].set_index("sic87dd").loc[adh.sic87dd, "g"].to_numpy()
    cs = pd.DataFrame({
        "gini": np.asarray(gini(S90)), "hhi": np.asarray(hhi(S90)),
        "inc90": np.log(w90["l_avg_hhincsum_pc_pw"].to_numpy()),
        "growth": np.log(w00["l_avg_hhincsum_pc_pw"].to_numpy() / w90["l_avg_hhincsum_pc_pw"].to_numpy()),
        "ghat": np.asarray(shift_share(np.asarray(adh.share_arrays[1980]), g90)),
        "manuf": w00["Lsh_manuf"].to_numpy() if "Lsh_manuf" in w00 else adh.manuf_share[1990],
        "logpop": np.log(w90["l_popcount"].to_numpy()), "clus": w90["clus"].to_numpy(),
        **{c: w90[c].to_numpy() for c in REG + CONTROLS},
    }, index=adh.czones)[ok]
    cs["manuf"] = np.asarray(adh.manuf_share[1990])[ok]
    for c in ("gini", "hhi", "inc90", "growth", "ghat"):
        cs[c + "_z"] = zscore(cs[c])

    # ---------------- Fact 1 ----------------------------------------------------------------------------
    ctrl = ["ghat_z", "manuf", "logpop", *CONTROLS, *REG]
    kw = dict(vcov="cluster", cluster="clus")
    res = {
        "(1) growth": ols(cs, "growth_z", ["gini_z", "inc90_z", *ctrl], **kw),
        "(2) growth": ols(cs, "growth_z", ["hhi_z", "inc90_z", *ctrl], **kw),
        "(3) income 1990": ols(cs, "inc90_z", ["gini_z", *ctrl], **kw),
        "(4) income 1990": ols(cs, "inc90_z", ["hhi_z", *ctrl], **kw),
    }
    labels = {"gini_z": "Specialization: Gini (manufacturing, 1990)", "hhi_z": "Specialization: HHI (manufacturing, 1990)",
              "ghat_z": "Shift-share exposure g_hat", "inc90_z": "log income p.c. 1990", "manuf": "Manufacturing share 1990",
              "logpop": "log population 1990", "l_sh_popedu_c": "College share", "l_sh_empl_f": "Female employment share"}
    t1 = regression_table(res, rows=list(labels), labels=labels,
                          extra={"Census divisions, other ADH controls": ["yes"] * 4})
    out.csv(t1, "fact1_table.csv")
    out.text(markdown_table(t1), "fact1_table.md")

    # ---------------- Fact 2: LOWESS with bootstrap bands ----------------------------------------------
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xr = cs["inc90"] - cs["inc90"].mean()          # log relative income
    yr = np.log(cs["gini"] / cs["gini"].mean())     # log relative specialization
    grid = np.linspace(np.percentile(xr, 2), np.percentile(xr, 98), 60)
    bands = lowess_bootstrap(jax.random.PRNGKey(0), xr.to_numpy(), yr.to_numpy(), frac=0.3, xeval=grid,
                             n_boot=args.boot)
    f2 = pd.DataFrame({"log_rel_income": grid, "fit": np.asarray(bands.fit), "lower95": np.asarray(bands.lower),
                       "upper95": np.asarray(bands.upper)})
    out.csv(f2, "fact2_lowess.csv", index=False)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(xr, yr, s=4, alpha=0.3, color="grey", label="CZs (1990)")
    ax.fill_between(grid, f2.lower95, f2.upper95, alpha=0.3, label=f"95% pairs bootstrap ({args.boot} draws)")
    ax.plot(grid, f2.fit, lw=2, label="LOWESS (tricube, span 0.3)")
    ax.set_xlabel("log relative income per capita, 1990")
    ax.set_ylabel("log relative specialization (Gini, manufacturing)")
    ax.set_ylim(np.percentile(yr, 1), np.percentile(yr, 99.5))
    ax.legend(fontsize=7)
    out.figure(fig, "fact2_lowess.png")

    # ---------------- Fact 3: RCA rank persistence 1980 -> 1990 -----------------------------------------
    pop = np.asarray(adh.population[1990])
    R = {yr_: np.asarray(rca(np.asarray(adh.share_arrays[yr_]) * pop[:, None])) for yr_ in (1980, 1990)}
    long = pd.DataFrame({"czone": np.repeat(adh.czones, len(adh.sic87dd)), "industry": np.tile(adh.sic87dd, len(adh.czones)),
                         "rca80": R[1980].ravel(), "rca90": R[1990].ravel(),
                         "clus": np.repeat(w90["clus"].to_numpy(), len(adh.sic87dd))})
    long = long[np.isfinite(long.rca80) & np.isfinite(long.rca90)]
    r3 = {
        "(1) no FE": rank_rank(long, "rca90", "rca80", rank_within="industry", **kw),
        "(2) CZ + industry FE": rank_rank(long, "rca90", "rca80", rank_within="industry", fe=("czone", "industry"), **kw),
    }
    t3 = regression_table(r3, rows=["rank_before"], labels={"rank_before": "log rank RCA, 1980"},
                          extra={"CZ FE": ["no", "yes"], "Industry FE": ["no", "yes"]})
    out.csv(t3, "fact3_table.csv")
    out.text(markdown_table(t3), "fact3_table.md")

    b = {k: r.params.iloc[0] for k, r in res.items()}
    slope_hi = f2.fit.iloc[-1] - f2.fit.iloc[0]
    rep = f"""# Paper 002's facts on the ADH commuting-zone data

Data: {int(ok.sum())} of 722 CZs (those with manufacturing employment in 1990). Specialization is the
Gini (Imbs-Wacziarg, `jaxecon.measures.gini`) or HHI of the 1990 employment shares over the 397
*manufacturing* industries, not the paper's 3-digit income shares over all industries; income is ADH's
household income per capita (`l_avg_hhincsum_pc_pw`), growth its log change 1990-2000 (the paper: 1950 levels,
1950-2020 growth). The shift-share control g_hat = sum_i s_ic g_i (eq. 2) uses the 1980 shares and the
ADH industry shocks g of 1990-2000 (import growth from China in other rich countries; the paper uses
aggregate industry income growth), i.e. exactly the ADH instrument z of that decade. Variables ending in
`_z` are standardized (coefficients in SD units). SEs clustered by state.

## Fact 1: specialization, income and growth (eq. 1)

{markdown_table(t1)}

*** p<0.01, ** p<0.05, * p<0.1.

Paper (Table 4, CZs 1950-2020): specialization -0.233* on long-run growth and +0.844*** on 1950 income,
"one SD more specialization, 2/3 SD higher income and 1/3 SD lower growth". Here: Gini {b['(1) growth']:+.3f} SD on
1990-2000 growth and {b['(3) income 1990']:+.3f} SD on 1990 income (HHI: {b['(2) growth']:+.3f} and {b['(4) income 1990']:+.3f}).
{"The signs agree with the paper's trade-off; sizes are smaller (a decade, not 70 years; within-manufacturing concentration)." if b['(1) growth'] < 0 < b['(3) income 1990'] else "The paper's trade-off (specialized CZs richer AND slower-growing) is not reproduced with the Gini on these data: the growth sign agrees, the income sign does not; the measure (manufacturing only), the period (one decade) and the income concept all differ from the paper's, so this is not a test of the paper's claim."}

## Fact 2: LOWESS of specialization on income (eqs 3-4)

![fact 2](fact2_lowess.png)

Tricube LOWESS (span 0.3, no robustifying iterations, identical to statsmodels' `lowess(it=0)` in the
tests) with a 95% pairs-bootstrap percentile band ({args.boot} draws, vmapped). The fitted log relative
specialization changes by {slope_hi:+.3f} from the 2nd to the 98th income percentile. The paper finds an
S-shaped *increasing* relation (richer regions more specialized, across 1950-2020 and all industries).
{"Here the relation is also increasing on net" if slope_hi > 0 else "Here, within manufacturing in 1990, the relation is decreasing on net: richer CZs have more diversified manufacturing"}; see the
figure for its shape.

## Fact 3: persistence of RCA ranks, 1980 to 1990 (eq. 5)

{markdown_table(t3)}

RCA of each CZ in each manufacturing industry (`jaxecon.measures.rca` on shares x 1990 population as
the employment scale, the same scale at both dates), CZs ranked within each industry (1 = highest RCA),
log ranks, sample: CZ-industry cells with positive employment at both dates ({r3['(2) CZ + industry FE'].nobs:,}).
Rank-rank elasticity {r3['(1) no FE'].params.iloc[0]:.3f} without and {r3['(2) CZ + industry FE'].params.iloc[0]:.3f} with CZ and industry fixed
effects, over 10 years; the paper reports 0.57 over 70 years for tradable industries: specialization is
highly persistent in both.
"""
    out.text(rep)
    print(rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
