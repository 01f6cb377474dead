"""Data: the real ADH (2013) commuting-zone files and the embedded synthetic 722-CZ default.

``data_dir(path=None)``     where the real data lives (argument, ``$JAXECON_DATA``, ``../shared/data``)
``load_adh(path=None)``     read, check and tidy the five ADH files -> :class:`ADHData` (cached)
``load_adh_if_present``     the same, or None with a message when the files are absent
``synthetic_czs(seed, n)``  synthetic CZs whose specialization statistics match the real 1990
                            distributions -> :class:`SyntheticCZs` (generated in code, no data file)

Real data is never copied into the repository; only summary numbers (the package data file
``targets.json``, written by ``_make_targets.py``) and the public SIC industry code list
(``_industries.py``) are embedded.
"""

from ._paths import adh_dir, data_dir
from .adh import ADHData, load_adh, load_adh_if_present
from .synthetic import SyntheticCZs, synthetic_czs

__all__ = ["load_adh", "load_adh_if_present", "synthetic_czs", "data_dir", "ADHData", "SyntheticCZs", "adh_dir"]
