"""Outside tools the tests drive (SIPp, a SIP stack, later a browser or a speech engine).

:func:`require` gives a tool's path, or skips the test with one line saying how to install
it; under ``CI=true`` a missing tool fails the test instead, since CI installs every tool
the tests need (``.ci/run``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

__all__ = ["require", "require_module"]


def _missing(what: str, install: str) -> None:
    message = f"{what} is not installed: {install}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI must install it: .ci/run)", pytrace=False)
    pytest.skip(message)


def require(command: str, install: str) -> str:
    """The path of ``command``, else skip (or fail under ``CI=true``).

    Parameters
    ----------
    command : str
        An executable's name, e.g. ``"sipp"``.
    install : str
        How to install it, e.g. ``"apt-get install sip-tester"``.
    """
    path = shutil.which(command)
    if path is None:
        _missing(command, install)
    assert path is not None
    return path


def require_module(name: str, install: str) -> None:
    """Skip (or fail under ``CI=true``) unless the Python module ``name`` can be imported."""
    if importlib.util.find_spec(name) is None:
        _missing(f"Python module {name}", install)
