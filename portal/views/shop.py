"""Device pages, checkout, payment, the order page, the Stripe webhook and downloads."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cameras.coverage import Coverage
from cameras.exporting import latest_release, sizer
from cameras.models import Release
from exporters.base import ExportError
from exporters.devices import Device, get_device

from portal.services import fulfilment, links, naming, payments
from portal.forms import PurchaseForm, includes_france, mobile_offered
from portal.models import Order
from portal.services.packages import DEFAULT_OPTIONS, export_options, stored_package
from portal.views.common import owner_first
from portal.services.pricing import quote

log = logging.getLogger(__name__)
SESSION_ORDERS = "orders"


def _device(device_id: str) -> Device:
    """A device on sale (a withdrawn one resolves for its old orders only)."""
    try:
        device = get_device(device_id)
    except ExportError:
        raise Http404("no such device") from None
    if device.withdrawn:
        raise Http404("this device is no longer sold")
    return device


def _size(device: Device, release: Release | None, spec: dict):
    """The package size for the page (None when there is no release or it cannot be sized)."""
    if release is None:
        return None
    try:
        coverage = Coverage.parse(spec["coverage"])
        options = export_options(coverage, mobile=spec["mobile"], icons=spec["icons"],
                                 speed_unit=spec.get("speed_unit", "auto"),
                                 fr_zone_mode=spec.get("fr_zone_mode", "exact"))
        return sizer(release, device, options).size(coverage)
    except (ExportError, ValueError, NotImplementedError) as exc:
        log.warning("sizing %s failed: %s", device.id, exc)
        return None


def _france_context(form: PurchaseForm, device: Device) -> dict:
    """The coverage choices that include France, and whether the one shown does (the page
    shows the France choice only then)."""
    codes = form.france_codes()
    shown = form["coverage"].value() if "coverage" in form.fields else device.default_coverage
    return {"france_codes": codes, "shows_france": (shown or device.default_coverage) in codes}


def _device_context(device: Device, release: Release | None, form: PurchaseForm) -> dict:
    """What the device page shows (also when the checkout sends it back with errors). The
    size against the device's limit comes from size.json (fetched by the page): the first
    query of a release builds the size model, which must not hold up the page."""
    return {**_france_context(form, device), "device": device, "release": release, "form": form,
            "quote": quote(device, mobile=False),
            "mobile_quote": quote(device, mobile=True) if mobile_offered(device, release) else None,
            "mobile_extra": quote(device, mobile=True).line_display(-1),
            "exporter": device.exporter(), "update_months": settings.UPDATE_MONTHS}


@require_GET
def device_page(request, device_id):
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    form = PurchaseForm(device, release, require_email=False)
    return render(request, "portal/shop/device.html", _device_context(device, release, form))


@require_GET
def size_json(request, device_id):
    """The package size for the options in the query (the device page updates it live)."""
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    form = PurchaseForm(device, release, request.GET, require_email=False)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    spec = form.spec()
    size = _size(device, release, spec)
    if size is None:
        return JsonResponse({"error": "no release to size"}, status=404)
    return JsonResponse({"cameras": size.cameras, "pois": size.pois, **naming.size_texts(size),
                         "bytes": sum(f["bytes"] for f in size.files),
                         "fits": size.fits, "warnings": size.warnings, "max_pois": size.max_pois,
                         "price": quote(device, mobile=spec["mobile"]).display})


@require_GET
def checkout_page(request, device_id):
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    form = PurchaseForm(device, release, request.GET or None, require_email=False)
    if request.GET and not form.is_valid():
        return render(request, "portal/shop/device.html", _device_context(device, release, form), status=400)
    spec = form.spec() if request.GET else {**DEFAULT_OPTIONS, "coverage": [device.default_coverage],
                                            "france": includes_france(device.default_coverage)}
    size = _size(device, release, spec)
    return render(request, "portal/shop/checkout.html", {
        "device": device, "release": release, "spec": spec, "quote": quote(device, mobile=spec["mobile"]),
        "size": size, "stripe_js_url": settings.STRIPE_JS_URL, "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
        "start_url": reverse("shop-checkout-start", args=[device.id]),
        # prefilled for a customer adding a device from the panel
        "email": request.user.email if request.user.is_authenticated else request.GET.get("email", "")[:254],
    })


def _remember(request, order: Order) -> None:
    orders = request.session.get(SESSION_ORDERS, [])
    if str(order.public_id) not in orders:
        request.session[SESSION_ORDERS] = (orders + [str(order.public_id)])[-20:]


def _own_order(request, public_id) -> Order:
    """The order if this browser placed it, the logged-in customer owns it (or placed it with
    their address, before its payment made them its owner) or the request carries the key of
    the order's email link; 404 otherwise. A browser that came with the key remembers the
    order, so the page's status polling works without it."""
    order = Order.objects.filter(public_id=public_id).first()
    if order is None:
        raise Http404("no such order")
    mine = str(order.public_id) in request.session.get(SESSION_ORDERS, [])
    user = request.user
    owner = user.is_authenticated and (order.user_id == user.pk if order.user_id is not None
                                       else order.email.lower() == user.email.lower())
    if not (mine or owner):
        if not links.opens_order(order, request.GET.get("key", "")):
            raise Http404("no such order")
        _remember(request, order)
    return order


