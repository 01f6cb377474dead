"""Paper 000 (Alder 2021, Industry Clusters), Tables 1-3, redone at the commuting-zone level on ADH data.

Table 1: distribution of the change in imports per worker by period. Table 2: distribution of the
HHI of local industry employment (manufacturing industries, computed with ``jaxecon.measures.hhi``).
Table 3: stacked-difference regressions of the change in the employment-to-population ratio (and of
the manufacturing share) on the HHI, imports per worker (2SLS with the ADH instrument), the
manufacturing share and HHI x imports, with period fixed effects and state-clustered SEs.
Exits 0 with a message when the ADH files are absent. Writes ``results/clusters_facts/``.

    python experiments/clusters_facts.py
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import jaxecon  # noqa: F401
from jaxecon.econometrics import iv, ols, regression_table
from jaxecon.reporting import ResultsDir, markdown_table

PCTS = [10, 25, 50, 75, 90, 95, 99]


def distribution(frame: pd.DataFrame, col: str, by: str, scale: float = 1.0) -> pd.DataFrame:
    """Mean, percentiles and SD of ``col`` by ``by`` (unweighted, as paper 000's Tables 1-2)."""
    out = {}
    for key, g in frame.groupby(by):
        v = g[col].dropna().to_numpy() * scale
        out[key] = {"Mean": v.mean(), **{f"{p}th percentile": np.percentile(v, p) for p in PCTS},
                    "Standard deviation": v.std(ddof=1), "N": len(v)}
    return pd.DataFrame(out)


def main() -> int:
    from jaxecon.data import load_adh_if_present
    from jaxecon.measures import hhi

    adh = load_adh_if_present(otherwise="set JAXECON_DATA or place the files in ../shared/data. Skipping.")
    if adh is None:
        return 0
    e = adh.exposure.merge(adh.workfile[["czone", "year", "d_sh_empl"]], on=["czone", "year"])
    # HHI of the start-of-period industry employment shares: 397 SIC industries and 20 2-digit groups
    sic2 = adh.industries.set_index("sic87dd").loc[adh.sic87dd, "sic2"].to_numpy()
    codes2, _ = pd.factorize(sic2, sort=True)
    frames = []
    for label in (1990, 2000):
        S = np.asarray(adh.share_arrays[label - 10])
        S2 = np.zeros((S.shape[0], codes2.max() + 1))
        np.add.at(S2.T, codes2, S.T)
        frames.append(pd.DataFrame({"czone": adh.czones, "year": label,
                                    "hhi": 100 * np.asarray(hhi(S)), "hhi2": 100 * np.asarray(hhi(S2))}))
    e = e.merge(pd.concat(frames), on=["czone", "year"])
    e["manuf"] = 100 * e["Lsh_manuf"]  # start-of-period manufacturing share of employment, percent
    e["hhi_x"] = e["hhi"] * e["x"]
    e["hhi_z"] = e["hhi"] * e["z"]
    e["period"] = e["year"].map({1990: "1990-2000", 2000: "2000-2007"})

    out = ResultsDir("clusters_facts")
    t1 = distribution(e, "x", "period", scale=1000.0)
    t2 = distribution(e.assign(share_year=e.year - 10), "hhi", "share_year")
    out.csv(t1, "table1_imports_per_worker.csv")
    out.csv(t2, "table2_hhi.csv")

    kw = dict(fe="year", vcov="cluster", cluster="clus")
    tables = {}
    for dep, title in (("d_sh_empl", "employment-to-population ratio"), ("y", "manufacturing share of population")):
        res = {
            "(1) OLS": ols(e, dep, "hhi2", **kw),
            "(2) OLS": ols(e, dep, "hhi", **kw),
            "(3) 2SLS": iv(e, dep, "x", "z", ["hhi"], **kw),
            "(4) 2SLS": iv(e, dep, "x", "z", ["hhi", "manuf"], **kw),
            "(5) 2SLS": iv(e, dep, ["x", "hhi_x"], ["z", "hhi_z"], ["hhi", "manuf"], **kw),
        }
        labels = {"hhi2": "HHI (2-digit SIC manufacturing)", "hhi": "HHI (4-digit SIC manufacturing)",
                  "x": "Change in imports per worker (k$)", "manuf": "Manufacturing employment share (%)",
                  "hhi_x": "HHI x change in imports per worker"}
        t = regression_table(res, rows=list(labels), labels=labels, extra={
            "Period fixed effects": ["yes"] * 5,
            "First-stage effective F (imports)": ["-", "-"] + [f"{r.first_stage_f['x']:.1f}" for r in list(res.values())[2:]]})
        tables[dep] = (title, t, res)
        out.csv(t, f"table3_{dep}.csv")
        out.text(markdown_table(t), f"table3_{dep}.md")

    sd_hhi = e["hhi"].std()
    r2 = tables["d_sh_empl"][2]["(2) OLS"]
    r4 = tables["d_sh_empl"][2]["(4) 2SLS"]
    r5 = tables["d_sh_empl"][2]["(5) 2SLS"]
    rep = [
        "# Paper 000 (Industry Clusters), Tables 1-3 at the commuting-zone level (ADH data)",
        "",
        "Differences from the paper's design, forced by the data: 722 commuting zones instead of counties;",
        "two stacked periods (1990-2000, 2000-2007, decadal changes in percentage points, ADH's `d_sh_empl`",
        "and `y`) instead of five-year changes 1992-2016; the HHI is over the 397 *manufacturing* industries",
        "(SIC87, Dorn) of the start-of-period employment shares (1980, 1990) instead of all 4-digit NAICS",
        "industries, so its level is not comparable (a CZ's manufacturing is far more concentrated than its",
        "whole economy); the \"2-digit\" column aggregates to 20 SIC2 manufacturing groups; imports per worker",
        "are in thousands of dollars (the paper's Table 1 in dollars), decadal. Unweighted, period fixed effects,",
        "SEs clustered by state (48) with fixest's small-sample correction (`ssc=\"fixest\"`: the two period",
        "fixed-effect levels count in K). The interaction HHI x imports is instrumented by HHI x z.",
        "",
        "## Table 1: change in imports per worker by period (US$, decadal)",
        "", markdown_table(t1, floatfmt="{:,.0f}"), "",
        "## Table 2: HHI of manufacturing industry employment (percent) by year of the shares",
        "", markdown_table(t2, floatfmt="{:.1f}"), "",
    ]
    for dep, (title, t, _) in tables.items():
        rep += [f"## Table 3: dependent variable: decadal change in the {title} (pp)", "",
                markdown_table(t), "", "*** p<0.01, ** p<0.05, * p<0.1; SEs clustered by state in parentheses.", ""]
    rep += [
        "## Comparison with the paper",
        "",
        f"Paper 000 (counties, 5-year changes): HHI (4-digit) -0.257*** alone, -0.195*** with the manufacturing",
        f"share; imports per worker -0.001* per $1,000 (5-year); HHI x imports -0.011 (insignificant).",
        f"Here (CZs, decadal, manufacturing HHI): HHI alone {r2.params['hhi']:.3f} (SE {r2.se['hhi']:.3f}); with imports",
        f"and the manufacturing share {r4.params['hhi']:.3f} (SE {r4.se['hhi']:.3f}); imports {r4.params['x']:.3f} (SE {r4.se['x']:.3f})",
        f"per $1,000; interaction {r5.params['hhi_x']:.4f} (SE {r5.se['hhi_x']:.4f}). A one-SD ({sd_hhi:.1f} points)",
        f"higher HHI goes with a {r2.params['hhi'] * sd_hhi:.2f} pp change in the employment-to-population ratio (paper:",
        "-1.4 pp over five years).",
        "",
        f"**Signs.** The imports coefficient has the paper's (and ADH's) negative sign and is larger and more precise.",
        f"The HHI coefficient has the *opposite* sign to the paper's: {'positive' if r2.params['hhi'] > 0 else 'negative'} here,",
        "negative (-0.257) there; so does the interaction (here "
        f"{'positive' if r5.params['hhi_x'] > 0 else 'negative'} and significant: more concentrated manufacturing dampens the",
        "trade effect; the paper: -0.011, insignificant). A plausible reason (a conjecture, not tested here) is the measure: an HHI",
        "over manufacturing industries only is highest where manufacturing is small and made of one or two plants",
        "(rural CZs), which lost fewer manufacturing jobs in 1990-2007, whereas the paper's HHI over all industries",
        "is high where one industry dominates the whole local economy. The CZ analogue of the paper's measure",
        "needs all-industry employment shares, which the ADH files do not have.",
    ]
    out.text("\n".join(rep))
    print("\n".join(rep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
