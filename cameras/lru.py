"""A small thread-safe least-recently-used cache of values built on demand, for what a process
keeps per release (camera indexes, size models, map data, coverage choices): releases never
change, so a value keyed by a release's sha256 is never stale, only evicted.

``LRU(size).get(key, make)`` returns the cached value, or builds it with ``make()``. A key is
built once even when several threads ask for it at the same time: the others wait for that
build (not for builds of other keys, and not holding the cache's lock), then take its value.
A ``make`` that raises caches nothing, and a thread that was waiting for it builds in turn.

Here, in ``cameras``, so that both ``cameras`` and ``portal`` can use it (``cameras`` does
not import ``portal``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    def __init__(self, size: int):
        if size < 1:
            raise ValueError("an LRU holds at least one value")
        self.size = size
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}   # held by the thread building the key

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    return self._data[key]
                building = self._building.get(key)
                mine = building is None
                if mine:
                    building = self._building[key] = threading.Lock()
                    building.acquire()
            if mine:
                return self._build(key, make, building)
            with building:   # another thread builds it: wait, then look again
                pass

    def _build(self, key: Hashable, make: Callable[[], V], building: threading.Lock) -> V:
        try:
            value = make()
            with self._lock:
                self._data[key] = value
                self._data.move_to_end(key)
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
            return value
        finally:
            with self._lock:
                del self._building[key]
            building.release()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
