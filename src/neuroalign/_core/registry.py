"""One registry idiom for every pluggable kind: transforms, datasets, zoo models, benchmarks.

``REG.register(name, item)`` adds an entry (an existing name is refused unless ``replace=True``),
``REG.get(name)`` returns it or raises one :class:`~neuroalign._core.errors.ConfigError` that lists
the known names and suggests the closest ones, ``REG.names()`` lists them sorted. A registry may
name a ``builtins`` callable that registers the package's own entries on first use, so importing a
registry never imports the heavy modules behind it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from neuroalign._core.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → item. ``kind`` names the items in messages (``"transform class"``); ``hint`` says
    where to list them (``"`neuroalign bench list`"``); ``builtins()`` registers the built-in
    entries once, before the first lookup."""

    def __init__(
        self,
        kind: str,
        *,
        plural: str | None = None,
        hint: str = "",
        builtins: Callable[[], None] | None = None,
    ):
        self.kind, self.plural, self.hint = kind, plural or f"{kind}s", hint
        self._items: dict[str, T] = {}
        self._builtins = builtins
        self._loading = False

    def _load(self) -> None:
        if self._builtins is not None and not self._loading:
            self._loading = True
            try:
                self._builtins()
            finally:
                self._builtins, self._loading = None, False

    def register(self, name: str, item: T, *, replace: bool = False) -> T:
        """Add ``item`` under ``name`` and return it; :class:`ConfigError` if the name is taken
        (pass ``replace=True`` to overwrite on purpose)."""
        self._load()
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a {self.kind} needs a non-empty string name, got {name!r}.")
        if name in self._items and not replace and self._items[name] is not item:
            raise ConfigError(
                f"a {self.kind} named {name!r} is already registered; choose another name or pass "
                "replace=True to overwrite it."
            )
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove ``name`` (a no-op when absent); for plugins and tests that clean up."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The item called ``name``; an unknown name is a :class:`ConfigError` that suggests the
        closest known names."""
        self._load()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            pass
        close = difflib.get_close_matches(str(name), self._items, n=3, cutoff=0.6)
        guess = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        where = f" ({self.hint})" if self.hint else ""
        raise ConfigError(
            f"unknown {self.kind} {name!r}; known {self.plural}: {', '.join(self.names())}"
            f"{where}.{guess}"
        )

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load()
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        """``(name, item)`` pairs sorted by name."""
        return [(n, self._items[n]) for n in self.names()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
