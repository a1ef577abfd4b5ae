"""cameras.lru.LRU, the one in-process cache of per-release data (camera indexes, size models,
map data, coverage choices, changelog lines): values are built once per key, even for
threads asking at the same time, and the least recently used goes first."""

import inspect
import sys
import threading

import pytest

from cameras import exporting, lru as lru_module
from cameras.lru import LRU
from portal import forms
from portal.views import home
from tests.services import wait_until



def wait_line() -> int | None:
    """The line of LRU.get where a thread waits for another thread's build."""
    lines, first = inspect.getsourcelines(LRU.get)
    return next((n for n, line in enumerate(lines, first) if "with building:" in line), None)


def test_a_value_is_built_once_and_then_served_from_the_cache():
    cache, builds = LRU(2), []
    assert cache.get("a", lambda: builds.append("a") or 1) == 1
    assert cache.get("a", lambda: builds.append("a") or 2) == 1
    assert builds == ["a"] and "a" in cache and len(cache) == 1


def test_the_least_recently_used_value_goes_first():
    cache = LRU(2)
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    cache.get("a", lambda: 1)       # "a" used again: "b" is now the oldest
    cache.get("c", lambda: 3)
    assert "a" in cache and "c" in cache and "b" not in cache and len(cache) == 2


def test_a_failed_build_caches_nothing_and_the_next_call_builds_again():
    cache = LRU(2)

    def broken():
        raise OSError("snapshot unreadable")

    with pytest.raises(OSError):
        cache.get("a", broken)
    assert "a" not in cache and cache.get("a", lambda: 1) == 1


def waiting_in_get(thread) -> bool:
    """The thread waits for another thread's build of its key, inside LRU.get."""
    frame, line = sys._current_frames().get(thread.ident), wait_line()
    while frame is not None:
        if frame.f_code is LRU.get.__code__ and frame.f_lineno == line:
            return True
        frame = frame.f_back
    return False


def test_two_threads_asking_for_the_same_key_at_once_build_it_once():
    cache, builds = LRU(2), []
    building, finish = threading.Event(), threading.Event()

    def slow_build():
        builds.append(threading.current_thread().name)
        building.set()
        assert finish.wait(60)
        return "index"

    results = {}

    def ask(name):
        results[name] = cache.get("release-sha", slow_build)

    first = threading.Thread(target=ask, args=("first",), name="first")
    second = threading.Thread(target=ask, args=("second",), name="second")
    first.start()
    assert building.wait(60)
    second.start()
    # the second either waits for the first build, or (without the per-key wait) builds too
    assert wait_until(lambda: len(builds) > 1 or waiting_in_get(second), 60)
    finish.set()
    first.join(60)
    second.join(60)
    assert builds == ["first"] and results == {"first": "index", "second": "index"}


def test_other_keys_are_served_while_one_is_being_built():
    cache = LRU(4)
    cache.get("ready", lambda: 1)
    building, finish = threading.Event(), threading.Event()

    def slow_build():
        building.set()
        assert finish.wait(60)
        return 2

    slow = threading.Thread(target=cache.get, args=("slow", slow_build))
    slow.start()
    assert building.wait(60)
    try:
        assert cache.get("ready", lambda: pytest.fail("cached")) == 1
        assert cache.get("other", lambda: 3) == 3
    finally:
        finish.set()
        slow.join(60)
    assert cache.get("slow", lambda: pytest.fail("cached")) == 2


def test_the_module_is_the_one_both_cameras_and_portal_use():
    for cache in (exporting._INDEXES, exporting._MODELS, exporting._SIZERS, home.MAP_DATA, forms._CHOICES):
        assert isinstance(cache, lru_module.LRU)
