"""The ``tnlab`` command line.

::

    tnlab validate CONFIG [--set KEY=VALUE ...]
    tnlab simulate CONFIG --out DIR [--point N] [--replication R] [--set KEY=VALUE ...]
    tnlab run CONFIG [--out DIR] [--workers N | --scheduler ADDRESS] [--set KEY=VALUE ...]
    tnlab report DIR
    tnlab list [DIR]
    tnlab compare A B
    tnlab serve NAME [service options]
    tnlab --version

``--set`` addresses a key by its TOML path; a swept key is one quoted part:
``--set 'sweep."scenario.days"=[7, 14]'``.

Bad input of any kind prints one line on stderr naming the key path and the problem, exits
with status 2, and writes nothing.  Faults of the machine (a full disk) are one line and
status 1; an interruption is one line and status 130 (Ctrl-C) or 143 (SIGTERM), and the same
command resumes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import signal
import sys
from pathlib import Path

from services import SERVICES

from .config import ConfigError, load_config, sweep_point
from .config.sweep import grid_size

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, no usage dump
        self.exit(2, f"tnlab: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tnlab", description="Telephone-number lifecycle workbench.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("config", help="experiment TOML file")
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config key by its dotted path (a swept key: "
            "'sweep.\"scenario.days\"=[7, 14]')",
        )
        return p

    command("validate", "check a config; exit 0 if valid, 2 if not")
    sim = command("simulate", "run the world once; write its tables as Parquet")
    sim.add_argument("--out", required=True, help="output folder")
    sim.add_argument(
        "--point", type=int, help="which point of the config's sweep (required if it has one)"
    )
    sim.add_argument(
        "--replication", type=int, default=0, help="which replication's streams (default 0)"
    )
    run = command("run", "run every sweep point x replication; write metrics and a report")
    run.add_argument("--out", help="output folder (default reports/<name>)")
    run.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="local worker processes (default: all cores; 1 runs in-process)",
    )
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786"
    )
    run.add_argument(
        "--scheduler-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long the scheduler has to answer (default 10)",
    )
    run.add_argument(
        "--wait",
        action="store_true",
        help="if another tnlab process is writing the folder, wait for it instead of refusing",
    )
    serve = sub.add_parser(
        "serve",
        help="run a network service in the foreground (Ctrl-C stops it)",
        description="run a network service in the foreground (Ctrl-C stops it)",
    )
    services = serve.add_subparsers(dest="service", required=True, parser_class=_Parser)
    for name, module in SERVICES.items():
        entry = importlib.import_module(module)
        entry.add_arguments(services.add_parser(name, help=entry.__doc__.splitlines()[0]))
    report = sub.add_parser(
        "report",
        help="re-render DIR/index.html from saved results",
        description="re-render DIR/index.html from saved results",
    )
    report.add_argument("folder", type=Path, help="an experiment's output folder")
    listing = sub.add_parser(
        "list",
        help="the experiments under DIR: date, commit, runtime, runs done and failed",
        description="the experiments under DIR: date, commit, runtime, runs done and failed",
    )
    listing.add_argument("folder", type=Path, nargs="?", default=Path("reports"))
    comparing = sub.add_parser(
        "compare",
        help="two experiments' metrics side by side, with B - A and its 95%% interval",
        description="two experiments' metrics side by side, with B - A and its 95%% interval "
        "(paired when both drew from the same random streams)",
    )
    comparing.add_argument("a", type=Path, help="an experiment's output folder")
    comparing.add_argument("b", type=Path, help="another experiment's output folder")
    comparing.add_argument(
        "--all", action="store_true", help="every metric, not only those that differ"
    )
    return parser


def _version() -> str:
    from importlib import metadata

    from .runs.manifest import git_commit

    commit = git_commit()
    return f"tnlab {metadata.version('tnlab')}" + (f" (commit {commit[:10]})" if commit else "")


def _error(message: str, status: int = 2) -> int:
    print(f"tnlab: error: {message}", file=sys.stderr)
    return status


class _Interrupted(BaseException):
    """Ctrl-C or SIGTERM, turned into an exception so that everything is cleaned up on the
    way out; a second signal during the clean-up is ignored."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.status = 128 + signum


