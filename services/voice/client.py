"""A small client of the voice service: sends a WAV file (or a few seconds from the
default microphone, through ``arecord``), or a typed command, and prints the reply.

    python -m services.voice.client --url http://127.0.0.1:8090 --wav command.wav
    python -m services.voice.client --text "show status of port three"
    python -m services.voice.client --record 4
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

import httpx

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Send one turn; 0 when the service answered 200, 1 otherwise, 2 on bad usage."""
    p = argparse.ArgumentParser(prog="python -m services.voice.client", description=__doc__)
    p.add_argument("--url", default="http://127.0.0.1:8090")
    p.add_argument("--session", default="cli")
    p.add_argument("--who", default="cli")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--wav", help="a 16 kHz mono 16-bit WAV file")
    g.add_argument("--text", help="a typed command")
    g.add_argument("--record", type=float, help="seconds to record from the default microphone")
    args = p.parse_args(argv)
    headers = {"X-Session": args.session, "X-Who": args.who}
    try:
        if args.text is not None:
            body = {"text": args.text, "session": args.session, "who": args.who}
            r = httpx.post(f"{args.url}/command", json=body, timeout=30)
        else:
            if args.wav:
                with open(args.wav, "rb") as f:
                    data = f.read()
            else:
                if shutil.which("arecord") is None:
                    print("error: --record needs arecord (alsa-utils)", file=sys.stderr)
                    return 2
                data = subprocess.run(
                    ["arecord", "-q", "-f", "S16_LE", "-r", "16000", "-c", "1", "-d",
                     str(max(1, int(args.record))), "-t", "wav"],
                    capture_output=True, check=True,
                ).stdout  # fmt: skip
            r = httpx.post(f"{args.url}/audio", content=data, headers=headers, timeout=30)
    except (OSError, httpx.HTTPError, subprocess.CalledProcessError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(r.json(), indent=2))
    return 0 if r.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
