"""A small fixed-window rate limiter on Django's cache (local memory, or Redis in production).

``Limiter("login-email", limit=5, window=900)`` allows ``limit`` hits per identifier in a
window that starts with the first hit and lasts ``window`` seconds; then ``blocked_for``
says how many seconds are left. Identifiers (an email, an IP address) are hashed into the
cache key, so the cache never holds them in clear and any string is a valid key.

The counter is ``cache.incr`` on a key created with ``cache.add`` (atomic on Redis and in
the local-memory cache); the window's end is stored next to it, so the message can say
"try again in N minutes". With several web servers the cache must be shared (Redis): a
per-process local-memory cache would multiply the limit by the number of processes.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.db import connection


class Limiter:
    def __init__(self, name: str, limit: int, window: int):
        self.name, self.limit, self.window = name, int(limit), int(window)

    def _keys(self, ident: str) -> tuple[str, str]:
        digest = hashlib.sha256(f"{self.name}\0{ident}".encode()).hexdigest()[:32]
        return f"ratelimit:{self.name}:{digest}:n", f"ratelimit:{self.name}:{digest}:until"

    def count(self, ident: str) -> int:
        return int(cache.get(self._keys(ident)[0]) or 0)

    def hit(self, ident: str) -> int:
        """Count one hit; returns the number of hits in the current window."""
        count_key, until_key = self._keys(ident)
        now = time.time()
        cache.add(until_key, now + self.window, self.window)
        cache.add(count_key, 0, self.window)
        try:
            return cache.incr(count_key)
        except ValueError:  # the window ended between add and incr
            cache.set(until_key, now + self.window, self.window)
            cache.set(count_key, 1, self.window)
            return 1

    def blocked_for(self, ident: str) -> int:
        """Seconds until ``ident`` may try again (0: not blocked)."""
        count_key, until_key = self._keys(ident)
        if int(cache.get(count_key) or 0) < self.limit:
            return 0
        until = cache.get(until_key)
        if until is None:
            return 0
        return max(0, math.ceil(until - time.time()))

    def remaining(self, ident: str) -> int:
        return max(0, self.limit - self.count(ident))

    def reset(self, ident: str) -> None:
        cache.delete_many(list(self._keys(ident)))


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the header named by CLIENT_IP_HEADER (for
    example HTTP_X_REAL_IP, set by the nginx in front; never trust it without a proxy).

    A list header (``X-Forwarded-For: a, b, c``) is read from the right: each proxy appends
    the address it saw, so the last ``CLIENT_IP_PROXY_COUNT`` (default 1) entries are
    written by the trusted proxies and the one they name is the client; what the client put
    on the left is never used (otherwise every request could claim a fresh address and
    step around the per-IP limits). A header shorter than that falls back to REMOTE_ADDR."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        entries = [part.strip() for part in request.META.get(header, "").split(",") if part.strip()]
        hops = max(1, int(settings.CLIENT_IP_PROXY_COUNT or 1))
        if len(entries) >= hops:
            return entries[-hops]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def email_key(value: str) -> str:
    """An email address as the database compares it, for a limiter's key: NFKC (what the
    login form does, and the reset form's lookup too), trimmed, then the database's own
    ``UPPER()``, which is what Django's ``email__iexact`` compares on both sides. Python's
    case mappings differ from the database's (PostgreSQL folds the dotless 'ı' into 'I' and
    keeps 'ß', Python's upper() turns 'ß' into 'SS'; SQLite folds ASCII only), so a key made
    in Python would give spellings that reach the same account counters of their own. With
    this key every spelling the lookup treats as one address shares one counter, whether an
    account exists or not."""
    value = (value or "")[:1024]
    value = unicodedata.normalize("NFKC", value).strip()
    if not value or "\x00" in value or len(value) > 254:  # no account has such a name, nor may a query carry it
        return value.lower()
    with connection.cursor() as cursor:
        cursor.execute("SELECT UPPER(%s)", [value])
        return cursor.fetchone()[0]


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def login_limiters() -> tuple[Limiter, Limiter]:
    window = settings.LOGIN_RATE_WINDOW
    return (Limiter("login-email", settings.LOGIN_FAILURES_PER_EMAIL, window),
            Limiter("login-ip", settings.LOGIN_FAILURES_PER_IP, window))


def reset_limiters() -> tuple[Limiter, Limiter]:
    window = settings.PASSWORD_RESET_RATE_WINDOW
    return (Limiter("reset-email", settings.PASSWORD_RESETS_PER_EMAIL, window),
            Limiter("reset-ip", settings.PASSWORD_RESETS_PER_IP, window))


def reset_token_limiter() -> Limiter:
    """Invalid password-reset links opened per client IP (guessing tokens): past the limit
    the reset-confirm page answers 429 until the window ends."""
    return Limiter("reset-token-ip", settings.PASSWORD_RESET_TOKEN_FAILURES_PER_IP,
                   settings.PASSWORD_RESET_RATE_WINDOW)

