"""Refuse oversized requests before anything reads their body.

``RequestSizeLimitMiddleware`` answers 413 when a request's Content-Length exceeds the
limit of its path: the first of ``settings.REQUEST_SIZE_LIMITS`` (pairs of a path regular
expression and a byte count) whose expression matches, else ``settings.REQUEST_MAX_BYTES``.
It runs first in MIDDLEWARE, so neither the CSRF check nor a view parses a 200 MB
multipart body; Django's own DATA_UPLOAD_MAX_MEMORY_SIZE and FILE_UPLOAD_MAX_MEMORY_SIZE
then bound what an accepted body may keep in memory.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 1024 * 1024


def limit_for(path: str) -> int:
    """The largest body, in bytes, a request to ``path`` may send."""
    for pattern, limit in getattr(settings, "REQUEST_SIZE_LIMITS", ()):
        if re.search(pattern, path):
            return int(limit)
    return int(getattr(settings, "REQUEST_MAX_BYTES", DEFAULT_MAX_BYTES))


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # before LocaleMiddleware: a refusal speaks the language of the address (/fr/...)
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        with translation.override(language):
            refused = self._refusal(request)
        return refused if refused is not None else self.get_response(request)

    @staticmethod
    def _refusal(request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return HttpResponseBadRequest(_("The request's Content-Length is not a number."),
                                          content_type="text/plain; charset=utf-8")
        if length < 0:
            return HttpResponseBadRequest(_("The request's Content-Length is negative."),
                                          content_type="text/plain; charset=utf-8")
        limit = limit_for(request.path_info)
        if length > limit:
            return HttpResponse(_("The request is too large (%(size)s); this page accepts at most %(limit)s.") % {
                                "size": filesizeformat(length), "limit": filesizeformat(limit)}, status=413,
                                content_type="text/plain; charset=utf-8")
        return None
