"""The customer's own data: everything stored about them as one JSON document, and the
deletion of the account.

Deleting keeps what the law requires: orders and payments are accounting records (and other
records, such as invoices, may point at them), so they are never deleted; the customer is
anonymised instead. The account row stays, inactive, with an address that cannot receive mail
and no usable password (the rows that point at it keep pointing at something); every order is
detached from it and loses the email address; error reports lose their text and screenshot;
contact messages are deleted; an active subscription stops renewing first (if Stripe refuses,
nothing is deleted and the customer is told)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import ContactMessage, Download, EmailRecord, ErrorReport, Order, User
from portal.services import subscriptions
from portal.services.entitlement import ACTIVE

FORMAT_VERSION = 1


class DeletionError(Exception):
    """The account could not be deleted (nothing was changed); the message says why."""


def _orders(user: User):
    """The customer's orders: those of the account, and those placed with its address that
    never reached it (an abandoned or failed checkout)."""
    return Order.objects.filter(Q(user=user) | Q(user__isnull=True, email__iexact=user.email))


def _messages(user: User):
    return ContactMessage.objects.filter(Q(user=user) | Q(email__iexact=user.email))


def _when(value):
    return value.isoformat() if value else None


def export(user: User) -> dict:
    """Everything stored about ``user``, as plain JSON values."""
    orders = list(_orders(user).select_related("release").order_by("created_at"))
    ids = [o.pk for o in orders]
    downloads, emails, reports = {}, {}, {}
    for d in Download.objects.filter(order_id__in=ids).select_related("release").order_by("created_at"):
        downloads.setdefault(d.order_id, []).append(
            {"at": _when(d.created_at), "release": d.release.number if d.release else None, "via": d.via})
    for e in EmailRecord.objects.filter(order_id__in=ids).order_by("pk"):
        emails.setdefault(e.order_id, []).append({"kind": e.kind, "key": e.key, "to": e.to, "sent_at": _when(e.sent_at)})
    for r in ErrorReport.objects.filter(order_id__in=ids).order_by("created_at"):
        reports.setdefault(r.order_id, []).append(
            {"created_at": _when(r.created_at), "text": r.text, "status": r.status, "outcome": r.outcome,
             "resolved_at": _when(r.resolved_at), "screenshot": {"type": r.screenshot_type,
                                                                  "bytes": len(r.screenshot or b"")}
             if r.screenshot else None})
    return {
        "format": FORMAT_VERSION, "exported_at": _when(timezone.now()),
        "account": {"email": user.email, "date_joined": _when(user.date_joined), "last_login": _when(user.last_login),
                    "is_active": user.is_active},
        "orders": [{
            "id": str(o.public_id), "email": o.email, "device": o.device_id, "coverage": o.coverage,
            "options": {"mobile": o.mobile, "icons": o.icons, "speed_unit": o.speed_unit,
                        "fr_zone_mode": o.fr_zone_mode},
            "legal_notes_acknowledged": o.legal_ack,
            "amount": o.amount, "currency": o.currency, "status": o.status, "created_at": _when(o.created_at),
            "paid_at": _when(o.paid_at), "refunded_at": _when(o.refunded_at),
            "plan": o.plan, "subscription": {"status": o.subscription_status, "end": _when(o.subscription_end),
                                             "new_release_emails": o.email_new_releases} if o.plan == "annual" else None,
            "stripe": {"customer": o.stripe_customer, "setup_intent": o.setup_intent,
                       "payment_intent": o.payment_intent, "subscription": o.subscription_id},
            "last_file_release": o.release.number if o.release else None,
            "downloads": downloads.get(o.pk, []), "emails": emails.get(o.pk, []), "error_reports": reports.get(o.pk, []),
        } for o in orders],
        "contact_messages": [{
            "created_at": _when(m.created_at), "name": m.name, "email": m.email, "message": m.message,
            "callback": m.callback, "phone": m.phone, "preferred_time": m.preferred_time, "answer": m.answer,
            "answered_at": _when(m.answered_at)} for m in _messages(user).order_by("created_at")],
    }


def anonymous_email(user_id: int) -> str:
    return f"deleted-{user_id}@deleted.invalid"  # .invalid: a name that can never receive mail (RFC 2606)


def delete(user: User) -> None:
    """Delete ``user``'s account as described above."""
    for order in Order.objects.filter(user=user, plan="annual", subscription_status=ACTIVE):
        try:
            subscriptions.cancel(order.pk)
        except subscriptions.SubscriptionError as exc:
            raise DeletionError(_("%(reason)s Your account was not deleted; please try again later or contact us.")
                                % {"reason": exc}) from exc
    gone = anonymous_email(user.pk)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        orders = _orders(user)
        ids = list(orders.values_list("pk", flat=True))
        ErrorReport.objects.filter(order_id__in=ids).update(text="", screenshot=None, screenshot_type="")
        EmailRecord.objects.filter(order_id__in=ids).update(to=gone)
        Order.objects.filter(pk__in=ids).update(email=gone, user=None, email_new_releases=False)
        _messages(user).delete()
        user.email = gone
        user.set_unusable_password()
        user.is_active = False
        user.last_login = None
        user.save(update_fields=["email", "password", "is_active", "last_login"])
