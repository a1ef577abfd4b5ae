"""Order emails: one sender, ``send(order_id, kind, key="")``, each email sent at most once
(one ``EmailRecord`` per order, kind and key), built in the worker by ``tasks.send_order_email``.

Two kinds of records, one sender:

- Delivery emails (FILE, ACCOUNT, DEVICE_ADDED, key ""): their records are made at
  fulfilment and swept by ``tasks.build_order_package`` (and ``services.recovery``) once the
  package exists. ``send`` locks the record, not the order row, so the panel and the worker
  can update the order while a message is on its way.
- Keyed emails (KEYED: NEW_RELEASE, key: the release number;
  RENEWAL_REMINDER, the period's end date; STALE_FILE, the number of the file's release;
  REPACKAGED and REPORT_OUTCOME, the report id): the record is created by ``send`` itself, with
  the order row locked, in the transaction that sends the message. A failed SMTP attempt leaves
  nothing behind (the task retries, or the next reminders run does), and no other code path
  ever sees such a record unsent and sends it without its context (the key names a report, a
  release, a date).

Either way the record is marked sent in the transaction that sent the message, under a row
lock: two workers running the same task send it once. The account email sets a fresh random
password in that same transaction: if SMTP fails, nothing is kept and the retry makes a new
one, so the password that works is the one in the email that went out.

- The receipt (RECEIPT, key: the invoice number): its record is made with the invoice
  (``services.invoices``), in the transaction that issues it, and sent like a delivery
  email (the purchase's by the package build's sweep, the others queued at once).

Templates are subject / text / HTML triples under templates/portal/email/<kind>_*. The file
emails attach the package when it is at most EMAIL_ATTACHMENT_MAX_BYTES, and always give a
signed download link."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from cameras.exporting import latest_release
from cameras.models import Release
from exporters.devices import get_device

from portal.models import EmailRecord, ErrorReport, Invoice, Order
from portal.services import entitlement, invoice_pdf, links, naming
from portal.services.packages import stored_package
from portal.services.pricing import annual_price, format_amount

Kind = EmailRecord.Kind
DELIVERY = {Kind.FILE, Kind.ACCOUNT, Kind.DEVICE_ADDED}
KEYED = {Kind.NEW_RELEASE, Kind.RENEWAL_REMINDER, Kind.STALE_FILE, Kind.REPACKAGED, Kind.REPORT_OUTCOME}


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits


def panel_url(absolute: bool = True) -> str:
    """The customer panel's home page."""
    path = reverse("panel-home")
    return settings.SITE_URL.rstrip("/") + path if absolute else path


def was_sent(order_id: int, kind: str, key) -> bool:
    return EmailRecord.objects.filter(order_id=order_id, kind=kind, key=str(key), sent_at__isnull=False).exists()


def sent_keys(kind: str, orders) -> set[tuple[int, str]]:
    """(order id, key) of every ``kind`` email sent to ``orders`` (a queryset, read as a
    subquery): one query for a periodic job's candidates instead of ``was_sent`` per order."""
    return set(EmailRecord.objects.filter(kind=kind, order__in=orders, sent_at__isnull=False)
               .values_list("order_id", "key"))


def message(order: Order, kind: str, context: dict, attachment=None) -> EmailMultiAlternatives:
    base = f"portal/email/{kind.replace('-', '_')}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    msg = EmailMultiAlternatives(subject, render_to_string(f"{base}_body.txt", context),
                                 settings.DEFAULT_FROM_EMAIL, [order.email])
    msg.attach_alternative(render_to_string(f"{base}_body.html", context), "text/html")
    if attachment is not None:
        msg.attach(*attachment)
    return msg


# --------------------------------------------------------------------------- what each email says


