"""The customer's data: download it as JSON (the owner's only) and delete the account with
the password. Deleting keeps the orders and payments (anonymised, detached), erases reports'
text and the contact messages, and the login stops working."""

import json

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from portal.models import ContactMessage, Download, EmailRecord, ErrorReport, Order, User
from portal.services import account_data, subscriptions
from tests.portal.panelkit import PASSWORD, customer, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(local_cache):
    pass


@pytest.fixture
def lea(db):
    user = customer("lea@example.com")
    order = paid_order(user, stripe_customer="cus_lea", payment_intent="pi_lea")
    Download.objects.create(order=order, package_key="k" * 64, via="panel")
    EmailRecord.objects.create(order=order, kind=EmailRecord.Kind.FILE, to=user.email)
    ErrorReport.objects.create(order=order, text="No cameras near Lyon", screenshot=b"\x89PNG....",
                               screenshot_type="image/png")
    ContactMessage.objects.create(name="Léa", email="LEA@example.com", message="Hello, a question", callback=True,
                                  phone="+33 1 23 45 67 89")
    # a checkout she abandoned: her address, never linked to the account
    Order.objects.create(email="lea@example.com", device_id="garmin-nuvi", amount=1990, coverage=["DE"])
    return user


@pytest.fixture
def bob(db):
    user = customer("bob@example.com")
    paid_order(user, device="igo-primo", coverage=("IT",))
    ContactMessage.objects.create(name="Bob", email="bob@example.com", message="Bob's own question")
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_download_holds_everything_stored_about_the_owner_and_nothing_of_others(lea, bob):
    response = logged_in(lea).get(reverse("accounts-data"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.content)
    assert data["account"]["email"] == "lea@example.com"
    assert sorted(o["device"] for o in data["orders"]) == ["garmin-nuvi", "tomtom-go-classic"]
    paid = next(o for o in data["orders"] if o["device"] == "tomtom-go-classic")
    assert paid["stripe"]["customer"] == "cus_lea" and paid["coverage"] == ["FR"] and paid["amount"] > 0
    assert paid["downloads"][0]["via"] == "panel" and paid["emails"][0]["kind"] == "file"
    assert paid["error_reports"][0]["text"] == "No cameras near Lyon"
    assert paid["error_reports"][0]["screenshot"] == {"type": "image/png", "bytes": 8}
    assert [m["message"] for m in data["contact_messages"]] == ["Hello, a question"]
    text = response.content.decode()
    assert "bob" not in text.lower() and "igo-primo" not in text


def test_the_data_and_the_deletion_are_for_the_logged_in_customer_only(client, lea):
    for name in ("accounts-data", "accounts-delete"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))
    assert client.post(reverse("accounts-delete"), {"password": PASSWORD, "confirm": "on"}).status_code == 302
    assert User.objects.get(pk=lea.pk).is_active


def test_a_wrong_password_deletes_nothing(lea):
    client = logged_in(lea)
    response = client.post(reverse("accounts-delete"), {"password": "not-it", "confirm": "on"})
    assert response.status_code == 400 and "This is not your password" in response.content.decode()
    unconfirmed = client.post(reverse("accounts-delete"), {"password": PASSWORD})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    lea.refresh_from_db()
    assert lea.is_active and lea.email == "lea@example.com"
    assert ContactMessage.objects.filter(email__iexact="lea@example.com").exists()


def test_guessing_the_password_on_the_deletion_page_is_limited(lea):
    client = logged_in(lea)
    for _ in range(5):
        client.post(reverse("accounts-delete"), {"password": "guess", "confirm": "on"})
    locked = client.post(reverse("accounts-delete"), {"password": PASSWORD, "confirm": "on"})
    assert locked.status_code == 429 and User.objects.get(pk=lea.pk).is_active


def test_deleting_anonymises_the_customer_and_keeps_the_orders(lea, bob):
    orders_before = {o.pk: (o.amount, o.status, o.payment_intent) for o in Order.objects.all()}
    client = logged_in(lea)
    page = client.get(reverse("accounts-delete"))
    assert page.status_code == 200 and "accounting" in page.content.decode()
    response = client.post(reverse("accounts-delete"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200 and "Your account is deleted" in response.content.decode()

    gone = account_data.anonymous_email(lea.pk)
    lea.refresh_from_db()
    assert lea.email == gone and not lea.is_active and not lea.has_usable_password()
    # every order is still there, with its amount and payment, without her address or account
    assert {o.pk: (o.amount, o.status, o.payment_intent) for o in Order.objects.all()} == orders_before
    hers = Order.objects.exclude(user__email="bob@example.com")
    assert hers.count() == 2 and all(o.email == gone and o.user_id is None for o in hers)
    assert not Order.objects.filter(email__iexact="lea@example.com").exists()
    assert set(EmailRecord.objects.values_list("to", flat=True)) == {gone}
    report = ErrorReport.objects.get()
    assert report.text == "" and report.screenshot is None
    assert list(ContactMessage.objects.values_list("email", flat=True)) == ["bob@example.com"]
    # Bob is untouched; Léa is logged out and her password no longer opens anything
    assert Order.objects.filter(user__email="bob@example.com").count() == 1
    assert client.get(reverse("panel-home")).status_code == 302
    assert authenticate(username="lea@example.com", password=PASSWORD) is None
    assert authenticate(username=gone, password=PASSWORD) is None


def test_a_subscription_that_cannot_be_stopped_stops_the_deletion(lea, monkeypatch):
    Order.objects.filter(user=lea).update(plan="annual", subscription_id="sub_x", subscription_status="active")

    def refuse(order_id):
        raise subscriptions.SubscriptionError("The renewal could not be canceled: Stripe is unreachable.")

    monkeypatch.setattr(subscriptions, "cancel", refuse)
    response = logged_in(lea).post(reverse("accounts-delete"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 502 and "was not deleted" in response.content.decode()
    lea.refresh_from_db()
    assert lea.is_active and Order.objects.filter(user=lea).count() == 1


def test_the_panel_links_to_both(lea):
    text = logged_in(lea).get(reverse("panel-home")).content.decode()
    assert reverse("accounts-data") in text and reverse("accounts-delete") in text
