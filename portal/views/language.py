"""The language chooser's target: Django's ``set_language`` (stores the choice in the language
cookie, sends the customer back to ``next`` in the chosen language), with ``next`` read in the
language of its own prefix, so that /de/... -> English gives the unprefixed page (Django
alone resolves ``next`` in the request's language and would leave /de/... unchanged)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation
from django.views.i18n import set_language as django_set_language


def set_language(request):
    next_url = request.POST.get("next", request.GET.get("next", "")) or ""
    language_of_next = translation.get_language_from_path(urlsplit(next_url).path) or settings.LANGUAGE_CODE
    with translation.override(language_of_next):
        return django_set_language(request)
