"""One command to reproduce every experiment: ``python experiments/reproduce.py``.

Runs each ``experiments/*.py`` in its own subprocess with the same Python (so a crash in one does not
stop the others), writes its output to ``<results>/logs/<name>.log``, and then writes
``<results>/index.md`` (and ``index.json``): one row per experiment with its status (ok, failed with
its return code, timeout, skipped, missing), its run time and a relative link to the report it wrote
(``<name>/report.md``; for a failed one, to its log).

The registry below names each experiment in the order it runs (the main job,
``specialization_trade_off``, first), the results folder(s) it writes and whether it is *slow*
(over about two minutes on the shared 2-core CPU: measured with this script where that was cheap,
otherwise judged from the experiment's docstring; see each entry's ``note``). An experiment file in
the folder that the registry does not name is still run, last, as "not registered, assumed slow", so
nothing is silently dropped; a registered name whose file is absent is reported as "missing".

Where results go: every experiment writes through :class:`jaxecon.reporting.ResultsDir`, whose root
is ``$JAXECON_RESULTS`` (else ``results`` relative to the working directory). This script runs each
experiment from the repository root with ``JAXECON_RESULTS`` set to the absolute results root
(``--results DIR``, default ``$JAXECON_RESULTS`` or ``<repo>/results``); the specialization solver
cache (``$JAXECON_RESULTS/specialization_cache`` unless ``$JAXECON_CACHE`` is set) follows it.

When only some experiments run (``--only``, ``--skip-slow``), the rows of the others, and of those
skipped as slow, keep their status from the last run that ran them, recorded in ``index.json`` (with
its date), so ``index.md`` always lists every experiment that ever ran here.

Usage::

    python experiments/reproduce.py                       # everything, in registry order
    python experiments/reproduce.py --skip-slow           # only the fast ones
    python experiments/reproduce.py --only adh_table3 specialization_figure9
    python experiments/reproduce.py --list                # the registry and what is present
    python experiments/reproduce.py --results /tmp/res --timeout 1800 -v

Exit status: 0 when nothing that ran failed, 1 otherwise (2 for bad options).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["Experiment", "REGISTRY", "Outcome", "discover", "plan", "run_one", "write_index", "main"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One registry entry: ``experiments/<name>.py``, run as ``python <file> *args``.

    ``results`` are the folders (under the results root) it writes, the first holding its report;
    ``slow`` marks those over about two minutes on the shared 2-core CPU (``--skip-slow`` skips them).
    """

    name: str
    results: tuple[str, ...]
    slow: bool
    note: str = ""
    args: tuple[str, ...] = ()


def _e(name, slow, note, results=None, args=()):
    return Experiment(name, tuple(results or (name,)), slow, note, tuple(args))


# Order = run order. "measured": wall time of this script on the shared 2-core CPU with other
# engineers' JAX jobs running (load average 7-9), 2026-12-02; "> 130 s": killed by --timeout 130
# (so slow). The specialization solver cache is keyed by a hash of the solver's sources, so during
# development it is cold after any edit; at a fixed commit figure9 pays the default solve (about
# 60 s), figure8 the unconstrained one (about 50 s) and figure7 finds both in the cache.
REGISTRY: dict[str, Experiment] = {
    e.name: e
    for e in [
        _e("specialization_trade_off", True, "the main job (paper 002): measured 255 s on ADH data at load about 1 (544 s at load 3-4 before the early stop on no-equilibrium solves)"),
        _e("specialization_facts", False, "measured 10.7 s; facts only, its model step is specialization_simulate_czs",
           args=("--facts-only",)),
        _e("specialization_simulate_czs", True, "722 CZs x 70 years; not measured (docstring: a few minutes)",
           results=("specialization_simulation",)),
        _e("specialization_facts_regressions", False, "measured 20.4 s (ADH data, 500 bootstrap draws)"),
        _e("specialization_figure9", False, "measured 21.3 s with the default solve cached; est. 80 s cold (+ the 60 s solve)"),
        _e("specialization_figure8", False, "measured 141.5 s with both solves cold (113 s of it solving); "
           "est. 80 s with the default solve cached (measured minus the logged default solve)"),
        _e("specialization_figure7", False, "measured 199.1 s with both solves cold (130 s of it solving); "
           "est. 70 s with both cached (measured minus the logged solves)"),
        _e("specialization_figure10", True, "> 130 s (batched DE and planner solves over 12 values of xi)"),
        _e("specialization_figure12", True, "> 130 s (DE, planner and policy evaluation)"),
        _e("specialization_taxes", True, "> 130 s (planner and regulated DE)"),
        _e("specialization_accuracy", True, "measured 279.3 s with 10 grids up to 4x the default and a 61 x 45 reference; the 80 x 25 grid since adds about 30 s"),
        _e("adh_table3", False, "measured 17.5 s (ADH data)"),
        _e("clusters_facts", False, "measured 25.5 s (ADH data)"),
        _e("clusters_china_shock", True, "not measured (722 x 397 equilibria, eta sweep, indirect inference)"),
        _e("cnces_shock_location", False, "measured 27.1 s"),
        _e("cnces_shock_occupation", False, "measured 21.9 s"),
        _e("hubs_planner", True, "> 130 s (722-CZ equilibrium and planner)"),
        _e("hubs_estimation", True, "> 130 s (40 Monte Carlo economies)"),
        _e("bianchi2011", True, "not measured (Bianchi 2011 at 100 and 800 bond points)"),
    ]
}

