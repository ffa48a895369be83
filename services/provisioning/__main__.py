"""``python -m services.provisioning [options]``: the same service as ``tnlab serve
provisioning``, without loading the simulator's command line (a faster start)."""

from __future__ import annotations

import argparse
import sys

from .cli import add_arguments, run


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"tnlab: error: {message}\n")


def main() -> int:
    """Parse the options and serve."""
    parser = _Parser(prog="python -m services.provisioning")
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