def _file_context(order: Order) -> tuple[dict, tuple | None]:
    """The order's file: a signed link, and the attachment when it is small enough. A file
    that cannot be read raises OSError (not a temporary error: the task does not retry it)."""
    stored = stored_package(order)
    if stored is None:
        return {}, None
    attached = stored.size <= settings.EMAIL_ATTACHMENT_MAX_BYTES
    context = {"download_url": links.download_url(order, stored.key, absolute=True), "filename": stored.filename,
               "cameras": stored.cameras,
               "size": stored.size, "file_release": stored.release, "attached": attached,
               "link_days": settings.DOWNLOAD_LINK_MAX_AGE // 86400}
    return context, ((stored.filename, stored.read_bytes(), "application/zip") if attached else None)


def _receipt_context(order: Order, number: str) -> dict:
    """A receipt: the invoice (or credit note) ``number`` of the order, its lines and totals."""
    invoice = Invoice.objects.select_related("credited").get(number=number, order=order)
    cur = invoice.currency
    return {"invoice": invoice, "total": format_amount(invoice.gross, cur), "refund": format_amount(-invoice.gross, cur),
            "net": format_amount(invoice.net, cur),
            "vat": format_amount(invoice.vat, cur), "rate": invoice_pdf.rate_text(invoice.vat_rate),
            "vat_note": invoice_pdf.vat_note(invoice),
            "lines": [{"description": line["description"], "amount": format_amount(line["amount"], cur)}
                      for line in invoice.lines]}


def _file_summary(order: Order, context: dict, cameras) -> str:
    """"My car, order 3F2A9C1B: France, 1,234 cameras": which purchase a file is (the new-release email)."""
    parts = [order.label] if order.label else []
    parts.append(gettext("order %(number)s: %(coverage)s") % {"number": context["order_number"],
                                                                 "coverage": context["coverage_name"]})
    if cameras is not None:
        parts.append(naming.cameras(cameras))
    return ", ".join(parts)


def _context(order: Order, kind: str, key: str) -> tuple[dict, tuple | None]:
    # The paths the customer used so far: the login page in the delivery emails, the panel in the others.
    site = settings.SITE_URL.rstrip("/")
    context = {"order": order, "device": get_device(order.device_id), "site": site,
               "shop_url": site + reverse("home-page"),  # the shop's home in the customer's language
               "panel_url": site + reverse("accounts-login") if kind in DELIVERY else panel_url(),
               "amount": format_amount(order.amount, order.currency), "update_months": settings.UPDATE_MONTHS,
               "order_number": naming.order_number(order), "coverage_name": naming.coverage_name(order.coverage)}
    attachment = None
    if kind in DELIVERY:
        context["order_url"] = links.order_url(order, absolute=True)
    if kind in KEYED:
        context["key"] = key
    if kind == Kind.FILE:
        files, attachment = _file_context(order)
        if not files:
            raise RuntimeError(f"order {order.pk}: the package is not built yet")
        context.update(files, release=files["file_release"])
    elif kind == Kind.ACCOUNT:
        password = new_password()
        order.user.set_password(password)
        order.user.save(update_fields=["password"])
        context.update(password=password, login=order.user.email)
    elif kind == Kind.NEW_RELEASE:
        context["release"] = Release.objects.defer("changelog").get(number=int(key))
        files, attachment = _file_context(order)
        if files and files["file_release"].number >= int(key):
            context.update(files, file_summary=_file_summary(order, context, files["cameras"]))
        else:
            attachment = None
    elif kind == Kind.RENEWAL_REMINDER:
        context.update(end=order.subscription_end, annual_price=format_amount(annual_price(order), order.currency))
    elif kind == Kind.STALE_FILE:
        context.update(file_release=Release.objects.filter(number=int(key)).first(),
                       latest=latest_release(changelog=False, missing_ok=True),
                       updates_until=entitlement.updates_until(order), updates_included=entitlement.entitled(order))
    elif kind in (Kind.REPACKAGED, Kind.REPORT_OUTCOME):
        context["report"] = ErrorReport.objects.get(pk=int(key), order=order)
        if kind == Kind.REPACKAGED:
            files, attachment = _file_context(order)
            if not files:
                raise RuntimeError(f"order {order.pk}: the rebuilt package is not in the store")
            context.update(files)
    elif kind == Kind.RECEIPT:
        context.update(_receipt_context(order, key))
        invoice = context["invoice"]
        attachment = (invoice_pdf.filename(invoice), invoice_pdf.render(invoice), "application/pdf")
    elif kind not in DELIVERY:
        raise ValueError(f"not an email kind: {kind}")
    return context, attachment


# --------------------------------------------------------------------------- the sender


def _locked_record(order_id: int, kind: str, key: str) -> EmailRecord:
    if kind in KEYED:
        order = Order.objects.select_for_update(of=("self",)).select_related("user").get(pk=order_id)
        record, _ = EmailRecord.objects.get_or_create(order=order, kind=kind, key=key, defaults={"to": order.email})
        record.order = order
        return record
    return (EmailRecord.objects.select_for_update(of=("self",)).select_related("order", "order__user")
            .get(order_id=order_id, kind=kind, key=key))


def send(order_id: int, kind: str, key="") -> bool:
    """Send the order's ``kind`` email (for ``key``) unless it was sent; True when it went out
    now. SMTP errors propagate (the task retries) and keep nothing of the attempt."""
    key = str(key)
    with transaction.atomic():
        record = _locked_record(order_id, kind, key)
        if record.sent_at is not None:
            return False
        order = record.order
        # The customer's language (the account's, else the order's): the words, the dates and
        # amounts, the panel links (/fr/...) and the invoice PDF attached to a receipt.
        with translation.override(order.customer_language):
            context, attachment = _context(order, kind, key)
            msg = message(order, kind, context, attachment)
        msg.send()
        record.to = order.email
        record.sent_at = timezone.now()
        record.attempts += 1
        record.save(update_fields=["to", "sent_at", "attempts"])
    return True
