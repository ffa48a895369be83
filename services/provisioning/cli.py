"""IP-phone provisioning: automatic number negotiation, headset replacement, SIP registrar,
phone configuration over HTTP and an admin API (``tnlab serve provisioning``).

Every setting is a command-line option; a bad value prints one line naming the option and
exits with status 2.  On start the service prints one line, ``ready sip=HOST:PORT
http=HOST:PORT admin=HOST:PORT`` (ports 0 pick free ones), then serves until SIGINT or
SIGTERM.  See ``docs/provisioning.md``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The service's options."""
    parser.description = __doc__.split("\n\n")[0].replace("\n", " ")
    a = parser.add_argument
    a("--host", default="127.0.0.1", help="address of SIP and phone HTTP (default 127.0.0.1)")
    a("--sip-port", default="5060", help="SIP UDP port (default 5060; 0 picks a free one)")
    a("--http-port", default="8080", help="phone configuration port (default 8080; 0: free)")
    a("--admin-host", default="127.0.0.1", help="admin API address (default 127.0.0.1)")
    a("--admin-port", default="8081", help="admin API port (default 8081; 0: free)")
    a("--admin-token-file", help="file holding the admin API's bearer token (else no admin API)")
    a("--db", default="provisioning.db", help="SQLite database file (default provisioning.db)")
    a("--memory", action="store_true", help="keep nothing on disk (bench baseline only)")
    a("--no-auth", action="store_true", help="no digest authentication (bench baseline only)")
    a("--sync", default="full", help="SQLite synchronous: full (default) or normal")
    a("--realm", default="tnlab.invalid", help="digest realm and SIP domain")
    a("--block", help="first number of the allocation pool, e.g. 2124561000")
    a("--block-size", default="1000", help="numbers in the pool (1-10000; default 1000)")
    a("--static", action="append", default=[], help="a static number, never allocated (repeat)")
    a("--aging-days", default="90", help="days a released number rests (45-365; default 90)")
    a("--algorithms", default="SHA-256,MD5", help="digest algorithms offered, in order")
    a("--policy", default="headset_pin", help="replacement policy (default headset_pin)")
    a(
        "--allow-headset-conflicts",
        action="store_true",
        help="take the latest phone of a headset mapped to several users instead of refusing",
    )
    a("--unknown-device", default="refuse", help="refuse (403, default) or quarantine")
    a("--nonce-lifetime", default="300", help="seconds a digest nonce is valid (default 300)")
    a("--min-expires", default="60", help="shortest registration in seconds (default 60)")
    a("--devices", help="CSV of known hardware to import at start: mac,secret[,user]")
    a("--batch", default="256", help="most requests per commit (default 256)")


class _Bad(Exception):
    pass


def _int(args: argparse.Namespace, name: str, lo: int, hi: int) -> int:
    text = getattr(args, name)
    try:
        value = int(text)
    except ValueError:
        raise _Bad(f"--{name.replace('_', '-')}: not an integer: {text!r}") from None
    if not lo <= value <= hi:
        raise _Bad(f"--{name.replace('_', '-')}: must be within {lo}..{hi} (got {value})")
    return value


def _settings(args: argparse.Namespace) -> dict:
    """Every option checked; raises _Bad with one line naming the option."""
    from models.provisioning import REPLACEMENT_POLICIES, check_aging_days, e164, number_block
    from models.provisioning.digest import ALGORITHMS

    out: dict = {}
    for name in ("sip_port", "http_port", "admin_port"):
        out[name] = _int(args, name, 0, 65535)
    out["block_size"] = _int(args, "block_size", 1, 10_000)
    out["batch"] = _int(args, "batch", 1, 10_000)
    out["min_expires"] = _int(args, "min_expires", 1, 86_399)
    out["nonce_lifetime"] = _int(args, "nonce_lifetime", 5, 3600)
    try:
        days = float(args.aging_days)
        out["aging_days"] = check_aging_days(days if math.isfinite(days) else float("nan"))
    except ValueError as e:
        raise _Bad(f"--aging-days: {e}") from None
    if args.sync not in ("full", "normal"):
        raise _Bad(f"--sync: must be full or normal (got {args.sync!r})")
    if args.unknown_device not in ("refuse", "quarantine"):
        raise _Bad(f"--unknown-device: must be refuse or quarantine (got {args.unknown_device!r})")
    if args.policy not in REPLACEMENT_POLICIES:
        known = ", ".join(REPLACEMENT_POLICIES.names())
        raise _Bad(f"--policy: unknown policy {args.policy!r} (known: {known})")
    algorithms = tuple(a.strip() for a in args.algorithms.split(",") if a.strip())
    bad = [a for a in algorithms if a not in ALGORITHMS]
    if not algorithms or bad or len(set(algorithms)) != len(algorithms):
        raise _Bad(f"--algorithms: a list of {', '.join(ALGORITHMS)} (got {args.algorithms!r})")
    out["algorithms"] = algorithms
    if not args.realm or any(c in args.realm for c in ' "\\<>;,@') or len(args.realm) > 128:
        raise _Bad(f"--realm: not a domain name: {args.realm!r}")
    try:
        out["numbers"] = number_block(args.block, out["block_size"]) if args.block else ()
    except ValueError as e:
        raise _Bad(f"--block: {e}") from None
    try:
        out["static"] = tuple(e164(n) for n in args.static)
    except ValueError as e:
        raise _Bad(f"--static: {e}") from None
    if args.admin_token_file:
        try:
            token = Path(args.admin_token_file).read_text().strip()
        except OSError as e:
            raise _Bad(f"--admin-token-file: {e.strerror}: {args.admin_token_file}") from None
        if len(token) < 16 or not token.isprintable() or " " in token:
            raise _Bad("--admin-token-file: the token must be 16+ printable characters")
        out["token"] = token
    out["devices"] = _devices(args.devices) if args.devices else []
    if args.memory and args.db != "provisioning.db":
        raise _Bad("--memory: cannot be used with --db")
    return out


def _devices(path: str) -> list[tuple[str, str, str | None]]:
    from .store import normalize_mac

    rows = []
    try:
        with open(path, newline="") as fh:
            for i, row in enumerate(csv.reader(fh), 1):
                if not row or row[0].startswith("#"):
                    continue
                if len(row) not in (2, 3) or len(row[1]) < 8:
                    raise _Bad(f"--devices: {path}:{i}: expected mac,secret[,user] (secret 8+)")
                try:
                    normalize_mac(row[0])
                except ValueError as e:
                    raise _Bad(f"--devices: {path}:{i}: {e}") from None
                rows.append((row[0], row[1], row[2] if len(row) == 3 and row[2] else None))
    except OSError as e:
        raise _Bad(f"--devices: {e.strerror}: {path}") from None
    except UnicodeDecodeError:
        raise _Bad(f"--devices: {path}: not UTF-8") from None
    return rows


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
    except ValueError as e:  # a database made for another realm
        print(f"tnlab: error: --db: {e}", file=sys.stderr)
        return 2
