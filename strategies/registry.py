"""Finding strategies: entry points in the group ``orderpace.strategies``.

A distribution offers a strategy by declaring an entry point whose *name* is the
strategy's name and whose *value* is its :class:`~strategies.base.Strategy` subclass::

    [project.entry-points."orderpace.strategies"]
    my-strategy = "my_package.my_module:MyStrategy"

The built-in strategies are registered the same way in orderpace's own ``pyproject.toml``.
If the installed metadata predates them (a source checkout not reinstalled), the built-ins
are still found through :data:`BUILTIN_ENTRY_POINTS`, the same table as in pyproject.

Discovery reads :func:`importlib.metadata.entry_points` unless given an explicit list of
entry points.  A plugin that fails to import, or is not a proper strategy class, does not
hide the others: it is listed with its error and refused with that error if requested.
"""

from __future__ import annotations

import importlib.metadata as md
import re
from collections.abc import Iterable, Iterator

import attrs

from strategies.base import Strategy
from strategies.params import ParamInfo, describe_params

__all__ = [
    "BUILTIN_ENTRY_POINTS",
    "ENTRY_POINT_GROUP",
    "BrokenStrategy",
    "Registry",
    "StrategyError",
    "StrategyInfo",
    "UnknownStrategy",
    "discover",
]

#: The entry-point group strategies register under.
ENTRY_POINT_GROUP = "orderpace.strategies"

#: The built-ins, as declared in pyproject.toml (name -> "module:attribute").
BUILTIN_ENTRY_POINTS: dict[str, str] = {
    "burst": "strategies.burst:Burst",
    "grid": "strategies.grid:Grid",
    "market-maker": "strategies.market_maker:MarketMaker",
    "twap": "strategies.twap:Twap",
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class StrategyError(ValueError):
    """A strategy could not be found or loaded (base class)."""


class UnknownStrategy(StrategyError):
    """No strategy of that name is registered."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(
            f"unknown strategy {name!r}; available: {', '.join(self.known) or 'none'} "
            "(see 'orderpace strategies')"
        )


class BrokenStrategy(StrategyError):
    """A registered strategy that could not be loaded (import error, not a Strategy)."""

    def __init__(self, name: str, source: str, why: str) -> None:
        self.name = name
        super().__init__(f"strategy {name!r} (from {source}) cannot be loaded: {why}")


@attrs.frozen(slots=True)
class StrategyInfo:
    """One registered strategy.

    ``source`` names where it came from (``"orderpace (built-in)"`` or the plugin's
    distribution); ``target`` the entry point's ``module:attribute``.  ``strategy`` is the
    class, or None when loading failed (``error`` says why).
    """

    name: str
    source: str
    target: str
    strategy: type[Strategy[object]] | None = None
    error: str | None = None

    @property
    def builtin(self) -> bool:
        return self.source.endswith("(built-in)")

    @property
    def description(self) -> str:
        if self.strategy is None:
            return f"(cannot be loaded: {self.error})"
        return self.strategy.description

    def params(self) -> list[ParamInfo]:
        """The strategy's parameters (empty when it failed to load)."""
        return [] if self.strategy is None else describe_params(self.strategy.params_type)

    def load(self) -> type[Strategy[object]]:
        """The strategy class, or :class:`BrokenStrategy`."""
        if self.strategy is None:
            raise BrokenStrategy(self.name, self.source, self.error or "unknown error")
        return self.strategy


class Registry:
    """Strategies by name, in name order."""

    __slots__ = ("_by_name",)

    def __init__(self, infos: Iterable[StrategyInfo]) -> None:
        self._by_name = {i.name: i for i in sorted(infos, key=lambda i: i.name)}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> StrategyInfo:
        """The strategy registered as ``name``, else :class:`UnknownStrategy`."""
        info = self._by_name.get(name)
        if info is None:
            raise UnknownStrategy(name, self.names)
        return info

    def load(self, name: str) -> type[Strategy[object]]:
        """The class of strategy ``name`` (:class:`UnknownStrategy`, :class:`BrokenStrategy`)."""
        return self.get(name).load()

    def __iter__(self) -> Iterator[StrategyInfo]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


def _check_class(obj: object) -> str | None:
    """Why ``obj`` is not a usable strategy class (None if it is)."""
    if not isinstance(obj, type) or not issubclass(obj, Strategy):
        return f"{obj!r} is not a subclass of strategies.Strategy"
    if not obj.description:
        return f"{obj.__qualname__} has no one-line 'description'"
    if not attrs.has(obj.params_type):
        return f"{obj.__qualname__}.params_type is not an attrs class"
    try:
        obj.params_type()
    except Exception as e:
        return f"{obj.__qualname__}.params_type() fails with its defaults: {e}"
    try:
        describe_params(obj.params_type)
    except TypeError as e:
        return str(e)
    return None


def _info(ep: md.EntryPoint, source: str) -> StrategyInfo:
    if not _NAME.match(ep.name):
        return StrategyInfo(ep.name, source, ep.value,
                            error="a strategy name is lower-case letters, digits, '-', '_', '.'")
    try:
        obj = ep.load()
    except Exception as e:  # a broken plugin must not hide the others
        return StrategyInfo(ep.name, source, ep.value, error=f"{type(e).__name__}: {e}")
    why = _check_class(obj)
    if why is not None:
        return StrategyInfo(ep.name, source, ep.value, error=why)
    return StrategyInfo(ep.name, source, ep.value, strategy=obj)


def _source(ep: md.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else None
    if name == "orderpace" or (name is None and ep.value.startswith("strategies.")):
        return "orderpace (built-in)"
    return name or "unknown distribution"


def discover(entry_points: Iterable[md.EntryPoint] | None = None) -> Registry:
    """Every strategy registered under :data:`ENTRY_POINT_GROUP`, plus missing built-ins.

    ``entry_points`` replaces the installed ones (tests, embedding).  Two different
    targets under one name are both refused with an error naming them.
    """
    eps = list(md.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None
               else entry_points)
    names = {ep.name for ep in eps}
    for name, target in BUILTIN_ENTRY_POINTS.items():
        if name not in names:
            eps.append(md.EntryPoint(name, target, ENTRY_POINT_GROUP))
    infos: dict[str, StrategyInfo] = {}
    for ep in eps:
        if ep.group != ENTRY_POINT_GROUP:
            continue
        source = _source(ep)
        prev = infos.get(ep.name)
        if prev is not None:
            if prev.target == ep.value:
                continue  # the same target seen twice (e.g. two metadata copies)
            infos[ep.name] = StrategyInfo(
                ep.name, f"{prev.source} and {source}", f"{prev.target} | {ep.value}",
                error=f"registered twice: {prev.target} ({prev.source}) and "
                      f"{ep.value} ({source})",
            )
            continue
        infos[ep.name] = _info(ep, source)
    return Registry(infos.values())
