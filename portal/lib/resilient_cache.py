"""Django's Redis cache, degraded instead of failing while Redis is down or restarting.

What the site keeps in the cache can always be recomputed or done without: cluster
responses of the map (recomputed), the login and password-reset counters (the limits do not
count while Redis is away; they start again when it is back) and the markers that keep the
panel from queueing the same build twice. So a Redis that refuses connections, times out
(``REDIS_CACHE_TIMEOUT``) or is still loading its data after a restart makes a read a miss
and a write a no-op, logged once per outage, rather than a 500 for the visitor.

After a failure the cache is not asked again for ``RETRY_AFTER`` seconds, so a Redis that
hangs costs one timeout per process every few seconds, not one per cache call.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import BusyLoadingError, ConnectionError, TimeoutError

log = logging.getLogger(__name__)

UNAVAILABLE = (ConnectionError, TimeoutError, BusyLoadingError, OSError)
RETRY_AFTER = 2.0


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _call(self, name, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except UNAVAILABLE as exc:
            with self._lock:
                first = self._down_until == 0.0
                self._down_until = time.monotonic() + RETRY_AFTER
            (log.error if first else log.debug)("cache unavailable (%s: %s); degrading to no cache",
                                                 type(exc).__name__, exc)
            return default
        if self._down_until:
            with self._lock:
                if self._down_until:
                    log.warning("cache available again")
                self._down_until = 0.0
        return result

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def add(self, key, value, timeout=None, version=None):
        # Nothing stored: say "added" so callers that use add() as a once-marker go ahead
        # (queueing a build twice is harmless; never queueing it is not).
        return self._call("add", True, key, value, timeout, version)

    def set(self, key, value, timeout=None, version=None):
        return self._call("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=None, version=None):
        return self._call("set_many", [], data, timeout, version)

    def touch(self, key, timeout=None, version=None):
        return self._call("touch", False, key, timeout, version)

    def incr(self, key, delta=1, version=None):
        # A counter that cannot be read counts from zero (a rate limit does not block).
        return self._call("incr", delta, key, delta, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def clear(self):
        return self._call("clear", None)
