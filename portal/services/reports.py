"""Error reports: a customer reports a device error for a purchase (text, optional PNG/JPEG
screenshot); staff repackage the file or refund the purchase, and the customer sees the
status and outcome in the panel and gets an email.

Outcomes and their email (each once per report, keyed by the report id):
- repackage: the package is taken out of the store and rebuilt (same release, device,
  coverage and options), then the new file is emailed: REPACKAGED (carries the outcome);
- refund: ``fulfilment.refund`` (a Stripe refund; the order's downloads are revoked), and an
  annual subscription is ended with its upgrade payment refunded: REPORT_OUTCOME;
- close (no action, e.g. answered otherwise): REPORT_OUTCOME."""

from __future__ import annotations

import io
import logging
import warnings

from django import forms
from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _, gettext_lazy, gettext_noop, ngettext

from cameras.storage import get_store

from portal.services import emails, fulfilment, invoices, l10n, packages, payments
from portal.services import queue
from portal.models import EmailRecord, ErrorReport, Order

log = logging.getLogger(__name__)

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
# stored on the report in the customer's language when staff leave the outcome empty (``_resolve``)
DEFAULT_OUTCOMES = {
    ErrorReport.Status.REPACKAGED: gettext_noop(
        "We rebuilt your file; the new file is attached to our email and in your panel."),
    ErrorReport.Status.REFUNDED: gettext_noop("We refunded your purchase in full; the file can no longer be downloaded."),
    ErrorReport.Status.CLOSED: gettext_noop("We looked into your report and closed it."),
}
NOT_PNG_OR_JPEG = gettext_noop("The screenshot must be a PNG or JPEG image; this file is not one.")


class ReportError(Exception):
    """A refused staff action; the message says why."""


class ScreenshotTooLarge(Exception):
    """A screenshot whose pixel count is over REPORT_MAX_PIXELS (a decompression bomb)."""


