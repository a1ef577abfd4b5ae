"""The customer panel: purchases with their latest file, what changed, coverage setup and
icons, and the per-purchase actions (annual upgrade, cancel the renewal, new-release emails,
error reports). Every purchase URL is filtered by owner: another customer's order id is a
404, an anonymous visitor is sent to the login page."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.defaultfilters import filesizeformat
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cameras.coverage import CoverageError
from cameras.coverage.map import render_map
from cameras.exporting import latest_release, release_index
from exporters.base import ICON_SET_CHOICES, ExportError, ExportOptions
from exporters.devices import DEVICES, get_device
from portal.forms import coverage_choices, hard_limit_refusal
from portal.models import FR_ZONE_MODE_CHOICES, FR_ZONE_MODE_HELP, LABEL_MAX, SPEED_UNIT_CHOICES, ErrorReport, Order, User
from portal.lib.language import remember as language_cookie
from portal.services import l10n, links, purchases, reports, subscriptions
from portal.services.pricing import format_amount
from portal.views.common import order_of_user, purchase_view

log = logging.getLogger(__name__)

EXTRA_TEMPLATE = "portal/panel/purchase_extra.html"


# ---------------------------------------------------------------------------------------
# The panel


def _has_extras() -> bool:
    try:
        get_template(EXTRA_TEMPLATE)
        return True
    except TemplateDoesNotExist:
        return False


def _device_choices():
    return [(d.id, d.name) for d in DEVICES]


def _refunded(user) -> list[dict]:
    """Refunded purchases, read-only: their downloads are revoked, but the customer still
    sees what happened to them (the error reports' status and outcome)."""
    orders = (Order.objects.filter(user=user, status=Order.Status.REFUNDED).order_by("refunded_at")
              .prefetch_related(Prefetch("reports", queryset=ErrorReport.objects.defer("screenshot"))))
    return [{"order": o, "device": get_device(o.device_id), "reports": list(o.reports.all())} for o in orders]


def _panel_context(request, orders, order) -> dict:
    device = get_device(order.device_id)
    state = purchases.file_state(order)
    changes = None
    try:
        changes = purchases.changes(order, state.compared_release)
    except Exception:  # noqa: BLE001 - a missing old snapshot must not take the panel down
        log.exception("order %s: what changed could not be computed", order.pk)
    coverage = purchases.order_spec(order)[1]
    return {
        "orders": [{"order": o, "device": get_device(o.device_id)} for o in orders],
        "order": order, "device": device, "state": state, "updates": state.updates,
        "download_url": links.panel_url(order, state.file) if state.file else "",
        "changes": changes, "coverage_labels": coverage.labels(),
        "coverage_name": purchases.describe_coverage(list(coverage.codes)),
        "editable_reason": purchases.editable(order), "icon_sets": [(value, _(label)) for value, label in ICON_SET_CHOICES],
        "icon_note": "" if device.icon_swap else purchases.icon_note(device),
        "france_in_coverage": "FR" in coverage.countries,
        "speed_units": SPEED_UNIT_CHOICES, "fr_zone_modes": FR_ZONE_MODE_CHOICES, "fr_zone_help": FR_ZONE_MODE_HELP,
        "past_downloads": list(order.downloads.select_related("release").defer(purchases.NO_CHANGELOG)[:20]),
        "has_extras": _has_extras(), "update_months": settings.UPDATE_MONTHS, "label_max": LABEL_MAX,
        "device_choices": _device_choices(), "refunded": _refunded(request.user), "languages": settings.LANGUAGES,
    }


@never_cache
@login_required
@require_GET
def home(request):
    """The selector and the selected purchase (the newest, or ?order=<id>)."""
    orders = purchases.purchases(request.user)
    wanted = request.GET.get("order")
    if wanted:
        try:
            order = order_of_user(request, wanted)
        except Exception:  # a malformed id is a 404 too (ValidationError from the UUID field)
            raise Http404("no such purchase") from None
        return redirect("panel-order", order.public_id)
    if not orders:
        return render(request, "portal/panel/panel.html", {"orders": [], "order": None,
                                                           "device_choices": _device_choices(),
                                                           "refunded": _refunded(request.user),
                                                           "update_months": settings.UPDATE_MONTHS,
                                                           "languages": settings.LANGUAGES})
    return render(request, "portal/panel/panel.html", _panel_context(request, orders, orders[-1]))


@never_cache
@purchase_view("GET")
def order_detail(request, order):
    return render(request, "portal/panel/panel.html", _panel_context(request, purchases.purchases(request.user), order))


@never_cache
@purchase_view("GET")
def order_status(request, order):
    """JSON for the page polling a build: is the latest file ready?"""
    state = purchases.file_state(order)
    return JsonResponse({
        "ready": bool(state.file and state.current), "building": state.building, "error": state.error,
        "release": state.file.release.number if state.file else None,
        "filename": state.file.filename if state.file else "",
        "download_url": links.panel_url(order, state.file) if state.file else "",
        "updates_active": state.updates.active,
    })


@never_cache
@purchase_view("GET")
def changes_map(request, order):
    state = purchases.file_state(order, queue=False)
    current = state.compared_release
    if current is None:
        raise Http404("no release")
    png = purchases.changes_map(order, current)
    if png is None:
        raise Http404("nothing to compare")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@purchase_view("POST")
def save_icons(request, order):
    try:
        purchases.save_icons(order, request.POST.get("icons", ""))
    except purchases.PanelError as exc:
        messages.error(request, str(exc))
        return redirect("panel-order", order.public_id)
    messages.success(request, _("Icon set saved: your next download uses it."))
    return redirect("panel-order", order.public_id)


@purchase_view("POST")
def save_options(request, order):
    """The speed unit and the France mode (the next download is built with them)."""
    try:
        purchases.save_options(order, request.POST.get("speed_unit", ""),
                               request.POST.get("fr_zone_mode", order.fr_zone_mode))
    except purchases.PanelError as exc:
        messages.error(request, str(exc))
        return redirect("panel-order", order.public_id)
    messages.success(request, _("Options saved: your next download is built with them."))
    return redirect("panel-order", order.public_id)


# ---------------------------------------------------------------------------------------
# Coverage setup


def _codes(request) -> list[str]:
    source = request.POST if request.method == "POST" else request.GET
    codes = source.getlist("codes")
    if len(codes) == 1 and "," in codes[0]:
        codes = codes[0].split(",")
    return codes


def _sizing_release(order):
    release = latest_release(changelog=False, missing_ok=True)
    if release is None:
        raise Http404("the camera database is not published yet")
    return release


@never_cache
@purchase_view("GET", "POST")
def coverage(request, order):
    """The coverage tool (GET), or save the chosen coverage (POST)."""
    device = get_device(order.device_id)
    if request.method == "POST":
        try:
            refused = _over_hard_limit(order, device, _codes(request))
            if refused:
                messages.error(request, refused)
                return redirect("panel-coverage", order.public_id)
            purchases.save_coverage(order, _codes(request))
        except (purchases.PanelError, CoverageError) as exc:
            messages.error(request, str(exc))
            return redirect("panel-coverage", order.public_id)
        messages.success(request, _("Coverage saved: your next download uses it."))
        return redirect("panel-order", order.public_id)
    release = latest_release(changelog=False, missing_ok=True)
    coverage = purchases.order_spec(order)[1]
    return render(request, "portal/panel/coverage.html", {
        "order": order, "device": device, "release": release, "choices": coverage_choices(release),
        "selected": list(coverage.codes), "editable_reason": purchases.editable(order),
        "coverage_name": purchases.describe_coverage(list(coverage.codes)), "coverage_texts": _coverage_texts(),
    })


def _coverage_texts() -> dict:
    """The coverage page's script texts, in the page's language (the script fills in the
    %(name)s placeholders)."""
    return {
        "locale": translation.get_language() or settings.LANGUAGE_CODE,
        "choose": _("Choose at least one country or region."),
        "choose_first": _("Choose at least one country or region first."),
        "sizing": _("Sizing…"),
        "looking": _("Looking for the largest coverage that fits…"),
        # Translators: a file size in megabytes; the page formats the number
        "megabytes": _("%(size)s MB"),
        # Translators: the coverage's camera count ("1,234 cameras"), then its file size ("1.23 MB")
        "size": _("%(cameras)s, %(size)s"),
        # Translators: the coverage's size, then the device's limit ("5,000 POIs at most")
        "limit": _("%(text)s (%(limit)s)"),
        # Translators: the coverage's size, then the largest file the device takes
        "files_up_to": _("%(text)s (files up to %(size)s)"),
        # Translators: the coverage's size ("1,234 cameras, 1.23 MB")
        "fits": _("%(text)s: fits the device."),
        # Translators: the coverage's size, then why it is too large
        "over": _("%(text)s: over the device's limit: %(warnings)s"),
    }


def _over_hard_limit(order, device, codes: list[str]) -> str | None:
    """The shop's refusal (``forms.hard_limit_refusal``) of a coverage over the device's hard
    POI limit, sized with the purchase's options on the latest release."""
    if not device.coverage_setup or not (device.max_pois and device.max_pois.hard):
        return None
    coverage = purchases.parse_codes(codes)
    options = ExportOptions(mobile=order.mobile, icons=order.icons, speed_unit=order.speed_unit,
                            fr_danger_zones=order.fr_zone_mode == "legal", language=order.customer_language)
    return hard_limit_refusal(device, latest_release(changelog=False, missing_ok=True), coverage, options)


def _coverage_json(request, order, make):
    device = get_device(order.device_id)
    if not device.coverage_setup:
        return JsonResponse({"error": _("%(device)s takes the default coverage only: %(note)s")
                                      % {"device": device.name, "note": device.coverage_note}}, status=409)
    release = _sizing_release(order)
    try:
        core = purchases.parse_codes(_codes(request))
        return JsonResponse(make(order, core, release))
    except (CoverageError, ExportError, NotImplementedError) as exc:
        return JsonResponse({"error": purchases.coverage_error(exc)}, status=400)


@never_cache
@purchase_view("GET")
def coverage_size(request, order):
    """The package size of the chosen countries and regions against the device's limits."""
    return _coverage_json(request, order, purchases.coverage_size)


@never_cache
@purchase_view("GET")
def coverage_fit(request, order):
    """The largest coverage around the chosen one that fits the device (cameras.coverage.fitting)."""
    return _coverage_json(request, order, purchases.coverage_fit)


@never_cache
@purchase_view("GET")
def coverage_map(request, order):
    """A small PNG of the chosen coverage."""
    release = _sizing_release(order)
    try:
        cov = purchases.parse_codes(_codes(request))
    except CoverageError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    png = render_map(release_index(release), cov, width=480, height=300)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
@require_GET
def add_device(request):
    """To the shop's page of another device, with the customer's email for the checkout."""
    from urllib.parse import urlencode

    device_id = request.GET.get("device", "")
    try:
        get_device(device_id)
    except ExportError:
        return redirect(reverse("home-page") + "#devices")
    return redirect(reverse("shop-device", args=[device_id]) + "?" + urlencode({"email": request.user.email}))


# ---------------------------------------------------------------------------------------
# Per-purchase actions: annual upgrade, cancel the renewal, new-release emails, error reports

def _own_order(request, public_id) -> Order:
    order = Order.objects.filter(public_id=public_id, user=request.user).select_related("release").first()
    if order is None:
        raise Http404("no such purchase")
    return order


def own_purchase(*methods):
    """``views.common.purchase_view`` for any purchase of the owner (refunded ones too)."""
    return purchase_view(*methods, lookup=_own_order)


def _back(request, order: Order):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = purchase_url(order)
    return redirect(target)


def purchase_url(order: Order) -> str:
    """The panel page of this purchase."""
    return reverse("panel-order", args=[order.public_id])


@own_purchase("POST")
def upgrade(request, order):
    try:
        order = subscriptions.upgrade(order.pk)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request,
             _("Your purchase is now an annual subscription until %(date)s; %(amount)s was charged to your card.")
             % {"date": l10n.date(order.subscription_end),
                "amount": format_amount(subscriptions.upgrade_cost(order), order.currency)})
    return _back(request, order)


