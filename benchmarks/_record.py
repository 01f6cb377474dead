"""Record a benchmark's results in benchmarks/RESULTS.md.

Each benchmark script owns one section of RESULTS.md, delimited by ``<!-- BEGIN name -->`` and
``<!-- END name -->``; rerunning the script replaces its section (appending it the first time) and
leaves the others untouched. The write is atomic.
"""

from __future__ import annotations

import os
import platform
import re
import tempfile
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine_line() -> str:
    """Date, CPU model and core count, and the JAX device(s) the run used."""
    import datetime

    import jax

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    devices = ", ".join(sorted({f"{d.platform}:{d.device_kind}" for d in jax.devices()}))
    return (f"date {datetime.date.today().isoformat()}; machine: {cpu}, {os.cpu_count()} cores; "
            f"devices: {devices}; jax {jax.__version__}")


def cpu_ticks():
    """``(steal, total)`` CPU ticks of the whole machine since boot (Linux ``/proc/stat``), or None.

    Steal is time the hypervisor gave this virtual machine's CPUs to someone else: on a shared
    machine a timed run with much steal ran slower than the code deserves."""
    try:
        vals = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return (vals[7] if len(vals) > 7 else 0), sum(vals)


def steal_share(before, after):
    """Share of the machine's CPU time stolen between two :func:`cpu_ticks` readings (nan if unknown)."""
    if before is None or after is None or after[1] <= before[1]:
        return float("nan")
    return (after[0] - before[0]) / (after[1] - before[1])


def record(name: str, markdown: str, path: Path = RESULTS) -> Path:
    """Replace (or append) the section ``name`` of RESULTS.md with ``markdown``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    # sections sit under the page title: demote their headings by one level
    markdown = re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", markdown.strip(), flags=re.M)
    block = f"{begin}\n{markdown.strip()}\n{end}\n"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path