def _interrupt(signum, frame) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted(signum)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tnlab`` console script; returns the exit status.

    0: done; 1: some runs failed, or the machine refused (a full disk, a file-size limit);
    2: bad input (one line naming the key or file; nothing written); 130 / 143: interrupted
    by Ctrl-C / SIGTERM (finished runs are kept; the same command resumes).
    """
    args = _parser().parse_args(argv)
    _import_from_here()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if hasattr(signal, "SIGXFSZ"):  # a file-size limit: a write fails (EFBIG), we say so
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        return _command(args)
    except ConfigError as err:  # bad input, a busy or damaged folder, an unreachable scheduler
        return _error(str(err))
    except BrokenPipeError:  # the reader went away (`tnlab list | head`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        return _error(
            f"cannot write{where}: {err.strerror or err} (free space or raise the limit, then "
            "run the same command: finished runs are kept)",
            1,
        )
    except (KeyboardInterrupt, _Interrupted) as err:
        if args.command == "serve":  # the way a foreground service is stopped
            print(f"tnlab: {args.service} stopped", file=sys.stderr)
            return 0
        out = getattr(args, "out", None)
        kept = ""
        if args.command == "run" and out is not None:
            from .experiment import finished_runs

            kept = f"; {finished_runs(out)} of {args.runs} runs kept"
        print(f"tnlab: interrupted{kept}; run the same command to resume", file=sys.stderr)
        return err.status if isinstance(err, _Interrupted) else 130


def _import_from_here() -> None:
    """Modules of one's own in the current folder import, as with ``python -m``: a config
    may name ``"my_module:MyClass"`` (local worker processes inherit the path)."""
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if here not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([here, *filter(None, paths)])


def _command(args: argparse.Namespace) -> int:
    progress = sys.stderr.isatty()
    if args.command == "report":
        return _report(args.folder)
    if args.command == "list":
        return _list(args.folder)
    if args.command == "compare":
        return _compare(args.a, args.b, args.all)
    if args.command == "serve":
        return importlib.import_module(SERVICES[args.service]).run(args)
    if args.command == "run" and args.workers < 1:
        return _error("--workers: must be at least 1")
    if args.command == "run" and not args.scheduler_timeout > 0:
        return _error("--scheduler-timeout: must be a positive number of seconds")
    config = load_config(args.config, args.overrides)
    runs = grid_size(config.sweep) * config.replications
    if args.command == "validate":
        return _validate(args.config, config)
    from .runs.outputs import check_out, claim

    if args.command == "simulate":
        from .runs.simulate import check_simulate_target, simulate

        args.out = check_out(args.out)
        if config.sweep and args.point is None:
            return _error(
                f"{args.config} sweeps {grid_size(config.sweep)} points: simulate one with "
                f"--point N (0 to {grid_size(config.sweep) - 1})"
            )
        if not 0 <= args.replication < config.replications:
            return _error(
                f"--replication {args.replication}: the config has {config.replications} "
                f"replication(s), 0 to {config.replications - 1}"
            )
        point = sweep_point(config, args.point)[1] if config.sweep else config
        check_simulate_target(args.out, point)
        with claim(args.out):
            result = simulate(
                config,
                args.out,
                point=args.point,
                replication=args.replication,
                progress=progress,
            )
        rows = ", ".join(f"{k} {v:,}" for k, v in result.manifest["tables"].items())
        print(f"wrote {args.out}: {rows}")
        return 0
    from .experiment import run_experiment
    from .results.store import failures

    args.out = check_out(args.out if args.out is not None else Path("reports") / config.name)
    args.runs = runs
    result = run_experiment(
        config,
        args.out,
        progress=progress,
        workers=args.workers,
        scheduler=args.scheduler,
        scheduler_timeout=args.scheduler_timeout,
        wait=args.wait,
        log=None if progress else lambda line: print(f"tnlab: {line}", file=sys.stderr),
        command=shlex.join(["tnlab", *sys.argv[1:]]),
        overrides=args.overrides,
    )
    print(f"wrote {result.out}: report {result.report}")
    failed = failures(result.out)
    for run in failed:
        print(
            f"tnlab: run p{run['point']:03d}-r{run['replication']:03d} failed: {run['error']}"
            if isinstance(run["point"], int)
            else f"tnlab: run {run['point']} failed",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _validate(path: str, config) -> int:
    """``tnlab validate``: the config is valid; its runs, time and memory."""
    from .experiment import estimate

    plan = estimate(config)
    cores = os.cpu_count() or 1
    parallel = (
        f", about {_duration(plan['seconds'] / min(cores, plan['runs']))} on {cores} workers"
        if cores > 1 and plan["runs"] > 1
        else ""
    )
    print(
        f"{path}: valid ({config.name}): {plan['runs']:,} run(s) "
        f"({grid_size(config.sweep):,} point(s) x {config.replications} replication(s)); "
        f"about {_duration(plan['seconds'])} on one core{parallel}; about "
        f"{plan['peak_bytes'] / 1e9:.1f} GB of memory per run"
    )
    return 0


def _list(folder: Path) -> int:
    """``tnlab list [DIR]``: one line per experiment folder under DIR."""
    from .results.catalog import list_experiments

    if not folder.is_dir():
        return _error(f"{folder}: no such folder")
    table = list_experiments(folder)
    if table.empty:
        print(f"no experiments under {folder}")
        return 0
    for row in table.itertuples():
        runtime = _duration(row.runtime_s) if row.runtime_s == row.runtime_s else "-"
        failed = f", {row.failed} failed" if row.failed else ""
        print(
            f"{row.folder}  {row.name}  {row.finished or 'unfinished'}  "
            f"{row.commit or '-'}  {runtime}  {row.done}/{row.runs} runs{failed}"
        )
    return 0


def _compare(a: Path, b: Path, every: bool) -> int:
    """``tnlab compare A B``: metrics side by side with B - A and its interval."""
    from .results.catalog import compare
    from .results.store import reload

    for folder in (a, b):
        reload(folder)  # a folder that is not an experiment: one line, status 2
    table = compare(a, b)
    if table.empty:
        print(f"{a} and {b} have no metric in common")
        return 0
    shown = table if every else table[table["significant"]]
    print(
        f"A = {a}, B = {b}: {len(table):,} metric(s) in common, {int(table['significant'].sum())}"
        f" differ (95% interval of B - A excludes 0; "
        f"{'paired' if table['paired'].all() else 'Welch where not paired'})"
    )
    for row in shown.itertuples():
        where = f" [{row.where}]" if row.where else ""
        print(
            f"  {row.metric}{where}: A {row.a:.4g} ± {row.a_ci:.2g}, B {row.b:.4g} ± "
            f"{row.b_ci:.2g}, B - A {row.difference:+.4g} [{row.low:.4g}, {row.high:.4g}]"
        )
    if not every and len(shown) < len(table):
        print(f"  ({len(table) - len(shown):,} more with no significant difference: --all)")
    return 0


def _report(folder: Path) -> int:
    """``tnlab report DIR``: the report again from DIR's saved config and metrics."""
    from .report.page import write_report
    from .results.store import reload

    result = reload(folder)
    write_report(result)
    print(f"wrote {result.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
