"""The language chooser's target: stores the choice in the language cookie and sends the
customer back to ``next`` in the chosen language, with ``next`` read in the language of its own
prefix, so that /de/... -> English gives the unprefixed page (Django's ``set_language`` resolves
``next`` in the request's language and would leave /de/... unchanged)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.urls import translate_url
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from portal.lib.language import remember


@require_GET
def choose(request, language: str):
    """The chooser's link: /i18n/fr/?next=/devices/x/ stores French (the language cookie) and
    sends the customer to /fr/devices/x/. A ``next`` off this site goes to the home page."""
    if language not in dict(settings.LANGUAGES):
        raise Http404("unknown language")
    next_url = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    with translation.override(translation.get_language_from_path(urlsplit(next_url).path) or settings.LANGUAGE_CODE):
        target = translate_url(next_url, language)
    return remember(HttpResponseRedirect(target), language)
