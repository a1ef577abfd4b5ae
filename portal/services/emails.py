"""Order emails, each sent at most once (``EmailRecord``), built in the worker.

Templates are subject / text / HTML triples under templates/portal/email/<kind>_*. The file
email attaches the package when it is at most EMAIL_ATTACHMENT_MAX_BYTES, and always gives a
signed download link. The account email sets a fresh random password in the same
transaction that records the email as sent: if SMTP fails, nothing is kept and the retry
makes a new one, so the password that works is the one in the email that went out."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from exporters.devices import get_device

from portal.services import links
from portal.models import EmailRecord, Order
from portal.services.packages import stored_package
from portal.services.pricing import format_amount


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits


def message(order: Order, kind: str, context: dict, attachment=None) -> EmailMultiAlternatives:
    base = f"portal/email/{kind.replace('-', '_')}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    msg = EmailMultiAlternatives(subject, render_to_string(f"{base}_body.txt", context),
                                 settings.DEFAULT_FROM_EMAIL, [order.email])
    msg.attach_alternative(render_to_string(f"{base}_body.html", context), "text/html")
    if attachment is not None:
        msg.attach(*attachment)
    return msg


def send(order_id: int, kind: str, key: str = "") -> bool:
    """Send the order's ``kind`` email unless it was sent; True when it went out now.
    SMTP errors propagate (the task retries); nothing is recorded for a failed attempt."""
    with transaction.atomic():
        record = EmailRecord.objects.select_for_update(of=("self",)).select_related("order", "order__user").get(
            order_id=order_id, kind=kind, key=key)
        if record.sent_at is not None:
            return False
        order = record.order
        device = get_device(order.device_id)
        site = settings.SITE_URL.rstrip("/")
        context = {"order": order, "device": device, "site": site, "panel_url": site + reverse("login"),
                   "amount": format_amount(order.amount, order.currency), "update_months": settings.UPDATE_MONTHS}
        attachment = None
        if kind == EmailRecord.Kind.FILE:
            stored = stored_package(order)
            if stored is None:
                raise RuntimeError(f"order {order.pk}: the package is not built yet")
            context.update(download_url=links.download_url(order, stored.key, absolute=True),
                           filename=stored.filename, size=stored.size, release=stored.release,
                           attached=stored.size <= settings.EMAIL_ATTACHMENT_MAX_BYTES,
                           link_days=settings.DOWNLOAD_LINK_MAX_AGE // 86400)
            if context["attached"]:
                attachment = (stored.filename, stored.path.read_bytes(), "application/zip")
        elif kind == EmailRecord.Kind.ACCOUNT:
            password = new_password()
            order.user.set_password(password)
            order.user.save(update_fields=["password"])
            context.update(password=password, login=order.user.email)
        message(order, kind, context, attachment).send()
        record.sent_at = timezone.now()
        record.attempts += 1
        record.save(update_fields=["sent_at", "attempts"])
        return True
