"""Shared pytest fixtures. Nothing heavy happens at import time."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def adh_path():
    """Folder holding the five ADH files; skips the test when they cannot be found.

    Looks where :func:`jaxecon.data.data_dir` looks: ``$JAXECON_DATA``, then ``../shared/data``
    beside the repository root (the ``adh/`` folder inside it, or the folder itself).
    """
    from jaxecon.data import adh_dir
    from jaxecon.data._paths import ADH_FILES

    try:
        folder = adh_dir()
    except FileNotFoundError as err:
        pytest.skip(f"ADH files not found in $JAXECON_DATA or ../shared/data: {err}")
    missing = [f for f in ADH_FILES if not (folder / f).is_file()]
    if missing:
        pytest.skip(f"ADH files not found in $JAXECON_DATA or ../shared/data: {folder} lacks {', '.join(missing)}")
    return folder
