"""Writing experiment outputs: ``results/<experiment>/`` with report.md, CSV tables and PNG figures.

Every file is written atomically (to a temporary file in the same folder, then renamed), so an
interrupted run never leaves a half-written report beside complete ones.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pandas as pd

__all__ = ["ResultsDir", "atomic_write_bytes", "markdown_table"]


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def markdown_table(df: pd.DataFrame, floatfmt: str = "{:.3f}", index: bool = True) -> str:
    """A GitHub-flavoured markdown table of ``df`` (no extra dependency such as tabulate)."""
    frame = df.reset_index() if index else df
    cols = [str(c) for c in frame.columns]

    def fmt(v):
        if isinstance(v, float):
            return floatfmt.format(v)
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


class ResultsDir:
    """The output folder of one experiment, ``<root>/<name>/`` (root defaults to ``results``).

    Methods write tables (CSV), figures (PNG) and the markdown report atomically and return the
    written path.
    """

    def __init__(self, name: str, root: str | os.PathLike | None = None):
        self.path = Path(root or os.environ.get("JAXECON_RESULTS", "results")) / name
        self.path.mkdir(parents=True, exist_ok=True)

    def csv(self, df: pd.DataFrame, filename: str, index: bool = True) -> Path:
        return atomic_write_bytes(self.path / filename, df.to_csv(index=index).encode())

    def figure(self, fig, filename: str, dpi: int = 130) -> Path:
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        return atomic_write_bytes(self.path / filename, buf.getvalue())

    def text(self, content: str, filename: str = "report.md") -> Path:
        return atomic_write_bytes(self.path / filename, content.encode())
