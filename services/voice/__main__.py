"""``python -m services.voice [options]``: the same service as ``tnlab serve
voice``, without loading the simulator's command line (a faster start)."""

from __future__ import annotations

import argparse
import signal
import sys

from .cli import add_arguments, run


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"tnlab: error: {message}\n")


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Parse the options and serve; SIGTERM or Ctrl-C stops it with status 0."""
    parser = _Parser(prog="python -m services.voice")
    add_arguments(parser)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    code = run(args)
    if code == 130:
        print("tnlab: voice stopped", file=sys.stderr)
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
