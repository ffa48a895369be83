"""Voice commands for telecommunications connections (``tnlab serve voice``).

Every setting is a command-line option; a bad value prints one line naming the option and
exits with status 2.  On start the service prints ``ready http=HOST:PORT`` (port 0 picks a
free one), then serves until SIGINT or SIGTERM.  See ``docs/voice.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The service's options."""
    parser.description = __doc__.split("\n\n")[0].replace("\n", " ")
    a = parser.add_argument
    a("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    a("--port", default="8090", help="HTTP port (default 8090; 0 picks a free one)")
    a("--db", default="voice.db", help="SQLite database file (default voice.db)")
    a("--equipment", help="JSON of the starting equipment (else a small switch from --seed)")
    a("--seed", default="1", help="seed of the default starting equipment (default 1)")
    a(
        "--policy",
        default="changes",
        help="confirmation policy (default changes: the study's recommendation, docs/voice.md)",
    )
    a(
        "--threshold",
        default="0.55",
        help="confidence threshold of the threshold policies (default 0.55, see docs/voice.md)",
    )
    a("--repeat-below", default="0.05", help="confidence below which to ask to repeat")
    a("--confirm-timeout", default="30", help="seconds a read-back waits (default 30)")
    a("--max-seconds", default="10", help="longest utterance in seconds (default 10)")


class _Bad(Exception):
    pass


def _float(args: argparse.Namespace, name: str, lo: float, hi: float) -> float:
    text = getattr(args, name)
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"--{name.replace('_', '-')}: not a number: {text!r}") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise _Bad(f"--{name.replace('_', '-')}: must be within {lo:g}..{hi:g} (got {text})")
    return value


def _settings(args: argparse.Namespace) -> dict:
    from models.voice import CONFIRMATION_POLICIES, Equipment
    from models.voice.corpus import sample_equipment

    out: dict = {}
    out["port"] = int(_float(args, "port", 0, 65535))
    if not args.port.isdigit():
        raise _Bad(f"--port: not an integer: {args.port!r}")
    out["threshold"] = _float(args, "threshold", 0, 1)
    out["repeat_below"] = _float(args, "repeat_below", 0, 1)
    out["timeout"] = _float(args, "confirm_timeout", 0.1, 3600)
    out["max_seconds"] = _float(args, "max_seconds", 1, 60)
    if args.policy not in CONFIRMATION_POLICIES.declared():
        known = ", ".join(CONFIRMATION_POLICIES.declared())
        raise _Bad(f"--policy: unknown policy {args.policy!r} (known: {known})")
    params = CONFIRMATION_POLICIES.parameters(args.policy)
    kw = {"threshold": out["threshold"]} if "threshold" in params else {}
    out["policy"] = CONFIRMATION_POLICIES.build(args.policy, **kw)
    if args.equipment:
        try:
            with open(args.equipment, encoding="utf-8") as f:
                out["equipment"] = Equipment.from_dict(json.load(f))
        except OSError as e:
            raise _Bad(f"--equipment: {e.strerror}: {args.equipment}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise _Bad(f"--equipment: not an equipment document: {e}") from None
    else:
        import numpy as np

        seed = int(_float(args, "seed", 0, 2**32 - 1))
        out["equipment"] = sample_equipment(np.random.default_rng(seed))
    return out


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 0 on a clean stop, 2 on bad options, 1 if it cannot start."""
    try:
        opts = _settings(args)
    except _Bad as e:
        print(f"tnlab: error: {e}", file=sys.stderr)
        return 2
    from .main import serve

    try:
        return serve(args, opts)
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        print(f"tnlab: error: cannot start: {e.strerror or e}", file=sys.stderr)
        return 1
