"""The ``tnlab`` command line.

::

    tnlab validate CONFIG [--set KEY=VALUE ...]
    tnlab simulate CONFIG --out DIR [--set KEY=VALUE ...]
    tnlab run CONFIG [--out DIR] [--workers N | --scheduler ADDRESS] [--set KEY=VALUE ...]
    tnlab report DIR

Bad input of any kind prints one line on stderr naming the key path and the problem, exits
with status 2, and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import ConfigError, load_config

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, status 2, no usage dump
        self.exit(2, f"tnlab: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tnlab", description="Telephone-number lifecycle workbench.")
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
            help="override a config key by its dotted path",
        )
        return p

    command("validate", "check a config; exit 0 if valid, 2 if not")
    sim = command("simulate", "run the world once; write its tables as Parquet")
    sim.add_argument("--out", required=True, type=Path, help="output folder")
    run = command("run", "run every sweep point x replication; write metrics and a report")
    run.add_argument("--out", type=Path, help="output folder (default reports/<name>)")
    run.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="local worker processes (default: all cores; 1 runs in-process)",
    )
    run.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786"
    )
    report = sub.add_parser(
        "report",
        help="re-render DIR/index.html from saved results",
        description="re-render DIR/index.html from saved results",
    )
    report.add_argument("folder", type=Path, help="an experiment's output folder")
    return parser


def _check_out(out: Path | None) -> None:
    if out is not None and out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tnlab`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    progress = sys.stderr.isatty()
    if args.command == "report":
        return _report(args.folder)
    if args.command == "run" and args.workers < 1:
        print("tnlab: error: --workers: must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, args.overrides)
        _check_out(getattr(args, "out", None))
    except ConfigError as err:
        print(f"tnlab: error: {err}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(
            f"{args.config}: valid ({config.name}, {len(config.sweep)} swept key(s), "
            f"{config.replications} replication(s))"
        )
        return 0
    try:
        if args.command == "simulate":
            from .runs.simulate import simulate

            result = simulate(config, args.out, progress=progress)
            rows = ", ".join(f"{k} {v:,}" for k, v in result.manifest["tables"].items())
            print(f"wrote {args.out}: {rows}")
            return 0
        from .experiment import run_experiment

        result = run_experiment(
            config, args.out, progress=progress, workers=args.workers, scheduler=args.scheduler
        )
    except ConfigError as err:  # found only once running (e.g. a training run too short)
        print(f"tnlab: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {result.out}: report {result.report}")
    return 0


def _report(folder: Path) -> int:
    """``tnlab report DIR``: the report again from DIR's saved config and metrics."""
    from .report.page import write_report
    from .results.store import reload

    try:
        result = reload(folder)
    except ConfigError as err:
        print(f"tnlab: error: {err}", file=sys.stderr)
        return 2

    write_report(result)
    print(f"wrote {result.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
