"""Translation for the exporters, which also run without Django (benchmarks, scripts).

With Django configured, ``gettext``/``ngettext`` are Django's, in the language that is active
(``override``, or the request's); without it they return the English text. ``gettext_noop``
marks a constant for the catalog without translating it: translate it where it is shown,
``gettext(constant)``. The names are the ones ``makemessages`` (xgettext) looks for, so
everything marked here lands in the catalog."""

from __future__ import annotations

import contextlib

# The languages of the shop, INSTALL.txt and the manifest notes (``ExportOptions.language``);
# the same codes as settings.LANGUAGES. English is the source language.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "pl")
DEFAULT_LANGUAGE = "en"


def _django_ready() -> bool:
    try:
        from django.apps import apps
        from django.conf import settings
        # translations need the app registry too (settings configured by a script, no setup())
        return bool(settings.configured) and apps.ready
    except Exception:  # pragma: no cover - Django not installed
        return False


def gettext_noop(message: str) -> str:
    return message


def gettext(message: str) -> str:
    if not message or not _django_ready():
        return message
    from django.utils import translation
    return translation.gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    if not _django_ready():
        return singular if number == 1 else plural
    from django.utils import translation
    return translation.ngettext(singular, plural, number)


def pgettext(context: str, message: str) -> str:
    if not _django_ready():
        return message
    from django.utils import translation
    return translation.pgettext(context, message)


@contextlib.contextmanager
def override(language: str | None):
    """Run the block in ``language`` (a code of settings.LANGUAGES); a no-op without Django."""
    if not language or not _django_ready():
        yield
        return
    from django.utils import translation
    with translation.override(language):
        yield


def language() -> str:
    """The active language code ("en" without Django)."""
    if not _django_ready():
        return "en"
    from django.utils import translation
    return translation.get_language() or "en"


def number(n) -> str:
    """``n`` with the active language's digit grouping ("1,234" in English, "1\u202f234" in
    French), by Babel when Django is configured; ``f"{n:,}"`` without Django."""
    if not _django_ready():
        return f"{n:,}"
    from babel.numbers import format_decimal
    from django.utils.translation import to_locale
    try:
        return format_decimal(n, locale=to_locale(language()))
    except Exception:  # an unknown locale: English grouping
        return f"{n:,}"


def country_name(code: str, english: str) -> str:
    """A country's name in the active language (Babel's CLDR names); ``english`` in English,
    without Django or for a code Babel does not name."""
    current = language()
    if current == "en" or not _django_ready():
        return english
    try:
        from babel import Locale
        from django.utils.translation import to_locale
        return Locale.parse(to_locale(current)).territories.get(code) or english
    except Exception:  # an unknown locale
        return english


def date_text(iso: str) -> str:
    """An ISO date (2026-12-06) written the active language's way ("December 6, 2026")."""
    if not _django_ready():
        return iso
    try:
        import datetime

        from babel.dates import format_date
        from django.utils.translation import to_locale
        return format_date(datetime.date.fromisoformat(str(iso)[:10]), format="long", locale=to_locale(language()))
    except Exception:  # not an ISO date, or an unknown locale
        return iso
