"""The customer panel's per-purchase actions (issue 6): annual upgrade, cancel the renewal,
new-release emails on/off, and error reports. (The panel itself offers the latest file
while updates run: ``portal.panel.Updates`` reads ``subscription_end``/``subscription_status``.)

Every view takes the purchase by its public id *and* the logged-in owner: another customer's
purchase is 404. All changes are POSTs through Django forms (CSRF). After an action the
customer goes back to the panel, on that purchase, with a message saying what happened."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import notices, reports, subscriptions
from .models import Order
from .panel_views import purchase_view
from .pricing import format_amount

# Room for the multipart envelope and the text around a screenshot of the maximum size.
UPLOAD_OVERHEAD = 64 * 1024


def _own_order(request, public_id) -> Order:
    order = Order.objects.filter(public_id=public_id, user=request.user).select_related("release").first()
    if order is None:
        raise Http404("no such purchase")
    return order


def own_purchase(*methods):
    """``panel_views.purchase_view`` for any purchase of the owner (refunded ones too)."""
    return purchase_view(*methods, lookup=_own_order)


def _back(request, order: Order):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = purchase_url(order)
    return redirect(target)


def purchase_url(order: Order) -> str:
    """The panel page of this purchase."""
    try:
        return reverse("panel-order", args=[order.public_id])
    except NoReverseMatch:
        return f"{notices.panel_url(absolute=False)}?order={order.public_id}"


@own_purchase("POST")
def upgrade(request, order):
    try:
        order = subscriptions.upgrade(order.pk)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request,
             f"Your purchase is now an annual subscription until {order.subscription_end:%d %B %Y}; "
             f"{format_amount(subscriptions.upgrade_cost(order), order.currency)} was charged to your card.")
    return _back(request, order)


@own_purchase("POST")
def cancel(request, order):
    try:
        order = subscriptions.cancel(order.pk)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request,
             f"The renewal is canceled: updates continue until {order.subscription_end:%d %B %Y}, "
             "and your last file stays downloadable after that.")
    return _back(request, order)


@own_purchase("POST")
def new_release_emails(request, order):
    on = request.POST.get("on") in ("1", "on", "true", "yes")
    try:
        subscriptions.set_new_release_emails(order.pk, on)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "We will email you each new release." if on
             else "We will no longer email you new releases.")
    return _back(request, order)


@own_purchase("GET", "POST")
def report(request, order):
    """GET: the report form on its own page; POST: file the report (400 with the reasons)."""
    if request.method == "GET":
        return _report_page(request, order, reports.ReportForm())
    too_big = int(request.META.get("CONTENT_LENGTH") or 0) > settings.REPORT_MAX_BYTES + UPLOAD_OVERHEAD
    if too_big:  # refuse before reading a huge body
        return _report_page(request, order, reports.ReportForm(), status=413, errors=[
            f"The upload is too large: a screenshot may be at most {filesizeformat(settings.REPORT_MAX_BYTES)}."])
    form = reports.ReportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            reports.create(order, form.cleaned_data["text"], form.cleaned_data["screenshot"])
        except reports.ReportError as exc:
            return _report_page(request, order, form, status=400, errors=[str(exc)])
        else:
            messages.success(request, "Thank you: we received your report and will answer by email.")
            return _back(request, order)
    return _report_page(request, order, form, status=400)


def _report_page(request, order, form, status=200, errors=()):
    return render(request, "portal/panel/extra/report.html",
                  {"order": order, "form": form, "report_max_bytes": filesizeformat(settings.REPORT_MAX_BYTES),
                   "back_url": purchase_url(order), "errors": list(errors)},
                  status=status)
