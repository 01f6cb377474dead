"""jaxecon: GPU-accelerated, differentiable models of regional specialization, trade and migration.

Importing :mod:`jaxecon` turns on 64-bit floats in JAX (``jax_enable_x64``), because the solvers'
tolerances (1e-7 to 1e-10) are meaningless in float32 and JAX otherwise silently downcasts float64
requests. Set the environment variable ``JAXECON_NO_X64=1`` *before* importing to opt out.

Subpackages
-----------
numerics      Markov chains, multilinear interpolation, batched Newton, fixed points, batching/sharding
measures      specialization measures: Gini, HHI, max share, RCA (location quotients), rank persistence
econometrics  regression estimators in JAX (OLS / 2SLS with absorbed fixed effects, LOWESS, shift-share)
data          loaders for the real ADH commuting-zone files and the embedded synthetic 722-CZ default
models        the economic models (one subpackage each)
calibrate     gradient-based calibration with optax (``calibrate``, ``target_loss``)
reporting     atomic writing of experiment reports, tables and figures
"""

import os as _os

import jax as _jax

if _os.environ.get("JAXECON_NO_X64", "0") in ("", "0", "false", "False"):
    _jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

from . import numerics, measures, data, econometrics  # noqa: E402,F401

__all__ = ["numerics", "measures", "data", "econometrics", "__version__"]
