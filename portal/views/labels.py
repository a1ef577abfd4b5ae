"""Naming a purchase in the panel (``services.labels``)."""

from django.contrib import messages
from django.shortcuts import redirect

from portal.services import labels
from portal.views.common import purchase_view


@purchase_view("POST")
def save_label(request, order):
    try:
        label = labels.set_label(order, request.POST.get("label", ""))
    except labels.LabelError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"This purchase is now called \u201c{label}\u201d." if label
                         else "The purchase's own name was removed.")
    return redirect("panel-order", order.public_id)
