"""Caches of the libraries tnlab uses -- Numba's compiled kernels, Matplotlib's font list --
in folders this user can write, when the install is read-only or the home is not
writable (without this, every cached Numba kernel fails to compile there)."""

from __future__ import annotations

import os
import sys
import tempfile

__all__ = ["prepare_library_caches", "user_cache_dir"]


def user_cache_dir(name: str) -> str | None:
    """A writable folder ``tnlab/<name>`` in the user's cache (``$XDG_CACHE_HOME`` or
    ``~/.cache``), else ``tnlab-<name>-<uid>`` in the temporary directory; None if neither
    can be made."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates = (
        os.path.join(home, "tnlab", name),
        os.path.join(tempfile.gettempdir(), f"tnlab-{name}-{os.getuid()}"),
    )
    for folder in candidates:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def prepare_library_caches(package_dir: str) -> None:
    """Point Numba (``NUMBA_CACHE_DIR``) and Matplotlib (``MPLCONFIGDIR``) at writable
    folders when their defaults are not, unless the user set them.

    Numba caches beside the code (``package_dir``), else in the user's home; Matplotlib in
    ``~/.config/matplotlib``.  Must run before either library is imported.
    """
    if not os.environ.get("NUMBA_CACHE_DIR") and not os.access(package_dir, os.W_OK):
        folder = user_cache_dir("numba")
        if folder is not None:
            os.environ["NUMBA_CACHE_DIR"] = folder
            if "numba" in sys.modules:  # imported before us: its config is already read
                sys.modules["numba"].config.CACHE_DIR = folder
    matplotlib_home = os.path.join(os.path.expanduser("~"), ".config", "matplotlib")
    if not os.environ.get("MPLCONFIGDIR") and not _writable(matplotlib_home):
        folder = user_cache_dir("matplotlib")
        if folder is not None:
            os.environ["MPLCONFIGDIR"] = folder