NOT_REGISTERED = "not registered, assumed slow"


def discover(experiments_dir: Path) -> list[str]:
    """Names (without .py) of the experiment files in ``experiments_dir``: ``*.py`` except this
    script and files starting with ``_``, sorted."""
    me = Path(__file__).name
    return sorted(p.stem for p in Path(experiments_dir).glob("*.py") if p.name != me and not p.name.startswith("_"))


@dataclasses.dataclass
class Step:
    """One row of the plan: the experiment, and why it will not run (``skip``), if it will not."""

    exp: Experiment
    registered: bool
    skip: str | None = None


def plan(experiments_dir: Path, registry: dict[str, Experiment] | None = None, only=None,
         skip_slow: bool = False) -> list[Step]:
    """The ordered list of steps: registered experiments first (registry order), then files the
    registry does not name (alphabetical, assumed slow).

    Raises ValueError, listing the valid names, when ``only`` names an experiment that is neither
    registered nor present in ``experiments_dir``.
    """
    registry = REGISTRY if registry is None else registry
    present = set(discover(experiments_dir))
    steps = [Step(e, True) for e in registry.values()]
    steps += [Step(Experiment(n, (n,), True, NOT_REGISTERED), False) for n in sorted(present - set(registry))]
    if only:
        valid = [s.exp.name for s in steps]
        unknown = [n for n in only if n not in valid]
        if unknown:
            raise ValueError(f"unknown experiment(s) for --only: {', '.join(unknown)} (names without .py); "
                             f"valid names: {', '.join(valid)}")
        steps = [s for s in steps if s.exp.name in set(only)]
    for s in steps:
        if s.exp.name not in present:
            s.skip = "missing"
        elif skip_slow and s.exp.slow:
            s.skip = "skipped (slow" + ("" if s.registered else f"; {NOT_REGISTERED}") + ")"
    return steps


@dataclasses.dataclass
class Outcome:
    """What one experiment did: ``status`` is ok / failed / timeout / skipped (slow...) / missing."""

    name: str
    status: str
    returncode: int | None = None
    seconds: float | None = None
    report: str | None = None  # relative to the results root
    log: str | None = None  # relative to the results root
    note: str = ""
    finished: str = ""  # ISO time the row was produced


def _report_mtimes(root: Path) -> dict[str, int]:
    """``{<folder>/report.md: mtime in ns}`` for the reports under ``root``."""
    out = {}
    for p in root.glob("*/report.md"):
        try:
            out[p.relative_to(root).as_posix()] = p.stat().st_mtime_ns
        except OSError:
            continue
    return out


def _reports_written(root: Path, before: dict[str, int]) -> list[str]:
    """Reports under ``root`` that are new or changed since the snapshot ``before`` (sorted)."""
    return sorted(r for r, t in _report_mtimes(root).items() if before.get(r) != t)


