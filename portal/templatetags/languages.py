"""{% load languages %}: the language chooser of every page and its hreflang alternates.

The chooser is a list of links, one per language, to ``/i18n/<code>/?next=<this page>``
(``portal.views.language.choose``): it stores the choice (cookie) and sends the customer to
the same page in that language. Links, not a form: no CSRF token in every page, and it works
without JavaScript. The alternates name the same page in each language (``x-default``: the
unprefixed English one)."""

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import translation
from django.utils.http import urlencode

from portal.lib.language import is_page

register = template.Library()


def _here(request) -> str:
    """The page to come back to: this one, when it is a page (``portal.lib.language.is_page``);
    never the address of a download or of something else that is not a page."""
    if request is None or not is_page(request):
        return "/"
    return request.get_full_path()


@register.inclusion_tag("portal/_language_chooser.html", takes_context=True)
def language_chooser(context, to_home=False):
    """``to_home``: the chooser goes to the home page (error pages, a password-reset link:
    their address names what the page must not repeat)."""
    current = translation.get_language() or settings.LANGUAGE_CODE
    names = dict(settings.LANGUAGES)
    query = urlencode({"next": "/" if to_home else _here(context.get("request"))})
    languages = [(code, name, f"{reverse('language-choose', args=[code])}?{query}") for code, name in settings.LANGUAGES]
    return {"languages": languages, "current": current, "current_name": names.get(current, current)}


@register.inclusion_tag("portal/_alternate_links.html", takes_context=True)
def alternate_links(context):
    request = context.get("request")
    if request is None or not is_page(request):
        return {"alternates": []}
    match = request.resolver_match or resolve(request.path_info)
    alternates = [(code, request.build_absolute_uri(_translated(request, match, code))) for code, _ in settings.LANGUAGES]
    alternates.append(("x-default", dict(alternates)[settings.LANGUAGE_CODE]))
    return {"alternates": alternates}


def _translated(request, match, code: str) -> str:
    """This page's address in ``code`` (``translate_url`` without resolving it again)."""
    with translation.override(code):
        try:
            return reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return request.path
