"""Naming a purchase in the panel (``services.labels``)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from portal.services import labels
from portal.views.common import purchase_view


@purchase_view("POST")
def save_label(request, order):
    try:
        label = labels.set_label(order, request.POST.get("label", ""))
    except labels.LabelError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("This purchase is now called “%(label)s”.") % {"label": label} if label
                         else _("The purchase's own name was removed."))
    return redirect("panel-order", order.public_id)
