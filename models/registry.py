"""Registries: one per extension point (detectors, aging models, release policies, pool
sizers, composition optimizers).

A registry maps a name, as written in an experiment's TOML, to a class.  Adding an
implementation is one class and one registration::

    from models.burst import DETECTORS, Detector

    @DETECTORS.register("my_detector")
    class MyDetector(Detector):
        ...

A class of one's own needs no registration to be named in a config: ``"package.module:Class"``
is imported and registered on first use (it must subclass the registry's ``base``), on
every worker too; :func:`register_own` registers a class object (one defined in a notebook)
in the registry its base belongs to.

The class is built by its registry's *factory* -- a classmethod named by the registry
(e.g. ``from_rule``) that takes the extension point's context (what every implementation
needs, e.g. the alarm rule) followed by the implementation's own keyword-only parameters.
Those parameters are what its table in the config holds (``[detection.detectors.<name>]``);
:meth:`Registry.parameters` lists them, so the simulator validates a table without
knowing the class.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "add_own", "own_entries", "register_own"]

T = TypeVar("T")

_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
"""A class of one's own named by where it lives: ``"package.module:Class"``."""


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

    instances: list[Registry[Any]] = []
    """Every registry, in creation order (to find where a class of one's own belongs)."""

    def __init__(
        self, kind: str, factory: str = "__init__", context: int = 0, base: type | None = None
    ) -> None:
        self.kind = kind
        self.factory = factory
        self.context = context
        self.base = base
        self._entries: dict[str, type[T]] = {}
        self._own: set[str] = set()
        self._declared: list[str] = []
        Registry.instances.append(self)

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator registering the class under ``name``.

        Raises
        ------
        ValueError
            If ``name`` is already taken by another class, or is not an identifier.
        """

        def decorate(cls: type[T]) -> type[T]:
            if not name.isidentifier():
                raise ValueError(f"{self.kind} name {name!r} must be an identifier")
            self._insert(name, cls)
            self._declared.append(name)
            return cls

        return decorate

    def add(self, name: str, cls: type[T]) -> None:
        """Register a class of one's own (e.g. defined in a notebook) under ``name``; the
        runs of an experiment register it on their workers too (:func:`own_entries`).

        Raises
        ------
        ValueError
            If ``name`` is taken by another class, or ``cls`` is no entry of this registry
            (not a subclass of its base, or without its factory).
        """
        self._insert(name, cls)
        self._own.add(name)

    def _insert(self, name: str, cls: type[T]) -> None:
        if not isinstance(cls, type) or (self.base is not None and not issubclass(cls, self.base)):
            base = f" (a subclass of {self.base.__name__})" if self.base is not None else ""
            raise ValueError(f"{name!r} is not a {self.kind} class{base}")
        if self.factory != "__init__" and not callable(getattr(cls, self.factory, None)):
            raise ValueError(f"{name!r} has no {self.factory} classmethod")
        if self._entries.get(name, cls) is not cls:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = cls

    def _resolve(self, name: str) -> None:
        """Import and register a ``"module:Class"`` name (raises KeyError saying why not)."""
        module, _, qualname = name.partition(":")
        if not _REFERENCE.match(name):
            known = ", ".join(self._entries) or "none"
            raise KeyError(
                f"unknown {self.kind} {name!r} (known: {known}; or your own as 'module:Class')"
            )
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except Exception as err:  # noqa: BLE001 -- any failure of a user's module
            raise KeyError(f"{name!r}: cannot import it ({type(err).__name__}: {err})") from None
        try:
            self._insert(name, found)
        except ValueError as err:
            raise KeyError(str(err)) from None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._entries and _REFERENCE.match(name):
            try:
                self._resolve(name)
            except KeyError:
                return False
        return name in self._entries

    def explain(self, name: str) -> str | None:
        """Why ``name`` is no entry (unknown, or a ``"module:Class"`` that does not import or
        is not of this kind), or None if it is one."""
        try:
            self[name]
        except KeyError as err:
            return str(err.args[0])
        return None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def declared(self) -> tuple[str, ...]:
        """Names registered by the :meth:`register` decorator (those of tnlab and of
        plugins), without the classes added at run time (:meth:`add`, ``"module:Class"``)."""
        return tuple(self._declared)

    def __getitem__(self, name: str) -> type[T]:
        """The class registered as ``name``.

        Raises
        ------
        KeyError
            With the known names, if ``name`` is not registered and is no importable
            ``"module:Class"`` of this registry's kind.
        """
        if name not in self._entries:
            self._resolve(name)
        return self._entries[name]

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


def own_entries() -> list[tuple[str, str, type]]:
    """Classes of one's own registered with :meth:`Registry.add` in this process, as
    ``(registry kind, name, class)`` -- what a worker process registers before a run."""
    return [(r.kind, name, r[name]) for r in Registry.instances for name in sorted(r._own)]


def add_own(entries: list[tuple[str, str, type]]) -> None:
    """Register :func:`own_entries` of another process here (skipping those already
    registered)."""
    by_kind = {r.kind: r for r in Registry.instances}
    for kind, name, cls in entries:
        if kind not in by_kind:
            raise KeyError(f"no {kind} registry in this process (import its module first)")
        if name not in by_kind[kind]._entries:
            by_kind[kind].add(name, cls)


def register_own(name: str, cls: type) -> Registry[Any]:
    """Register a class of one's own in the registry whose base it subclasses (a detector,
    an aging model, a release policy, a pool sizer, a composition optimizer, ...).

    Returns
    -------
    Registry
        Where it was registered.

    Raises
    ------
    ValueError
        If no registry, or more than one, takes the class.
    """
    homes = [
        r
        for r in Registry.instances
        if r.base is not None and isinstance(cls, type) and issubclass(cls, r.base)
    ]
    if len(homes) != 1:
        kinds = ", ".join(r.kind for r in Registry.instances if r.base is not None)
        raise ValueError(
            f"{name!r}: {'no' if not homes else 'more than one'} extension point takes "
            f"{getattr(cls, '__qualname__', cls)!r} (a subclass of the base of one of: {kinds})"
        )
    homes[0].add(name, cls)
    return homes[0]
