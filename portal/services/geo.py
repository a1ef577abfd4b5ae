"""The country of a request's IP address, offline: one piece of the VAT evidence of an order.

Two sources, chosen by a setting:

- ``IP_COUNTRY_HEADER`` (e.g. ``HTTP_CF_IPCOUNTRY``, the header Cloudflare sets): behind a
  CDN that geolocates every request, its answer is the best there is. Set it only when that
  proxy is really in front (a client could write the header otherwise).
- otherwise the client IP (``ratelimit.client_ip``, which honours CLIENT_IP_HEADER) looked up
  in geoip2fast's bundled database (GeoLite2 country ranges, IPv4, shipped inside the
  package: no download, no network at run time). The database is loaded once per process
  on first use (~0.2 s), then a lookup takes microseconds.

The answer is an ISO 3166-1 alpha-2 code, or "" when unknown (a private or reserved address,
the tests' 127.0.0.1, a header value that is not a country)."""

from __future__ import annotations

import functools
import logging
import re

from django.conf import settings

from portal.lib.ratelimit import client_ip

log = logging.getLogger(__name__)
_CODE = re.compile(r"^[A-Z]{2}$")


@functools.lru_cache(maxsize=1)
def _database():
    from geoip2fast import GeoIP2Fast

    return GeoIP2Fast(verbose=False)


def country_of_ip(ip: str) -> str:
    """The country of ``ip`` in the bundled database ("" when unknown or not an IPv4 address)."""
    try:
        code = (_database().lookup(ip).country_code or "").upper()
    except Exception as exc:  # noqa: BLE001 -- evidence is best effort: a bad address is "unknown"
        log.info("no country for IP %r (%s)", ip, exc)
        return ""
    return code if _CODE.match(code) else ""


def request_country(request) -> str:
    header = getattr(settings, "IP_COUNTRY_HEADER", "")
    if header:
        code = request.META.get(header, "").strip().upper()
        return code if _CODE.match(code) and code not in ("XX", "T1") else ""
    return country_of_ip(client_ip(request))
