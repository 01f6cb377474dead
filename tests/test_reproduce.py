"""experiments/reproduce.py: runs experiments in subprocesses, writes results/index.md with working links.

Fake experiments in a temporary folder (``--experiments-dir``) with a registry passed to ``main``, so
the tests take seconds; one of them writes through :class:`jaxecon.reporting.ResultsDir`, the path
every real experiment uses, so the ``JAXECON_RESULTS`` contract is exercised end to end.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("reproduce", ROOT / "experiments" / "reproduce.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["reproduce"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


rp = _load()

FAKES = {
    # writes its report through the library's ResultsDir (root from $JAXECON_RESULTS), as real ones do
    "via_library": (
        "from jaxecon.reporting import ResultsDir\n"
        "print('via_library running')\n"
        "ResultsDir('via_library_out').text('# via library report\\n')\n"
    ),
    # the same without importing jaxecon (and so JAX): a second instead of ten on a loaded machine
    "fast_ok": (
        "import os, pathlib\n"
        "d = pathlib.Path(os.environ['JAXECON_RESULTS'], 'fast_ok_out'); d.mkdir(exist_ok=True)\n"
        "(d / 'report.md').write_text('# fast ok report\\n')\n"
    ),
    "boom": "import sys\nprint('boom says hello before dying', flush=True)\nsys.exit(1)\n",
    "slow_one": (
        "import os, pathlib\n"
        "pathlib.Path(os.environ['JAXECON_RESULTS'], 'slow_one_ran').write_text('x')\n"
    ),
    # not in the test registry: its folder is found from the report it writes
    "stray": (
        "import os, pathlib\n"
        "d = pathlib.Path(os.environ['JAXECON_RESULTS'], 'stray_folder'); d.mkdir(exist_ok=True)\n"
        "(d / 'report.md').write_text('# stray\\n')\n"
    ),
    # starts a child of its own (as specialization_facts does) and records its pid, then waits
    # writes its report on the first run, fails without writing one on the next
    "flaky": (
        "import os, pathlib, sys\n"
        "d = pathlib.Path(os.environ['JAXECON_RESULTS'], 'flaky')\n"
        "if d.exists():\n"
        "    sys.exit(3)\n"
        "d.mkdir(); (d / 'report.md').write_text('# flaky\\n')\n"
    ),
    "sleeper": (
        "import os, pathlib, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "pathlib.Path(os.environ['JAXECON_RESULTS'], 'child.pid').write_text(str(child.pid))\n"
        "time.sleep(60)\n"
    ),
}


@pytest.fixture
def exp_dir(tmp_path):
    d = tmp_path / "experiments"
    d.mkdir()
    for name, src in FAKES.items():
        (d / f"{name}.py").write_text(src)
    return d


def _registry(*entries):
    return {e.name: e for e in entries}


REG = _registry(
    rp.Experiment("boom", ("boom",), slow=False, note="fails on purpose"),
    rp.Experiment("fast_ok", ("fast_ok_out",), slow=False),
    rp.Experiment("via_library", ("via_library_out",), slow=True),  # imports JAX: kept out of the --skip-slow test
    rp.Experiment("slow_one", ("slow_one",), slow=True),
    rp.Experiment("sleeper", ("sleeper",), slow=True),
    rp.Experiment("absent", ("absent",), slow=False),
    rp.Experiment("flaky", ("flaky",), slow=True),
)


def _rows(index_md: Path) -> dict[str, list[str]]:
    """The index table as {experiment: [status, run time, report, note]}."""
    rows = {}
    for line in index_md.read_text().splitlines():
        if line.startswith("| ") and not line.startswith("| experiment"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0]] = cells[1:]
    return rows


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _links(cell: str) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", cell)


def test_only_one_fast_experiment_writes_index_with_working_link(exp_dir, tmp_path):
    res = tmp_path / "res"
    rc = rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "via_library"], registry=REG)
    assert rc == 0
    rows = _rows(res / "index.md")
    assert list(rows) == ["via_library"]  # --only: nothing else ran, and no earlier run to carry over
    status, secs, report, _ = rows["via_library"]
    assert status == "ok"
    assert re.fullmatch(r"\d+\.\d s", secs)
    (link,) = _links(report)
    assert link == "via_library_out/report.md"  # relative to index.md
    assert (res / "index.md").parent.joinpath(link).read_text() == "# via library report\n"
    assert "via_library running" in (res / "logs" / "via_library.log").read_text()
    rec = json.loads((res / "index.json").read_text())["via_library"]
    assert rec["status"] == "ok" and rec["returncode"] == 0 and rec["report"] == link


def test_failing_experiment_is_reported_and_the_run_continues(exp_dir, tmp_path):
    res = tmp_path / "res"
    # boom is first in the registry; fast_ok and the unregistered stray still run after it
    rc = rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "boom", "fast_ok", "stray"],
                 registry=REG)
    assert rc == 1
    rows = _rows(res / "index.md")
    assert list(rows) == ["boom", "fast_ok", "stray"]
    assert rows["boom"][0] == "failed (rc 1)"
    assert rows["boom"][2] == "—"  # no report
    (log,) = _links(rows["boom"][3])
    assert log == "logs/boom.log"
    assert "boom says hello before dying" in (res / log).read_text()
    assert rows["fast_ok"][0] == "ok"
    # the unregistered file ran (assumed slow, but --skip-slow was not given) and its report was found
    assert rows["stray"][0] == "ok"
    assert _links(rows["stray"][2]) == ["stray_folder/report.md"]
    assert rp.NOT_REGISTERED in rows["stray"][3]


def test_unknown_only_name_is_a_clear_error(exp_dir, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"nope.*valid names: boom, fast_ok, via_library"):
        rp.plan(exp_dir, REG, only=["nope"])
    with pytest.raises(SystemExit) as err:
        rp.main(["--experiments-dir", str(exp_dir), "--results", str(tmp_path / "res"), "--only", "nope"],
                registry=REG)
    assert err.value.code == 2
    msg = capsys.readouterr().err
    assert "unknown experiment(s) for --only: nope" in msg and "stray" in msg  # lists unregistered files too
    assert not (tmp_path / "res").exists()  # nothing ran


def test_skip_slow_skips_slow_and_unregistered_ones(exp_dir, tmp_path):
    res = tmp_path / "res"
    rc = rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--skip-slow"], registry=REG)
    assert rc == 1  # boom fails
    rows = _rows(res / "index.md")
    assert list(rows) == ["boom", "fast_ok", "via_library", "slow_one", "sleeper", "absent", "flaky", "stray"]
    assert all(rows[n][0] == "skipped (slow)" for n in ("slow_one", "sleeper", "via_library", "flaky"))
    assert not (res / "slow_one_ran").exists()  # really not run
    assert rows["stray"][0] == f"skipped (slow; {rp.NOT_REGISTERED})"
    assert not (res / "stray_folder").exists()
    assert rows["absent"][0] == "missing"
    assert rows["fast_ok"][0] == "ok"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to check the child is gone")
def test_previous_rows_are_kept_and_timeout_is_reported(exp_dir, tmp_path):
    res = tmp_path / "res"
    assert rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "slow_one"], registry=REG) == 0
    assert (res / "slow_one_ran").exists()
    rc = rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "sleeper", "--timeout", "2"],
                 registry=REG)
    assert rc == 1
    rows = _rows(res / "index.md")
    assert rows["sleeper"][0] == "timeout (2 s)"
    assert float(rows["sleeper"][1].split()[0]) < 30
    # the experiment's own child went with it (the whole process group is killed)
    pid = int((res / "child.pid").read_text())
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid)
    assert rows["slow_one"][0].startswith("ok (previous run, ")
    assert list(rows) == ["slow_one", "sleeper"]  # registry order, carried rows included
    # skipped as slow now: the row keeps the last run that ran it
    assert rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "slow_one", "fast_ok",
                    "--skip-slow"], registry=REG) == 0
    rows = _rows(res / "index.md")
    assert rows["slow_one"][0].startswith("ok (previous run, ")
    assert rows["slow_one"][3].startswith("skipped (slow) in this run")
    assert rows["fast_ok"][0] == "ok" and rows["sleeper"][0].startswith("timeout (2 s) (previous run, ")
    assert rp.main(["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "slow_one", "--skip-slow"],
                   registry=REG) == 0
    note = _rows(res / "index.md")["slow_one"][3]
    assert note == "skipped (slow) in this run; no report.md written"  # said once, not once per run


def test_an_older_report_is_not_linked_for_a_failed_run(exp_dir, tmp_path):
    res = tmp_path / "res"
    argv = ["--experiments-dir", str(exp_dir), "--results", str(res), "--only", "flaky"]
    assert rp.main(argv, registry=REG) == 0
    assert _links(_rows(res / "index.md")["flaky"][2]) == ["flaky/report.md"]
    assert rp.main(argv, registry=REG) == 1
    status, _, report, note = _rows(res / "index.md")["flaky"]
    assert status == "failed (rc 3)"
    assert report == "—"
    assert "older flaky/report.md" in note and _links(note) == ["logs/flaky.log"]


def test_real_registry_runs_every_file_with_the_main_job_first(capsys):
    steps = rp.plan(ROOT / "experiments", only=None)
    names = [s.exp.name for s in steps]
    assert names[0] == "specialization_trade_off"
    assert set(rp.discover(ROOT / "experiments")) <= set(names)  # nothing silently dropped
    assert "reproduce" not in names
    for s in steps:  # registered folders are where the experiments say they write
        if s.registered and s.skip != "missing":
            src = (ROOT / "experiments" / f"{s.exp.name}.py").read_text()
            assert any(f'"{r}"' in src for r in s.exp.results), s.exp.name
    assert rp.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in names)


@pytest.mark.slow
def test_a_real_experiment_through_reproduce(tmp_path):
    """cnces_shock_occupation (about 20-30 s, no data files needed): ok, and its report is linked."""
    res = tmp_path / "res"
    assert rp.main(["--results", str(res), "--only", "cnces_shock_occupation"]) == 0
    rows = _rows(res / "index.md")
    assert rows["cnces_shock_occupation"][0] == "ok"
    (link,) = _links(rows["cnces_shock_occupation"][2])
    assert link == "cnces_shock_occupation/report.md"
    assert (res / link).read_text().startswith("#")
    assert list(rows) == ["cnces_shock_occupation"]  # nothing else ran, no earlier index in a new folder
