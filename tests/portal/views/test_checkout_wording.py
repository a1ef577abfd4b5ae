"""What the checkout and the order page promise about the login: a new customer gets the login
to a new customer panel by email; an existing customer gets none (the purchase is added to the
panel they sign in to as before), so they are not told to expect one."""

import html
import re

import pytest
from django.urls import reverse

from portal.models import EmailRecord, Order
from portal.services import fulfilment
from portal.views.shop import SESSION_ORDERS

from tests.portal.panelkit import customer
from tests.releases import demo_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(tmp_path, eager):
    return demo_release(tmp_path, cameras=120)


def note(page: str) -> str:
    found = re.search(r'id="login-note">(.*?)</(?:p|span)>', page, re.S)
    assert found
    return " ".join(html.unescape(found.group(1)).split())


def placed(client, email: str, capture) -> Order:
    """A paid order placed from this browser, fulfilled (account or device-added email), its
    file built."""
    order = Order.objects.create(email=email, device_id="igo-primo", coverage=["FR"], amount=1990)
    session = client.session
    session[SESSION_ORDERS] = [str(order.public_id)]
    session.save()
    with capture(execute=True):
        fulfilment.payment_succeeded(order.pk)
    order.refresh_from_db()
    assert order.package_key
    return order


def order_note(client, order) -> str:
    return note(client.get(reverse("shop-order", args=[order.public_id])).content.decode())


def test_a_new_customer_is_told_the_login_comes_in_a_second_email(client, release, django_capture_on_commit_callbacks):
    order = placed(client, "new@example.com", django_capture_on_commit_callbacks)
    assert order.emails.filter(kind=EmailRecord.Kind.ACCOUNT).exists()
    assert order_note(client, order) == ("We have also emailed it to new@example.com, and in a second email the "
                                         "login to your new customer panel.")


def test_an_existing_customer_is_not_promised_a_login_email(client, release, django_capture_on_commit_callbacks):
    customer("old@example.com")
    order = placed(client, "old@example.com", django_capture_on_commit_callbacks)
    assert not order.emails.filter(kind=EmailRecord.Kind.ACCOUNT).exists()
    said = order_note(client, order)
    assert said == ("We have also emailed it to old@example.com. It is in your customer panel too, with your other "
                    "devices: sign in as before.")
    assert "login" not in said


def test_the_checkout_tells_a_signed_in_customer_that_no_new_login_is_sent(client, release):
    page = client.get(reverse("shop-checkout", args=["igo-primo"])).content.decode()
    assert "New customers also get the login to their customer panel" in note(page)
    client.force_login(customer("cy@example.com"))
    said = note(client.get(reverse("shop-checkout", args=["igo-primo"])).content.decode())
    assert said == "This purchase is added to your customer panel; you sign in as before (no new login is sent)."
