"""Output folders: checked before anything is written, claimed by one process at a time,
cleaned of what an interrupted process left, and swapped into place whole.

A claim is an exclusive ``flock`` on a hidden lock file beside the folder
(``.<name>.tnlab-lock`` in its parent): the kernel releases it when the process ends,
whatever the way (kill -9 included), so a stale lock never blocks anyone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import ConfigError

__all__ = ["BusyError", "check_out", "claim", "remove_partial", "swap_in"]


class BusyError(ConfigError):
    """Another process holds the output folder."""


def check_out(out: str | Path, flag: str = "--out") -> Path:
    """``out`` as a folder that can be created or written, or a one-line
    :class:`ConfigError` (nothing is created here)."""
    text = str(out)
    if not text.strip():
        raise ConfigError(f"{flag}: is empty (give a folder)")
    out = Path(out)
    if out.name in ("", ".", ".."):
        raise ConfigError(
            f"{flag} {out}: names a parent or the current folder, not a folder of its own"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{flag} {out}: exists and is not a folder")
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{flag} {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {out}: {existing} is not writable by this user")
    return out


@contextmanager
def claim(out: Path, wait: bool = False) -> Iterator[None]:
    """Hold ``out`` for this process (exclusive), or raise :class:`BusyError`.

    Parameters
    ----------
    out : pathlib.Path
        The output folder (need not exist yet).
    wait : bool
        Wait for the other process instead of refusing.
    """
    out = Path(out).absolute()
    lock = out.parent / f".{out.name}.tnlab-lock"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise ConfigError(f"--out {out}: cannot be created here ({err.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise BusyError(
                f"--out {out}: another tnlab process (pid {holder}) is writing "
                "there; wait for it to finish (or pass --wait) or choose another "
                "folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def remove_partial(out: Path) -> int:
    """Delete what interrupted writers left under ``out`` (``*.part`` tables and ``.*.tmp``
    files); only safe while holding the folder's claim.  Returns how many went."""
    out = Path(out)
    if not out.is_dir():
        return 0
    gone = 0
    for pattern in ("**/*.part", "**/.*.tmp"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def swap_in(fresh: Path, out: Path) -> None:
    """Put the finished folder ``fresh`` in the place of ``out`` (whole: a reader sees the
    old folder or the new one), removing the old one."""
    out = Path(out)
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(fresh, out)
    shutil.rmtree(old, ignore_errors=True)
