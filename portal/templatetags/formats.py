"""{% load formats %}: ``{{ cents|money:currency }}``, ``{{ n|number }}``, ``{{ d|ldate }}``,
``{{ dt|ldatetime }}`` in the active language (``portal.services.l10n``)."""

from django import template

from portal.services import l10n

register = template.Library()


@register.filter
def money(amount_cents, currency="eur"):
    if amount_cents is None or amount_cents == "":
        return ""
    return l10n.money(amount_cents, currency or "eur")


@register.filter
def number(value):
    return l10n.number(value)


@register.filter
def ldate(value, format="long"):
    return l10n.date(value, format=format or "long")


@register.filter
def ldatetime(value, format="medium"):
    return l10n.datetime(value, format=format or "medium")
