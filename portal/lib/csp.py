"""The Content-Security-Policy header (django-csp), with the third-party origins the site
needs taken from the settings at each response, not at import: Stripe.js and its API
(``STRIPE_JS_URL``, ``STRIPE_API_BASE``; localstripe's address in tests and ``./run``) and
the map tiles (``MAP_TILES_URL``). The rest of the policy is ``settings.CONTENT_SECURITY_POLICY``:
scripts from this site or carrying the response's nonce only (no 'unsafe-inline')."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.conf import settings

# Stripe's own hosts besides the script's, from Stripe's CSP guide: the 3-D Secure frames
# and the card brand images.
STRIPE_FRAMES = ("https://hooks.stripe.com",)
STRIPE_IMAGES = ("https://*.stripe.com",)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL; a tile template's ``{s}`` subdomain becomes ``*``."""
    parts = urlsplit((url or "").replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def third_party_sources() -> dict[str, list[str]]:
    """The directives' third-party sources for the current settings."""
    js, api = origin(settings.STRIPE_JS_URL), origin(settings.STRIPE_API_BASE)
    real_stripe = js == "https://js.stripe.com"
    sources = {
        "script-src": [js],
        "frame-src": [js, *(STRIPE_FRAMES if real_stripe else ())],
        "connect-src": list(dict.fromkeys([api, js])),  # localstripe's Stripe.js calls its own server
        "img-src": [*(STRIPE_IMAGES if real_stripe else ()), origin(getattr(settings, "MAP_TILES_URL", ""))],
    }
    return {k: [v for v in values if v] for k, values in sources.items() if any(values)}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            extra = third_party_sources()
            for key, values in (parts.update or {}).items():
                extra[key] = [*extra.get(key, []), *values]
            parts.update = extra
        return parts
