"""lib.ratelimit: so many tries per window and identifier, how long until the next one,
and the client address read from the right of X-Forwarded-For."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.test import RequestFactory

from portal.lib.ratelimit import Limiter, client_ip

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _local_cache(local_cache):
    """Counters expire on the clock the tests move."""


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_the_limit_is_so_many_hits_per_window(clock):
    limiter = Limiter("login-email", limit=3, window=900)
    assert [limiter.hit("ana@example.com") for _ in range(3)] == [1, 2, 3]
    assert limiter.blocked_for("ana@example.com") == 900
    clock.shift(timedelta(seconds=600))
    assert limiter.hit("ana@example.com") == 4                  # still counted, still blocked
    assert limiter.blocked_for("ana@example.com") == 300        # the window began with the first hit
    clock.shift(timedelta(seconds=301))
    assert limiter.blocked_for("ana@example.com") == 0 and limiter.count("ana@example.com") == 0
    assert limiter.hit("ana@example.com") == 1                  # a new window


def test_under_the_limit_nobody_is_blocked(clock):
    limiter = Limiter("login-email", limit=3, window=900)
    limiter.hit("ana@example.com")
    limiter.hit("ana@example.com")
    assert limiter.blocked_for("ana@example.com") == 0


def test_blocked_for_rounds_the_seconds_left_up(clock):
    limiter = Limiter("login-ip", limit=1, window=60)
    limiter.hit("203.0.113.5")
    clock.shift(timedelta(seconds=59.2))
    assert limiter.blocked_for("203.0.113.5") == 1


def test_remaining_counts_down_to_zero(clock):
    limiter = Limiter("reset-email", limit=2, window=60)
    assert limiter.remaining("ana@example.com") == 2
    limiter.hit("ana@example.com")
    assert limiter.remaining("ana@example.com") == 1
    limiter.hit("ana@example.com")
    limiter.hit("ana@example.com")
    assert limiter.remaining("ana@example.com") == 0


def test_a_reset_lifts_the_block(clock):
    limiter = Limiter("login-email", limit=1, window=900)
    limiter.hit("ana@example.com")
    assert limiter.blocked_for("ana@example.com") == 900
    limiter.reset("ana@example.com")
    assert limiter.blocked_for("ana@example.com") == 0 and limiter.remaining("ana@example.com") == 1


def test_identifiers_and_limiters_count_apart(clock):
    email, ip = Limiter("login-email", limit=1, window=900), Limiter("login-ip", limit=1, window=900)
    email.hit("ana@example.com")
    assert email.blocked_for("ana@example.com") == 900
    assert email.blocked_for("bob@example.com") == 0
    assert ip.blocked_for("ana@example.com") == 0


# ---------------------------------------------------------------------------------------
# The client's address


def request(forwarded=None, remote="10.0.0.1"):
    meta = {"REMOTE_ADDR": remote} if remote else {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    req = RequestFactory().get("/", **meta)
    if not remote:
        del req.META["REMOTE_ADDR"]
    return req


@pytest.fixture
def behind_proxies(settings):
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.CLIENT_IP_PROXY_COUNT = 1
    return settings


def test_without_a_proxy_header_the_address_is_the_connections(settings):
    settings.CLIENT_IP_HEADER = ""
    assert client_ip(request("198.51.100.9", remote="203.0.113.5")) == "203.0.113.5"


def test_behind_one_proxy_the_last_entry_is_the_client_whatever_it_put_before(behind_proxies):
    assert client_ip(request("1.2.3.4, 203.0.113.5")) == "203.0.113.5"
    assert client_ip(request("203.0.113.5")) == "203.0.113.5"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(behind_proxies):
    behind_proxies.CLIENT_IP_PROXY_COUNT = 2
    assert client_ip(request("1.2.3.4, 203.0.113.5, 10.0.0.2")) == "203.0.113.5"
    assert client_ip(request(" 203.0.113.5 ,, 10.0.0.2 ,")) == "203.0.113.5"   # blanks and spaces ignored


def test_a_header_shorter_than_the_proxy_chain_falls_back_to_the_connection(behind_proxies):
    behind_proxies.CLIENT_IP_PROXY_COUNT = 2
    assert client_ip(request("203.0.113.5", remote="10.0.0.1")) == "10.0.0.1"
    assert client_ip(request(None, remote="10.0.0.1")) == "10.0.0.1"


def test_no_address_at_all_is_unknown(behind_proxies):
    assert client_ip(request(None, remote=None)) == "unknown"
