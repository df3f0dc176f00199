"""Facts that never change once known (a product's maker, a key's account), kept per process
to spare a read. Past a bound they are all forgotten: that costs reads again, never truth."""

from collections.abc import Iterable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Facts(Generic[K, V]):
    def __init__(self, bound: int = 100_000) -> None:
        self.bound = bound
        self._known: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._known.get(key)

    def learn(self, pairs: Iterable[tuple[K, V]]) -> None:
        if len(self._known) > self.bound:
            self._known.clear()
        self._known.update(pairs)