@own_purchase("POST")
def cancel(request, order):
    try:
        order = subscriptions.cancel(order.pk)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request,
             _("The renewal is canceled: updates continue until %(date)s, "
               "and your last file stays downloadable after that.") % {"date": l10n.date(order.subscription_end)})
    return _back(request, order)


@own_purchase("POST")
def new_release_emails(request, order):
    on = request.POST.get("on") in ("1", "on", "true", "yes")
    try:
        subscriptions.set_new_release_emails(order.pk, on)
    except subscriptions.SubscriptionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("We will email you each new release.") if on
             else _("We will no longer email you new releases."))
    return _back(request, order)


@own_purchase("GET", "POST")
def report(request, order):
    """GET: the report form on its own page; POST: file the report (400 with the reasons)."""
    if request.method == "GET":
        return _report_page(request, order, reports.ReportForm())
    # A screenshot over REPORT_MAX_BYTES is refused by the form, with the customer's text kept
    # on the re-shown page; the body itself is capped by RequestSizeLimitMiddleware
    # (REQUEST_SIZE_LIMITS), and the page checks the file's size before sending it.
    form = reports.ReportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            reports.create(order, form.cleaned_data["text"], form.cleaned_data["screenshot"])
        except reports.ReportError as exc:
            return _report_page(request, order, form, status=400, errors=[str(exc)])
        else:
            messages.success(request, _("Thank you: we received your report and will answer by email."))
            return _back(request, order)
    return _report_page(request, order, form, status=400)