def run_one(step: Step, experiments_dir: Path, results_root: Path, timeout: float | None = None,
            verbose: bool = False, python: str = sys.executable) -> Outcome:
    """Run one experiment in a subprocess (cwd = repository root, ``JAXECON_RESULTS`` = results root),
    its stdout and stderr teed to ``<results_root>/logs/<name>.log`` (and to our stdout if verbose)."""
    exp = step.exp
    experiments_dir, results_root = Path(experiments_dir).resolve(), Path(results_root).resolve()
    now = _dt.datetime.now().isoformat(timespec="seconds")
    if step.skip:
        return Outcome(exp.name, step.skip, note=exp.note, finished=now)
    logs = results_root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{exp.name}.log"
    env = dict(os.environ, JAXECON_RESULTS=str(results_root), PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    cmd = [python, str(experiments_dir / f"{exp.name}.py"), *exp.args]
    before = _report_mtimes(results_root)
    t0 = time.perf_counter()
    timed_out = threading.Event()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        log.write(f"$ {' '.join(cmd)}\n# cwd {REPO}, JAXECON_RESULTS={results_root}, started {now}\n")
        log.flush()
        # its own process group, so a timeout also ends what it started (specialization_facts runs a
        # subprocess of its own)
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, encoding="utf-8", errors="replace", bufsize=1,
                                start_new_session=os.name == "posix")

        def _kill_group():
            try:
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGKILL)
                else:
                    proc.kill()
            except (ProcessLookupError, PermissionError):
                pass

        def _kill():
            timed_out.set()
            _kill_group()

        timer = threading.Timer(timeout, _kill) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if verbose:
                    sys.stdout.write(f"  | {line}")
                    sys.stdout.flush()
            rc = proc.wait()
        except KeyboardInterrupt:
            _kill_group()
            proc.wait()
            raise
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - t0
        log.write(f"# exit status {rc} after {seconds:.1f} s\n")
    # the report: the registered folder's report.md if this run wrote it, else any report.md written
    # during the run (an unregistered experiment, or a registry entry with the wrong folder)
    written = _reports_written(results_root, before)
    expected = [f"{r}/report.md" for r in exp.results]
    report = next((r for r in expected if r in written), None) or (written[0] if written else None)
    if report is None and (results_root / expected[0]).is_file():
        report = expected[0]  # left from an earlier run; flagged in the note below
        stale = True
    else:
        stale = False
    if timed_out.is_set():
        status = f"timeout ({timeout:g} s)"
    elif rc == 0:
        status = "ok"
    else:
        status = f"failed (rc {rc})"
    note = exp.note
    if stale and rc != 0:
        note = (note + "; " if note else "") + f"an older {report} from an earlier run is left in place"
        report = None  # not linked: it is not this run's
    elif stale:
        note = (note + "; " if note else "") + "report.md not rewritten by this run (older file)"
    elif rc == 0 and report is None:
        note = (note + "; " if note else "") + "no report.md written"
    return Outcome(exp.name, status, rc, seconds, report, log_path.relative_to(results_root).as_posix(), note,
                   _dt.datetime.now().isoformat(timespec="seconds"))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_index(outcomes: list[Outcome], results_root: Path, steps: list[Step] | None = None,
                previous: dict | None = None) -> Path:
    """Write ``index.md`` and ``index.json`` in ``results_root``; return the path of index.md.

    Rows: this run's outcomes and (from ``previous``, the old index.json) the experiments that did
    not take part in this run, marked with the date of their previous run; in the order of
    ``steps`` (pass the full plan, not only the selection), names not in it last.
    """
    rows, carried = {}, []
    for o in outcomes:
        prev = (previous or {}).get(o.name)
        if o.status.startswith("skipped") and prev and not prev["status"].startswith(("skipped", "missing")):
            # skipped this time: keep the record of the last run that did run it
            rows[o.name] = dict(prev, carried=True, skipped_now=o.status)
            carried.append(o.name)
        else:
            rows[o.name] = dataclasses.asdict(o)
    for name, rec in (previous or {}).items():
        if name not in rows:
            rows[name] = dict(rec, carried=True)
            carried.append(name)
    order = [s.exp.name for s in steps] if steps else []
    names = [n for n in order if n in rows] + [n for n in rows if n not in order]
    lines = [
        "# Results index",
        "",
        f"Written by `python experiments/reproduce.py` on {_dt.datetime.now().isoformat(timespec='seconds')} "
        f"(Python {sys.version.split()[0]}). Logs in `logs/<name>.log`.",
        "",
        "| experiment | status | run time | report | note |",
        "|---|---|---|---|---|",
    ]
    n_ok = n_fail = 0
    for n in names:
        r = rows[n]
        status = r["status"]
        if r.get("carried"):
            status = f"{status} (previous run, {r.get('finished', '?')})"
        else:
            n_ok += r["status"] == "ok"
            n_fail += r["status"].startswith(("failed", "timeout"))
        secs = "" if r.get("seconds") is None else f"{r['seconds']:.1f} s"
        link = f"[{r['report']}]({r['report']})" if r.get("report") else "—"
        note = r.get("note") or ""
        if r.get("skipped_now"):
            note = f"{r['skipped_now']} in this run" + (f"; {note}" if note else "")
        if r["status"].startswith(("failed", "timeout")) and r.get("log"):
            note = (f"see log [{r['log']}]({r['log']})" + ("; " + note if note else ""))
        lines.append(f"| {_cell(n)} | {_cell(status)} | {secs} | {link} | {_cell(note)} |")
    ran = [o for o in outcomes if o.seconds is not None]
    total = sum(o.seconds for o in ran)
    lines += ["", f"This run: {n_ok} ok, {n_fail} failed or timed out, "
              f"{len(outcomes) - len(ran)} not run (skipped or missing), {total:.1f} s in all."]
    if carried:
        lines.append(f"Rows marked 'previous run' ({len(carried)}) did not take part in this run.")
    lines.append("")
    results_root.mkdir(parents=True, exist_ok=True)
    clean = {n: {k: v for k, v in rows[n].items() if k not in ("carried", "skipped_now")} for n in names}
    _atomic_write(results_root / "index.json", json.dumps(clean, indent=1) + "\n")
    return _atomic_write(results_root / "index.md", "\n".join(lines))


