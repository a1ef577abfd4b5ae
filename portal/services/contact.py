"""The contact page's messages: stored, confirmed to the customer by email once, answered by
staff in the admin (the answer emailed once).

Each email is sent by ``tasks.send_contact_email`` with the message row locked and its
``*_sent_at`` stamp set in the same transaction, so a task that runs twice sends once; an
SMTP error keeps nothing (the task retries)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import translation
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.lib.ratelimit import Limiter
from portal.models import ContactMessage, User
from portal.services import queue

CONFIRMATION, ANSWER = "confirmation", "answer"
SENT_FIELD = {CONFIRMATION: "confirmation_sent_at", ANSWER: "answer_sent_at"}


def limiters() -> tuple[Limiter, Limiter]:
    """Messages per address (the database's normal form: ``ratelimit.email_key``) and per
    client IP, like the other anonymous forms."""
    window = settings.CONTACT_RATE_WINDOW
    return (Limiter("contact-email", settings.CONTACT_MESSAGES_PER_EMAIL, window),
            Limiter("contact-ip", settings.CONTACT_MESSAGES_PER_IP, window))


def submit(*, name: str, email: str, message: str, callback: bool = False, phone: str = "",
           preferred_time: str = "", user: User | None = None) -> ContactMessage:
    """Store a message and queue its confirmation email."""
    with transaction.atomic():
        msg = ContactMessage.objects.create(
            name=name.strip(), email=email.strip(), message=message.strip(), callback=callback,
            phone=phone.strip() if callback else "", preferred_time=preferred_time.strip() if callback else "",
            user=user if user is not None and user.is_authenticated else None,
            language=translation.get_language() or "en")
        queue.contact_email(msg.pk, CONFIRMATION)
    return msg


def answer(message_id: int, text: str, staff: User) -> bool:
    """Record staff's answer and queue its email; False when the message was answered already
    (an answer is sent once: write a new message to the customer from your mailbox instead)."""
    text = text.strip()
    if not text:
        raise ValueError("the answer is empty")
    with transaction.atomic():
        msg = ContactMessage.objects.select_for_update().get(pk=message_id)
        if msg.answered_at is not None:
            return False
        msg.answer, msg.answered_by, msg.answered_at = text, staff, timezone.now()
        msg.save(update_fields=["answer", "answered_by", "answered_at"])
        queue.contact_email(msg.pk, ANSWER)
    return True


def send(message_id: int, kind: str) -> bool:
    """Send the message's ``kind`` email unless it went out; True when it went out now."""
    field = SENT_FIELD[kind]
    with transaction.atomic():
        msg = ContactMessage.objects.select_for_update().get(pk=message_id)
        if getattr(msg, field) is not None or (kind == ANSWER and not msg.answer):
            return False
        # the language of the page the message was written on: its words, dates and links (/es/help/)
        with translation.override(msg.language or "en"):
            context = {"msg": msg, "site": settings.SITE_URL.rstrip("/"),
                       "help_url": settings.SITE_URL.rstrip("/") + reverse("pages-help")}
            base = f"portal/email/contact_{kind}"
            subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
            email = EmailMultiAlternatives(subject, render_to_string(f"{base}_body.txt", context),
                                           settings.DEFAULT_FROM_EMAIL, [msg.email])
            email.attach_alternative(render_to_string(f"{base}_body.html", context), "text/html")
        email.send()
        setattr(msg, field, timezone.now())
        msg.save(update_fields=[field])
    return True
