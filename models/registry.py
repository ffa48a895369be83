"""Registries: one per extension point (detectors, aging models, release policies, pool
sizers, composition optimizers).

A registry maps a name, as written in an experiment's TOML, to a class.  Adding an
implementation is one class and one registration::

    from models.burst import DETECTORS, Detector

    @DETECTORS.register("my_detector")
    class MyDetector(Detector):
        ...

The class is built by its registry's *factory* -- a classmethod named by the registry
(e.g. ``from_rule``) that takes the extension point's context (what every implementation
needs, e.g. the alarm rule) followed by the implementation's own keyword-only parameters.
Those parameters are what its table in the config holds (``[detection.detectors.<name>]``);
:meth:`Registry.parameters` lists them, so the simulator validates a table without
knowing the class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named implementations of one extension point.

    Parameters
    ----------
    kind : str
        What the entries are, for messages (e.g. ``"detector"``).
    factory : str
        Name of the classmethod that builds an entry from the context and its parameters;
        ``"__init__"`` means the class itself (its constructor's keyword parameters).
    context : int
        How many leading positional arguments of the factory are the context.

    Examples
    --------
    >>> reg = Registry("shape")
    >>> @reg.register("square")
    ... class Square:
    ...     def __init__(self, *, side: float):
    ...         self.side = side
    >>> reg.build("square", side=2.0).side
    2.0
    >>> sorted(reg.parameters("square"))
    ['side']
    """

    def __init__(self, kind: str, factory: str = "__init__", context: int = 0) -> None:
        self.kind = kind
        self.factory = factory
        self.context = context
        self._entries: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator registering the class under ``name``.

        Raises
        ------
        ValueError
            If ``name`` is already taken by another class, or is not an identifier.
        """

        def add(cls: type[T]) -> type[T]:
            if not name.isidentifier():
                raise ValueError(f"{self.kind} name {name!r} must be an identifier")
            if self._entries.get(name, cls) is not cls:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = cls
            return cls

        return add

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def __getitem__(self, name: str) -> type[T]:
        """The class registered as ``name``.

        Raises
        ------
        KeyError
            With the known names, if ``name`` is not registered.
        """
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self._entries) or "none"
            raise KeyError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def _factory(self, name: str) -> Callable[..., T]:
        cls = self[name]
        return cls if self.factory == "__init__" else getattr(cls, self.factory)

    def parameters(self, name: str) -> dict[str, inspect.Parameter]:
        """The entry's own parameters (after the context), by name.

        A factory that passes ``**params`` on to the class's constructor lists the
        constructor's parameters.
        """
        sig = inspect.signature(self._factory(name), eval_str=True)
        params = list(sig.parameters.values())[self.context :]
        if any(p.kind == p.VAR_KEYWORD for p in params):
            params += list(inspect.signature(self[name], eval_str=True).parameters.values())
        return {p.name: p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def build(self, name: str, *context: Any, **params: Any) -> T:
        """Build the entry ``name`` from the context and its parameters.

        Raises
        ------
        KeyError
            If ``name`` is not registered.
        TypeError, ValueError
            From the factory, for missing, unknown or bad parameters.
        """
        if len(context) != self.context:
            raise TypeError(f"{self.kind} factories take {self.context} context argument(s)")
        return self._factory(name)(*context, **params)