def _atomic_write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _load_previous(results_root: Path) -> dict:
    try:
        data = json.loads((results_root / "index.json").read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def print_registry(steps: list[Step], file=None) -> None:
    """The registry (and unregistered files) as a plain table: name, slow/fast, folder(s), presence."""
    file = file or sys.stdout
    w = max(len(s.exp.name) for s in steps) if steps else 10
    print(f"{'experiment':<{w}}  {'speed':<5}  {'present':<7}  results folder(s) / note", file=file)
    for s in steps:
        speed = "slow" if s.exp.slow else "fast"
        present = "no" if s.skip == "missing" else "yes"
        extra = " ".join(s.exp.args)
        print(f"{s.exp.name:<{w}}  {speed:<5}  {present:<7}  {', '.join(s.exp.results)}"
              f"{' [args: ' + extra + ']' if extra else ''} — {s.exp.note}", file=file)


def main(argv=None, registry: dict[str, Experiment] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="run only these experiments (names without .py)")
    ap.add_argument("--skip-slow", action="store_true", help="skip the experiments registered as slow (and unregistered ones)")
    ap.add_argument("--list", action="store_true", help="print the registry and exit")
    ap.add_argument("--results", default=None, metavar="DIR",
                    help="results root (sets JAXECON_RESULTS for the experiments; default $JAXECON_RESULTS or <repo>/results)")
    ap.add_argument("--experiments-dir", default=str(HERE), metavar="DIR", help="folder of the experiment files")
    ap.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="kill an experiment after this long")
    ap.add_argument("-v", "--verbose", action="store_true", help="also stream each experiment's output here")
    args = ap.parse_args(argv)

    exp_dir = Path(args.experiments_dir).resolve()
    if not exp_dir.is_dir():
        ap.error(f"--experiments-dir {exp_dir} is not a folder")
    if args.timeout is not None and args.timeout <= 0:
        ap.error("--timeout must be positive")
    try:
        steps = plan(exp_dir, registry, args.only, args.skip_slow)
    except ValueError as err:
        ap.error(str(err))
    order = plan(exp_dir, registry)  # every experiment, for the row order of the index
    if args.list:
        print_registry(order)
        return 0
    root = Path(args.results or os.environ.get("JAXECON_RESULTS") or REPO / "results")
    if not root.is_absolute():
        root = (Path.cwd() / root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    previous = _load_previous(root)

    outcomes: list[Outcome] = []
    n = len(steps)
    print(f"reproduce: {n} experiment(s) -> {root}", flush=True)
    for i, step in enumerate(steps, 1):
        if step.skip:
            print(f"[{i}/{n}] {step.exp.name}: {step.skip}", flush=True)
        else:
            tag = f" ({NOT_REGISTERED})" if not step.registered else ""
            print(f"[{i}/{n}] {step.exp.name}{tag} ...", flush=True)
        out = run_one(step, exp_dir, root, args.timeout, args.verbose)
        outcomes.append(out)
        if out.seconds is not None:
            where = out.report or "no report"
            print(f"[{i}/{n}] {step.exp.name}: {out.status} in {out.seconds:.1f} s -> {where}", flush=True)
            if out.status != "ok":
                tail = (root / out.log).read_text(errors="replace").splitlines()[-15:]
                print("\n".join(f"    {t}" for t in tail), flush=True)
        # the index after every experiment, so an interrupted run still leaves one
        write_index(outcomes, root, order, previous)
    index = write_index(outcomes, root, order, previous)
    failed = [o.name for o in outcomes if o.status.startswith(("failed", "timeout"))]
    print(f"wrote {index}" + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
