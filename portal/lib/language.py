"""Which language a page is shown in.

A prefix chooses it: /fr/prices/ is French. English pages have none, so every address of
the English-only site, and every link already emailed, still works. On such an unprefixed
page the customer's own choice wins (the language chooser's cookie, or the account's
language once logged in), then the browser's Accept-Language: a French browser opening
/prices/ is sent to /fr/prices/. Choosing English (the cookie) stops that redirect.
Downloads, JSON, images, the webhook and the admin are never redirected."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, translate_url
from django.utils.translation import get_language_from_path, get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

# URL names (or their prefixes) that are not pages a person reads
NOT_PAGES = ("download-", "webhook-", "admin", "home-favicon", "home-map-clusters")
NOT_PAGE_SUFFIXES = (".json", ".png", ".pdf", ".ico", ".zip")


def supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return None


def from_accept_language(header: str) -> str | None:
    for code, _q in parse_accept_lang_header(header or ""):
        if code == "*":
            continue
        found = supported(code)
        if found:
            return found
    return None


def preferred(request) -> str:
    """The customer's language for an unprefixed page."""
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and supported(getattr(user, "language", "")):
        return supported(user.language)
    return from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", "")) or settings.LANGUAGE_CODE


def is_page(request) -> bool:
    path = request.path_info
    if path.endswith(NOT_PAGE_SUFFIXES) or path.startswith(("/static/", "/admin/", "/i18n/")):
        return False
    match = getattr(request, "resolver_match", None)  # set once the URL is resolved for the view
    if match is None:
        try:
            match = resolve(path)
        except Resolver404:
            return False
    name = match.url_name or ""
    return not name.startswith(NOT_PAGES)


class PreferredLanguageMiddleware:
    """Sends a GET of an unprefixed page to the customer's language (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # is_page first: a download or a JSON answer never loads the session and the account
        # that preferred() may read
        if (request.method in ("GET", "HEAD") and get_language_from_path(request.path_info) is None
                and is_page(request)):
            language = preferred(request)
            if language != settings.LANGUAGE_CODE:
                here = request.get_full_path()
                there = translate_url(here, language)
                if there != here:
                    response = HttpResponseRedirect(there)
                    response["Vary"] = "Accept-Language, Cookie"
                    return response
        response = self.get_response(request)
        return response


def remember(response, language: str):
    """Store the customer's choice of ``language`` in the language cookie of ``response``."""
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                        path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    return response
