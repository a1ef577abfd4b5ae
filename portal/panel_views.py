"""The customer panel: login (rate-limited), passwords, purchases with their latest file,
what changed, coverage setup and icons. Every purchase URL is filtered by owner: another
customer's order id is a 404, an anonymous visitor is sent to the login page."""

from __future__ import annotations

import functools
import logging
import unicodedata

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core import signing
from django.db.models import Prefetch
from django.http import (FileResponse, Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect,
                         JsonResponse)
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cameras.coverage import CoverageError
from exporters.base import ExportError
from exporters.devices import DEVICES, get_device

from . import panel
from .models import ErrorReport, Order, User
from .packages import download_filename, store_path
from .ratelimit import client_ip, login_limiters, minutes, reset_limiters, reset_token_limiter

log = logging.getLogger(__name__)

EXTRA_TEMPLATE = "portal/panel/extra/purchase.html"


def _order(request, public_id):
    order = panel.owned_order(request.user, public_id)
    if order is None:
        raise Http404("no such purchase")
    return order


def owner_first(lookup, *methods):
    """Decorate a view of one order: ``lookup(request, public_id)`` first (it raises 404
    for anyone else's or an unknown id, whatever the method, so the answer never depends on
    whether the id exists), then the method (405), then the view with the order."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, public_id, *args, **kwargs):
            order = lookup(request, public_id)
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, order, *args, **kwargs)

        return wrapper

    return decorate


def purchase_view(*methods, lookup=_order):
    """A view of one purchase: login first (anonymous -> the login page), then the owner
    (anyone else's or an unknown id -> 404, whatever the method), then the method (405).
    ``lookup`` finds the order (by default a paid one: ``panel.owned_order``)."""

    def decorate(view):
        return login_required(owner_first(lookup, *methods)(view))

    return decorate


# ---------------------------------------------------------------------------------------
# Login, logout, passwords


def _normal_email(value: str) -> str:
    """The address as the login form reads it (NFKC, like Django's UsernameField), trimmed
    and lower-cased: "ＬＥＡ@example.com " and "lea@example.com" are one address."""
    value = value or ""
    if len(value) <= 254:  # longer is refused by the form anyway (and NFKC on it is wasted)
        value = unicodedata.normalize("NFKC", value)
    return value.strip().lower()


def _login_key(value: str) -> str:
    """The failure counter of a login name: the account it reaches (the same lookup as the
    authentication backend, case-insensitive), so no spelling of an address gets a
    counter of its own; an address without an account counts by its normal form."""
    email = _normal_email(value)
    if not email or "\x00" in email or len(email) > 254:  # no account has such a name (nor may a query carry it)
        return email
    user_id = User.objects.filter(email__iexact=email).values_list("pk", flat=True).first()
    return f"user:{user_id}" if user_id is not None else email


class LoginView(auth_views.LoginView):
    """Django's login with a limit on failures per email and per client IP: past the limit
    every attempt (even with the right password) is refused until the window ends."""

    template_name = "portal/login.html"

    def _blocked_for(self, request) -> int:
        by_email, by_ip = login_limiters()
        email = _login_key(request.POST.get("username"))
        return max(by_email.blocked_for(email) if email else 0, by_ip.blocked_for(client_ip(request)))

    def _locked(self, form, seconds: int):
        form.errors.clear()
        context = self.get_context_data(form=form, locked_minutes=minutes(seconds))
        return self.render_to_response(context, status=429)

    def post(self, request, *args, **kwargs):
        seconds = self._blocked_for(request)
        if seconds:
            form = self.get_form_class()(request, data=None)
            return self._locked(form, seconds)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        by_email, by_ip = login_limiters()
        email = _login_key(self.request.POST.get("username"))
        if email:
            by_email.hit(email)
        by_ip.hit(client_ip(self.request))
        seconds = self._blocked_for(self.request)
        if seconds:
            return self._locked(form, seconds)
        left = min(by_email.remaining(email) if email else by_email.limit, by_ip.remaining(client_ip(self.request)))
        context = self.get_context_data(form=form, attempts_left=left if left <= 2 else None)
        return self.render_to_response(context)

    def form_valid(self, form):
        by_email, _by_ip = login_limiters()
        by_email.reset(f"user:{form.get_user().pk}")
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("window_minutes", minutes(settings.LOGIN_RATE_WINDOW))
        context["email"] = _normal_email(self.request.POST.get("username", self.request.GET.get("email", "")))
        return context


class AnyPasswordResetForm(PasswordResetForm):
    """Django's form, which also reaches accounts whose first password email has not gone
    out yet (their password is still unusable) so nobody is locked out of a purchase."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether the address has an account or not (no enumeration). Limits:
    per address (further requests send nothing, silently, so nobody's inbox can be
    flooded) and per client IP (then a 'too many requests' answer, the same for any
    address)."""

    template_name = "portal/panel/password_reset.html"
    form_class = AnyPasswordResetForm
    email_template_name = "portal/panel/password_reset_email.txt"
    html_email_template_name = "portal/panel/password_reset_email.html"
    subject_template_name = "portal/panel/password_reset_subject.txt"
    success_url = reverse_lazy("panel-password-reset-sent")

    def post(self, request, *args, **kwargs):
        _by_email, by_ip = reset_limiters()
        seconds = by_ip.blocked_for(client_ip(request))
        if seconds:
            return self.render_to_response(self.get_context_data(locked_minutes=minutes(seconds)), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        by_email, by_ip = reset_limiters()
        by_ip.hit(client_ip(self.request))
        email = _normal_email(form.cleaned_data["email"])
        if by_email.hit(email) > by_email.limit:
            return HttpResponseRedirect(self.get_success_url())  # the same answer; no email
        self.extra_email_context = {"site": settings.SITE_URL.rstrip("/"),
                                    "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset link check, with a limit on invalid links per client IP (someone
    guessing tokens): past it every link, even a valid one, answers 429 for the window."""

    template_name = "portal/panel/password_reset_confirm.html"
    post_reset_login = True
    success_url = reverse_lazy("panel-home")

    def dispatch(self, request, *args, **kwargs):
        limiter, ip = reset_token_limiter(), client_ip(request)
        seconds = limiter.blocked_for(ip)
        if seconds:
            return render(request, "portal/panel/password_reset.html",
                          {"form": AnyPasswordResetForm(), "locked_minutes": minutes(seconds)}, status=429)
        response = super().dispatch(request, *args, **kwargs)
        if not self.validlink:
            limiter.hit(ip)
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        by_email, _by_ip = login_limiters()
        by_email.reset(f"user:{form.user.pk}")  # a new password lifts a login block on the account
        messages.success(self.request, "Your new password is set, and you are logged in.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/panel/password_change.html"
    success_url = reverse_lazy("panel-home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password was changed.")
        return response


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
    state = panel.file_state(order)
    changes = None
    try:
        changes = panel.changes(order, state.compared_release)
    except Exception:  # noqa: BLE001 - a missing old snapshot must not take the panel down
        log.exception("order %s: what changed could not be computed", order.pk)
    coverage = panel.order_spec(order)[1]
    return {
        "orders": [{"order": o, "device": get_device(o.device_id)} for o in orders],
        "order": order, "device": device, "state": state, "updates": state.updates,
        "download_url": panel.download_url(order, state.file) if state.file else "",
        "changes": changes, "coverage_labels": coverage.labels(),
        "coverage_name": panel.describe_coverage(list(coverage.codes)),
        "editable_reason": panel.editable(order), "icon_sets": panel.ICON_SETS,
        "icon_note": "" if device.icon_swap else panel.icon_note(device),
        "france_in_coverage": "FR" in coverage.countries,
        "past_downloads": list(order.downloads.select_related("release").defer(panel.NO_CHANGELOG)[:20]),
        "has_extras": _has_extras(), "update_months": settings.UPDATE_MONTHS,
        "device_choices": _device_choices(), "refunded": _refunded(request.user),
    }


@never_cache
@login_required
@require_GET
def home(request):
    """The selector and the selected purchase (the newest, or ?order=<id>)."""
    orders = panel.purchases(request.user)
    wanted = request.GET.get("order")
    if wanted:
        try:
            order = _order(request, wanted)
        except Exception:  # a malformed id is a 404 too (ValidationError from the UUID field)
            raise Http404("no such purchase") from None
        return redirect("panel-order", order.public_id)
    if not orders:
        return render(request, "portal/panel/panel.html", {"orders": [], "order": None,
                                                           "device_choices": _device_choices(),
                                                           "refunded": _refunded(request.user),
                                                           "update_months": settings.UPDATE_MONTHS})
    return render(request, "portal/panel/panel.html", _panel_context(request, orders, orders[-1]))


@never_cache
@purchase_view("GET")
def order_detail(request, order):
    return render(request, "portal/panel/panel.html", _panel_context(request, panel.purchases(request.user), order))


@never_cache
@purchase_view("GET")
def order_status(request, order):
    """JSON for the page polling a build: is the latest file ready?"""
    state = panel.file_state(order)
    return JsonResponse({
        "ready": bool(state.file and state.current), "building": state.building, "error": state.error,
        "release": state.file.release.number if state.file else None,
        "filename": state.file.filename if state.file else "",
        "download_url": panel.download_url(order, state.file) if state.file else "",
        "updates_active": state.updates.active,
    })


@never_cache
@purchase_view("GET")
def download(request, order, token):
    """The file behind a signed, expiring panel link, for its owner only; each download is
    recorded (``Download``), with the release it was built from."""
    try:
        token_order, key, release_number = panel.read_download_token(token)
    except signing.SignatureExpired:
        messages.info(request, "That download link had expired; here is a fresh one.")
        return redirect("panel-order", order.public_id)
    except (signing.BadSignature, ValueError):
        raise Http404("no such download") from None
    if token_order != str(order.public_id):
        raise Http404("no such download")
    try:
        path = store_path(key)
    except ValueError:
        raise Http404("no such download") from None
    if not path.exists():
        messages.info(request, "That file is no longer stored; here is the current one.")
        return redirect("panel-order", order.public_id)
    panel.record_download(order, key, release_number)
    return FileResponse(open(path, "rb"), as_attachment=True,
                        filename=download_filename(order.device_id, release_number))


@never_cache
@purchase_view("GET")
def changes_map(request, order):
    state = panel.file_state(order, queue=False)
    current = state.compared_release
    if current is None:
        raise Http404("no release")
    png = panel.changes_map(order, current)
    if png is None:
        raise Http404("nothing to compare")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@purchase_view("POST")
def save_icons(request, order):
    try:
        panel.save_icons(order, request.POST.get("icons", ""))
    except panel.PanelError as exc:
        messages.error(request, str(exc))
        return redirect("panel-order", order.public_id)
    messages.success(request, "Icon set saved: your next download uses it.")
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
    release = panel.latest_release()
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
            panel.save_coverage(order, _codes(request))
        except (panel.PanelError, CoverageError) as exc:
            messages.error(request, str(exc))
            return redirect("panel-coverage", order.public_id)
        messages.success(request, "Coverage saved: your next download uses it.")
        return redirect("panel-order", order.public_id)
    release = panel.latest_release()
    coverage = panel.order_spec(order)[1]
    return render(request, "portal/panel/coverage.html", {
        "order": order, "device": device, "release": release, "choices": panel.coverage_choices(release),
        "selected": list(coverage.codes), "editable_reason": panel.editable(order),
        "coverage_name": panel.describe_coverage(list(coverage.codes)),
    })


def _coverage_json(request, order, make):
    device = get_device(order.device_id)
    if not device.coverage_setup:
        return JsonResponse({"error": f"{device.name} takes the default coverage only: {device.coverage_note}"},
                            status=409)
    release = _sizing_release(order)
    try:
        core = panel.parse_codes(_codes(request))
        return JsonResponse(make(order, core, release))
    except (CoverageError, ExportError, NotImplementedError) as exc:
        return JsonResponse({"error": panel.coverage_error(exc)}, status=400)


@never_cache
@purchase_view("GET")
def coverage_size(request, order):
    """The package size of the chosen countries and regions against the device's limits."""
    return _coverage_json(request, order, panel.coverage_size)


@never_cache
@purchase_view("GET")
def coverage_fit(request, order):
    """The largest coverage around the chosen one that fits the device (cameras.fitting)."""
    return _coverage_json(request, order, panel.coverage_fit)


@never_cache
@purchase_view("GET")
def coverage_map(request, order):
    """A small PNG of the chosen coverage."""
    from cameras.coverage_map import render_map
    from cameras.exporting import release_index

    release = _sizing_release(order)
    try:
        cov = panel.parse_codes(_codes(request))
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
        return redirect(reverse("home") + "#devices")
    return redirect(reverse("device", args=[device_id]) + "?" + urlencode({"email": request.user.email}))
