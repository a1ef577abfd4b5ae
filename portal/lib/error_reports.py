"""What Django's debug page (DEBUG=1) may show of the settings and the request.

Django hides settings whose names look secret (KEY, PASS, SECRET, TOKEN ...), but not the
password inside a URL: ``DATABASE_URL=postgres://shop:hunter2@db/shop``, ``REDIS_URL``,
``CELERY_BROKER_URL`` and the cache's ``LOCATION`` would be shown in clear, in the settings
and in the environment (``request.META`` under runserver). This filter masks the password
part of every ``scheme://user:password@`` in those values, wherever it is nested."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

# scheme://user:password@ (the user may be empty: redis://:password@host); the password runs
# to the last "@" before the host, so a password containing "@" is masked whole.
URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:@/\s]*):(?P<password>[^\s/]+)@", re.IGNORECASE)


def mask_url_passwords(text: str, substitute: str = "********************") -> str:
    return URL_PASSWORD.sub(lambda match: f"{match['head']}:{substitute}@", text)


class MaskedExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, and URL passwords masked in every setting and request.META value."""

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str):
            return mask_url_passwords(value, self.cleansed_substitute)
        return value
