"""The repeated, keyed order emails of subscriptions, error reports and reminders, each sent
at most once per (order, kind, key) -- NEW_RELEASE (key: release number), RENEWAL_REMINDER
(period end date), STALE_FILE (release number of the file the customer has), REPACKAGED and
REPORT_OUTCOME (report id).

Unlike ``emails.send`` (whose records are made at fulfilment and swept by
``build_order_package``), the ``EmailRecord`` here is created in the same transaction that
sends the message, with the order row locked: a failed SMTP attempt leaves nothing behind (the
task retries, or the next reminders run does), and no other code path ever sees such a record
unsent and sends it without its context (the key names a report, a release, a date that
``emails.send`` does not know about). Templates: templates/portal/email/<kind>_*."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cameras.models import Release
from exporters.devices import get_device

from portal.services import emails, entitlement, links
from portal.models import EmailRecord, ErrorReport, Order
from portal.services.packages import stored_package
from portal.services.pricing import format_amount

log = logging.getLogger(__name__)

Kind = EmailRecord.Kind
KINDS = {Kind.NEW_RELEASE, Kind.RENEWAL_REMINDER, Kind.STALE_FILE, Kind.REPACKAGED, Kind.REPORT_OUTCOME}


def panel_url(absolute: bool = True) -> str:
    """The customer panel (the panel app's page when it is installed, else the account page)."""
    for name in ("panel-home", "account"):
        try:
            path = reverse(name)
        except NoReverseMatch:
            continue
        return settings.SITE_URL.rstrip("/") + path if absolute else path
    return settings.SITE_URL if absolute else "/"


def was_sent(order_id: int, kind: str, key: str) -> bool:
    return EmailRecord.objects.filter(order_id=order_id, kind=kind, key=str(key), sent_at__isnull=False).exists()


def sent_keys(kind: str, orders) -> set[tuple[int, str]]:
    """(order id, key) of every ``kind`` email sent to ``orders`` (a queryset, read as a
    subquery): one query for a periodic job's candidates instead of ``was_sent`` per order."""
    return set(EmailRecord.objects.filter(kind=kind, order__in=orders, sent_at__isnull=False)
               .values_list("order_id", "key"))


def _file_context(order: Order) -> tuple[dict, tuple | None]:
    stored = stored_package(order)
    if stored is None:
        return {}, None
    attached = stored.size <= settings.EMAIL_ATTACHMENT_MAX_BYTES
    context = {"download_url": links.download_url(order, stored.key, absolute=True), "filename": stored.filename,
               "size": stored.size, "file_release": stored.release, "attached": attached,
               "link_days": settings.DOWNLOAD_LINK_MAX_AGE // 86400}
    return context, ((stored.filename, stored.path.read_bytes(), "application/zip") if attached else None)


def _context(order: Order, kind: str, key: str) -> tuple[dict, tuple | None]:
    from portal.services.subscriptions import annual_price

    site = settings.SITE_URL.rstrip("/")
    context = {"order": order, "device": get_device(order.device_id), "site": site, "panel_url": panel_url(),
               "amount": format_amount(order.amount, order.currency), "update_months": settings.UPDATE_MONTHS,
               "key": key}
    attachment = None
    if kind == Kind.NEW_RELEASE:
        context["release"] = Release.objects.get(number=int(key))
        files, attachment = _file_context(order)
        if files and files["file_release"].number >= int(key):
            context.update(files)
        else:
            attachment = None
    elif kind == Kind.RENEWAL_REMINDER:
        context.update(end=order.subscription_end, annual_price=format_amount(annual_price(order), order.currency))
    elif kind == Kind.STALE_FILE:
        context.update(file_release=Release.objects.filter(number=int(key)).first(),
                       latest=Release.objects.order_by("-number").first(), updates_until=entitlement.updates_until(order),
                       updates_included=entitlement.entitled(order))
    elif kind in (Kind.REPACKAGED, Kind.REPORT_OUTCOME):
        context["report"] = ErrorReport.objects.get(pk=int(key), order=order)
        if kind == Kind.REPACKAGED:
            files, attachment = _file_context(order)
            if not files:
                raise RuntimeError(f"order {order.pk}: the rebuilt package is not in the store")
            context.update(files)
    else:
        raise ValueError(f"not a keyed email kind: {kind}")
    return context, attachment


def send(order_id: int, kind: str, key) -> bool:
    """Send the order's ``kind`` email for ``key`` unless it was sent; True when it went out
    now. SMTP errors propagate and leave no record (see the module docstring)."""
    key = str(key)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        record, _ = EmailRecord.objects.get_or_create(order=order, kind=kind, key=key, defaults={"to": order.email})
        if record.sent_at is not None:
            return False
        context, attachment = _context(order, kind, key)
        emails.message(order, kind, context, attachment).send()
        record.to = order.email
        record.sent_at = timezone.now()
        record.attempts += 1
        record.save(update_fields=["to", "sent_at", "attempts"])
    return True