def sniff_image(data: bytes) -> str:
    """The MIME type of a PNG or JPEG judged by its content (magic bytes, then Pillow
    parsing the file); raises ValueError for anything else, whatever its name says."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        expected = "PNG"
    elif data.startswith(b"\xff\xd8\xff"):
        expected = "JPEG"
    else:
        raise ValueError(_(NOT_PNG_OR_JPEG))
    from PIL import Image

    max_pixels = settings.REPORT_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels; the limit below is ours and lower
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                fmt = image.format
                width, height = image.size
                if width * height > max_pixels:  # refused before any pixel is decoded
                    raise ScreenshotTooLarge(
                        _("The screenshot is %(width)s × %(height)s pixels (%(megapixels)s megapixels); "
                          "the limit is %(limit)s megapixels. Please send a smaller image.")
                        % {"width": l10n.number(width), "height": l10n.number(height),
                           "megapixels": l10n.number(round(width * height / 1e6)),
                           "limit": l10n.number(round(max_pixels / 1e6))})
                image.verify()
    except ScreenshotTooLarge as exc:
        raise ValueError(str(exc)) from None
    except Image.DecompressionBombError:  # so large that Pillow refuses even to open it
        raise ValueError(_("The screenshot could not be read as an image: it has far more than "
                           "%(limit)s megapixels. Please send a smaller image.")
                         % {"limit": l10n.number(round(max_pixels / 1e6))}) from None
    except Exception:  # noqa: BLE001  (Pillow raises many kinds for a damaged file)
        raise ValueError(_("The screenshot could not be read as an image; it may be damaged.")) from None
    if fmt != expected:
        raise ValueError(_(NOT_PNG_OR_JPEG))
    return IMAGE_TYPES[fmt]


class ReportForm(forms.Form):
    """The customer's report: text (required, at most REPORT_MAX_CHARS), optional screenshot."""

    screenshot = forms.FileField(label=gettext_lazy("Screenshot (PNG or JPEG, optional)"), required=False,
                                 widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.REPORT_MAX_CHARS
        self.fields = {"text": forms.CharField(
            label=_("What went wrong"), max_length=limit, widget=forms.Textarea(attrs={"rows": 4}),
            error_messages={"required": _("Please describe the error."),
                            # Django fills in limit_value and show_value
                            "max_length": ngettext("Please keep the description under %(limit_value)d character "
                                                   "(it has %(show_value)d).",
                                                   "Please keep the description under %(limit_value)d characters "
                                                   "(it has %(show_value)d).", limit)}),
            "screenshot": self.fields["screenshot"]}

    def clean_screenshot(self):
        upload = self.cleaned_data.get("screenshot")
        if not upload:
            return None
        limit = settings.REPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(_("The screenshot is %(size)s; the limit is %(limit)s. Please send a "
                                          "smaller image.") % {"size": filesizeformat(upload.size),
                                                               "limit": filesizeformat(limit)})
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise forms.ValidationError(_("The screenshot is larger than %(limit)s.") % {"limit": filesizeformat(limit)})
        try:
            mime = sniff_image(data)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data, mime


def create(order: Order, text: str, screenshot: tuple[bytes, str] | None = None) -> ErrorReport:
    if order.status != Order.Status.PAID:
        raise ReportError(_("Only a paid purchase can be reported."))
    if order.reports.filter(status=ErrorReport.Status.OPEN).count() >= settings.REPORT_MAX_OPEN:
        raise ReportError(ngettext("This purchase already has %(count)s open report; we will answer it first.",
                                   "This purchase already has %(count)s open reports; we will answer them first.",
                                   settings.REPORT_MAX_OPEN) % {"count": settings.REPORT_MAX_OPEN})
    data, mime = screenshot if screenshot else (None, "")
    return ErrorReport.objects.create(order=order, text=text, screenshot=data, screenshot_type=mime)


def _resolve(report_id: int, status: str, outcome: str = "") -> ErrorReport:
    report = ErrorReport.objects.select_for_update().select_related("order").get(pk=report_id)
    if report.status != ErrorReport.Status.OPEN:
        raise ReportError(f"report {report.pk} is already {report.get_status_display()}")
    report.status = status
    if not (outcome or report.outcome):
        with translation.override(report.order.customer_language):  # the panel and the email show it
            outcome = _(DEFAULT_OUTCOMES[status])
    report.outcome = (outcome or report.outcome).strip()
    report.resolved_at = timezone.now()
    report.save(update_fields=["status", "outcome", "resolved_at"])
    return report


def repackage(report_id: int, outcome: str = "") -> ErrorReport:
    """Staff: rebuild the order's package and email the new file (in a worker)."""
    with transaction.atomic():
        report = _resolve(report_id, ErrorReport.Status.REPACKAGED, outcome)
        if not report.order.is_paid:
            raise ReportError(f"order {report.order.public_id} is {report.order.get_status_display()}")
        queue.rebuild_and_send(report.pk)
    return report


def refund(report_id: int, outcome: str = "") -> ErrorReport:
    """Staff: refund the purchase through Stripe (downloads revoked); a subscription ends now
    and its upgrade payment is refunded too. Then email the outcome."""
    report = ErrorReport.objects.select_related("order").get(pk=report_id)
    if report.status != ErrorReport.Status.OPEN:
        raise ReportError(f"report {report.pk} is already {report.get_status_display()}")
    order = report.order
    try:
        fulfilment.refund(order.pk)  # a second call (a retried action) finds it refunded
        if order.subscription_id and order.subscription_status != "ended":
            if payments.end_subscription(order.subscription_id, refund_last_payment=True):
                invoices.credit_latest_subscription_payment(order)
            Order.objects.filter(pk=order.pk).update(subscription_status="ended", subscription_end=timezone.now())
    except (payments.PaymentError, ValueError) as exc:
        raise ReportError(str(exc)) from exc
    with transaction.atomic():
        report = _resolve(report_id, ErrorReport.Status.REFUNDED, outcome)
        queue.order_email(order.pk, EmailRecord.Kind.REPORT_OUTCOME, report.pk)
    return report


def close(report_id: int, outcome: str = "") -> ErrorReport:
    with transaction.atomic():
        report = _resolve(report_id, ErrorReport.Status.CLOSED, outcome)
        queue.order_email(report.order_id, EmailRecord.Kind.REPORT_OUTCOME, report.pk)
    return report


def rebuild(order: Order) -> packages.StoredPackage:
    """Take the order's package out of the store and build it again (same release and
    spec). The old file is set aside, and put back if the build fails."""
    device, coverage, options = packages.order_spec(order)
    store = get_store()
    aside = None
    if order.package_key:
        name = packages.store_name(order.package_key)
        if store.exists(name):
            folder, _, file = name.rpartition("/")
            aside = f"{folder}/.repackaged-{file}"
            store.rename(name, aside)
    try:
        stored = packages.ensure_package(device, coverage, options, release=order.release)
    except BaseException:
        if aside is not None and not packages.is_stored(order.package_key):
            store.rename(aside, packages.store_name(order.package_key))
        raise
    if aside is not None:
        store.delete(aside)
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(package_key=stored.key, release=stored.release,
                                                 package_bytes=stored.size, package_error="")
    return stored


def rebuild_and_send(report_id: int) -> bool:
    """Rebuild the reported purchase's package (unless a retry finds it rebuilt) and email it,
    once per report; True when the email went out now. SMTP errors propagate."""
    report = ErrorReport.objects.select_related("order", "order__release").get(pk=report_id)
    order = report.order
    if not order.is_paid or emails.was_sent(order.pk, EmailRecord.Kind.REPACKAGED, report.pk):
        return False
    stored = packages.stored_package(order)
    if stored is None or stored.modified() < report.resolved_at.timestamp():
        rebuild(order)  # not when a retry (after an SMTP failure) finds the file rebuilt already
    return emails.send(order.pk, EmailRecord.Kind.REPACKAGED, report.pk)
