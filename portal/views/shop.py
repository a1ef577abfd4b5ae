"""Device pages, checkout, payment, the order page, the Stripe webhook and downloads."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cameras.coverage import Coverage
from cameras.exporting import latest_release, sizer
from cameras.models import Release
from exporters.base import ExportError
from exporters.devices import Device, get_device

from portal.services import fulfilment, legal_notes, links, naming, payments
from portal.forms import VAT_NOTE, BillingForm, PurchaseForm, includes_france, mobile_offered
from portal.models import EmailRecord, Order
from portal.services.packages import DEFAULT_OPTIONS, export_options, stored_package
from portal.views.common import owner_first
from portal.services.entitlement import add_months
from portal.services.pricing import device_annual_price, format_amount, quote

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


def _legal_context(form: PurchaseForm, device: Device) -> dict:
    """The legal notes of every coverage choice, and of the one shown (``legal_notes``)."""
    codes = [c for c, _ in form.fields["coverage"].choices] if "coverage" in form.fields else [device.default_coverage]
    chosen = (form["coverage"].value() if "coverage" in form.fields else None) or device.default_coverage
    return legal_notes.page_context(codes, chosen)


def _device_context(device: Device, release: Release | None, form: PurchaseForm) -> dict:
    """What the device page shows (also when the checkout sends it back with errors). The
    size against the device's limit comes from size.json (fetched by the page): the first
    query of a release builds the size model, which must not hold up the page."""
    return {**_france_context(form, device), **_legal_context(form, device), "device": device, "release": release,
            "form": form, "size": None,
            "quote": quote(device, mobile=False),
            "mobile_quote": quote(device, mobile=True) if mobile_offered(device, release) else None,
            "mobile_extra": quote(device, mobile=True).line_display(-1),
            "exporter": device.exporter(), "update_months": settings.UPDATE_MONTHS,
            "one_time_until": add_months(timezone.now(), settings.UPDATE_MONTHS), "upgrade_days": settings.UPGRADE_DAYS,
            "annual_price": format_amount(device_annual_price(device, mobile=False), settings.SHOP_CURRENCY)}


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
        return JsonResponse({"error": _("no release to size")}, status=404)
    return JsonResponse({"cameras": size.cameras, "pois": size.pois, **naming.size_texts(size),
                         "bytes": sum(f["bytes"] for f in size.files),
                         "fits": size.fits, "warnings": size.warnings, "max_pois": size.max_pois,
                         "price": quote(device, mobile=spec["mobile"]).display})


def _checkout_key(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


@never_cache  # Back and reload ask the server again: a paid checkout must say so
@require_GET
def checkout_page(request, device_id):
    """The checkout: one page, one key (``checkout`` in the URL, put there by the page's
    script), one payment. Back or a reload after paying shows the payment and a link to the
    order instead of a card form."""
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    params = request.GET.copy()
    key = _checkout_key(params.pop("checkout", [None])[-1])
    form = PurchaseForm(device, release, params or None, require_email=False)
    if params and not form.is_valid():
        return render(request, "portal/shop/device.html", _device_context(device, release, form), status=400)
    order = Order.objects.filter(checkout=key).first() if key else None
    if order is not None and not _mine(request, order):
        order = None      # someone else's checkout link: a fresh checkout
    if order is None and (key is None or Order.objects.filter(checkout=key).exists()):
        key = uuid.uuid4()
    spec = form.spec() if params else {**DEFAULT_OPTIONS, "coverage": [device.default_coverage],
                                       "france": includes_france(device.default_coverage)}
    paid = order is not None and order.status in (Order.Status.PAID, Order.Status.REFUNDED)
    size = None if paid else _size(device, release, spec)
    return render(request, "portal/shop/checkout.html", {
        "device": device, "release": release, "spec": spec, "quote": quote(device, mobile=spec["mobile"]),
        "size": size, "stripe_js_url": settings.STRIPE_JS_URL, "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
        "start_url": reverse("shop-checkout-start", args=[device.id]), "checkout": key,
        "paid_order": order if paid else None, "customer": _customer_kind(request, order),
        "billing": BillingForm(request), "vat_note": VAT_NOTE,
        "legal_required": legal_notes.required(spec["coverage"][0]), "legal_ack_label": _(str(legal_notes.ACK_LABEL)),
        "checkout_texts": checkout_texts(),
        # prefilled for a customer adding a device from the panel
        "email": request.user.email if request.user.is_authenticated else request.GET.get("email", "")[:254],
    })


def checkout_texts() -> dict:
    """What the checkout page's script writes, in the page's language (%(reason)s: the
    reason the server or the bank gave)."""
    return {
        "failed": _("Payment failed: %(reason)s. Nothing was charged."),
        "declined": _("your bank declined the card"),
        "see_order": _("See your order"),
        "card_not_read": _("The card was not read: check it and pay again."),
        "not_sent": _("The payment could not be sent: check your connection and pay again."),
    }


def _customer_kind(request, order: Order | None = None) -> str:
    """"existing" for a signed-in customer or an order whose account existed before it was
    paid (no new login is emailed to them), else "new"."""
    if order is not None and order.user_id is not None:
        return "new" if order.emails.filter(kind=EmailRecord.Kind.ACCOUNT).exists() else "existing"
    return "existing" if request.user.is_authenticated else "new"


def _remember(request, order: Order) -> None:
    orders = request.session.get(SESSION_ORDERS, [])
    if str(order.public_id) not in orders:
        request.session[SESSION_ORDERS] = (orders + [str(order.public_id)])[-20:]


def _mine(request, order: Order) -> bool:
    """This browser placed the order, or the logged-in customer owns it."""
    placed = str(order.public_id) in request.session.get(SESSION_ORDERS, [])
    return placed or (request.user.is_authenticated and order.user_id == request.user.pk)


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


def _already_paid(order: Order) -> JsonResponse:
    order_url = reverse("shop-order", args=[order.public_id])
    return JsonResponse({"paid": True, "order_url": order_url,
                         "message": _("This checkout is already paid. Nothing more was charged.")}, status=409)


def _checkout_order(checkout: uuid.UUID, fields: dict) -> tuple[Order, bool]:
    """The checkout's order, made by its first Pay (two at once: one order)."""
    order = Order.objects.filter(checkout=checkout).first()
    if order is not None:
        return order, False
    try:
        with transaction.atomic():
            # the language of the page it was bought on: its emails and INSTALL.txt (Order.language)
            fields.setdefault("language", translation.get_language() or "en")
            return Order.objects.create(checkout=checkout, **fields), True
    except IntegrityError:
        return Order.objects.get(checkout=checkout), False