def _report_page(request, order, form, status=200, errors=()):
    limit = filesizeformat(settings.REPORT_MAX_BYTES)
    return render(request, "portal/panel/report.html",
                  {"order": order, "form": form, "report_max_bytes": limit,
                   "report_max_size": settings.REPORT_MAX_BYTES,
                   # the page's script puts the chosen file's size in %(size)s
                   "too_large": _("The screenshot is %(size)s; the limit is %(limit)s. Please choose a smaller "
                                  "image, or remove it: your text is kept.") % {"size": "%(size)s", "limit": limit},
                   # Translators: a file size in megabytes; the page formats the number
                   "megabytes": _("%(size)s MB"), "locale": translation.get_language() or settings.LANGUAGE_CODE,
                   "back_url": purchase_url(order), "errors": list(errors)},
                  status=status)


# ---------------------------------------------------------------------------------------
# The account's language (its emails, INSTALL.txt, invoices; and the pages once chosen)


@login_required
@require_POST
def save_language(request):
    """Store the language chosen in the panel on the account, and show the panel in it
    (the language cookie too, so unprefixed pages follow the choice)."""
    code = request.POST.get("language", "")
    names = dict(settings.LANGUAGES)
    if code not in names:
        return HttpResponseBadRequest(_("Unknown language."), content_type="text/plain; charset=utf-8")
    User.objects.filter(pk=request.user.pk).update(language=code)
    request.user.language = code
    with translation.override(code):
        messages.success(request, _("Your emails and files are now in %(language)s.") % {"language": names[code]})
        target = reverse("panel-home")
    return language_cookie(redirect(target), code)
