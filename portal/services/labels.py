"""The customer's own name for a purchase ("Dad's car"), so two identical purchases can be
told apart in the panel's selector, on its page and in the emails."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _, ngettext

from portal.models import LABEL_MAX, Order


class LabelError(ValueError):
    """A name the panel refuses; the message says why and how to fix it."""


def clean_label(text: str) -> str:
    """``text`` with its spaces collapsed; '' removes the name. Refused: longer than
    LABEL_MAX characters, or holding control characters."""
    label = " ".join((text or "").split())
    if len(label) > LABEL_MAX:
        raise LabelError(ngettext("The name is %(length)s character long; please keep it to %(max)s.",
                                  "The name is %(length)s characters long; please keep it to %(max)s.",
                                  len(label)) % {"length": len(label), "max": LABEL_MAX})
    if any(unicodedata.category(ch).startswith("C") for ch in label):
        raise LabelError(_("The name may hold letters, digits, spaces and punctuation only."))
    return label


def set_label(order: Order, text: str) -> str:
    label = clean_label(text)
    Order.objects.filter(pk=order.pk).update(label=label)
    order.label = label
    return label
