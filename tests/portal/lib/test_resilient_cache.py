"""lib.resilient_cache: while Redis is away a read is a miss and a write does nothing, the
cache is not asked again for RETRY_AFTER seconds, and it is used again once it answers."""

import logging
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError

from portal.lib import resilient_cache
from portal.lib.resilient_cache import RETRY_AFTER, ResilientRedisCache
from tests.services import free_port, service_missing

OPTIONS = {"OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}}
REDIS = "redis://127.0.0.1:6379/10"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved by the test (no waiting)."""
    fake = Clock()
    monkeypatch.setattr(resilient_cache, "time", fake)
    return fake


@pytest.fixture
def attempts(monkeypatch):
    """The reads that reached Redis (or tried to)."""
    tried = []
    real = RedisCache.get

    def counting(self, key, default=None, version=None):
        tried.append(key)
        return real(self, key, default, version)

    monkeypatch.setattr(RedisCache, "get", counting)
    return tried


@pytest.fixture
def down():
    """A cache on a port nothing listens on."""
    return ResilientRedisCache(f"redis://127.0.0.1:{free_port()}/0", OPTIONS)


def test_with_redis_down_reads_miss_and_writes_do_nothing(down, clock):
    assert down.get("panel:build:1", "default") == "default"
    assert down.set("panel:build:1", 1, 60) is None
    assert down.add("panel:build:1", 1, 60) is True        # a once-marker goes ahead
    assert down.incr("ratelimit:n", 1) == 1                 # a counter counts from zero
    assert down.get_many(["a", "b"]) == {} and down.has_key("a") is False
    assert down.delete("a") is False and down.set_many({"a": 1}) == [] and down.clear() is None


def test_after_a_failure_redis_is_not_asked_again_until_retry_after(down, clock, attempts, caplog):
    with caplog.at_level(logging.DEBUG, logger="portal.lib.resilient_cache"):
        down.get("k")
        clock.now += RETRY_AFTER - 0.1
        down.get("k")
        down.get("k")
        assert len(attempts) == 1
        clock.now += 0.2
        assert down.get("k", "default") == "default"
        assert len(attempts) == 2                           # tried again, still down
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "cache unavailable" in errors[0].getMessage()   # once per outage


@pytest.fixture
def redis_up():
    cache = ResilientRedisCache(REDIS, {**OPTIONS, "KEY_PREFIX": f"h5-{uuid.uuid4().hex}"})
    try:
        cache._cache.get_client().ping()
    except ConnectionError:
        service_missing(f"no Redis answers on {REDIS}")
    yield cache
    cache.delete_many(["k"])


def test_once_redis_answers_again_the_cache_is_used_again(redis_up, clock, monkeypatch, caplog):
    real_get = RedisCache.get
    outage = {"on": True}

    def flaky(self, key, default=None, version=None):
        if outage["on"]:
            raise ConnectionError("Connection refused")
        return real_get(self, key, default, version)

    monkeypatch.setattr(RedisCache, "get", flaky)
    redis_up.set("k", "stored")
    with caplog.at_level(logging.WARNING, logger="portal.lib.resilient_cache"):
        assert redis_up.get("k") is None                   # the outage: a miss
        outage["on"] = False
        assert redis_up.get("k") is None                   # not asked within RETRY_AFTER
        clock.now += RETRY_AFTER
        assert redis_up.get("k") == "stored"
        assert redis_up.get("k") == "stored"
        outage["on"] = True
        assert redis_up.get("k") is None                   # a second outage
    messages = [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records]
    assert messages == [("ERROR", "cache unavailable"), ("WARNING", "cache available again"),
                        ("ERROR", "cache unavailable")]