def order_view(*methods):
    """A view of one order: this browser's or the logged-in owner's (anyone else's or an
    unknown id -> 404, whatever the method), then the method (405)."""
    return owner_first(_own_order, *methods)


@require_POST
def checkout_start(request, device_id):
    """Create the order (amount from the server) and its SetupIntent; JSON for Stripe.js."""
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    if release is None:
        return JsonResponse({"errors": {"__all__": ["the camera database is not published yet"]}}, status=409)
    form = PurchaseForm(device, release, request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}},
                            status=400)
    spec = form.spec()
    price = quote(device, mobile=spec["mobile"])
    order = Order.objects.create(email=form.cleaned_data["email"].strip().lower(), device_id=device.id,
                                 mobile=spec["mobile"], icons=spec["icons"], coverage=spec["coverage"],
                                 speed_unit=spec["speed_unit"], fr_zone_mode=spec["fr_zone_mode"],
                                 amount=price.amount, currency=price.currency)
    _remember(request, order)
    try:
        client_secret = payments.start(order)
    except payments.PaymentError as exc:
        fulfilment.payment_failed(order.pk, str(exc))
        return JsonResponse({"errors": {"__all__": [str(exc)]}}, status=502)
    return JsonResponse({"order": str(order.public_id), "client_secret": client_secret, "amount": price.display,
                         "pay_url": reverse("shop-order-pay", args=[order.public_id]),
                         "order_url": reverse("shop-order", args=[order.public_id])})


@order_view("POST")
def order_pay(request, order):
    """Charge the card the browser saved; the browser finishes 3-D Secure if asked."""
    if order.status == Order.Status.PAID:
        return JsonResponse({"status": "succeeded", "next": reverse("shop-order", args=[order.public_id])})
    if order.status == Order.Status.REFUNDED:
        return JsonResponse({"status": "failed", "message": "this order was refunded"}, status=409)
    try:
        result = payments.charge(order)
    except payments.PaymentError as exc:
        return JsonResponse({"status": "failed", "message": str(exc)}, status=502)
    if result.status == "succeeded":
        fulfilment.payment_succeeded(order.pk)
    elif result.status == "failed":
        fulfilment.payment_failed(order.pk, result.message)
    return JsonResponse({"status": result.status, "client_secret": result.client_secret, "message": result.message,
                         "next": reverse("shop-order", args=[order.public_id])})


def _status(order: Order) -> dict:
    stored = stored_package(order) if order.status == Order.Status.PAID else None
    return {
        "status": order.status, "paid": order.status == Order.Status.PAID,
        "message": order.failure_message if order.status == Order.Status.FAILED else "",
        "file_ready": stored is not None,
        "download_url": links.download_url(order, stored.key) if stored else "",
        "filename": stored.filename if stored else "",
        "package_error": order.package_error,
        "emails_sent": sorted(order.emails.filter(sent_at__isnull=False).values_list("kind", flat=True)),
    }


def _refresh(order: Order) -> Order:
    """Ask Stripe about a payment the webhook has not confirmed yet (the success page may
    arrive first); fulfilment is idempotent, so both paths are safe."""
    if order.status in (Order.Status.PENDING, Order.Status.FAILED) and order.payment_intent:
        try:
            result = payments.payment_status(order)
        except payments.PaymentError:
            return order
        if result.status == "succeeded":
            return fulfilment.payment_succeeded(order.pk)
        if result.status == "failed" and order.status == Order.Status.PENDING:
            return fulfilment.payment_failed(order.pk, result.message)
    return order


@order_view("GET", "HEAD")
def order_page(request, order):
    order = _refresh(order)
    stored = stored_package(order) if order.status == Order.Status.PAID else None
    return render(request, "portal/shop/order.html", {"order": order, "device": get_device(order.device_id),
                                                 "state": _status(order), "cameras": stored.cameras if stored else None,
                                                 "status_url": reverse("shop-order-status", args=[order.public_id])})


@order_view("GET", "HEAD")
def order_status(request, order):
    order = _refresh(order)
    return JsonResponse(_status(order))


