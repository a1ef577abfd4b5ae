"""The contact page: a message (with an optional callback) is stored, confirmed by email
once, answered by staff in the admin (the answer emailed once); limited per address and per
IP like the other anonymous forms, and capped in size before parsing."""

import pytest
from django.core import mail
from django.urls import reverse

from portal.models import ContactMessage, User
from portal.services import contact

pytestmark = pytest.mark.django_db

URL = "/contact/"


@pytest.fixture(autouse=True)
def _setup(settings, local_cache, eager):
    settings.CONTACT_MESSAGES_PER_EMAIL = 3
    settings.CONTACT_MESSAGES_PER_IP = 10


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what is queued on commit (the emails), as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def post(client, committed):
    def post(ip="10.1.0.1", **data):
        fields = {"name": "Léa Martin", "email": "lea@example.com", "message": "My TomTom shows no cameras in Spain."}
        fields.update(data)
        with committed():
            return client.post(URL, fields, REMOTE_ADDR=ip)
    return post


def test_the_url_is_the_contact_pages():
    assert reverse("pages-contact") == URL


def test_a_message_is_stored_and_confirmed_once(client, post):
    response = post()
    assert response.status_code == 302 and response["Location"] == URL
    msg = ContactMessage.objects.get()
    assert (msg.name, msg.email, msg.callback, msg.phone) == ("Léa Martin", "lea@example.com", False, "")
    assert msg.confirmation_sent_at is not None
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["lea@example.com"] and sent.subject == "We received your message"
    assert "My TomTom shows no cameras in Spain." in sent.body and "call you back" not in sent.body
    # the task running again sends nothing more
    assert contact.send(msg.pk, contact.CONFIRMATION) is False
    assert len(mail.outbox) == 1
    page = client.get(URL)
    assert "your message is on its way to us" in page.content.decode()


def test_a_callback_needs_a_phone_number_and_is_confirmed_with_it(client, post):
    refused = post(callback="on")
    assert refused.status_code == 400 and "Give the number to call back" in refused.content.decode()
    assert not ContactMessage.objects.exists()
    bad = post(callback="on", phone="call me maybe")
    assert bad.status_code == 400 and "digits, spaces" in bad.content.decode()
    assert post(callback="on", phone="+33 1 23 45 67 89", preferred_time="weekdays after 6 pm").status_code == 302
    msg = ContactMessage.objects.get()
    assert msg.callback and msg.phone == "+33 1 23 45 67 89" and msg.preferred_time == "weekdays after 6 pm"
    assert "call you back at +33 1 23 45 67 89 (weekdays after 6 pm)" in mail.outbox[0].body


def test_a_message_too_long_is_refused_with_the_limit(client, post, settings):
    settings.CONTACT_MAX_CHARS = 100
    response = post(message="x" * 101)
    assert response.status_code == 400 and "at most 100 characters" in response.content.decode()
    assert not ContactMessage.objects.exists()


def test_a_large_body_is_refused_before_parsing(client, post):
    response = client.post(URL, {"name": "a", "email": "a@example.com", "message": "x" * 40_000})
    assert response.status_code == 413 and b"at most 32" in response.content
    assert not ContactMessage.objects.exists()


def test_the_limit_per_address_holds_for_every_spelling(client, post):
    for n, spelling in enumerate(["lea@example.com", "LEA@example.com", " Lea@Example.COM"]):
        assert post(ip=f"10.2.0.{n}", email=spelling).status_code == 302
    refused = post(ip="10.2.0.9", email="lea@EXAMPLE.com")
    assert refused.status_code == 429 and "Please try again in 60 minutes" in refused.content.decode()
    assert ContactMessage.objects.count() == 3 and len(mail.outbox) == 3


def test_the_limit_per_ip(client, post, settings):
    settings.CONTACT_MESSAGES_PER_IP = 2
    for n in range(2):
        assert post(email=f"p{n}@example.com").status_code == 302
    assert post(email="p9@example.com").status_code == 429
    assert post(ip="10.1.0.2", email="p9@example.com").status_code == 302


def test_staff_answer_in_the_admin_and_the_answer_is_emailed_once(client, post, committed):
    post()
    msg = ContactMessage.objects.get()
    staff = User.objects.create_superuser("staff@example.com", "staff-password-1")
    admin = client.__class__()
    admin.force_login(staff)
    listing = admin.get(reverse("admin:portal_contactmessage_changelist"))
    assert listing.status_code == 200 and "lea@example.com" in listing.content.decode()
    change = reverse("admin:portal_contactmessage_change", args=[msg.pk])
    with committed():
        assert admin.post(change, {"answer": "Choose Spain in your coverage."}).status_code == 302
    msg.refresh_from_db()
    assert msg.answer == "Choose Spain in your coverage." and msg.answered_by == staff and msg.answer_sent_at
    answers = [m for m in mail.outbox if m.subject.startswith("Re: your message")]
    assert len(answers) == 1 and answers[0].to == ["lea@example.com"]
    assert "Choose Spain in your coverage." in answers[0].body and "no cameras in Spain" in answers[0].body
    # a second save changes nothing and sends nothing: the answer is read-only now
    with committed():
        admin.post(change, {"answer": "Something else"})
    msg.refresh_from_db()
    assert msg.answer == "Choose Spain in your coverage."
    assert len([m for m in mail.outbox if m.subject.startswith("Re: your message")]) == 1
    assert contact.answer(msg.pk, "again", staff) is False
