"""Locating the real-data directory."""

from __future__ import annotations

import os
from pathlib import Path

#: The five ADH (2013) files read by :func:`jaxecon.data.load_adh`.
ADH_FILES = (
    "cz_exposure.csv.gz",
    "workfile_china.csv.gz",
    "cz_industry_shares.csv.gz",
    "industry_shocks.csv.gz",
    "industries.csv",
)


def _default_dir() -> Path:
    import jaxecon

    # <root>/jaxecon/__init__.py -> parents[1] = repository root, parents[2] = its parent
    return Path(jaxecon.__file__).resolve().parents[2] / "shared" / "data"


def data_dir(path=None) -> Path:
    """Directory holding the real data (``adh/`` and friends), resolved to an absolute path.

    Looks, in order, at:

    1. ``path`` if given (then nothing else is tried);
    2. the environment variable ``JAXECON_DATA`` if set and non-empty;
    3. ``../shared/data`` beside the repository root, i.e.
       ``Path(jaxecon.__file__).parents[2] / "shared" / "data"``.

    A directory qualifies if it exists and holds either an ``adh/`` subdirectory or the ADH files
    themselves (``cz_exposure.csv.gz``...), so ``path`` may also point straight at the ``adh``
    folder. The directory is returned as found (not the ``adh/`` inside it).

    Raises:
        FileNotFoundError: no qualifying directory; the message lists every place looked at.
    """
    if path is not None:
        candidates = [("path argument", Path(path))]
    else:
        candidates = []
        env = os.environ.get("JAXECON_DATA", "")
        if env:
            candidates.append(("$JAXECON_DATA", Path(env)))
        candidates.append(("default ../shared/data", _default_dir()))
    looked = []
    for label, cand in candidates:
        cand = cand.expanduser()
        if cand.is_dir() and ((cand / "adh").is_dir() or (cand / ADH_FILES[0]).is_file()):
            return cand.resolve()
        looked.append(f"{label}: {cand} ({'exists, but has no adh/ or ADH files' if cand.is_dir() else 'missing'})")
    raise FileNotFoundError("jaxecon data directory not found; looked in " + "; ".join(looked))


def adh_dir(path=None) -> Path:
    """The folder that directly contains the ADH files: ``data_dir(path) / "adh"`` or
    ``data_dir(path)`` itself when the files sit there. Raises like :func:`data_dir`."""
    root = data_dir(path)
    return root / "adh" if (root / "adh").is_dir() else root
