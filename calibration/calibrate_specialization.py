"""Calibrate the two-industry specialization economy by gradient (issue 19 item 3; paper 002 §4.2).

(θ, μ_1 − μ_2) to two targets, β = 0.95 (paper 002 Table 2): the ergodic mean debt/output = 20%
(the paper's NFA/GDP of −20%) and the ergodic mean machinery share of capital = the CZs'
employment-weighted mean machinery (SIC 35) share of manufacturing employment at the earliest date
(ADH 1980 when the files are found, else the embedded synthetic CZs). Gradients come from the
implicitly differentiated solver and the lottery-weighted ergodic distribution
(:func:`jaxecon.models.specialization.calibration.calibrate_two_industry`, which also says what
happens when the debt target needs an ill-posed θ).

Writes ``calibration/specialization_two_industry.json``. Usage:

    python calibration/calibrate_specialization.py [--n-b 12 --n-k 15] [--data PATH] [--synthetic]

The default grid (12 bond × 15 share points) is coarser than the solver's default (20 × 30) so that
the calibration runs in a few minutes on a 2-core CPU; pass ``--n-b 20 --n-k 30`` for the default.
Its bond grid starts at b = −0.3 instead of −0.45: with machinery TFP calibrated low (μ_1 − μ_2 ≈ −1.1)
the corner "all capital in machinery, lowest machinery TFP, debt 0.45" has output ≈ 0.45, where the
price of capital collapses and the solver (rightly) finds no equilibrium; that corner is far from
the ergodic set (debt ≈ 0.1) and is dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jaxecon  # noqa: F401
from jaxecon.models.specialization import Grid
from jaxecon.models.specialization.calibration import calibrate_two_industry
from jaxecon.models.specialization.initial import cz_machinery_shares
from jaxecon.reporting import atomic_write_bytes

OUT = Path(__file__).resolve().parent / "specialization_two_industry.json"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-b", type=int, default=12)
    ap.add_argument("--n-k", type=int, default=15)
    ap.add_argument("--b-min", type=float, default=-0.3)
    ap.add_argument("--data", default=None, help="data directory (default: $JAXECON_DATA, then ../shared/data)")
    ap.add_argument("--synthetic", action="store_true", help="use the embedded synthetic CZs even if real files exist")
    ap.add_argument("--max-steps", type=int, default=25)
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    say = lambda s: print(s, flush=True)  # noqa: E731
    cz = cz_machinery_shares(a.data, source="synthetic" if a.synthetic else "auto", report=say)
    share = cz.weighted_mean()
    say(f"machinery share target: {share:.5f} (employment-weighted mean over {int((cz.weight > 0).sum())} CZs, "
        f"{cz.source} {cz.year})")
    grid = Grid(n_b=a.n_b, n_k=a.n_k, b_min=a.b_min)
    rec = calibrate_two_industry(share, grid, max_steps=a.max_steps, report=say)
    rec["data"] = {"source": cz.source, "year": cz.year, "n_czs": int((cz.weight > 0).sum()),
                   "share_definition": "SIC 35 employment / manufacturing employment; weights: manufacturing employment"}
    rec["run_time_s"] = round(time.perf_counter() - t0, 1)
    atomic_write_bytes(Path(a.out), (json.dumps(rec, indent=2) + "\n").encode())
    say(f"wrote {a.out} ({rec['run_time_s']} s)")
    return rec


if __name__ == "__main__":
    main(sys.argv[1:])