@require_POST
def checkout_start(request, device_id):
    """Pay on a checkout page: its order (made once per checkout, amount from the server),
    the card the browser tokenised saved on it; JSON for Stripe.js. A checkout already paid
    answers 409 with the link to its order, and charges nothing."""
    device = _device(device_id)
    release = latest_release(changelog=False, missing_ok=True)
    if release is None:
        return JsonResponse({"errors": {"__all__": [_("the camera database is not published yet")]}}, status=409)
    form, billing = PurchaseForm(device, release, request.POST), BillingForm(request, request.POST)
    if not (form.is_valid() & billing.is_valid()):
        errors = {**form.errors.get_json_data(), **billing.errors.get_json_data()}
        return JsonResponse({"errors": {k: [e["message"] for e in v] for k, v in errors.items()}}, status=400)
    checkout = _checkout_key(request.POST.get("checkout"))
    if checkout is None:
        return JsonResponse({"errors": {"__all__": [_("this checkout page is out of date: reload it, then pay")]}},
                            status=400)
    spec = form.spec()
    price = quote(device, mobile=spec["mobile"])
    fields = dict(email=form.cleaned_data["email"].strip().lower(), device_id=device.id, mobile=spec["mobile"],
                  icons=spec["icons"], coverage=spec["coverage"], speed_unit=spec["speed_unit"],
                  fr_zone_mode=spec["fr_zone_mode"], legal_ack=spec["legal_ack"], amount=price.amount, currency=price.currency,
                  billing_country=billing.cleaned_data["billing_country"], ip_country=billing.ip_country)
    order, created = _checkout_order(checkout, fields)
    if not created:
        if not _mine(request, order):
            raise Http404("no such checkout")
        try:
            why = payments.reopen(order)
        except payments.PaymentError as exc:
            return JsonResponse({"errors": {"__all__": [str(exc)]}}, status=502)
        if why == "paid":
            return _already_paid(order)
        if why == "processing":
            return JsonResponse({"paid": False, "order_url": reverse("shop-order", args=[order.public_id]),
                                 "message": _("The payment of this checkout is being confirmed.")}, status=409)
        # a new attempt on the same page: what the page says now (the email may be corrected)
        Order.objects.filter(pk=order.pk, status=Order.Status.PENDING).update(**fields)
        order.refresh_from_db()
    _remember(request, order)
    try:
        payments.save_card(order, request.POST.get("token", ""))
    except payments.PaymentError as exc:
        fulfilment.payment_failed(order.pk, str(exc))
        return JsonResponse({"errors": {"__all__": [
            _("Payment failed: %(reason)s. Nothing was charged.") % {"reason": exc}]}}, status=402)
    return JsonResponse({"order": str(order.public_id), "amount": price.display,
                         "pay_url": reverse("shop-order-pay", args=[order.public_id]),
                         "order_url": reverse("shop-order", args=[order.public_id])})


@order_view("POST")
def order_pay(request, order):
    """Charge the card saved at checkout, once (``payments.charge``); the browser finishes
    3-D Secure if asked, then asks again for the outcome."""
    if order.status == Order.Status.PAID:
        return JsonResponse({"status": "succeeded", "next": reverse("shop-order", args=[order.public_id])})
    if order.status == Order.Status.REFUNDED:
        return JsonResponse({"status": "failed", "message": _("this order was refunded")}, status=409)
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
                                                 "state": _status(order), "customer": _customer_kind(request, order),
                                                 "cameras": stored.cameras if stored else None,
                                                 "status_url": reverse("shop-order-status", args=[order.public_id])})


@order_view("GET", "HEAD")
def order_status(request, order):
    order = _refresh(order)
    return JsonResponse(_status(order))


